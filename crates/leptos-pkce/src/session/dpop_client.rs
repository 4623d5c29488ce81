//! The DPoP client's memory, by origin: the latest nonce of each server
//! (RFC 9449 §8, §9) and how far a resource server's clock is from this
//! one (its `Date`, learnt when it refused a proof), so that proofs to it
//! carry an `iat` it accepts. The key pair itself lives behind the
//! [`DpopKeys`] port.
//!
//! [`DpopKeys`]: super::ports::DpopKeys

use std::cell::RefCell;

use crate::protocol::uri::parse_http_url;

/// Clock differences under this many seconds are the `Date` header's own
/// rounding, not a reason to send a proof again.
const CLOCK_TOLERANCE_S: i64 = 2;

/// The nonces servers asked for: `(origin, nonce)`, a handful; and the
/// servers' clock offsets: `(origin, seconds ahead of this clock)`.
#[derive(Debug, Default)]
pub(crate) struct DpopClient {
    nonces: RefCell<Vec<(String, String)>>,
    offsets: RefCell<Vec<(String, i64)>>,
}

impl DpopClient {
    /// The nonce to put in a proof for `url`, if its server sent one.
    pub(crate) fn nonce_for(&self, url: &str) -> Option<String> {
        let origin = origin(url);
        self.nonces
            .borrow()
            .iter()
            .find(|(server, _)| *server == origin)
            .map(|(_, nonce)| nonce.clone())
    }

    /// Remembers the latest nonce of `url`'s server; true if it is new.
    pub(crate) fn remember(&self, url: &str, nonce: Option<&String>) -> bool {
        let Some(nonce) = nonce else { return false };
        let mut nonces = self.nonces.borrow_mut();
        let origin = origin(url);
        match nonces.iter_mut().find(|(server, _)| *server == origin) {
            Some((_, known)) if known == nonce => false,
            Some((_, known)) => {
                known.clone_from(nonce);
                true
            }
            None => {
                nonces.push((origin, nonce.clone()));
                true
            }
        }
    }
}

impl DpopClient {
    /// How many seconds `url`'s server is ahead of this clock (0 unless
    /// it told so).
    pub(crate) fn clock_offset(&self, url: &str) -> i64 {
        let origin = origin(url);
        self.offsets
            .borrow()
            .iter()
            .find(|(server, _)| *server == origin)
            .map_or(0, |(_, offset)| *offset)
    }

    /// Remembers that `url`'s server said the time is `server_s` when this
    /// clock said `now_s`; true if proofs to it will now carry another
    /// `iat` (by more than the header's rounding).
    pub(crate) fn learn_clock(&self, url: &str, server_s: i64, now_s: i64) -> bool {
        let offset = server_s.saturating_sub(now_s);
        let known = self.clock_offset(url);
        if offset.saturating_sub(known).abs() < CLOCK_TOLERANCE_S {
            return false;
        }
        let origin = origin(url);
        let mut offsets = self.offsets.borrow_mut();
        offsets.retain(|(server, _)| *server != origin);
        offsets.push((origin, offset));
        true
    }
}

fn origin(url: &str) -> String {
    parse_http_url(url).map_or_else(String::new, |url| url.origin())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_kept_per_origin_and_only_news_count() {
        let client = DpopClient::default();
        let (a, b) = ("n-1".to_owned(), "n-2".to_owned());
        assert!(client.remember("https://as.example/token", Some(&a)));
        assert!(!client.remember("https://as.example/userinfo", Some(&a)));
        assert!(!client.remember("https://as.example/token", None));
        assert_eq!(client.nonce_for("https://as.example/x?y"), Some(a));
        assert_eq!(client.nonce_for("https://rs.example/api"), None);
        assert!(client.remember("https://as.example/token", Some(&b)));
        assert_eq!(client.nonce_for("https://as.example/token"), Some(b));
    }

    #[test]
    fn clock_offsets_are_kept_per_origin_beyond_the_dates_rounding() {
        let client = DpopClient::default();
        assert_eq!(client.clock_offset("https://rs.example/api"), 0);
        assert!(!client.learn_clock("https://rs.example/api", 1_001, 1_000));
        assert!(client.learn_clock("https://rs.example/api", 1_090, 1_000));
        assert_eq!(client.clock_offset("https://rs.example/other"), 90);
        assert_eq!(client.clock_offset("https://as.example/token"), 0);
        assert!(!client.learn_clock("https://rs.example/api", 2_091, 2_000));
        assert!(client.learn_clock("https://rs.example/api", 2_000, 2_000));
        assert_eq!(client.clock_offset("https://rs.example/api"), 0);
    }
}

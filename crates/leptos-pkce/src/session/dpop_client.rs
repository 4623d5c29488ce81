//! The DPoP client's memory: the latest nonce of each server (RFC 9449
//! §8), by origin. The key pair itself lives behind the [`DpopKeys`] port.
//!
//! [`DpopKeys`]: super::ports::DpopKeys

use std::cell::RefCell;

use crate::protocol::uri::parse_http_url;

/// The nonces servers asked for: `(origin, nonce)`, a handful.
#[derive(Debug, Default)]
pub(crate) struct DpopClient {
    nonces: RefCell<Vec<(String, String)>>,
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
}

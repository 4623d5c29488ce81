//! Just enough URL handling for the protocol core, without a URL crate
//! (the browser has one; the core must stay small and testable natively).

/// The parts of an absolute `http`/`https` URL that the client checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpUrl<'a> {
    /// `http` or `https`, lower case in the input.
    pub(crate) scheme: &'a str,
    /// `host[:port]`, without user info.
    pub(crate) authority: &'a str,
    /// The host without port (brackets kept for IPv6).
    pub(crate) host: &'a str,
    /// Path, starting with `/` (or empty).
    pub(crate) path: &'a str,
    /// Query without `?`, if any.
    pub(crate) query: Option<&'a str>,
    /// Whether the URL has a `#fragment`.
    pub(crate) has_fragment: bool,
}

/// Parses an absolute `http:` or `https:` URL. Rejects user info (`a@b`),
/// which has no place in any endpoint and hides the real host.
pub(crate) fn parse_http_url(url: &str) -> Option<HttpUrl<'_>> {
    // Prefixes rather than a search for `://`: no substring searcher in
    // the wasm build.
    let (scheme, rest) = match url.strip_prefix("https://") {
        Some(rest) => ("https", rest),
        None => ("http", url.strip_prefix("http://")?),
    };
    let (before_fragment, has_fragment) = match rest.split_once('#') {
        Some((head, _)) => (head, true),
        None => (rest, false),
    };
    let (before_query, query) = match before_fragment.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (before_fragment, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(index) => before_query.split_at(index),
        None => (before_query, ""),
    };
    if authority.is_empty()
        || authority.contains('@')
        || authority.contains('\\')
        || authority.bytes().any(|c| c <= b' ')
    {
        return None;
    }
    let host = if authority.starts_with('[') {
        &authority[..=authority.find(']')?]
    } else {
        authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host)
    };
    if host.is_empty() {
        return None;
    }
    Some(HttpUrl {
        scheme,
        authority,
        host,
        path,
        query,
        has_fragment,
    })
}

impl HttpUrl<'_> {
    /// `scheme://authority`, lower-cased, as the browser's `location.origin`.
    pub(crate) fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority).to_ascii_lowercase()
    }

    /// `https:`, or `http:` to a loopback host (local development only,
    /// as RFC 8252 §8.3 and the OAuth 2.1 draft allow).
    pub(crate) fn is_secure_or_loopback(&self) -> bool {
        self.scheme == "https" || is_loopback_host(self.host)
    }
}

/// `localhost`, `127.x.y.z` or `[::1]`.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host.strip_prefix("127.").is_some_and(|rest| {
            rest.split('.').count() == 3 && rest.split('.').all(|p| p.parse::<u8>().is_ok())
        })
}

/// Appends `application/x-www-form-urlencoded` pairs to a URL, keeping any
/// query it already has ([RFC 6749 §3.1](https://www.rfc-editor.org/rfc/rfc6749#section-3.1)).
pub(crate) fn append_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let encoded = form_encode(pairs);
    let separator = match base.split_once('?') {
        Some((_, existing)) if existing.is_empty() || existing.ends_with('&') => "",
        Some(_) => "&",
        None => "?",
    };
    format!("{base}{separator}{encoded}")
}

/// `application/x-www-form-urlencoded` serialization of `pairs`.
pub(crate) fn form_encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_parts_that_matter() {
        let url = parse_http_url("https://id.example.com:8443/realms/a?x=1#f").expect("valid");
        assert_eq!(url.scheme, "https");
        assert_eq!(url.host, "id.example.com");
        assert_eq!(url.path, "/realms/a");
        assert_eq!(url.query, Some("x=1"));
        assert!(url.has_fragment);
        assert_eq!(url.origin(), "https://id.example.com:8443");
        assert_eq!(
            parse_http_url("http://[::1]:9000/").expect("v6").host,
            "[::1]"
        );
    }

    #[test]
    fn rejects_what_is_not_a_plain_web_url() {
        for bad in [
            "javascript:alert(1)",
            "ftp://x/",
            "https://user@evil.example/",
            "https:///path",
            "//evil.example/",
            "https://a b/",
        ] {
            assert!(parse_http_url(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn loopback_rules() {
        for host in [
            "localhost",
            "127.0.0.1",
            "127.1.2.3",
            "[::1]",
            "app.localhost",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "10.0.0.1",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
        let insecure = parse_http_url("http://id.example.com/").expect("valid");
        assert!(!insecure.is_secure_or_loopback());
    }

    #[test]
    fn append_query_keeps_existing_parameters() {
        assert_eq!(
            append_query("https://a/b", &[("x", "1 2")]),
            "https://a/b?x=1+2"
        );
        assert_eq!(
            append_query("https://a/b?p=q", &[("x", "&")]),
            "https://a/b?p=q&x=%26"
        );
        assert_eq!(
            append_query("https://a/b?", &[("x", "1")]),
            "https://a/b?x=1"
        );
    }
}

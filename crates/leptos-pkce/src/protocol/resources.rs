//! Several APIs, a token for each ([RFC 8707](https://www.rfc-editor.org/rfc/rfc8707)):
//! which API a URL belongs to, and what the provider is told about each.

use serde::Deserialize;

use super::error::{AuthError, ConfigProblem};
use super::uri::{HttpUrl, parse_http_url};

/// A protected API with an access token of its own, named to the provider
/// by its `resource` indicator (RFC 8707), or by `audience` for providers
/// that use Auth0's parameter instead.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ResourceServer {
    /// The API's origin (`https://api.example.com`): https, except loopback.
    pub origin: String,
    /// The RFC 8707 resource indicator (an absolute URI, no fragment).
    pub resource: Option<String>,
    /// Auth0's `audience`, standing instead of `resource`.
    pub audience: Option<String>,
    /// The scopes this API's token carries (and only these).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Picks between APIs on one origin: the longest prefix of the
    /// request's path wins (a prefix ends at a `/` or the path's end).
    pub path_prefix: Option<String>,
    /// Fetch this API's token right after sign-in, not on its first call.
    #[serde(default)]
    pub prefetch: bool,
    /// Left out of the default sign-in: the person consents to this API
    /// when the app asks for it, with `SignInOptions::resource`. (Asking
    /// the provider for a token of an API the sign-in did not name would
    /// spend the refresh token at some providers.)
    #[serde(default)]
    pub on_demand: bool,
}

impl ResourceServer {
    /// An API at `origin` named by the resource indicator `resource`.
    pub fn new(origin: &str, resource: &str) -> Self {
        Self {
            origin: origin.to_owned(),
            resource: Some(resource.to_owned()),
            audience: None,
            scopes: Vec::new(),
            path_prefix: None,
            prefetch: false,
            on_demand: false,
        }
    }

    /// Sets the scopes (builder style).
    #[must_use]
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the path prefix (builder style).
    #[must_use]
    pub fn with_path_prefix(mut self, prefix: &str) -> Self {
        self.path_prefix = Some(prefix.to_owned());
        self
    }

    /// Fetches the token right after sign-in (builder style).
    #[must_use]
    pub fn with_prefetch(mut self, prefetch: bool) -> Self {
        self.prefetch = prefetch;
        self
    }

    /// Leaves the API out of the default sign-in (builder style).
    #[must_use]
    pub fn with_on_demand(mut self, on_demand: bool) -> Self {
        self.on_demand = on_demand;
        self
    }

    /// What names this API: its resource indicator, else its audience.
    pub fn indicator(&self) -> &str {
        self.resource
            .as_deref()
            .or(self.audience.as_deref())
            .unwrap_or_default()
    }

    /// The token endpoint parameters that ask for this API's token:
    /// `resource` (or `audience`), and with `scoped`, its scopes.
    pub(crate) fn token_params(&self, scoped: bool) -> Vec<(&'static str, String)> {
        let mut params = Vec::with_capacity(2);
        match (&self.resource, &self.audience) {
            (Some(resource), _) => params.push(("resource", resource.clone())),
            (None, Some(audience)) => params.push(("audience", audience.clone())),
            (None, None) => {}
        }
        if scoped && !self.scopes.is_empty() {
            params.push(("scope", self.scopes.join(" ")));
        }
        params
    }

    /// How well `url` matches: `None` when it is not this API's, else the
    /// length of the matching path prefix (0 without one).
    fn matches(&self, url: &HttpUrl<'_>) -> Option<usize> {
        if !same_origin(&self.origin, &url.origin()) {
            return None;
        }
        let Some(prefix) = self.path_prefix.as_deref() else {
            return Some(0);
        };
        let prefix = prefix.trim_end_matches('/');
        let rest = url.path.strip_prefix(prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then_some(prefix.len() + 1)
    }

    fn check(&self, at: usize) -> Result<(), AuthError> {
        let fail = |problem: &str| bad(&format!("[{at}] {problem}"));
        check_origin(&self.origin).map_err(|problem| fail(&format!("`origin` {problem}")))?;
        let indicator = match (&self.resource, &self.audience) {
            (Some(_), Some(_)) => return Err(fail("has both `resource` and `audience`: give one")),
            (None, None) => return Err(fail("needs a `resource` (or an `audience`)")),
            (Some(resource), None) => Some(resource),
            (None, Some(audience)) if audience.trim().is_empty() => {
                return Err(fail("`audience` is empty"));
            }
            (None, Some(_)) => None,
        };
        if let Some(resource) = indicator {
            // RFC 8707 §2: an absolute URI without a fragment.
            match parse_http_url(resource) {
                None => return Err(fail("`resource` must be an absolute https URL")),
                Some(url) if url.has_fragment => {
                    return Err(fail("`resource` must not have a fragment"));
                }
                Some(url) if !url.is_secure_or_loopback() => {
                    return Err(fail("`resource` must use https (http only for localhost)"));
                }
                Some(_) => {}
            }
        }
        if self
            .scopes
            .iter()
            .any(|scope| scope.is_empty() || scope.contains([' ', '"', '\\']))
        {
            return Err(fail("`scopes` must be single words"));
        }
        if let Some(prefix) = &self.path_prefix
            && (!prefix.starts_with('/') || prefix.contains(['*', '?', '#']))
        {
            return Err(fail(
                "`path_prefix` must be a path like /orders (no `*`, `?` or `#`)",
            ));
        }
        Ok(())
    }
}

fn same_origin(configured: &str, origin: &str) -> bool {
    configured
        .trim_end_matches('/')
        .eq_ignore_ascii_case(origin)
}

fn bad(problem: &str) -> AuthError {
    AuthError::ConfigInvalid(ConfigProblem::Field {
        field: "resources",
        problem: problem.to_owned(),
    })
}

/// A bare origin, https except on loopback, no wildcard; the problem as
/// the rest of a sentence that names the field.
pub(crate) fn check_origin(origin: &str) -> Result<(), &'static str> {
    // `https://*` would be a wildcard in a CSP but matches nothing here:
    // refused in both places (scripts/csp.mjs) rather than read two ways.
    if origin.contains('*') {
        return Err("must list exact origins: no wildcard (`*`)");
    }
    let parsed = parse_http_url(origin)
        .filter(|url| url.path.is_empty() && url.query.is_none() && !url.has_fragment);
    match parsed {
        None => Err("must list origins like https://api.example.com"),
        Some(url) if !url.is_secure_or_loopback() => {
            Err("must use https (http only for localhost)")
        }
        Some(_) => Ok(()),
    }
}

/// Checks every API of `resources` and that no two are the same.
pub(crate) fn check_resources(resources: &[ResourceServer]) -> Result<(), AuthError> {
    if resources.first().is_some_and(|first| first.on_demand) {
        return Err(bad(
            "[0] cannot be `on_demand`: the sign-in brings the first API's token",
        ));
    }
    for (at, server) in resources.iter().enumerate() {
        server.check(at)?;
        for (before, earlier) in resources[..at].iter().enumerate() {
            if earlier.indicator() == server.indicator() {
                return Err(bad(&format!(
                    "[{at}] names the same API as [{before}]: each `resource` or `audience` once"
                )));
            }
            let prefix = |s: &ResourceServer| {
                s.path_prefix
                    .as_deref()
                    .map(|p| p.trim_end_matches('/').to_owned())
            };
            if same_origin(&earlier.origin, server.origin.trim_end_matches('/'))
                && prefix(earlier) == prefix(server)
            {
                return Err(bad(&format!(
                    "[{at}] has the same `origin` and `path_prefix` as [{before}]"
                )));
            }
        }
    }
    Ok(())
}

/// Which API of `resources` `url` belongs to: its origin, then the longest
/// `path_prefix`.
pub(crate) fn resource_for(resources: &[ResourceServer], url: &str) -> Option<usize> {
    let url = parse_http_url(url)?;
    resources
        .iter()
        .enumerate()
        .filter_map(|(at, server)| server.matches(&url).map(|length| (length, at)))
        // The longest prefix; of equal ones (none: they are refused), the first.
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, at)| at)
}

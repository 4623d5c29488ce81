//! Signing out: token revocation ([RFC 7009](https://www.rfc-editor.org/rfc/rfc7009))
//! and RP-initiated logout ([OpenID Connect RP-Initiated Logout 1.0](https://openid.net/specs/openid-connect-rpinitiated-1_0.html)).

use super::secret::{IdToken, RefreshToken};
use super::uri::{append_query, form_encode};

/// The revocation request body for a refresh token (a public client
/// identifies itself with `client_id` only).
pub fn revocation_form(refresh_token: &RefreshToken, client_id: &str) -> String {
    form_encode(&[
        ("token", refresh_token.secret()),
        ("token_type_hint", "refresh_token"),
        ("client_id", client_id),
    ])
}

/// The `end_session_endpoint` URL: `id_token_hint` (when the session had an
/// ID token), `client_id`, `post_logout_redirect_uri` and a `state` that the
/// return must carry.
pub fn end_session_url(
    endpoint: &str,
    id_token_hint: Option<&IdToken>,
    client_id: &str,
    post_logout_redirect_uri: Option<&str>,
    state: &str,
) -> String {
    let mut params = Vec::with_capacity(4);
    if let Some(hint) = id_token_hint {
        params.push(("id_token_hint", hint.secret()));
    }
    params.push(("client_id", client_id));
    if let Some(uri) = post_logout_redirect_uri {
        params.push(("post_logout_redirect_uri", uri));
        params.push(("state", state));
    }
    append_query(endpoint, &params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_revocation_and_logout_requests() {
        assert_eq!(
            revocation_form(&RefreshToken::new("rt".into()), "spa"),
            "token=rt&token_type_hint=refresh_token&client_id=spa"
        );
        let url = end_session_url(
            "http://op/session/end",
            Some(&IdToken::new("a.b.c".into())),
            "spa",
            Some("http://localhost:8080/"),
            "st",
        );
        assert_eq!(
            url,
            "http://op/session/end?id_token_hint=a.b.c&client_id=spa&post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F&state=st"
        );
        assert_eq!(
            end_session_url("http://op/end", None, "spa", None, "st"),
            "http://op/end?client_id=spa"
        );
    }
}

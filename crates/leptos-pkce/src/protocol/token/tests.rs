//! Tests of `protocol::token`.

use super::*;

#[test]
fn code_form_has_no_secret_and_all_walkthrough_fields() {
    let body = authorization_code_form(
        AuthorizationCode::new("c0de".into()),
        PkceCodeVerifier::new("ver".into()),
        "http://localhost:8080/callback",
        "leptos-spa",
        None,
    );
    assert_eq!(
        body,
        "grant_type=authorization_code&code=c0de&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&client_id=leptos-spa&code_verifier=ver"
    );
    assert!(!body.contains("client_secret"));
    let refresh = refresh_form(&RefreshToken::new("r t".into()), "leptos-spa", None, true);
    assert_eq!(
        refresh,
        "grant_type=refresh_token&refresh_token=r+t&client_id=leptos-spa"
    );
}

#[test]
fn forms_name_the_api_their_token_is_for() {
    let orders = ResourceServer::new("https://orders.example", "https://orders.example/")
        .with_scopes(["orders:read", "orders:list"]);
    let code = authorization_code_form(
        AuthorizationCode::new("c".into()),
        PkceCodeVerifier::new("v".into()),
        "http://localhost:8080/callback",
        "spa",
        Some(&orders),
    );
    assert!(code.ends_with("&code_verifier=v&resource=https%3A%2F%2Forders.example%2F"));
    let token = RefreshToken::new("r".into());
    assert_eq!(
        refresh_form(&token, "spa", Some(&orders), true),
        "grant_type=refresh_token&refresh_token=r&client_id=spa&resource=https%3A%2F%2Forders.example%2F&scope=orders%3Aread+orders%3Alist"
    );
    assert!(
        !refresh_form(&token, "spa", Some(&orders), false).contains("scope="),
        "the first API's refresh keeps every scope"
    );
    let mut auth0 = orders.clone();
    auth0.resource = None;
    auth0.audience = Some("orders".into());
    assert!(refresh_form(&token, "spa", Some(&auth0), false).ends_with("&audience=orders"));
}

#[test]
fn finds_the_rotated_token_in_an_unusable_answer() {
    let body = r#"{"token_type":"Bearer","refresh_token":"rt2"}"#;
    assert_eq!(
        parse_token_response(200, body).map(|_| ()),
        Err(AuthError::TokenResponseInvalid(
            TokenResponseProblem::NoAccessToken
        ))
    );
    assert_eq!(
        rotated_refresh_token(200, body).map(|t| t.secret().to_owned()),
        Some("rt2".into())
    );
    assert!(rotated_refresh_token(400, body).is_none());
    assert!(rotated_refresh_token(200, "<html>").is_none());
    assert!(rotated_refresh_token(200, r#"{"refresh_token":""}"#).is_none());
}

#[test]
fn parses_a_good_response() {
    let body = r#"{"access_token":"at","token_type":"bearer","expires_in":"60","refresh_token":"rt","id_token":"a.b.c","scope":"openid"}"#;
    let response = parse_token_response(200, body).expect("valid");
    assert_eq!(response.access_token.secret(), "at");
    assert_eq!(response.expires_in, Some(60));
    for (lifetime, expected) in [("null", None), ("3600", Some(3600)), ("\"5\"", Some(5))] {
        let body =
            format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":{lifetime}}}"#);
        assert_eq!(
            parse_token_response(200, &body).expect(&body).expires_in,
            expected
        );
    }
    for (lifetime, problem) in [
        ("1.5", TokenResponseProblem::ExpiresIn),
        ("true", TokenResponseProblem::ExpiresIn),
        ("\"soon\"", TokenResponseProblem::ExpiresIn),
        ("{}", TokenResponseProblem::NotJson),
    ] {
        let body =
            format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":{lifetime}}}"#);
        assert_eq!(
            parse_token_response(200, &body).map(|_| ()),
            Err(AuthError::TokenResponseInvalid(problem)),
            "{lifetime}"
        );
    }
    assert_eq!(response.refresh_token.expect("rt").secret(), "rt");
}

/// Which copy would the client use, which would another reader? Neither:
/// a member given twice refuses the answer.
#[test]
fn refuses_a_member_given_twice() {
    for body in [
        r#"{"access_token":"a1","token_type":"Bearer","access_token":"a2"}"#,
        r#"{"access_token":"at","token_type":"Bearer","token_type":"DPoP"}"#,
        r#"{"access_token":"at","token_type":"Bearer","id_token":"a.b.c","id_token":"d.e.f"}"#,
    ] {
        assert_eq!(
            parse_token_response(200, body).map(|_| ()),
            Err(AuthError::TokenResponseInvalid(
                TokenResponseProblem::NotJson
            )),
            "{body}"
        );
    }
    let error = r#"{"error":"invalid_grant","error":"access_denied"}"#;
    assert_eq!(
        parse_token_response(400, error).map(|_| ()),
        Err(AuthError::TokenResponseInvalid(
            TokenResponseProblem::Status(400)
        ))
    );
}

#[test]
fn refuses_unusable_responses() {
    let invalid = AuthError::TokenResponseInvalid;
    let cases = [
        (
            200,
            r#"{"token_type":"Bearer","expires_in":60}"#,
            invalid(TokenResponseProblem::NoAccessToken),
        ),
        (
            200,
            r#"{"access_token":"at","token_type":"mac","expires_in":60}"#,
            invalid(TokenResponseProblem::TokenType),
        ),
        (
            200,
            r#"{"access_token":"at","expires_in":60}"#,
            invalid(TokenResponseProblem::TokenType),
        ),
        (
            200,
            r#"{"access_token":"at","token_type":"Bearer","expires_in":-5}"#,
            invalid(TokenResponseProblem::ExpiresIn),
        ),
        (
            200,
            r#"{"access_token":"at","token_type":"Bearer","expires_in":0}"#,
            invalid(TokenResponseProblem::ExpiresIn),
        ),
        (
            200,
            "<html><body>Welcome</body></html>",
            invalid(TokenResponseProblem::NotJson),
        ),
        (200, "[]", invalid(TokenResponseProblem::NotJson)),
        (
            400,
            r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
            AuthError::oauth("invalid_grant", Some("grant request is invalid")),
        ),
        (500, "Internal Server Error", AuthError::ServerError(500)),
        (404, "Not found", invalid(TokenResponseProblem::Status(404))),
    ];
    for (status, body, expected) in cases {
        let err = parse_token_response(status, body).expect_err(body);
        assert!(!err.to_string().contains("\"at\""));
        assert_eq!(err, expected, "{status} {body}");
    }
}

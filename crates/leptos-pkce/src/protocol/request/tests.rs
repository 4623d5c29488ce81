//! Tests of `protocol::request`.

use super::*;
use crate::protocol::config::DpopMode;

pub(crate) fn config() -> ClientConfig {
    ClientConfig {
        issuer: "http://127.0.0.1:9000".into(),
        client_id: "leptos-spa".into(),
        redirect_uri: "http://localhost:8080/callback".into(),
        post_logout_redirect_uri: Some("http://localhost:8080/".into()),
        scopes: vec!["openid".into(), "profile".into(), "api:read".into()],
        resource_origins: Vec::new(),
        resources: Vec::new(),
        request_timeout_ms: None,
        dpop: DpopMode::Auto,
        par: false,
        extra_authorize_params: [("audience".to_owned(), "https://api.example.com".to_owned())]
            .into(),
    }
}

pub(crate) fn metadata() -> ProviderMetadata {
    ProviderMetadata::from_json(
        r#"{"issuer":"http://127.0.0.1:9000","authorization_endpoint":"http://127.0.0.1:9000/auth","token_endpoint":"http://127.0.0.1:9000/token"}"#,
        "http://127.0.0.1:9000",
    )
    .expect("metadata")
}

fn query(url: &str) -> Vec<(String, String)> {
    let (_, query) = url.split_once('?').expect("query");
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

#[test]
fn has_exactly_the_walkthrough_parameters() {
    let request = AuthorizationRequest::with_secrets(
        &config(),
        &metadata(),
        &SignInOptions::default().return_to("/profile?tab=1"),
        5.0,
        RequestSecrets {
            state: CsrfState::new("STATE".into()),
            code_verifier: PkceCodeVerifier::new(
                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
            ),
            nonce: Nonce::new("NONCE".into()),
        },
    )
    .expect("request");
    assert!(request.url.starts_with("http://127.0.0.1:9000/auth?"));
    let expected: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", "leptos-spa"),
        ("redirect_uri", "http://localhost:8080/callback"),
        ("scope", "openid profile api:read"),
        ("state", "STATE"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
        ("nonce", "NONCE"),
        ("audience", "https://api.example.com"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(query(&request.url), expected);
    assert!(
        !request.url.contains("dBjftJeZ"),
        "the verifier never leaves the tab"
    );
    assert_eq!(request.pending.return_to, "/profile?tab=1");
    assert!(!request.pending.silent);
}

#[test]
fn sign_in_options_add_their_parameters_and_win_over_the_configuration() {
    let options = SignInOptions::default()
        .login_hint("alice@example.com")
        .prompt(Prompt::Login)
        .max_age(std::time::Duration::from_secs(60))
        .acr_values(["urn:mfa"])
        .require_acr(true)
        .param("audience", "https://orders.example.com");
    let request =
        AuthorizationRequest::new(&config(), &metadata(), &options, 0.0).expect("request");
    let params = query(&request.url);
    let value = |name: &str| {
        let values: Vec<&str> = params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        values.join(",")
    };
    assert_eq!(value("login_hint"), "alice@example.com");
    assert_eq!(value("prompt"), "login");
    assert_eq!(value("max_age"), "60");
    assert_eq!(value("acr_values"), "urn:mfa");
    assert_eq!(
        value("audience"),
        "https://orders.example.com",
        "once, the sign-in's"
    );
    assert_eq!(request.pending.max_age_s, Some(60));
    assert_eq!(request.pending.acr_required, ["urn:mfa"]);
    let overriding = SignInOptions::default().param("state", "mine");
    let refused = AuthorizationRequest::new(&config(), &metadata(), &overriding, 0.0);
    assert_eq!(
        refused.err().map(|e| e.code().to_owned()),
        Some("config_invalid".into())
    );
}

#[test]
fn a_dpop_bound_request_names_the_key_in_url_and_form() {
    let options = SignInOptions::default();
    let request = AuthorizationRequest::new(&config(), &metadata(), &options, 0.0)
        .expect("request")
        .bound_to("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
    let jkt = (
        "dpop_jkt".to_owned(),
        "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".to_owned(),
    );
    assert!(query(&request.url).contains(&jkt));
    let form: Vec<(String, String)> = form_urlencoded::parse(request.form.as_bytes())
        .into_owned()
        .collect();
    assert!(form.contains(&jkt));
    assert_eq!(form.len(), query(&request.url).len());
}

#[test]
fn pushed_requests_leave_only_client_id_and_request_uri_in_the_url() {
    let url = pushed_authorization_url(
        "https://id.example.com/auth",
        "spa",
        "urn:ietf:params:oauth:request_uri:abc",
    );
    assert_eq!(
        url,
        "https://id.example.com/auth?client_id=spa&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc"
    );
    assert_eq!(
        parse_pushed_authorization_response(201, r#"{"request_uri":"urn:x","expires_in":60}"#),
        Ok("urn:x".into())
    );
    let refused = parse_pushed_authorization_response(400, r#"{"error":"invalid_request"}"#);
    assert_eq!(
        refused.map_err(|e| e.code().to_owned()),
        Err("invalid_request".into())
    );
    assert_eq!(
        parse_pushed_authorization_response(201, "{}"),
        Err(AuthError::TokenResponseInvalid(
            TokenResponseProblem::NoRequestUri
        ))
    );
}

#[test]
fn silent_requests_say_prompt_none_and_outside_urls_become_root() {
    let options = SignInOptions::default()
        .return_to("https://evil.example/")
        .prompt(Prompt::None);
    let request =
        AuthorizationRequest::new(&config(), &metadata(), &options, 0.0).expect("request");
    assert!(query(&request.url).contains(&("prompt".into(), "none".into())));
    assert!(request.pending.silent);
    assert_eq!(request.pending.return_to, "/");
}

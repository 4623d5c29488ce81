//! `config.json`: what is read, what is refused and which field is named.

use super::*;

const ORIGIN: &str = "http://localhost:8080";

fn field_problem(field: &'static str, problem: &str) -> AuthError {
    let problem = problem.to_owned();
    AuthError::ConfigInvalid(ConfigProblem::Field { field, problem })
}

fn json(overrides: &str) -> String {
    format!(
        r#"{{"issuer":"http://127.0.0.1:9000","client_id":"spa","redirect_uri":"http://localhost:8080/callback","scopes":["openid","profile"]{overrides}}}"#
    )
}

#[test]
fn accepts_the_local_stack() {
    let config = ClientConfig::from_json(&json(""), ORIGIN).expect("valid");
    assert_eq!(config.callback_path(), "/callback");
    assert_eq!(config.scope_param(), "openid profile");
}

#[test]
fn ignores_the_apps_own_settings() {
    let config = ClientConfig::from_json(&json(r#","api_url":"http://x","theme":{"a":1}"#), ORIGIN)
        .expect("valid");
    assert_eq!(config.client_id, "spa");
}

#[test]
fn resource_origins_are_an_exact_allow_list() {
    let config = ClientConfig::from_json(
        &json(r#","resource_origins":["https://api.example.com","http://127.0.0.1:9100"]"#),
        ORIGIN,
    )
    .expect("valid");
    assert!(config.allows_resource("https://api.example.com/v1/me?x=1"));
    assert!(
        config.allows_resource("https://API.example.com/"),
        "hosts ignore case"
    );
    assert!(config.allows_resource("http://127.0.0.1:9100/api/hello"));
    assert!(
        !config.allows_resource("http://api.example.com/v1"),
        "cleartext"
    );
    assert!(!config.allows_resource("https://api.example.com.evil.test/"));
    assert!(!config.allows_resource("https://api.example.com:8443/"));
    assert!(!config.allows_resource("https://user@api.example.com/"));
    assert!(!config.allows_resource("/relative"));
    let none = ClientConfig::from_json(&json(""), ORIGIN).expect("valid");
    assert!(
        !none.allows_resource("https://api.example.com/"),
        "empty by default"
    );
}

#[test]
fn dpop_and_par_are_read() {
    let config =
        ClientConfig::from_json(&json(r#","dpop":"required","par":true"#), ORIGIN).expect("valid");
    assert_eq!((config.dpop, config.par), (DpopMode::Required, true));
    let default = ClientConfig::from_json(&json(""), ORIGIN).expect("valid");
    assert_eq!((default.dpop, default.par), (DpopMode::Auto, false));
    let nulls = json(r#","dpop":null,"post_logout_redirect_uri":null,"request_timeout_ms":null"#)
        .replace(r#""scopes":["openid","profile"]"#, r#""scopes":null"#);
    let nulls = ClientConfig::from_json(&nulls, ORIGIN).expect("null is the default");
    assert_eq!(
        nulls,
        ClientConfig::from_json(&json(""), ORIGIN).expect("valid")
    );
    let bad = ClientConfig::from_json(&json(r#","dpop":"sometimes""#), ORIGIN);
    assert!(
        bad.expect_err("unknown mode")
            .to_string()
            .contains("sometimes")
    );
}

#[test]
fn builds_a_config_in_code() {
    let config = ClientConfig::new("https://id.example.com", "spa", "http://localhost:8080/cb")
        .with_scopes(["openid", "email"])
        .with_resource_origin("https://api.example.com");
    assert_eq!(config.validate(ORIGIN), Ok(()));
    assert_eq!(config.scope_param(), "openid email");
    assert_eq!(config.callback_path(), "/cb");
}

#[test]
fn refuses_wildcard_resource_origins() {
    let wildcards = [
        "https://*",
        "https://*.example.com",
        "http://127.0.0.1:*",
        "*",
    ];
    for origin in wildcards {
        let overrides = format!(r#","resource_origins":["https://ok.example.com","{origin}"]"#);
        let err = ClientConfig::from_json(&json(&overrides), ORIGIN).expect_err(origin);
        let why = "must list exact origins: no wildcard (`*`)";
        assert_eq!(err, field_problem("resource_origins", why), "{origin}");
    }
}

#[test]
fn names_the_bad_field() {
    let cases = [
        (r#","resource_origins":["nope"]"#, "resource_origins"),
        (
            r#","resource_origins":["http://api.example.com"]"#,
            "resource_origins",
        ),
        (
            r#","resource_origins":["https://api.example.com/path"]"#,
            "resource_origins",
        ),
        (
            r#","post_logout_redirect_uri":"https://evil.example/""#,
            "post_logout_redirect_uri",
        ),
    ];
    for (overrides, expected) in cases {
        let err = ClientConfig::from_json(&json(overrides), ORIGIN).expect_err(overrides);
        assert_eq!(err.code(), "config_invalid");
        assert!(
            matches!(&err, AuthError::ConfigInvalid(ConfigProblem::Field { field, .. }) if *field == expected),
            "{err}"
        );
    }
    let insecure = json("").replace("http://127.0.0.1:9000", "http://id.example.com");
    let err = ClientConfig::from_json(&insecure, ORIGIN).expect_err("http off loopback");
    assert_eq!(
        err,
        field_problem("issuer", "must use https (http only for localhost)")
    );
    let no_openid = json("").replace(r#"["openid","profile"]"#, r#"["profile"]"#);
    let err = ClientConfig::from_json(&no_openid, ORIGIN).expect_err("no openid");
    assert_eq!(err, field_problem("scopes", "must include \"openid\""));
    let err = ClientConfig::from_json("<html>", ORIGIN).expect_err("not JSON");
    assert_eq!(err, AuthError::ConfigInvalid(ConfigProblem::NotJson));
    for (text, why) in [
        (
            json("").replace(r#""client_id":"spa","#, ""),
            "missing field `client_id`",
        ),
        (json(r#","par":"yes""#), "invalid type"),
        (json(r#","request_timeout_ms":-1"#), "invalid value"),
        (
            json(r#","client_id":"other""#),
            "duplicate field `client_id`",
        ),
    ] {
        let err = ClientConfig::from_json(&text, ORIGIN).expect_err(&text);
        assert!(
            matches!(&err, AuthError::ConfigInvalid(ConfigProblem::Shape(reason)) if reason.contains(why)),
            "{text}: {err}"
        );
    }
}

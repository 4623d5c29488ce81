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

fn resources(list: &str) -> Result<ClientConfig, AuthError> {
    ClientConfig::from_json(&json(&format!(r#","resources":[{list}]"#)), ORIGIN)
}

#[test]
fn each_url_gets_its_apis_token_by_origin_then_longest_prefix() {
    let config = resources(
        r#"{"origin":"https://api.example.com","resource":"https://api.example.com","scopes":["api:read"]},
           {"origin":"http://127.0.0.1:9200","resource":"http://127.0.0.1:9200","scopes":["orders:read"]},
           {"origin":"https://api.example.com","resource":"https://api.example.com/billing","path_prefix":"/billing/"},
           {"origin":"https://api.example.com","audience":"billing-v2","path_prefix":"/billing/v2"}"#,
    )
    .expect("valid");
    assert_eq!(config.slot_for("https://api.example.com/v1/me"), Some(0));
    assert_eq!(config.slot_for("http://127.0.0.1:9200/api/orders"), Some(1));
    assert_eq!(config.slot_for("https://api.example.com/billing"), Some(2));
    assert_eq!(
        config.slot_for("https://api.example.com/billing/x"),
        Some(2)
    );
    assert_eq!(
        config.slot_for("https://api.example.com/billing/v2/x"),
        Some(3)
    );
    assert_eq!(
        config.slot_for("https://api.example.com/billingx"),
        Some(0),
        "a prefix ends at a /"
    );
    assert_eq!(config.slot_for("https://orders.example.com/"), None);
    assert_eq!(config.slot_for("http://api.example.com/v1/me"), None);
    assert_eq!(config.slot_named("billing-v2"), Some(3));
    assert_eq!(config.slot_named("http://127.0.0.1:9200"), Some(1));
    assert_eq!(
        config.scope_param(),
        "openid profile api:read orders:read",
        "every API's scopes, once"
    );
}

#[test]
fn resources_are_checked_like_resource_origins_and_named_in_errors() {
    let bad = |list: &str, problem: &str| {
        assert_eq!(
            resources(list),
            Err(field_problem("resources", problem)),
            "{list}"
        );
    };
    bad(
        r#"{"origin":"http://api.example.com","resource":"https://api.example.com"}"#,
        "[0] `origin` must use https (http only for localhost)",
    );
    bad(
        r#"{"origin":"https://*.example.com","resource":"https://api.example.com"}"#,
        "[0] `origin` must list exact origins: no wildcard (`*`)",
    );
    bad(
        r#"{"origin":"https://api.example.com/v1","resource":"https://api.example.com"}"#,
        "[0] `origin` must list origins like https://api.example.com",
    );
    bad(
        r#"{"origin":"https://api.example.com"}"#,
        "[0] needs a `resource` (or an `audience`)",
    );
    bad(
        r#"{"origin":"https://a.example","resource":"https://a.example","audience":"a"}"#,
        "[0] has both `resource` and `audience`: give one",
    );
    bad(
        r#"{"origin":"https://a.example","resource":"https://a.example#x"}"#,
        "[0] `resource` must not have a fragment",
    );
    bad(
        r#"{"origin":"https://a.example","resource":"urn:a"}"#,
        "[0] `resource` must be an absolute https URL",
    );
    bad(
        r#"{"origin":"https://a.example","resource":"https://a.example"},
           {"origin":"https://b.example","resource":"https://a.example"}"#,
        "[1] names the same API as [0]: each `resource` or `audience` once",
    );
    bad(
        r#"{"origin":"https://a.example","resource":"https://a.example"},
           {"origin":"https://a.example","audience":"b"}"#,
        "[1] has the same `origin` and `path_prefix` as [0]",
    );
    bad(
        r#"{"origin":"https://a.example","resource":"https://a.example","path_prefix":"orders"}"#,
        "[0] `path_prefix` must be a path like /orders (no `*`, `?` or `#`)",
    );
    bad(
        r#"{"origin":"https://a.example","resource":"https://a.example","scopes":["a b"]}"#,
        "[0] `scopes` must be single words",
    );
    assert_eq!(
        ClientConfig::from_json(
            &json(
                r#","resource_origins":["https://a.example"],"resources":[{"origin":"https://b.example","resource":"https://b.example"}]"#
            ),
            ORIGIN
        ),
        Err(field_problem(
            "resources",
            "goes alone: move the `resource_origins` into it, or drop it"
        ))
    );
}

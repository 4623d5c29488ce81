//! The ID token checks, one by one.

use super::*;
use crate::protocol::{BrowserFeature, HashAlg};
use futures::executor::block_on;
use serde::Deserialize;
use serde_json::json;

/// An unsigned test JWT (signature bytes `sig`) with these claims.
pub(crate) fn jwt(claims: &serde_json::Value) -> String {
    let header = base64url(br#"{"alg":"RS256","kid":"k1"}"#);
    let payload = base64url(claims.to_string().as_bytes());
    format!("{header}.{payload}.c2ln")
}

fn base(overrides: serde_json::Value) -> serde_json::Value {
    let mut base = json!({
        "iss": "http://127.0.0.1:9000", "sub": "alice", "aud": "leptos-spa",
        "exp": 2_000, "iat": 1_000, "nonce": "n0nce", "name": "Alice Liddell"
    });
    if let (Some(base), Some(extra)) = (base.as_object_mut(), overrides.as_object()) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
    }
    base
}

const EXPECT: IdTokenExpectations<'static> = IdTokenExpectations {
    issuer: "http://127.0.0.1:9000",
    client_id: "leptos-spa",
    nonce: Some("n0nce"),
    now_s: 1_500,
    access_token: None,
    previous: None,
    max_age_s: None,
    acr_required: &[],
};

fn verify_with(
    claims: serde_json::Value,
    signature_valid: bool,
    expect: &IdTokenExpectations<'_>,
) -> Result<VerifiedIdToken, AuthError> {
    let hash = expect
        .access_token
        .map(|token| sha256(token).as_ref().to_vec());
    verify_jwt(jwt(&claims), signature_valid, hash.as_deref(), expect)
}

/// The verifier's steps, with a platform that answers `signature_valid`.
fn verify_jwt(
    token: String,
    signature_valid: bool,
    access_token_hash: Option<&[u8]>,
    expect: &IdTokenExpectations<'_>,
) -> Result<VerifiedIdToken, AuthError> {
    let jws = IdTokenJws::parse(IdToken::new(token))?;
    block_on(jws.check_signature(SigningAlg::Rs256, async |_, _| Ok(signature_valid)))?
        .into_verified(access_token_hash, expect)
}

fn sha256(text: &str) -> impl AsRef<[u8]> {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
}

/// The check that refuses the base claims with `overrides`, if any.
fn reason(overrides: serde_json::Value) -> Option<IdTokenCheck> {
    verify_with(base(overrides), true, &EXPECT)
        .err()
        .map(|err| match err {
            AuthError::InvalidIdToken(check) => check,
            other => panic!("not an ID token check: {other}"),
        })
}

#[test]
fn accepts_valid_claims_and_names_the_person() {
    let verified = verify_with(base(json!({})), true, &EXPECT).expect("valid");
    assert_eq!(verified.claims().display_name(), "Alice Liddell");
    assert_eq!(verified.alg(), SigningAlg::Rs256);
    let anonymous = verify_with(base(json!({"name": null})), true, &EXPECT).expect("valid");
    assert_eq!(anonymous.claims().display_name(), "alice");
}

#[test]
fn a_failed_signature_hides_the_claims() {
    let err = verify_with(base(json!({})), false, &EXPECT).expect_err("bad signature");
    assert_eq!(err, AuthError::InvalidIdToken(IdTokenCheck::Signature));
}

/// The platform is asked about this token's own signing input and
/// signature, and its failure is the verification's.
#[test]
fn the_signature_step_checks_this_token() {
    let raw = jwt(&base(json!({})));
    let jws = IdTokenJws::parse(IdToken::new(raw.clone())).expect("parses");
    let signed = block_on(
        jws.check_signature(SigningAlg::Rs256, async |input, signature| {
            Ok(Some(input) == raw.rsplit_once('.').map(|(a, _)| a) && signature == b"sig")
        }),
    );
    assert!(signed.is_ok());
    let jws = IdTokenJws::parse(IdToken::new(raw)).expect("parses");
    let failed = block_on(jws.check_signature(SigningAlg::Rs256, async |_, _| {
        Err(AuthError::BrowserUnsupported(BrowserFeature::WebCrypto))
    }));
    assert_eq!(
        failed.map(|_| ()).expect_err("platform failed").code(),
        "browser_unsupported"
    );
}

#[test]
fn parses_once_and_exposes_what_verification_needs() {
    let raw = jwt(&base(json!({})));
    let jws = IdTokenJws::parse(IdToken::new(raw.clone())).expect("parses");
    assert_eq!(jws.kid(), Some("k1"));
    assert_eq!(jws.signature(), b"sig");
    assert_eq!(
        Some(jws.signing_input()),
        raw.rsplit_once('.').map(|(a, _)| a)
    );
    assert_eq!(jws.allowed_alg(&[]), Ok(SigningAlg::Rs256));
}

#[test]
fn names_the_failed_check() {
    assert_eq!(
        reason(json!({"iss": "http://evil"})),
        Some(IdTokenCheck::Issuer)
    );
    assert_eq!(
        reason(json!({"aud": "other"})),
        Some(IdTokenCheck::Audience)
    );
    assert_eq!(
        reason(json!({"aud": ["leptos-spa", "x"]})),
        Some(IdTokenCheck::AuthorizedParty)
    );
    assert_eq!(
        reason(json!({"aud": ["leptos-spa", "x"], "azp": "leptos-spa"})),
        None
    );
    assert_eq!(reason(json!({"exp": 1_300})), Some(IdTokenCheck::Expired));
    assert_eq!(reason(json!({"exp": 1_400})), None, "within clock skew");
    assert_eq!(
        reason(json!({"iat": 1_700})),
        Some(IdTokenCheck::IssuedInFuture)
    );
    assert_eq!(reason(json!({"nonce": "other"})), Some(IdTokenCheck::Nonce));
    assert_eq!(reason(json!({"nonce": null})), Some(IdTokenCheck::Nonce));
}

#[test]
fn not_before_is_checked_with_the_skew() {
    assert_eq!(
        reason(json!({"nbf": 1_700})),
        Some(IdTokenCheck::NotYetValid)
    );
    assert_eq!(reason(json!({"nbf": 1_600})), None, "within clock skew");
    assert_eq!(reason(json!({"nbf": 1_000})), None);
}

#[test]
fn extreme_times_do_not_overflow() {
    assert_eq!(reason(json!({"exp": i64::MAX})), None);
    assert_eq!(
        reason(json!({"exp": i64::MIN})),
        Some(IdTokenCheck::Expired)
    );
    assert_eq!(
        reason(json!({"iat": i64::MAX})),
        Some(IdTokenCheck::IssuedInFuture)
    );
    assert_eq!(reason(json!({"nbf": i64::MIN})), None);
}

#[test]
fn refreshed_tokens_must_continue_the_session() {
    let original = verify_with(base(json!({"auth_time": 900})), true, &EXPECT)
        .expect("original")
        .into_parts()
        .1;
    let refresh = IdTokenExpectations {
        nonce: None,
        previous: Some(&original),
        ..EXPECT
    };
    let check = |overrides| verify_with(base(overrides), true, &refresh).err();
    assert_eq!(check(json!({"auth_time": 900})), None);
    assert_eq!(check(json!({"auth_time": 900, "nonce": null})), None);
    for (overrides, why) in [
        (
            json!({"auth_time": 900, "sub": "mallory"}),
            IdTokenCheck::SubjectChanged,
        ),
        (json!({"auth_time": 1_400}), IdTokenCheck::AuthTimeChanged),
        (json!({"auth_time": null}), IdTokenCheck::AuthTimeChanged),
        (
            json!({"auth_time": 900, "nonce": "other"}),
            IdTokenCheck::NonceChanged,
        ),
        (
            json!({"auth_time": 900, "aud": ["leptos-spa", "x"], "azp": "leptos-spa"}),
            IdTokenCheck::AudienceChanged,
        ),
    ] {
        assert_eq!(
            check(overrides.clone()),
            Some(AuthError::InvalidIdToken(why)),
            "{overrides}"
        );
    }
}

/// OIDC Core §A.3 example: at_hash of "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y".
#[test]
fn at_hash_matches_the_spec_example() {
    let token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
    assert_eq!(at_hash(sha256(token).as_ref()), "77QmUPtjPfzWtF2AnpK9RQ");
    let claims = base(json!({"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}));
    let with_token = |access_token| IdTokenExpectations {
        access_token: Some(access_token),
        ..EXPECT
    };
    assert!(verify_with(claims.clone(), true, &with_token(token)).is_ok());
    assert_eq!(
        verify_with(claims, true, &with_token("other")).expect_err("mismatch"),
        AuthError::InvalidIdToken(IdTokenCheck::AtHash)
    );
    assert!(
        verify_with(base(json!({})), true, &with_token(token)).is_ok(),
        "absent: nothing to check"
    );
}

/// Ed25519 signs with SHA-512, so its at_hash is the left half of that.
#[test]
fn eddsa_at_hash_uses_sha512() {
    use sha2::{Digest, Sha512};
    assert_eq!(SigningAlg::EdDsa.hash(), HashAlg::Sha512);
    for alg in [SigningAlg::Rs256, SigningAlg::Ps256, SigningAlg::Es256] {
        assert_eq!(alg.hash(), HashAlg::Sha256);
    }
    let token = "an-access-token";
    let expected = base64url(&Sha512::digest(token.as_bytes())[..32]);
    assert_eq!(at_hash(&Sha512::digest(token.as_bytes())), expected);
    assert_eq!(expected.len(), 43);
}

/// With an access token and no hash of it, at_hash cannot be checked:
/// that is an error, never a skipped check.
#[test]
fn an_access_token_without_its_hash_is_refused() {
    let claims = base(json!({"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}));
    let expect = IdTokenExpectations {
        access_token: Some("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
        ..EXPECT
    };
    let refused = verify_jwt(jwt(&claims), true, None, &expect);
    assert_eq!(
        refused.expect_err("no hash"),
        AuthError::InvalidIdToken(IdTokenCheck::AtHash)
    );
}

#[test]
fn refuses_what_is_not_a_jwt() {
    for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
        let err = IdTokenJws::parse(IdToken::new(bad.into())).expect_err(bad);
        assert_eq!(err, AuthError::InvalidIdToken(IdTokenCheck::Malformed));
        assert_eq!(err.code(), "invalid_id_token");
    }
}

/// An unsigned test JWT whose payload is exactly `payload`.
fn jwt_of_text(payload: &str) -> String {
    let header = base64url(br#"{"alg":"RS256","kid":"k1"}"#);
    format!("{header}.{}.c2ln", base64url(payload.as_bytes()))
}

/// RFC 7519 §4: a claim given twice refuses the whole token (see the
/// module's doc), whichever copy would pass the checks.
#[test]
fn a_claim_given_twice_is_refused() {
    let good = r#""iss":"http://127.0.0.1:9000","sub":"alice","aud":"leptos-spa","exp":2000,"iat":1000,"nonce":"n0nce""#;
    assert!(verify_jwt(jwt_of_text(&format!("{{{good}}}")), true, None, &EXPECT).is_ok());
    for twice in [
        r#""aud":"other""#,
        r#""aud":"leptos-spa""#,
        r#""nonce":"other""#,
        r#""sub":"mallory""#,
        r#""exp":9000"#,
    ] {
        for payload in [format!("{{{good},{twice}}}"), format!("{{{twice},{good}}}")] {
            let err = verify_jwt(jwt_of_text(&payload), true, None, &EXPECT).expect_err(&payload);
            assert_eq!(
                err,
                AuthError::InvalidIdToken(IdTokenCheck::Malformed),
                "{payload}"
            );
        }
    }
}

#[derive(Debug, Deserialize, PartialEq)]
struct AppClaims {
    #[serde(default)]
    roles: Vec<String>,
    sub: String,
}

#[test]
fn the_app_reads_its_own_claims() {
    let verified =
        verify_with(base(json!({"roles": ["admin", "audit"]})), true, &EXPECT).expect("valid");
    assert_eq!(
        verified.claims_as::<AppClaims>(),
        Ok(AppClaims {
            roles: vec!["admin".into(), "audit".into()],
            sub: "alice".into()
        })
    );
    let without = verify_with(base(json!({})), true, &EXPECT).expect("valid");
    assert_eq!(
        without.claims_as::<AppClaims>().map(|c| c.roles),
        Ok(vec![])
    );
    let mistyped = verify_with(base(json!({"roles": "admin"})), true, &EXPECT).expect("valid");
    let err = mistyped.claims_as::<AppClaims>().expect_err("not a list");
    assert_eq!(err.code(), "claims_mismatch");
    assert!(err.to_string().contains("invalid type"), "{err}");
}

#[test]
fn an_app_claim_given_twice_is_refused() {
    let payload = r#"{"iss":"http://127.0.0.1:9000","sub":"alice","aud":"leptos-spa","exp":2000,"iat":1000,"nonce":"n0nce","roles":["user"],"roles":["admin"]}"#;
    let verified = verify_jwt(jwt_of_text(payload), true, None, &EXPECT).expect("valid");
    let err = verified.claims_as::<AppClaims>().expect_err("twice");
    assert!(err.to_string().contains("duplicate field `roles`"), "{err}");
}

#[test]
fn max_age_makes_auth_time_required_and_checked() {
    let expect = IdTokenExpectations {
        max_age_s: Some(300),
        ..EXPECT
    };
    let check = |claims| match verify_with(base(claims), true, &expect) {
        Ok(_) => None,
        Err(AuthError::InvalidIdToken(check)) => Some(check),
        Err(other) => panic!("{other}"),
    };
    assert_eq!(check(json!({})), Some(IdTokenCheck::AuthTime), "missing");
    assert_eq!(
        check(json!({"auth_time": 1_000})),
        Some(IdTokenCheck::AuthTime),
        "too old"
    );
    assert_eq!(check(json!({"auth_time": 1_300})), None);
    assert_eq!(
        check(json!({"auth_time": 1_081})),
        None,
        "300 s plus the clock skew"
    );
    assert_eq!(reason(json!({})), None, "without max_age, none is needed");
}

#[test]
fn a_required_acr_must_be_one_of_those_asked() {
    let required = ["urn:mfa".to_owned(), "urn:hwk".to_owned()];
    let expect = IdTokenExpectations {
        acr_required: &required,
        ..EXPECT
    };
    let verified = verify_with(
        base(json!({"acr": "urn:hwk", "amr": ["hwk"]})),
        true,
        &expect,
    )
    .expect("strong enough");
    assert_eq!(verified.claims().acr.as_deref(), Some("urn:hwk"));
    assert_eq!(
        verified.claims().amr.as_deref(),
        Some(&["hwk".to_owned()][..])
    );
    for weaker in [json!({"acr": "urn:pwd"}), json!({})] {
        let refused = verify_with(base(weaker), true, &expect).err();
        assert_eq!(refused, Some(AuthError::InvalidIdToken(IdTokenCheck::Acr)));
    }
}

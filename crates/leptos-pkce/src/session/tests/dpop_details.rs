//! DPoP details (hardening, defect 9): a refused proof is not a reason to
//! refresh, a resource server's clock dates the retry, its nonces count on
//! any answer, and a second nonce refusal of a refresh backs off.

use serde_json::Value;

use super::provider::{API, Fault};
use super::*;
use crate::session::{AuthWarning, ResourceResponse};

/// A resource answer with headers.
#[derive(Debug, Default)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) www_authenticate: Option<&'static str>,
    pub(crate) nonce: Option<&'static str>,
    pub(crate) date: Option<&'static str>,
}

impl Answer {
    pub(crate) fn ok() -> Self {
        Self {
            status: 200,
            ..Self::default()
        }
    }
}

impl ResourceResponse for Answer {
    fn status(&self) -> u16 {
        self.status
    }
    fn header(&self, name: &str) -> Option<String> {
        match name {
            "WWW-Authenticate" => self.www_authenticate.map(str::to_owned),
            "DPoP-Nonce" => self.nonce.map(str::to_owned),
            "Date" => self.date.map(str::to_owned),
            _ => None,
        }
    }
}

/// The claims of a DPoP proof.
pub(crate) fn proof_claims(proof: &str) -> Value {
    use base64::Engine as _;
    let part = proof.split('.').nth(1).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// The resource server's clock: 90 s ahead of the world's at start.
const SERVER_NOW_S: i64 = 1_700_000_090;
const SERVER_DATE: &str = "Tue, 14 Nov 2023 22:14:50 GMT";
const REFUSED: &str = r#"DPoP error="invalid_dpop_proof", error_description="iat""#;

fn dpop_signed_in() -> (Rc<World>, TestSession) {
    let world = World::new();
    world.provider.borrow_mut().dpop_advertised = true;
    let (_, session) = signed_in(&world);
    (world, session)
}

/// Calls a resource server whose clock is [`SERVER_NOW_S`] and that
/// accepts proofs dated within 60 s of it; its refusals carry `date`.
/// Returns the status and the `iat` of every proof sent.
fn call_skewed_api(session: &TestSession, date: Option<&'static str>) -> (u16, Vec<i64>) {
    let sent = RefCell::new(Vec::new());
    let answer = block_on(
        session.authorized("GET", &format!("{API}/x"), |auth: ResourceAuth| {
            let iat = proof_claims(auth.dpop.as_deref().unwrap_or_default())["iat"]
                .as_i64()
                .unwrap_or_default();
            sent.borrow_mut().push(iat);
            let fresh = (iat - SERVER_NOW_S).abs() <= 60;
            async move {
                Ok(if fresh {
                    Answer::ok()
                } else {
                    Answer {
                        status: 401,
                        www_authenticate: Some(REFUSED),
                        date,
                        ..Answer::default()
                    }
                })
            }
        }),
    );
    (answer.map_or(0, |a| a.status), sent.into_inner())
}

#[test]
fn a_refused_proof_is_sent_again_by_the_servers_clock_without_a_refresh() {
    let (world, session) = dpop_signed_in();
    let (status, sent) = call_skewed_api(&session, Some(SERVER_DATE));
    assert_eq!(status, 200, "proofs sent with iat {sent:?}");
    assert_eq!(sent.len(), 2, "one try, one retry by the server's Date");
    assert!((sent[1] - SERVER_NOW_S).abs() <= 2, "{sent:?}");
    assert!(world.refreshes().is_empty(), "a refresh cannot fix a proof");
    let (status, sent) = call_skewed_api(&session, Some(SERVER_DATE));
    assert_eq!(
        (status, sent.len()),
        (200, 1),
        "the offset is kept: {sent:?}"
    );
}

#[test]
fn a_refused_proof_without_a_date_is_one_try_and_never_a_refresh() {
    let (world, session) = dpop_signed_in();
    for _ in 0..20 {
        let (status, sent) = call_skewed_api(&session, None);
        assert_eq!((status, sent.len()), (401, 1), "{sent:?}");
    }
    assert!(
        world.refreshes().is_empty(),
        "{} refreshes for refused proofs",
        world.refreshes().len()
    );
    assert!(matches!(session.status(), AuthStatus::SignedIn(_)));
}

#[test]
fn a_refused_proof_whose_date_agrees_is_not_sent_again() {
    let (world, session) = dpop_signed_in();
    let sent = Cell::new(0);
    let answer = block_on(session.authorized("GET", &format!("{API}/x"), |_| {
        sent.set(sent.get() + 1);
        async {
            Ok(Answer {
                status: 401,
                www_authenticate: Some(REFUSED),
                date: Some("Tue, 14 Nov 2023 22:13:21 GMT"),
                ..Answer::default()
            })
        }
    }));
    assert_eq!(answer.map(|a| a.status), Ok(401));
    assert_eq!(sent.get(), 1, "the same clock would make the same proof");
    assert!(world.refreshes().is_empty());
}

#[test]
fn a_resource_nonce_on_a_success_is_used_by_the_next_proof() {
    let (_, session) = dpop_signed_in();
    let nonces = RefCell::new(Vec::new());
    for _ in 0..2 {
        let answer = block_on(session.authorized("GET", &format!("{API}/x"), |auth| {
            let claims = proof_claims(auth.dpop.as_deref().unwrap_or_default());
            nonces
                .borrow_mut()
                .push(claims["nonce"].as_str().map(str::to_owned));
            async {
                Ok(Answer {
                    nonce: Some("rs-1"),
                    ..Answer::ok()
                })
            }
        }));
        assert_eq!(answer.map(|a| a.status), Ok(200));
    }
    assert_eq!(*nonces.borrow(), [None, Some("rs-1".to_owned())]);
}

#[test]
fn a_second_nonce_refusal_of_a_refresh_backs_off_and_keeps_the_session() {
    let (world, session) = dpop_signed_in();
    world.advance(250_000.0);
    {
        let mut provider = world.provider.borrow_mut();
        provider.faults.push_back(Fault::NonceChallenge("a"));
        provider.faults.push_back(Fault::NonceChallenge("b"));
    }
    let before = world.count(Endpoint::Token);
    let error = block_on(session.refresh()).expect_err("refused twice");
    assert_eq!(error.code(), "use_dpop_nonce");
    assert_eq!(world.count(Endpoint::Token) - before, 2, "not a loop");
    assert!(
        matches!(session.status(), AuthStatus::SignedIn(_)),
        "{:?}",
        session.status()
    );
    assert!(matches!(
        session.warning(),
        Some(AuthWarning::RefreshRetrying { .. })
    ));
    let retry_at = session.next_wake_at_ms().expect("retry timer");
    assert!(retry_at <= world.now_ms.get() + 2_000.0);
    world.advance(2_000.0);
    block_on(session.on_timer(true));
    assert_eq!(session.warning(), None, "the retry with nonce b passed");
    assert_eq!(world.count(Endpoint::Token) - before, 3);
    assert_eq!(world.provider.borrow().refresh_errors(), 0);
}

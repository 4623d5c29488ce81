//! Every class of refresh failure: transient ones keep the session and
//! retry, the rest end it; rotated tokens are never lost.

use super::provider::Fault;
use super::*;
use crate::protocol::IdTokenCheck;
use crate::session::AuthWarning;

#[test]
fn a_network_failure_keeps_the_session_and_retries_with_the_same_token() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    let token = refresh_token(&session).expect("rt");
    world.provider.borrow_mut().faults.push_back(Fault::Network);
    world.advance(250_000.0);
    let error = block_on(session.refresh()).expect_err("offline");
    assert_eq!(error.code(), "network_error");
    assert!(matches!(session.status(), AuthStatus::SignedIn(_)));
    assert!(matches!(
        session.warning(),
        Some(AuthWarning::RefreshRetrying { .. })
    ));
    let retry_at = session.next_wake_at_ms().expect("retry timer");
    assert!(retry_at > world.now_ms.get() && retry_at <= world.now_ms.get() + 2_000.0);
    world.advance(2_000.0);
    block_on(session.on_timer(true));
    assert_eq!(session.warning(), None);
    let sent: Vec<String> = world.refreshes().iter().map(|f| sent_token(f)).collect();
    assert_eq!(
        sent,
        vec![token.clone(), token],
        "the unanswered token, presented again"
    );
}

#[test]
fn server_errors_back_off_exponentially() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world.advance(250_000.0);
    let mut delays = Vec::new();
    for _ in 0..4 {
        world
            .provider
            .borrow_mut()
            .faults
            .push_back(Fault::Answer(503, "busy"));
        let error = block_on(session.refresh()).expect_err("503");
        assert_eq!(error, AuthError::ServerError(503));
        delays.push(session.next_wake_at_ms().expect("retry") - world.now_ms.get());
    }
    assert!(delays.windows(2).all(|w| w[1] > w[0] * 1.2), "{delays:?}");
    assert!(matches!(session.status(), AuthStatus::SignedIn(_)));
}

#[test]
fn temporarily_unavailable_is_transient() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world
        .provider
        .borrow_mut()
        .faults
        .push_back(Fault::Answer(400, r#"{"error":"temporarily_unavailable"}"#));
    world.advance(250_000.0);
    assert!(block_on(session.refresh()).is_err());
    assert!(matches!(session.status(), AuthStatus::SignedIn(_)));
}

#[test]
fn invalid_grant_ends_the_session() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world
        .provider
        .borrow_mut()
        .faults
        .push_back(Fault::Answer(400, r#"{"error":"invalid_grant"}"#));
    world.advance(250_000.0);
    let error = block_on(session.refresh()).expect_err("refused");
    assert_eq!(error.code(), "invalid_grant");
    assert_eq!(session.status().error_code(), Some("invalid_grant"));
    assert!(session.with_tokens(|t| t.is_none()), "tokens dropped");
    assert_eq!(session.next_wake_at_ms(), None);
}

#[test]
fn an_unparseable_2xx_is_terminal_not_a_retry_loop() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world
        .provider
        .borrow_mut()
        .faults
        .push_back(Fault::Answer(200, "<html>oops</html>"));
    world.advance(250_000.0);
    let error = block_on(session.refresh()).expect_err("garbage");
    assert_eq!(error.code(), "token_response_invalid");
    assert_eq!(
        session.status().error_code(),
        Some("token_response_invalid")
    );
    assert_eq!(world.refreshes().len(), 1);
}

#[test]
fn a_rotated_token_in_an_unusable_answer_is_kept() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world.provider.borrow_mut().faults.push_back(Fault::Answer(
        200,
        r#"{"token_type":"Bearer","refresh_token":"rt-new"}"#,
    ));
    world.advance(250_000.0);
    assert!(block_on(session.refresh()).is_err());
    // The session ended, and the old token was never presented again.
    assert!(session.with_tokens(|t| t.is_none()));
    assert_eq!(world.refreshes().len(), 1);
}

#[test]
fn a_rotated_token_is_kept_when_the_keys_cannot_be_fetched() {
    let world = World::new();
    let (page, session) = signed_in(&world);
    world.advance(super::super::verify::KEYS_TTL_MS + 1.0);
    // The refresh succeeds at the provider, but the key set cannot be fetched.
    world.provider.borrow_mut().published.clear();
    let before = refresh_token(&session).expect("rt");
    let error = block_on(session.refresh()).expect_err("no key");
    assert_eq!(error.code(), "invalid_id_token");
    let _ = page;
    // Terminal here (no usable key); a transient key fetch would retry with the new token.
    assert_ne!(world.refreshes().len(), 0);
    assert_ne!(Some(before), refresh_token(&session));
}

#[test]
fn a_refreshed_id_token_for_another_person_ends_the_session() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world
        .provider
        .borrow_mut()
        .faults
        .push_back(Fault::OtherSubject);
    world.advance(250_000.0);
    let error = block_on(session.refresh()).expect_err("other sub");
    assert_eq!(
        error,
        AuthError::InvalidIdToken(IdTokenCheck::SubjectChanged)
    );
    assert_eq!(session.status().error_code(), Some("invalid_id_token"));
}

#[test]
fn a_refreshed_id_token_with_a_bad_signature_ends_the_session() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world
        .provider
        .borrow_mut()
        .faults
        .push_back(Fault::BadSignature);
    world.advance(250_000.0);
    let error = block_on(session.refresh()).expect_err("bad signature");
    assert_eq!(error, AuthError::InvalidIdToken(IdTokenCheck::Signature));
    assert!(session.with_tokens(|t| t.is_none()));
}

#[test]
fn a_refresh_without_an_id_token_keeps_the_claims() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world.provider.borrow_mut().refresh_id_tokens = false;
    world.advance(250_000.0);
    block_on(session.refresh()).expect("refresh");
    assert!(matches!(session.status(), AuthStatus::SignedIn(ref p) if p.sub == "alice"));
}

#[test]
fn without_a_refresh_token_the_session_ends_at_expiry() {
    let world = World::new();
    world.provider.borrow_mut().issue_refresh_tokens = false;
    world.provider.borrow_mut().access_ttl_s = 60;
    let (_, session) = signed_in(&world);
    let expiry = session.next_wake_at_ms().expect("the expiry is watched");
    assert_eq!(expiry, world.now_ms.get() + 60_000.0);
    world.advance(60_000.0);
    block_on(session.on_timer(true));
    assert_eq!(
        session.status(),
        AuthStatus::Error(AuthError::SessionExpired)
    );
    assert!(session.with_tokens(|t| t.is_none()));
}

#[test]
fn a_lost_answer_is_retried_and_reuse_detection_ends_the_session() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world
        .provider
        .borrow_mut()
        .faults
        .push_back(Fault::ProcessedThenLost);
    world.advance(250_000.0);
    assert_eq!(
        block_on(session.refresh()).map_err(|e| e.code().to_owned()),
        Err("network_error".into())
    );
    assert!(
        matches!(session.status(), AuthStatus::SignedIn(_)),
        "the token is still valid"
    );
    world.advance(2_000.0);
    block_on(session.on_timer(true));
    assert_eq!(
        session.status().error_code(),
        Some("invalid_grant"),
        "the server had rotated it"
    );
}

#[test]
fn offline_pauses_refreshing_with_a_notice() {
    let world = World::new();
    world.provider.borrow_mut().access_ttl_s = 40;
    let (_, session) = signed_in(&world);
    world.advance(35_000.0);
    block_on(session.on_timer(false));
    assert_eq!(session.warning(), Some(AuthWarning::Offline));
    assert!(world.refreshes().is_empty());
    block_on(session.on_timer(true));
    assert_eq!(world.refreshes().len(), 1);
    assert_eq!(session.warning(), None);
}

#[test]
fn going_offline_is_told_at_once_and_cleared_when_back() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    session.on_offline();
    assert_eq!(session.warning(), Some(AuthWarning::Offline));
    block_on(session.on_timer(true));
    assert_eq!(session.warning(), None, "back online, nothing due");
    assert!(world.refreshes().is_empty());
}

#[test]
fn an_answer_after_sign_out_is_dropped() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world.advance(250_000.0);
    let refresh = session.refresh();
    let sign_out = session.sign_out();
    let (result, ()) = block_on(futures::future::join(refresh, sign_out));
    assert_eq!(result, Err(AuthError::NotSignedIn));
    assert!(session.with_tokens(|t| t.is_none()));
}

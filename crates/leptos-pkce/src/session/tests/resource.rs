//! Calls to protected resources: the allow-list, refresh first, the 401
//! replay, and concurrent calls sharing one refresh.

use super::provider::Fault;
use super::*;

fn url() -> String {
    format!("{API}/v1/me")
}

#[test]
fn a_call_carries_the_access_token_as_bearer() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    let seen = RefCell::new(Vec::new());
    let token = access_token(&session);
    assert_eq!(
        block_on(api_call(&session, &url(), |_| true, &seen)),
        Ok(200)
    );
    assert_eq!(*seen.borrow(), vec![format!("Bearer {token}")]);
    assert!(world.refreshes().is_empty());
}

#[test]
fn the_token_never_goes_to_an_origin_outside_the_allow_list() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    let seen = RefCell::new(Vec::new());
    for bad in [
        "https://evil.example/steal",
        "http://api.example.com/v1/me",
        "https://api.example.com.evil.example/",
        "https://api.example.com:444/",
        "/relative",
    ] {
        let result = block_on(api_call(&session, bad, |_| true, &seen));
        assert_eq!(
            result.map_err(|e| e.code().to_owned()),
            Err("resource_not_allowed".into()),
            "{bad}"
        );
    }
    assert!(seen.borrow().is_empty(), "nothing was sent");
}

#[test]
fn a_call_without_a_session_is_refused() {
    let world = World::new();
    let (_, session) = signed_out(&world);
    let seen = RefCell::new(Vec::new());
    assert_eq!(
        block_on(api_call(&session, &url(), |_| true, &seen)),
        Err(AuthError::NotSignedIn)
    );
}

#[test]
fn a_due_token_is_refreshed_before_the_call() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    let old = access_token(&session);
    world.advance(250_000.0);
    let seen = RefCell::new(Vec::new());
    assert_eq!(
        block_on(api_call(&session, &url(), |_| true, &seen)),
        Ok(200)
    );
    assert_eq!(world.refreshes().len(), 1);
    assert_ne!(seen.borrow()[0], format!("Bearer {old}"));
}

#[test]
fn a_401_refreshes_once_and_retries_once() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    let first = access_token(&session);
    let seen = RefCell::new(Vec::new());
    let status = block_on(api_call(&session, &url(), |token| token != first, &seen));
    assert_eq!(status, Ok(200));
    assert_eq!(world.refreshes().len(), 1);
    assert_eq!(seen.borrow().len(), 2);
}

#[test]
fn a_401_that_persists_is_returned_without_a_loop() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    let seen = RefCell::new(Vec::new());
    let status = block_on(api_call(&session, &url(), |_| false, &seen));
    assert_eq!(status, Ok(401));
    assert_eq!(world.refreshes().len(), 1, "one refresh");
    assert_eq!(seen.borrow().len(), 2, "one retry");
}

#[test]
fn concurrent_calls_with_a_due_token_share_one_refresh() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world.advance(250_000.0);
    let seen = RefCell::new(Vec::new());
    let target = url();
    let calls = (0..20).map(|_| api_call(&session, &target, |_| true, &seen));
    let results = block_on(futures::future::join_all(calls));
    assert!(results.iter().all(|r| *r == Ok(200)));
    assert_eq!(world.refreshes().len(), 1);
}

#[test]
fn two_concurrent_401s_share_one_refresh() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    let first = access_token(&session);
    let seen = RefCell::new(Vec::new());
    let target = url();
    let a = api_call(&session, &target, |token| token != first, &seen);
    let b = api_call(&session, &target, |token| token != first, &seen);
    let (a, b) = block_on(futures::future::join(a, b));
    assert_eq!((a, b), (Ok(200), Ok(200)));
    assert_eq!(world.refreshes().len(), 1);
}

#[test]
fn a_transient_refresh_failure_does_not_stop_a_call_with_a_valid_token() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world.advance(250_000.0); // due (45 s margin), not expired
    world
        .provider
        .borrow_mut()
        .faults
        .push_back(Fault::Answer(503, ""));
    let seen = RefCell::new(Vec::new());
    assert_eq!(
        block_on(api_call(&session, &url(), |_| true, &seen)),
        Ok(200)
    );
    assert!(matches!(session.status(), AuthStatus::SignedIn(_)));
}

#[test]
fn a_call_that_joined_a_failed_refresh_tries_once_more_when_expired() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world.advance(301_000.0); // expired
    world.provider.borrow_mut().faults.push_back(Fault::Network);
    let seen = RefCell::new(Vec::new());
    assert_eq!(
        block_on(api_call(&session, &url(), |_| true, &seen)),
        Ok(200)
    );
    let refreshes = world.refreshes();
    assert_eq!(refreshes.len(), 2, "the failed one and one fresh attempt");
    assert_eq!(refreshes[0], refreshes[1], "the same, never-answered token");
}

#[test]
fn a_call_with_an_expired_token_and_no_refresh_token_ends_the_session() {
    let world = World::new();
    world.provider.borrow_mut().issue_refresh_tokens = false;
    let (_, session) = signed_in(&world);
    world.advance(301_000.0);
    let seen = RefCell::new(Vec::new());
    assert_eq!(
        block_on(api_call(&session, &url(), |_| true, &seen)),
        Err(AuthError::SessionExpired)
    );
    assert_eq!(
        session.status(),
        AuthStatus::Error(AuthError::SessionExpired)
    );
    assert!(seen.borrow().is_empty());
}

#[test]
fn a_401_without_a_refresh_token_is_returned() {
    let world = World::new();
    world.provider.borrow_mut().issue_refresh_tokens = false;
    let (_, session) = signed_in(&world);
    let seen = RefCell::new(Vec::new());
    assert_eq!(
        block_on(api_call(&session, &url(), |_| false, &seen)),
        Ok(401)
    );
    assert_eq!(seen.borrow().len(), 1);
}

#[test]
fn invalid_grant_during_a_call_ends_the_session_and_fails_the_call() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world.advance(250_000.0);
    world
        .provider
        .borrow_mut()
        .faults
        .push_back(Fault::Answer(400, r#"{"error":"invalid_grant"}"#));
    let seen = RefCell::new(Vec::new());
    let result = block_on(api_call(&session, &url(), |_| true, &seen));
    assert_eq!(
        result.map_err(|e| e.code().to_owned()),
        Err("invalid_grant".into())
    );
    assert!(seen.borrow().is_empty());
}

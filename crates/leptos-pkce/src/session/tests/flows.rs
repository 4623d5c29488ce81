//! Sign-in, the callback and page loads.

use super::provider::{APP, ISSUER};
use super::*;
use crate::protocol::{IdTokenCheck, STORAGE_PREFIX};

#[test]
fn sign_in_sends_pkce_state_and_nonce_and_keeps_only_the_pending_request() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = signed_out(&world);
    assert_eq!(session.status(), AuthStatus::SignedOut);
    block_on(session.sign_in("/profile"));
    assert_eq!(session.status(), AuthStatus::SigningIn);
    let (url, replace) = page.last_navigation().expect("redirect");
    assert!(!replace, "an interactive sign-in keeps the app in history");
    assert!(url.starts_with(&format!("{ISSUER}/auth?")));
    let params = query_of(&url);
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43);
    assert_eq!(params["state"].len(), 43);
    assert_eq!(params["nonce"].len(), 43);
    assert!(!params.contains_key("prompt"));
    let keys = world.storage_keys();
    assert_eq!(keys, vec![format!("{STORAGE_PREFIX}{}", params["state"])]);
    let stored = world
        .storage
        .borrow()
        .values()
        .next()
        .cloned()
        .unwrap_or_default();
    assert!(!stored.contains("at-"), "no token in storage");
}

#[test]
fn whole_flow_signs_in_and_returns_to_the_page() {
    let world = World::new();
    let (page, session) = signed_in(&world);
    assert_eq!(
        page.url(),
        "/profile",
        "code and state wiped; back where it started"
    );
    let AuthStatus::SignedIn(profile) = session.status() else {
        unreachable!()
    };
    assert_eq!(profile.sub, "alice");
    assert_eq!(profile.name, "Alice L.", "userinfo adds to the ID token");
    assert_eq!(profile.email.as_deref(), Some("alice@example.com"));
    assert!(
        world.storage_keys().is_empty(),
        "nothing left in sessionStorage"
    );
    assert_eq!(world.count(Endpoint::Token), 1);
    assert!(access_token(&session).starts_with("at-"));
    assert!(refresh_token(&session).is_some());
}

#[test]
fn the_callback_is_wiped_before_start_up_even_if_start_up_fails() {
    let world = World::new();
    let (page, _) = signed_out(&world);
    let (url, _) = page.last_navigation().unwrap_or_default();
    assert!(url.is_empty());
    let (_, back) = to_provider_and_back(&world, "/");
    let callback = Page::at(&world, "/callback", &back);
    let captured = CapturedCallback::capture(&callback, callback.now_ms());
    assert!(captured.is_some());
    assert_eq!(callback.url(), "/", "wiped synchronously");
    assert!(
        world.storage_keys().is_empty(),
        "the pending request is gone"
    );
    drop(captured); // start-up failed: nothing of the sign-in remains
    let (_, again) = signed_in(&world);
    assert!(
        matches!(again.status(), AuthStatus::SignedIn(_)),
        "signing in again works"
    );
}

#[test]
fn a_replayed_callback_is_a_state_mismatch_without_a_token_request() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    let (_, back) = to_provider_and_back(&world, "/");
    let (_, first) = load(&world, &format!("/callback{back}"));
    assert!(matches!(first.status(), AuthStatus::SignedIn(_)));
    let (_, replay) = load(&world, &format!("/callback{back}"));
    assert_eq!(replay.status(), AuthStatus::Error(AuthError::StateMismatch));
    assert_eq!(
        world.count(Endpoint::Token),
        1,
        "the replayed code was never sent"
    );
}

#[test]
fn a_forged_state_is_refused_before_the_code_is_used() {
    let world = World::new();
    let (_, session) = load(&world, "/callback?code=stolen&state=forged");
    assert_eq!(
        session.status(),
        AuthStatus::Error(AuthError::StateMismatch)
    );
    assert_eq!(world.count(Endpoint::Token), 0);
}

#[test]
fn a_mixed_up_issuer_is_refused_and_the_code_kept_from_the_token_endpoint() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    let (_, back) = to_provider_and_back(&world, "/");
    let forged = back.replace("id.example.com", "evil.example.com");
    let (_, callback) = load(&world, &format!("/callback{forged}"));
    assert_eq!(callback.status().error_code(), Some("issuer_mismatch"));
    assert_eq!(world.count(Endpoint::Token), 0);
}

#[test]
fn a_provider_error_is_shown_with_its_code() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = signed_out(&world);
    block_on(session.sign_in("/"));
    let (url, _) = page.last_navigation().expect("redirect");
    let state = query_of(&url)["state"].clone();
    let iss = "https%3A%2F%2Fid.example.com";
    let (_, callback) = load(
        &world,
        &format!("/callback?error=access_denied&state={state}&iss={iss}"),
    );
    assert_eq!(callback.status().error_code(), Some("access_denied"));
    assert!(world.storage_keys().is_empty());
}

#[test]
fn key_rotation_refetches_the_key_set_once() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    assert_eq!(world.count(Endpoint::Keys), 1);
    {
        let mut provider = world.provider.borrow_mut();
        provider.kid = "k2".into();
        provider.published = vec!["k1".into(), "k2".into()];
    }
    world.advance(400_000.0);
    block_on(session.refresh()).expect("refresh with a rotated key");
    assert_eq!(
        world.count(Endpoint::Keys),
        2,
        "one refetch for the unknown kid"
    );
    assert!(matches!(session.status(), AuthStatus::SignedIn(_)));
}

#[test]
fn an_unknown_key_after_the_refetch_fails_the_sign_in() {
    let world = World::new();
    world.provider.borrow_mut().kid = "unpublished".into();
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = signed_out(&world);
    block_on(session.sign_in("/"));
    let (_, callback) = follow_to_callback(&world, &page);
    assert_eq!(
        callback.status(),
        AuthStatus::Error(AuthError::InvalidIdToken(IdTokenCheck::UnknownKey))
    );
    assert_eq!(world.count(Endpoint::Keys), 2);
    assert_eq!(world.verifications.get(), 0, "no key, no verification");
}

#[test]
fn a_bad_signature_with_a_published_kid_fails_at_verification() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = signed_out(&world);
    block_on(session.sign_in("/"));
    world
        .provider
        .borrow_mut()
        .faults
        .push_back(provider::Fault::BadSignature);
    let (_, callback) = follow_to_callback(&world, &page);
    assert_eq!(
        callback.status(),
        AuthStatus::Error(AuthError::InvalidIdToken(IdTokenCheck::Signature))
    );
    assert_eq!(
        world.verifications.get(),
        1,
        "the key was found and the signature checked"
    );
    assert!(callback.with_tokens(|t| t.is_none()));
}

#[test]
fn the_key_set_is_cached_and_expires() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    world.advance(240_000.0);
    block_on(session.refresh()).expect("refresh");
    assert_eq!(world.count(Endpoint::Keys), 1, "cached");
    world.advance(super::super::verify::KEYS_TTL_MS);
    block_on(session.refresh()).expect("refresh");
    assert_eq!(
        world.count(Endpoint::Keys),
        2,
        "refetched after its time-to-live"
    );
}

/// The callback page up to `resume`, without `complete_profile`.
fn callback_before_userinfo(world: &Rc<World>) -> (Page, TestSession) {
    let (_, back) = to_provider_and_back(world, "/");
    let page = Page::at(world, "/callback", &back);
    let captured = CapturedCallback::capture(&page, page.now_ms());
    let session = Rc::new(Session::new(
        page.clone(),
        config(),
        SessionOptions::default(),
    ));
    block_on(session.resume(captured));
    (page, session)
}

fn shown_profile(session: &TestSession) -> crate::session::UserProfile {
    match session.status() {
        AuthStatus::SignedIn(profile) => profile,
        other => panic!("not signed in: {other:?}"),
    }
}

/// An ID token that names the person is enough to show signed-in: the
/// userinfo round trip comes afterwards and only adds to the profile.
#[test]
fn userinfo_comes_after_signed_in_when_the_id_token_names_the_person() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    let (_, session) = callback_before_userinfo(&world);
    assert_eq!(
        shown_profile(&session).name,
        "Alice Liddell",
        "the ID token's name"
    );
    assert_eq!(
        world.count(Endpoint::Userinfo),
        0,
        "not on the way to signed-in"
    );
    block_on(session.complete_profile());
    assert_eq!(world.count(Endpoint::Userinfo), 1);
    let profile = shown_profile(&session);
    assert_eq!(profile.name, "Alice L.", "userinfo adds to the ID token");
    assert_eq!(profile.email.as_deref(), Some("alice@example.com"));
    block_on(session.complete_profile());
    assert_eq!(world.count(Endpoint::Userinfo), 1, "asked once");
}

/// A userinfo answer that fails or cannot be read adds nothing: the
/// verified ID token's name stays, the session too.
#[test]
fn a_failed_or_unreadable_userinfo_leaves_the_id_tokens_name() {
    for broken in [
        (500, "{}"),
        (200, "not json"),
        (200, r#"{"name":"Mallory"}"#),
    ] {
        let world = World::new();
        world.provider.borrow_mut().signed_in = false;
        world.provider.borrow_mut().userinfo_answer = Some(broken);
        let (_, session) = callback_before_userinfo(&world);
        block_on(session.complete_profile());
        assert_eq!(world.count(Endpoint::Userinfo), 1);
        assert_eq!(shown_profile(&session).name, "Alice Liddell", "{broken:?}");
        assert!(!session.has_userinfo());
    }
}

/// An ID token without a name to show waits for userinfo, as before.
#[test]
fn userinfo_comes_first_when_the_id_token_names_nobody() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    world.provider.borrow_mut().id_token_names = false;
    let (_, session) = callback_before_userinfo(&world);
    assert_eq!(world.count(Endpoint::Userinfo), 1);
    assert_eq!(shown_profile(&session).name, "Alice L.");
    block_on(session.complete_profile());
    assert_eq!(world.count(Endpoint::Userinfo), 1, "nothing left to ask");
}

/// Userinfo for someone else after signed-in ends the session, tokens and all.
#[test]
fn userinfo_for_another_subject_after_signed_in_ends_the_session() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    world.provider.borrow_mut().userinfo_sub = Some("mallory".into());
    let (_, session) = callback_before_userinfo(&world);
    assert!(matches!(session.status(), AuthStatus::SignedIn(_)));
    block_on(session.complete_profile());
    assert_eq!(
        session.status(),
        AuthStatus::Error(AuthError::UserinfoSubMismatch)
    );
    assert!(
        session.with_tokens(|tokens| tokens.is_none()),
        "the tokens are dropped"
    );
}

#[test]
fn userinfo_for_another_subject_fails_the_sign_in() {
    let world = World::new();
    world.provider.borrow_mut().id_token_names = false;
    world.provider.borrow_mut().userinfo_sub = Some("mallory".into());
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = signed_out(&world);
    block_on(session.sign_in("/"));
    let (_, callback) = follow_to_callback(&world, &page);
    assert_eq!(
        callback.status(),
        AuthStatus::Error(AuthError::UserinfoSubMismatch)
    );
}

#[test]
fn the_return_path_cannot_leave_the_app() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = signed_out(&world);
    block_on(session.sign_in("//evil.example/x"));
    let (back, _) = follow_to_callback(&world, &page);
    assert_eq!(back.url(), "/");
}

#[test]
fn observers_hear_every_change() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    let heard = Rc::new(Cell::new(0));
    let counter = Rc::clone(&heard);
    session.set_observer(move || counter.set(counter.get() + 1));
    world.advance(240_000.0);
    block_on(session.refresh()).expect("refresh");
    assert!(heard.get() >= 1);
    assert_eq!(APP, "https://app.example.com");
}

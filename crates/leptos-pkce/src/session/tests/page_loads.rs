//! Page loads: the silent restore, the logout return, stale storage.

use super::*;
use crate::protocol::{LOGOUT_PREFIX, SILENT_SKIP_KEY};

#[test]
fn reload_restores_the_session_silently_with_replace() {
    let world = World::new();
    let (_, first) = signed_in(&world);
    drop(first);
    // The page is reloaded: memory is empty, the provider's session stands.
    let (page, session) = load(&world, "/profile?tab=2");
    assert_eq!(session.status(), AuthStatus::SigningIn);
    let (url, replace) = page.last_navigation().expect("silent attempt");
    assert!(replace, "no history entry for the silent round trip");
    assert_eq!(query_of(&url)["prompt"], "none");
    let (back, restored) = follow_to_callback(&world, &page);
    assert!(matches!(restored.status(), AuthStatus::SignedIn(_)));
    assert_eq!(back.url(), "/profile?tab=2");
}

#[test]
fn login_required_on_a_silent_attempt_is_quiet_and_not_repeated() {
    let world = World::new();
    world.hint();
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = load(&world, "/");
    assert_eq!(session.status(), AuthStatus::SigningIn);
    let (back, after) = follow_to_callback(&world, &page);
    assert!(world.local.borrow().is_empty(), "the hint is gone");
    assert_eq!(
        after.status(),
        AuthStatus::SignedOut,
        "no error for 'not signed in'"
    );
    assert_eq!(back.url(), "/");
    assert!(world.storage_keys().contains(&SILENT_SKIP_KEY.to_owned()));
    let (again, reloaded) = load(&world, "/");
    assert_eq!(reloaded.status(), AuthStatus::SignedOut);
    assert!(
        again.last_navigation().is_none(),
        "no second silent attempt in this tab"
    );
}

#[test]
fn a_first_visit_asks_the_provider_nothing() {
    let world = World::new();
    let (page, session) = load(&world, "/");
    assert_eq!(session.status(), AuthStatus::SignedOut);
    assert!(page.last_navigation().is_none());
    assert!(
        world.requests.borrow().is_empty(),
        "no request at all, not even discovery: {:?}",
        world.requests.borrow()
    );
    assert!(session.metadata().is_none());
    block_on(session.sign_in("/"));
    assert_eq!(world.count(Endpoint::Discovery), 1, "loaded by the sign-in");
    assert!(page.last_navigation().is_some());
}

#[test]
fn a_provider_down_at_sign_in_is_discovery_failed_and_the_next_click_asks_again() {
    let world = World::new();
    world.provider.borrow_mut().discovery_down = true;
    let (page, session) = load(&world, "/");
    assert_eq!(session.status(), AuthStatus::SignedOut, "nothing asked yet");
    block_on(session.sign_in("/"));
    assert!(matches!(
        session.status(),
        AuthStatus::Error(AuthError::DiscoveryFailed(_))
    ));
    assert!(page.last_navigation().is_none());
    world.provider.borrow_mut().discovery_down = false;
    block_on(session.sign_in("/"));
    assert_eq!(world.count(Endpoint::Discovery), 2, "a failure is not kept");
    assert!(page.last_navigation().is_some());
}

#[test]
fn silent_restore_can_be_switched_off() {
    let world = World::new();
    let (page, session) = signed_out(&world);
    assert_eq!(session.status(), AuthStatus::SignedOut);
    assert!(page.last_navigation().is_none());
}

#[test]
fn a_successful_sign_in_clears_the_silent_skip_marker() {
    let world = World::new();
    world.mark(SILENT_SKIP_KEY);
    let (_, _) = signed_in(&world);
    assert!(!world.storage_keys().contains(&SILENT_SKIP_KEY.to_owned()));
}

#[test]
fn a_logout_return_with_our_state_is_signed_out_quietly() {
    let world = World::new();
    world.mark(&format!("{LOGOUT_PREFIX}abc"));
    world.mark(SILENT_SKIP_KEY);
    let (page, session) = load(&world, "/?state=abc");
    assert_eq!(session.status(), AuthStatus::SignedOut);
    assert_eq!(page.url(), "/", "state wiped");
    assert!(
        !world
            .storage_keys()
            .iter()
            .any(|k| k.starts_with(LOGOUT_PREFIX))
    );
}

#[test]
fn a_logout_return_with_a_forged_state_is_an_error() {
    let world = World::new();
    world.mark(&format!("{LOGOUT_PREFIX}abc"));
    let (_, session) = load(&world, "/?state=forged");
    assert_eq!(
        session.status(),
        AuthStatus::Error(AuthError::StateMismatch)
    );
}

#[test]
fn a_later_load_after_logout_is_not_an_error() {
    let world = World::new();
    world.mark(&format!("{LOGOUT_PREFIX}abc"));
    world.mark(SILENT_SKIP_KEY);
    let (_, session) = load(&world, "/profile");
    assert_eq!(
        session.status(),
        AuthStatus::SignedOut,
        "Back from the provider: no false alarm"
    );
    let (_, again) = load(&world, "/");
    assert_eq!(again.status(), AuthStatus::SignedOut);
}

#[test]
fn expired_pending_requests_are_purged_on_load() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    let (_, session) = signed_out(&world);
    block_on(session.sign_in("/"));
    assert_eq!(world.storage_keys().len(), 1);
    world.advance(11.0 * 60_000.0);
    let _ = load_with(
        &world,
        "/",
        SessionOptions {
            silent_restore: SilentRestore::Never,
            ..Default::default()
        },
    );
    assert!(world.storage_keys().is_empty());
}

#[test]
fn a_page_restored_from_the_cache_is_not_stuck_signing_in() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    let (_, session) = signed_out(&world);
    block_on(session.sign_in("/"));
    assert_eq!(session.status(), AuthStatus::SigningIn);
    session.on_page_restored();
    assert_eq!(session.status(), AuthStatus::SignedOut);
}

#[test]
fn an_apps_own_query_that_looks_like_a_callback_stays() {
    let world = World::new();
    let options = SessionOptions::default().silent_restore(SilentRestore::Never);
    let (page, session) = load_with(&world, "/?promo=1&code=SPRING25&state=NY", options);
    assert_eq!(page.url(), "/?promo=1&code=SPRING25&state=NY");
    assert_eq!(session.status(), AuthStatus::SignedOut);
    assert_eq!(world.count(Endpoint::Token), 0);
    let (callback, forged) = load_with(&world, "/callback?code=x&state=y", options);
    assert_eq!(forged.status(), AuthStatus::Error(AuthError::StateMismatch));
    assert_eq!(
        callback.url(),
        "/",
        "a forged answer still leaves the address bar"
    );
}

#[test]
fn a_first_visit_stays_on_the_page() {
    let world = World::new();
    let (page, session) = load(&world, "/");
    assert_eq!(session.status(), AuthStatus::SignedOut);
    assert!(
        page.last_navigation().is_none(),
        "no bounce through the provider"
    );
    assert_eq!(world.count(Endpoint::Token), 0);
    let options = SessionOptions::default().silent_restore(SilentRestore::Always);
    let (always, _) = load_with(&world, "/", options);
    assert!(always.last_navigation().is_some(), "Always still bounces");
}

#[test]
fn the_hint_comes_with_a_sign_in_and_goes_with_the_sign_out() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    let hint = world.local.borrow().get(&hint_key()).cloned();
    let until: f64 = hint.expect("hinted").parse().expect("a time");
    assert!(until > world.now_ms.get());
    assert_eq!(world.local.borrow().len(), 1, "one value, no token");
    drop(session);
    let (page, reloaded) = load(&world, "/profile");
    assert_eq!(
        reloaded.status(),
        AuthStatus::SigningIn,
        "a reload restores"
    );
    let (_, restored) = follow_to_callback(&world, &page);
    block_on(restored.sign_out());
    let local = world.local.borrow();
    assert!(!local.contains_key(&hint_key()), "the hint went");
    assert!(
        local.keys().all(|key| key.starts_with("oidc.ended:")),
        "only the ended session's hash stays: {local:?}"
    );
}

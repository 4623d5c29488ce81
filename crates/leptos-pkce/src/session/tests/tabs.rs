//! One session across tabs: joining, sign-in and sign-out everywhere, one
//! refresh for all tabs.

use super::*;

fn new_tab(world: &Rc<World>, tab: usize) -> (Page, TestSession) {
    load_in_tab(world, tab, "/", SessionOptions::default())
}

#[test]
fn a_new_tab_joins_the_session_without_the_provider() {
    let world = World::new();
    let (_, first) = signed_in(&world);
    let authorizations = world.provider.borrow().authorizations();
    let (page, second) = new_tab(&world, 1);
    assert!(matches!(second.status(), AuthStatus::SignedIn(ref p) if p.sub == "alice"));
    assert!(page.last_navigation().is_none(), "no redirect");
    assert_eq!(world.provider.borrow().authorizations(), authorizations);
    assert_eq!(access_token(&second), access_token(&first));
    assert!(
        world.storage_keys().is_empty()
            || !world.storage.borrow().values().any(|v| v.contains("at-"))
    );
}

#[test]
fn without_another_tab_the_silent_restore_follows_the_wait() {
    let world = World::new();
    world.hint();
    let (page, session) = new_tab(&world, 1);
    assert_eq!(session.status(), AuthStatus::SigningIn);
    let (_, replace) = page.last_navigation().expect("prompt=none");
    assert!(replace);
}

#[test]
fn a_reload_while_another_tab_lives_joins_it() {
    let world = World::new();
    let (_, first) = signed_in(&world);
    let (_, second) = new_tab(&world, 1);
    drop(second);
    let (page, reloaded) = new_tab(&world, 1);
    assert!(matches!(reloaded.status(), AuthStatus::SignedIn(_)));
    assert!(page.last_navigation().is_none());
    drop(first);
}

#[test]
fn signing_in_in_one_tab_signs_in_every_tab() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    let options = SessionOptions::default().silent_restore(SilentRestore::Never);
    let (_, other) = load_in_tab(&world, 1, "/", options);
    assert_eq!(other.status(), AuthStatus::SignedOut);
    let (_, here) = signed_in(&world);
    // The other tab loads the provider's metadata and keys to check the
    // carried ID token.
    settle();
    assert!(matches!(other.status(), AuthStatus::SignedIn(_)));
    assert_eq!(access_token(&other), access_token(&here));
}

#[test]
fn signing_out_in_one_tab_signs_out_every_tab_without_an_error() {
    let world = World::new();
    let (_, first) = signed_in(&world);
    let (_, second) = new_tab(&world, 1);
    let (_, third) = new_tab(&world, 2);
    block_on(second.sign_out());
    for session in [&first, &third] {
        assert_eq!(session.status(), AuthStatus::SignedOut);
        assert!(session.with_tokens(|t| t.is_none()));
    }
    let (page, reloaded) = new_tab(&world, 2);
    assert_eq!(
        reloaded.status(),
        AuthStatus::SignedOut,
        "no silent sign-in back"
    );
    assert!(page.last_navigation().is_none());
}

#[test]
fn a_refresh_in_one_tab_reaches_the_others() {
    let world = World::new();
    let (_, first) = signed_in(&world);
    let (_, second) = new_tab(&world, 1);
    world.advance(250_000.0);
    block_on(first.refresh()).expect("refresh");
    assert_eq!(access_token(&second), access_token(&first));
    assert_eq!(refresh_token(&second), refresh_token(&first));
    block_on(second.refresh()).expect("the second tab refreshes with the rotated token");
    assert_eq!(world.provider.borrow().refresh_errors(), 0);
    assert_eq!(refresh_token(&second), refresh_token(&first));
}

#[test]
fn tabs_that_wake_together_make_one_refresh_between_them() {
    let world = World::new();
    let (_, a) = signed_in(&world);
    let (_, b) = new_tab(&world, 1);
    let (_, c) = new_tab(&world, 2);
    world.advance(400_000.0); // asleep past expiry
    let seen = RefCell::new(Vec::new());
    let url = format!("{}/x", provider::API);
    let calls = [&a, &b, &c].into_iter().flat_map(|session| {
        (0..5)
            .map(|_| api_call(session, &url, |_| true, &seen))
            .collect::<Vec<_>>()
    });
    let results = block_on(futures::future::join_all(calls));
    assert!(results.iter().all(|r| *r == Ok(200)), "{results:?}");
    assert_eq!(world.refreshes().len(), 1, "one refresh for all tabs");
    assert_eq!(
        world.provider.borrow().refresh_errors(),
        0,
        "no token presented twice"
    );
    assert_eq!(access_token(&a), access_token(&c));
}

#[test]
fn a_tab_waiting_for_the_lock_adopts_instead_of_presenting_a_spent_token() {
    let world = World::new();
    let (_, a) = signed_in(&world);
    let (_, b) = new_tab(&world, 1);
    world.advance(250_000.0);
    let (x, y) = block_on(futures::future::join(a.refresh(), b.refresh()));
    assert_eq!((x, y), (Ok(()), Ok(())));
    assert_eq!(world.refreshes().len(), 1);
    assert!(world.held_locks() >= 1, "the spent token's lock stays held");
}

#[test]
fn a_tab_closed_mid_refresh_leaves_the_token_to_the_others() {
    let world = World::new();
    let (_, a) = signed_in(&world);
    let (_, b) = new_tab(&world, 1);
    world.advance(250_000.0);
    // Tab a's refresh never gets an answer: the tab closes with it.
    world
        .provider
        .borrow_mut()
        .faults
        .push_back(provider::Fault::Network);
    let _ = block_on(a.refresh());
    drop(a);
    assert!(!world.is_locked(":refresh:"), "nothing left locked");
    block_on(b.refresh()).expect("the other tab refreshes with the token");
    assert!(matches!(b.status(), AuthStatus::SignedIn(_)));
}

#[test]
fn a_late_or_foreign_answer_is_ignored() {
    let world = World::new();
    let (_, first) = signed_in(&world);
    let before = access_token(&first);
    for text in [
        "not json",
        r#"{"Session":[1,{},{}]}"#,
        r#"{"Hello":"x"}"#,
        r#""SignedOut""#,
    ] {
        assert!(!block_on(first.on_tab_message(text, None)));
    }
    assert_eq!(access_token(&first), before);
    assert!(matches!(first.status(), AuthStatus::SignedIn(_)));
}

#[test]
fn an_older_copy_of_the_session_does_not_replace_a_newer_one() {
    let world = World::new();
    let (_, a) = signed_in(&world);
    let (_, b) = new_tab(&world, 1);
    // b is cut off from the channel while a refreshes.
    world.listeners.borrow_mut().retain(|(tab, _)| *tab != 1);
    world.advance(250_000.0);
    block_on(a.refresh()).expect("refresh");
    world.listen(&Page::in_tab(&world, 1, "/", ""), &b);
    // b's older tokens, broadcast now, do not replace a's newer ones.
    b.broadcast_tokens();
    assert_ne!(access_token(&a), access_token(&b));
    let newer = access_token(&a);
    a.broadcast_tokens();
    assert_eq!(access_token(&b), newer);
}

#[test]
fn the_channel_is_named_by_issuer_and_client() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    assert_eq!(
        session.tab_channel_name(),
        "oidc:https://id.example.com:spa"
    );
}

#[test]
fn a_page_back_from_the_cache_asks_the_others_before_it_refreshes() {
    let world = World::new();
    let (_, first) = signed_in(&world);
    let (_, second) = new_tab(&world, 1);
    world.frozen.borrow_mut().insert(1);
    world.advance(240_000.0);
    block_on(first.refresh()).expect("refresh while the second tab is frozen");
    let spent = refresh_token(&second);
    assert_ne!(spent, refresh_token(&first), "the second tab missed it");
    world.frozen.borrow_mut().remove(&1);
    second.on_page_restored();
    // Bounded: without the catch-up it would wait for the spent token's
    // lock, which the first tab holds for good.
    let refresh = Box::pin(second.refresh());
    let patience = Box::pin(async {
        for _ in 0..1_000 {
            page::yield_now().await;
        }
    });
    match block_on(futures::future::select(refresh, patience)) {
        futures::future::Either::Left((refreshed, _)) => refreshed.expect("caught up"),
        futures::future::Either::Right(_) => panic!("the refresh waited for a spent token"),
    }
    assert_eq!(access_token(&second), access_token(&first));
    assert_eq!(
        world.refreshes().len(),
        1,
        "the spent token was not presented"
    );
    assert_eq!(world.provider.borrow().refresh_errors(), 0);
}

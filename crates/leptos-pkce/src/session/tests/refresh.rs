//! The refresh policy: when a refresh is due, how often at most.

use super::*;
use crate::session::TokenSet;
use crate::session::policy::{MAX_REFRESHES_PER_MINUTE, MIN_BACKGROUND_INTERVAL_MS};

#[test]
fn refresh_rotates_and_uses_each_token_once() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let before = refresh_token(&session).expect("refresh token");
        world.advance(240_000.0);
        block_on(session.refresh()).expect("refresh");
        let after = refresh_token(&session).expect("rotated");
        assert_ne!(before, after);
        seen.push(before);
    }
    let sent: Vec<String> = world.refreshes().iter().map(|f| sent_token(f)).collect();
    assert_eq!(
        sent, seen,
        "each refresh presented the token the previous one returned"
    );
    assert_eq!(
        session.with_tokens(|t| t.map(TokenSet::generation)),
        Some(4)
    );
}

#[test]
fn a_refresh_changes_the_tokens_but_not_who_is_shown() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    let shown = Rc::new(RefCell::new(Vec::new()));
    let seen = Rc::clone(&shown);
    let watched = Rc::downgrade(&session);
    session.set_observer(move || {
        if let Some(session) = watched.upgrade() {
            seen.borrow_mut().push(session.status());
        }
    });
    let before = access_token(&session);
    world.advance(240_000.0);
    block_on(session.refresh()).expect("refresh");
    assert_ne!(access_token(&session), before, "new tokens");
    let shown = shown.borrow();
    assert!(!shown.is_empty(), "the adapter was told about the refresh");
    // The adapter sets its status signal only when the status differs, and
    // derives `is_signed_in` and `user` from it: neither changes here.
    assert!(
        shown
            .iter()
            .all(|status| status.is_signed_in() && status.profile() == session.status().profile()),
        "{shown:?}"
    );
}

#[test]
fn the_timer_is_due_a_quarter_of_the_lifetime_before_expiry_at_most_the_margin() {
    let world = World::new();
    world.provider.borrow_mut().access_ttl_s = 40;
    let (_, session) = signed_in(&world);
    let now = world.now_ms.get();
    assert_eq!(session.next_wake_at_ms(), Some(now + 30_000.0));
    let world = World::new();
    world.provider.borrow_mut().access_ttl_s = 3_600;
    let (_, session) = signed_in(&world);
    let now = world.now_ms.get();
    assert_eq!(
        session.next_wake_at_ms(),
        Some(now + 3_540_000.0),
        "60 s margin"
    );
}

#[test]
fn the_refresh_margin_is_an_option() {
    let world = World::new();
    world.provider.borrow_mut().access_ttl_s = 3_600;
    world.provider.borrow_mut().signed_in = false;
    let options = SessionOptions::default()
        .silent_restore(SilentRestore::Never)
        .refresh_margin(std::time::Duration::from_secs(120));
    let (page, session) = load_with(&world, "/", options);
    block_on(session.sign_in("/"));
    let (url, _) = page.last_navigation().expect("redirect");
    let back = world.provider.borrow_mut().authorize(&url);
    let (p, _) = (Page::at(&world, "/callback", &back), ());
    let captured = CapturedCallback::capture(&p, p.now_ms());
    let session = Rc::new(Session::new(p.clone(), config(), options));
    block_on(session.resume(captured));
    let now = world.now_ms.get();
    assert_eq!(session.next_wake_at_ms(), Some(now + 3_480_000.0));
}

#[test]
fn the_timer_refreshes_when_due_and_not_before() {
    let world = World::new();
    world.provider.borrow_mut().access_ttl_s = 40;
    let (_, session) = signed_in(&world);
    world.advance(20_000.0);
    block_on(session.on_timer(true));
    assert!(world.refreshes().is_empty(), "not due yet");
    world.advance(10_000.0);
    block_on(session.on_timer(true));
    assert_eq!(world.refreshes().len(), 1);
}

#[test]
fn very_short_lifetimes_are_refreshed_on_demand_only() {
    let world = World::new();
    world.provider.borrow_mut().access_ttl_s = 1;
    let (_, session) = signed_in(&world);
    assert_eq!(
        session.next_wake_at_ms(),
        None,
        "no background loop for expires_in: 1"
    );
    world.advance(2_000.0);
    let seen = RefCell::new(Vec::new());
    let status = block_on(api_call(&session, &format!("{API}/x"), |_| true, &seen));
    assert_eq!(status, Ok(200));
    assert_eq!(
        world.refreshes().len(),
        1,
        "refreshed when a call needed it"
    );
}

#[test]
fn background_refreshes_keep_a_minimum_interval() {
    let world = World::new();
    world.provider.borrow_mut().access_ttl_s = 12;
    let (_, session) = signed_in(&world);
    world.advance(9_000.0);
    block_on(session.on_timer(true));
    assert_eq!(world.refreshes().len(), 1);
    let last = world.now_ms.get();
    let next = session.next_wake_at_ms().expect("timer");
    assert!(next >= last + MIN_BACKGROUND_INTERVAL_MS, "{}", next - last);
}

#[test]
fn refreshes_are_capped_per_minute() {
    let world = World::new();
    world.provider.borrow_mut().access_ttl_s = 1;
    let (_, session) = signed_in(&world);
    let seen = RefCell::new(Vec::new());
    for _ in 0..(MAX_REFRESHES_PER_MINUTE + 5) {
        world.advance(1_500.0);
        let _ = block_on(api_call(&session, &format!("{API}/x"), |_| true, &seen));
    }
    assert_eq!(world.refreshes().len(), MAX_REFRESHES_PER_MINUTE);
}

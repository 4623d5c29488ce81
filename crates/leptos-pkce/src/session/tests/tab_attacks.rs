//! A same-origin page that is not the app, on the app's channel: it
//! captures real messages, changes them and posts them back. No tab shows
//! another person, revives a session signed out, or drops genuine updates.

use serde_json::{Value, json};

use super::provider::sign;
use super::*;

/// The last `kind` message posted, as JSON, to change.
fn captured(world: &World, kind: &str) -> Value {
    let posted = world.posted.borrow();
    let text = posted
        .iter()
        .rev()
        .find(|text| text.starts_with(&format!("{{\"{kind}\"")))
        .expect("captured");
    serde_json::from_str(text).expect("json")
}

fn post(session: &TestSession, message: &Value) -> bool {
    block_on(session.on_tab_message(&message.to_string(), None))
}

fn an_id_token_for(sub: &str, world: &World, genuine: bool) -> String {
    let now = world.provider.borrow().now_s;
    let claims = json!({
        "iss": provider::ISSUER, "sub": sub, "aud": provider::CLIENT_ID,
        "exp": now + 600, "iat": now, "name": "Mallory",
    });
    let kid = world.provider.borrow().kid.clone();
    sign(&kid, &claims, !genuine)
}

fn two_tabs(world: &Rc<World>) -> (TestSession, TestSession) {
    let (_, first) = signed_in(world);
    let (_, second) = load_in_tab(world, 1, "/", SessionOptions::default());
    assert!(matches!(second.status(), AuthStatus::SignedIn(_)));
    (first, second)
}

#[test]
fn a_changed_identity_is_refused_and_the_person_comes_from_the_token() {
    let world = World::new();
    let (_, first) = signed_in(&world);
    block_on(first.refresh()).expect("refresh");
    let genuine = captured(&world, "Updated");
    let mut forged = genuine.clone();
    forged["Updated"]["session"]["tokens"]["identity"] =
        json!(an_id_token_for("mallory", &world, false));
    // A tab of the same app (same provider keys) that nobody signed in.
    let elsewhere = World::new();
    let (_, other) = signed_out(&elsewhere);
    assert!(
        !post(&other, &forged),
        "a signature the provider never made"
    );
    assert_eq!(other.status(), AuthStatus::SignedOut);
    assert!(post(&other, &genuine), "the real message is taken");
    assert!(matches!(other.status(), AuthStatus::SignedIn(ref p) if p.sub == "alice"));
}

#[test]
fn a_signed_in_tab_refuses_a_session_of_another_person() {
    let world = World::new();
    let (first, second) = two_tabs(&world);
    let mut bob = captured(&world, "Session")["Session"]["session"].clone();
    bob["tokens"]["identity"] = json!(an_id_token_for("bob", &world, true));
    bob["tokens"]["access_token"] = json!("at-bob");
    assert!(!post(&second, &json!({"Updated": {"session": bob}})));
    assert!(matches!(second.status(), AuthStatus::SignedIn(ref p) if p.sub == "alice"));
    assert_eq!(access_token(&second), access_token(&first));
}

#[test]
fn a_session_signed_out_is_never_taken_again() {
    let world = World::new();
    let (first, second) = two_tabs(&world);
    block_on(first.refresh()).expect("refresh");
    let replay = captured(&world, "Updated");
    block_on(first.sign_out());
    assert_eq!(second.status(), AuthStatus::SignedOut);
    let mut later = replay.clone();
    later["Updated"]["session"]["tokens"]["generation"] = json!(99);
    assert!(!post(&second, &replay));
    assert!(
        !post(&second, &later),
        "posted before its sender saw the sign-out"
    );
    assert_eq!(second.status(), AuthStatus::SignedOut);
    assert!(second.with_tokens(|t| t.is_none()));
}

#[test]
fn a_copy_far_ahead_does_not_make_later_genuine_updates_lose() {
    let world = World::new();
    let (first, second) = two_tabs(&world);
    block_on(first.refresh()).expect("refresh");
    let mut far = captured(&world, "Updated");
    far["Updated"]["session"]["tokens"]["generation"] = json!(1_000_000);
    far["Updated"]["session"]["tokens"]["access_token"] = json!("at-forged");
    assert!(!post(&second, &far));
    world.advance(240_000.0);
    block_on(first.refresh()).expect("refresh");
    assert_eq!(
        access_token(&second),
        access_token(&first),
        "the genuine one won"
    );
}

#[test]
fn a_sign_out_must_name_the_session_it_ends() {
    let world = World::new();
    let (_, second) = two_tabs(&world);
    for forged in [
        json!("SignedOut"),
        json!({"SignedOut": {}}),
        json!({"SignedOut": {"ended": "another-session"}}),
    ] {
        assert!(!post(&second, &forged));
        assert!(
            matches!(second.status(), AuthStatus::SignedIn(_)),
            "{forged}"
        );
    }
}

#[test]
fn a_refresh_answer_does_not_write_over_tokens_adopted_while_it_was_in_flight() {
    let world = World::new();
    let (first, second) = two_tabs(&world);
    block_on(first.refresh()).expect("refresh");
    let mut newer = captured(&world, "Updated");
    let tokens = &mut newer["Updated"]["session"]["tokens"];
    tokens["generation"] = json!(tokens["generation"].as_u64().unwrap_or(0) + 1);
    tokens["access_token"] = json!("at-from-another-tab");
    tokens["refresh_token"] = json!("rt-from-another-tab");
    world.advance(240_000.0);
    let text = newer.to_string();
    let sent = world.refreshes().len();
    let (refreshed, adopted) = block_on(futures::future::join(second.refresh(), async {
        while world.refreshes().len() == sent {
            page::yield_now().await;
        }
        second.on_tab_message(&text, None).await
    }));
    assert!(adopted, "delivered while the refresh request was out");
    assert_eq!(refreshed, Ok(()));
    assert_eq!(access_token(&second), "at-from-another-tab");
    assert_eq!(
        refresh_token(&second).as_deref(),
        Some("rt-from-another-tab")
    );
}

#[test]
fn a_tab_that_did_not_hear_the_sign_out_does_not_take_that_session_either() {
    let world = World::new();
    let (first, _second) = two_tabs(&world);
    block_on(first.refresh()).expect("refresh");
    let replay = captured(&world, "Updated");
    block_on(first.sign_out());
    let options = SessionOptions::default().silent_restore(SilentRestore::Never);
    let (_, later) = load_in_tab(&world, 2, "/", options);
    assert_eq!(later.status(), AuthStatus::SignedOut);
    assert!(!post(&later, &replay), "a tab opened after the sign-out");
    assert_eq!(later.status(), AuthStatus::SignedOut);
    let stored: Vec<String> = world.local.borrow().values().cloned().collect();
    assert!(
        stored
            .iter()
            .all(|value| !value.contains("at-") && !value.contains("rt-")),
        "a hash, never a token: {stored:?}"
    );
}

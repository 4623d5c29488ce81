//! Signing out and the whole life of a session.

use super::*;
use crate::protocol::{LOGOUT_PREFIX, SILENT_SKIP_KEY};

#[test]
fn sign_out_forgets_revokes_and_goes_to_the_provider_with_a_state() {
    let world = World::new();
    let (page, session) = signed_in(&world);
    let refresh = refresh_token(&session).expect("rt");
    block_on(session.sign_out());
    assert!(session.with_tokens(|t| t.is_none()));
    assert!(session.signing_out());
    assert_eq!(world.provider.borrow().revoked, vec![refresh]);
    let (url, replace) = page.last_navigation().expect("to the provider");
    assert!(!replace);
    assert!(url.starts_with("https://id.example.com/logout?id_token_hint="));
    assert!(url.contains("post_logout_redirect_uri="));
    let state = url.split("state=").nth(1).unwrap_or_default().to_owned();
    let keys = world.storage_keys();
    assert!(keys.contains(&format!("{LOGOUT_PREFIX}{state}")));
    assert!(
        keys.contains(&SILENT_SKIP_KEY.to_owned()),
        "no silent sign-in after sign-out"
    );
    let (back, after) = load(&world, &format!("/?state={state}"));
    assert_eq!(after.status(), AuthStatus::SignedOut);
    assert_eq!(back.url(), "/");
}

#[test]
fn without_a_post_logout_redirect_no_marker_is_left() {
    let world = World::new();
    let (page, _) = signed_in(&world);
    let mut plain = config();
    plain.post_logout_redirect_uri = None;
    let session = Rc::new(Session::new(page.clone(), plain, SessionOptions::default()));
    block_on(session.sign_out());
    assert!(
        !world
            .storage_keys()
            .iter()
            .any(|k| k.starts_with(LOGOUT_PREFIX))
    );
    let (url, _) = page.last_navigation().expect("to the provider");
    assert!(!url.contains("state="));
}

#[test]
fn whole_life_sign_in_call_refresh_call_sign_out() {
    let world = World::new();
    let (_, session) = signed_in(&world);
    let seen = RefCell::new(Vec::new());
    let url = format!("{API}/hello");
    assert_eq!(block_on(api_call(&session, &url, |_| true, &seen)), Ok(200));
    world.advance(260_000.0);
    assert_eq!(block_on(api_call(&session, &url, |_| true, &seen)), Ok(200));
    assert_eq!(world.refreshes().len(), 1, "rotated once");
    let headers = seen.borrow().clone();
    assert_ne!(headers[0], headers[1], "the second call used the new token");
    block_on(session.sign_out());
    assert_eq!(
        block_on(api_call(&session, &url, |_| true, &seen)),
        Err(AuthError::NotSignedIn)
    );
    assert_eq!(world.provider.borrow().revoked.len(), 1);
    assert!(
        !world
            .storage
            .borrow()
            .values()
            .any(|v| v.contains("at-") || v.contains("rt-"))
    );
}

//! DPoP-bound tokens and pushed authorization requests.

use super::dpop_details::{Answer, proof_claims};
use super::provider::API;
use super::*;
use crate::protocol::{BrowserFeature, DpopMode, TokenResponseProblem, TokenType};
use crate::session::DpopKeys as _;

fn dpop_world() -> Rc<World> {
    let world = World::new();
    world.provider.borrow_mut().dpop_advertised = true;
    world
}

fn token_type(session: &TestSession) -> Option<TokenType> {
    session.with_tokens(|t| t.map(TokenSet::token_type))
}

use crate::session::TokenSet;

#[test]
fn auto_binds_tokens_when_the_provider_takes_es256_proofs() {
    let world = dpop_world();
    let (_, session) = signed_in(&world);
    assert_eq!(token_type(&session), Some(TokenType::Dpop));
    let keys = world.provider.borrow().proof_keys.clone();
    assert_eq!(
        keys.len(),
        2,
        "the code exchange and userinfo carried proofs: {keys:?}"
    );
    assert!(keys.iter().all(|k| *k == keys[0]), "one key");
}

#[test]
fn the_code_is_bound_at_the_token_request_by_the_callback_pages_key() {
    let world = dpop_world();
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = signed_out(&world);
    block_on(session.sign_in("/"));
    let (url, _) = page.last_navigation().expect("redirect");
    assert!(
        !query_of(&url).contains_key("dpop_jkt"),
        "this page's key dies with the redirect"
    );
    let (callback, signed_in) = follow_to_callback(&world, &page);
    assert_eq!(token_type(&signed_in), Some(TokenType::Dpop));
    let callback_key = block_on(callback.dpop_key()).expect("key").x;
    assert_eq!(world.provider.borrow().proof_keys[0], callback_key);
}

#[test]
fn a_stolen_code_cannot_be_redeemed_without_the_verifier() {
    let world = dpop_world();
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = signed_out(&world);
    block_on(session.sign_in("/"));
    let (url, _) = page.last_navigation().expect("redirect");
    let back = world.provider.borrow_mut().authorize(&url);
    let code = query_of(&back)["code"].clone();
    // An attacker with the code and a key of their own, but no verifier.
    let form = format!(
        "grant_type=authorization_code&code={code}&client_id=spa&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&code_verifier=guess"
    );
    let answer = world
        .provider
        .borrow_mut()
        .token(&form, None)
        .expect("answer");
    assert_eq!(answer.status, 400);
}

#[test]
fn api_calls_and_refreshes_carry_proofs_with_the_same_key() {
    let world = dpop_world();
    let (_, session) = signed_in(&world);
    let seen = RefCell::new(Vec::new());
    assert_eq!(
        block_on(api_call(&session, &format!("{API}/x"), |_| true, &seen)),
        Ok(200)
    );
    assert!(seen.borrow()[0].starts_with("DPoP "), "{:?}", seen.borrow());
    world.advance(250_000.0);
    block_on(session.refresh()).expect("a proved refresh with the bound token");
    assert_eq!(token_type(&session), Some(TokenType::Dpop));
    let keys = world.provider.borrow().proof_keys.clone();
    assert!(keys.iter().all(|k| *k == keys[0]));
}

#[test]
fn the_token_endpoint_nonce_is_answered_once() {
    let world = dpop_world();
    world.provider.borrow_mut().dpop_nonce = Some("n-1".into());
    let (_, session) = signed_in(&world);
    assert_eq!(token_type(&session), Some(TokenType::Dpop));
    assert_eq!(
        world.count(Endpoint::Token),
        2,
        "refused once, then with the nonce"
    );
    world.advance(250_000.0);
    block_on(session.refresh()).expect("the remembered nonce is used at once");
    assert_eq!(world.count(Endpoint::Token), 3);
}

#[test]
fn a_resource_nonce_challenge_is_answered_once_without_a_refresh() {
    let world = dpop_world();
    let (_, session) = signed_in(&world);
    let proofs = RefCell::new(Vec::new());
    let answer = block_on(
        session.authorized("GET", &format!("{API}/x"), |auth: ResourceAuth| {
            let first = proofs.borrow().is_empty();
            proofs
                .borrow_mut()
                .push(auth.dpop.clone().unwrap_or_default());
            async move {
                Ok(if first {
                    Answer {
                        status: 401,
                        www_authenticate: Some(r#"DPoP error="use_dpop_nonce""#),
                        nonce: Some("api-n"),
                        date: None,
                    }
                } else {
                    Answer::ok()
                })
            }
        }),
    )
    .expect("answered");
    assert_eq!(answer.status, 200);
    assert_eq!(proofs.borrow().len(), 2);
    assert!(
        world.refreshes().is_empty(),
        "a nonce is not a reason to refresh"
    );
    assert_eq!(proof_claims(&proofs.borrow()[1])["nonce"], "api-n");
}

#[test]
fn required_refuses_a_bearer_answer() {
    let world = World::new();
    world.provider.borrow_mut().bearer_only = true;
    world.provider.borrow_mut().signed_in = false;
    let (_, session) = sign_in_with(&world, &config().with_dpop(DpopMode::Required));
    assert_eq!(
        session.status(),
        AuthStatus::Error(AuthError::TokenResponseInvalid(
            TokenResponseProblem::DpopRequired
        ))
    );
}

#[test]
fn required_without_webcrypto_is_browser_unsupported() {
    let world = World::new();
    world.dpop_capable.set(false);
    let options = SessionOptions::default().silent_restore(SilentRestore::Never);
    let required = config().with_dpop(DpopMode::Required);
    let (page, session) = load_configured(&world, 0, "/", options, required);
    block_on(session.sign_in("/"));
    assert_eq!(
        session.status(),
        AuthStatus::Error(AuthError::BrowserUnsupported(BrowserFeature::DpopKey))
    );
    assert!(page.last_navigation().is_none(), "it fails before leaving");
}

#[test]
fn off_never_sends_a_proof() {
    let world = dpop_world();
    world.provider.borrow_mut().signed_in = false;
    let (_, session) = sign_in_with(&world, &config().with_dpop(DpopMode::Off));
    assert_eq!(token_type(&session), Some(TokenType::Bearer));
    assert!(world.provider.borrow().proof_keys.is_empty());
}

#[test]
fn a_reload_restores_with_the_new_pages_key() {
    let world = dpop_world();
    let (_, first) = signed_in(&world);
    let old_key = world.provider.borrow().proof_keys[0].clone();
    drop(first);
    let (page, _) = load(&world, "/");
    let (callback, restored) = follow_to_callback(&world, &page);
    assert_eq!(token_type(&restored), Some(TokenType::Dpop));
    let new_key = block_on(callback.dpop_key()).expect("key").x;
    assert_ne!(new_key, old_key);
    assert_eq!(world.provider.borrow().proof_keys.last(), Some(&new_key));
}

#[test]
fn a_joining_tab_takes_the_key_along_with_the_tokens() {
    let world = dpop_world();
    let (_, first) = signed_in(&world);
    let (_, second) = load_in_tab(&world, 1, "/", SessionOptions::default());
    assert_eq!(token_type(&second), Some(TokenType::Dpop));
    world.advance(250_000.0);
    block_on(second.refresh()).expect("the second tab refreshes with the shared key");
    assert_eq!(world.provider.borrow().refresh_errors(), 0);
    drop(first);
}

#[test]
fn dpop_bound_tokens_are_not_taken_without_their_key() {
    let world = dpop_world();
    world.refused_keys.set(true);
    let (_, first) = signed_in(&world);
    world.provider.borrow_mut().signed_in = false;
    let options = SessionOptions::default().silent_restore(SilentRestore::Never);
    let (_, second) = load_in_tab(&world, 1, "/", options);
    assert_eq!(second.status(), AuthStatus::SignedOut);
    assert!(second.with_tokens(|tokens| tokens.is_none()));
    drop(first);
}

#[test]
fn pushed_requests_leave_the_front_channel_with_client_id_and_request_uri_only() {
    let world = World::new();
    world.provider.borrow_mut().par_required = true;
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = signed_out(&world);
    block_on(session.sign_in("/profile"));
    let (url, _) = page.last_navigation().expect("redirect");
    let params = query_of(&url);
    assert_eq!(
        params.keys().collect::<Vec<_>>(),
        ["client_id", "request_uri"]
    );
    assert_eq!(world.count(Endpoint::PushedAuthorization), 1);
    let (back, callback) = follow_to_callback(&world, &page);
    assert!(matches!(callback.status(), AuthStatus::SignedIn(_)));
    assert_eq!(back.url(), "/profile");
}

#[test]
fn pushed_requests_and_dpop_bind_the_tokens_at_the_token_request() {
    let world = dpop_world();
    world.provider.borrow_mut().par_required = true;
    let (_, session) = signed_in(&world);
    assert_eq!(token_type(&session), Some(TokenType::Dpop));
    assert_eq!(world.count(Endpoint::PushedAuthorization), 1);
    assert_eq!(
        world.provider.borrow().proof_keys.len(),
        2,
        "the code exchange and userinfo; the pushed request carries no proof (its page's key dies with the redirect)"
    );
}

#[test]
fn the_configuration_can_ask_for_pushed_requests() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    let (back, session) = sign_in_with(&world, &config().with_par(true));
    assert!(matches!(session.status(), AuthStatus::SignedIn(_)));
    assert_eq!(world.count(Endpoint::PushedAuthorization), 1);
    assert_eq!(back.url(), "/");
}

#[test]
fn a_refused_pushed_request_shows_the_providers_error() {
    let world = World::new();
    world.provider.borrow_mut().par_required = true;
    world.provider.borrow_mut().push_refusal = Some("invalid_scope");
    let (_, session) = signed_out(&world);
    block_on(session.sign_in("/"));
    assert_eq!(session.status().error_code(), Some("invalid_scope"));
    assert!(
        world.storage_keys().is_empty(),
        "nothing pending for a request that never left"
    );
}

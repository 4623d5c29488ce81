//! Several APIs, a token for each (RFC 8707): named at sign-in, fetched
//! with the refresh token on first call, refreshed each on its own, one
//! refresh token chain for all of them across tabs.

use crate::protocol::{ConfigProblem, ResourceServer};
use crate::session::ApiToken;

use super::provider::API;
use super::*;

const ORDERS: &str = "https://orders.example.com";

fn apis_config() -> ClientConfig {
    let mut config = ClientConfig::new(ISSUER, CLIENT_ID, &format!("{APP}/callback"))
        .with_scopes(["openid", "profile"])
        .with_post_logout_redirect_uri(&format!("{APP}/"))
        .with_resource(ResourceServer::new(API, API).with_scopes(["api:read"]))
        .with_resource(ResourceServer::new(ORDERS, ORDERS).with_scopes(["orders:read"]));
    config.request_timeout_ms = None;
    config
}

fn signed_in_to_apis(world: &Rc<World>) -> (Page, TestSession) {
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = sign_in_with(world, &apis_config());
    assert!(matches!(session.status(), AuthStatus::SignedIn(_)));
    (page, session)
}

fn tab_with_apis(world: &Rc<World>, tab: usize) -> (Page, TestSession) {
    load_configured(world, tab, "/", SessionOptions::default(), apis_config())
}

/// A form's parameters.
fn params(form: &str) -> BTreeMap<String, String> {
    form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect()
}

/// The `resource` each refresh asked for, in order.
fn refreshed_apis(world: &World) -> Vec<String> {
    world
        .refreshes()
        .iter()
        .map(|form| params(form).get("resource").cloned().unwrap_or_default())
        .collect()
}

/// An API that takes only its own tokens (they name it).
fn call(
    session: &TestSession,
    api: &'static str,
    seen: &RefCell<Vec<String>>,
) -> Result<u16, AuthError> {
    block_on(call_later(session, api, seen))
}

/// The same call, not yet made (to run several at once).
async fn call_later(
    session: &TestSession,
    api: &'static str,
    seen: &RefCell<Vec<String>>,
) -> Result<u16, AuthError> {
    let audience = format!("@{api}");
    api_call(
        session,
        &format!("{api}/v1/x"),
        |t| t.ends_with(&audience),
        seen,
    )
    .await
}

fn api_token(session: &TestSession, slot: usize) -> Option<String> {
    session.with_tokens(|t| Some(t?.api(slot)?.access_token().secret().to_owned()))
}

#[test]
fn the_sign_in_names_every_api_and_the_code_buys_the_first_ones_token() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = load_configured(
        &world,
        0,
        "/",
        SessionOptions::default().silent_restore(SilentRestore::Never),
        apis_config(),
    );
    block_on(session.sign_in("/"));
    let (url, _) = page.last_navigation().expect("redirect");
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let named: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "resource")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(named, [API, ORDERS]);
    assert_eq!(
        query_of(&url)["scope"],
        "openid profile api:read orders:read"
    );

    let (_, session) = signed_in_to_apis(&world);
    let exchange = world
        .requests
        .borrow()
        .iter()
        .rev()
        .find(|(e, form)| *e == Endpoint::Token && form.contains("authorization_code"))
        .map(|(_, form)| params(form))
        .expect("a code exchange");
    assert_eq!(exchange["resource"], API);
    assert!(api_token(&session, 0).is_some_and(|t| t.ends_with(&format!("@{API}"))));
    assert_eq!(api_token(&session, 1), None, "fetched on its first call");
    assert!(world.refreshes().is_empty());
}

#[test]
fn each_api_gets_its_own_token_with_only_its_scopes_on_first_call() {
    let world = World::new();
    let (_, session) = signed_in_to_apis(&world);
    let seen = RefCell::new(Vec::new());
    assert_eq!(call(&session, API, &seen), Ok(200));
    assert!(
        world.refreshes().is_empty(),
        "the first API's token came with the sign-in"
    );
    assert_eq!(call(&session, ORDERS, &seen), Ok(200));
    assert_eq!(call(&session, ORDERS, &seen), Ok(200));
    let refreshes = world.refreshes();
    assert_eq!(refreshes.len(), 1, "fetched once, then held");
    let asked = params(&refreshes[0]);
    assert_eq!(asked["resource"], ORDERS);
    assert_eq!(asked["scope"], "orders:read", "only this API's scopes");
    // Each API was sent its own token only.
    for header in seen.borrow().iter() {
        assert!(header.ends_with(&format!("@{API}")) || header.ends_with(&format!("@{ORDERS}")));
    }
    assert_eq!(call(&session, API, &seen), Ok(200));
    assert!(
        seen.borrow()
            .last()
            .is_some_and(|h| h.ends_with(&format!("@{API}")))
    );
    assert_eq!(
        block_on(session.access_token_for(ORDERS)).map(|t| t.secret().to_owned()),
        Ok(api_token(&session, 1).unwrap_or_default())
    );
}

#[test]
fn each_api_token_is_refreshed_on_its_own_timer() {
    let world = World::new();
    let (_, session) = signed_in_to_apis(&world);
    let seen = RefCell::new(Vec::new());
    world.advance(100_000.0);
    assert_eq!(call(&session, ORDERS, &seen), Ok(200));
    let (first, orders) = session.with_tokens(|t| {
        let t = t.expect("signed in");
        let due = |slot| {
            t.api(slot)
                .and_then(ApiToken::expires_at_ms)
                .unwrap_or_default()
        };
        (due(0), due(1))
    });
    assert!(orders > first, "fetched later, so it expires later");
    let wake = session.next_wake_at_ms().expect("a timer");
    assert!(wake < first, "the first API's token is due first");
    world.advance(wake - world.now_ms.get());
    block_on(session.on_timer(true));
    assert_eq!(refreshed_apis(&world), [ORDERS, API], "only the due one");
    let wake = session.next_wake_at_ms().expect("a timer");
    assert!(wake < orders && wake > world.now_ms.get());
    world.advance(wake - world.now_ms.get());
    block_on(session.on_timer(true));
    assert_eq!(refreshed_apis(&world), [ORDERS, API, ORDERS]);
    assert_eq!(world.provider.borrow().refresh_errors(), 0);
}

#[test]
fn a_burst_of_calls_to_each_api_makes_one_refresh_per_api() {
    let world = World::new();
    let (_, session) = signed_in_to_apis(&world);
    let seen = RefCell::new(Vec::new());
    assert_eq!(call(&session, ORDERS, &seen), Ok(200));
    world.advance(400_000.0); // both expired
    let calls = [API, ORDERS]
        .into_iter()
        .flat_map(|api| (0..20).map(move |_| api))
        .map(|api| call_later(&session, api, &seen));
    let results = block_on(futures::future::join_all(calls));
    assert!(results.iter().all(|r| *r == Ok(200)), "{results:?}");
    let mut apis = refreshed_apis(&world)[1..].to_vec();
    apis.sort();
    assert_eq!(apis, [API, ORDERS], "one refresh per API");
    let presented: Vec<String> = world.refreshes().iter().map(|f| sent_token(f)).collect();
    assert_eq!(world.provider.borrow().refresh_errors(), 0, "{presented:?}");
}

#[test]
fn without_web_locks_one_tabs_apis_still_refresh_one_at_a_time() {
    let world = World::new();
    world.no_locks.set(true);
    let (_, session) = signed_in_to_apis(&world);
    let seen = RefCell::new(Vec::new());
    assert_eq!(call(&session, ORDERS, &seen), Ok(200));
    world.advance(400_000.0);
    let both = [API, ORDERS].map(|api| call_later(&session, api, &seen));
    let results = block_on(futures::future::join_all(both));
    assert!(results.iter().all(|r| *r == Ok(200)), "{results:?}");
    assert_eq!(world.refreshes().len(), 3);
    assert_eq!(
        world.provider.borrow().refresh_errors(),
        0,
        "the second waited for the first's rotated token"
    );
}

#[test]
fn a_401_from_one_api_refreshes_only_its_token() {
    let world = World::new();
    let (_, session) = signed_in_to_apis(&world);
    let seen = RefCell::new(Vec::new());
    assert_eq!(call(&session, ORDERS, &seen), Ok(200));
    let first_api = api_token(&session, 0);
    let refused = api_token(&session, 1).expect("held");
    let result = block_on(api_call(
        &session,
        &format!("{ORDERS}/v1/x"),
        |token| token != refused,
        &seen,
    ));
    assert_eq!(result, Ok(200), "replayed with a new token");
    assert_eq!(refreshed_apis(&world), [ORDERS, ORDERS]);
    assert_eq!(
        api_token(&session, 0),
        first_api,
        "the other API's token is untouched"
    );
    assert_ne!(api_token(&session, 1), Some(refused));
}

#[test]
fn rotation_never_presents_a_spent_token_across_apis_and_tabs() {
    let world = World::new();
    let (page_a, a) = signed_in_to_apis(&world);
    world.listen(&page_a, &a);
    let (_, b) = tab_with_apis(&world, 1);
    assert!(matches!(b.status(), AuthStatus::SignedIn(_)));
    let seen = &RefCell::new(Vec::new());
    // Tab b fetches the orders token: the chain rotates, tab a hears of it.
    assert_eq!(call(&b, ORDERS, seen), Ok(200));
    settle();
    assert_eq!(refresh_token(&a), refresh_token(&b));
    assert_eq!(
        api_token(&a, 1),
        api_token(&b, 1),
        "a holds the orders token too"
    );
    world.advance(400_000.0);
    // Both tabs, both APIs, at once.
    let calls = [&a, &b]
        .into_iter()
        .flat_map(|session| [API, ORDERS].map(|api| call_later(session, api, seen)));
    let results = block_on(futures::future::join_all(calls));
    assert!(results.iter().all(|r| *r == Ok(200)), "{results:?}");
    let presented: Vec<String> = world.refreshes().iter().map(|f| sent_token(f)).collect();
    let mut unique = presented.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        presented.len(),
        "each refresh token once: {presented:?}"
    );
    assert_eq!(world.provider.borrow().refresh_errors(), 0);
    assert_eq!(
        presented.len(),
        3,
        "orders once, then one refresh per API for both tabs"
    );
}

#[test]
fn a_new_tab_gets_every_api_token() {
    let world = World::new();
    let (page_a, a) = signed_in_to_apis(&world);
    world.listen(&page_a, &a);
    let seen = RefCell::new(Vec::new());
    assert_eq!(call(&a, ORDERS, &seen), Ok(200));
    let (_, b) = tab_with_apis(&world, 1);
    assert!(matches!(b.status(), AuthStatus::SignedIn(_)));
    assert_eq!(api_token(&b, 0), api_token(&a, 0));
    assert_eq!(api_token(&b, 1), api_token(&a, 1));
    let before = world.refreshes().len();
    assert_eq!(call(&b, ORDERS, &seen), Ok(200));
    assert_eq!(world.refreshes().len(), before, "the carried token serves");
}

#[test]
fn a_prefetched_api_gets_its_token_right_after_sign_in() {
    let world = World::new();
    world.provider.borrow_mut().signed_in = false;
    let mut config = apis_config();
    config.resources[1].prefetch = true;
    let (_, session) = sign_in_with(&world, &config);
    block_on(session.prefetch_api_tokens());
    assert_eq!(refreshed_apis(&world), [ORDERS]);
    assert!(api_token(&session, 1).is_some());
}

#[test]
fn an_unknown_api_gets_nothing() {
    let world = World::new();
    let (_, session) = signed_in_to_apis(&world);
    let seen = RefCell::new(Vec::new());
    let result = call(&session, "https://evil.example", &seen);
    assert_eq!(
        result.map_err(|e| e.code().to_owned()),
        Err("resource_not_allowed".into())
    );
    assert_eq!(
        block_on(session.access_token_for("https://evil.example"))
            .map(|t| t.secret().to_owned())
            .map_err(|e| e.code().to_owned()),
        Err("resource_not_allowed".into())
    );
    assert!(seen.borrow().is_empty());
}

#[test]
fn an_on_demand_api_is_asked_for_at_a_sign_in_of_its_own() {
    let world = World::new();
    let mut config = apis_config();
    config.resources[1].on_demand = true;
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = sign_in_with(&world, &config);
    let seen = RefCell::new(Vec::new());
    assert_eq!(
        call(&session, ORDERS, &seen),
        Err(AuthError::ResourceNotGranted(ORDERS.into()))
    );
    assert!(
        world.refreshes().is_empty(),
        "the provider is not asked for it"
    );
    assert!(seen.borrow().is_empty());

    let ask = crate::protocol::SignInOptions::default().resource(ORDERS);
    block_on(session.sign_in_with(ask)).expect("on its way");
    assert!(session.status().is_signed_in(), "kept meanwhile");
    let (url, _) = page.last_navigation().expect("to the provider");
    assert_eq!(
        query_of(&url)["scope"],
        "openid profile api:read orders:read"
    );
    assert!(url.contains("resource=https%3A%2F%2Forders.example.com"));
    let back = world.provider.borrow_mut().authorize(&url);
    let (_, session) = load_configured(
        &world,
        0,
        &format!("/callback{back}"),
        SessionOptions::default(),
        config,
    );
    assert_eq!(call(&session, ORDERS, &seen), Ok(200));
    assert_eq!(refreshed_apis(&world), [ORDERS]);
}

#[test]
fn a_sign_in_may_ask_only_for_configured_apis() {
    let world = World::new();
    let (page, session) = signed_in_to_apis(&world);
    let before = page.last_navigation();
    let ask = crate::protocol::SignInOptions::default().resource("https://nope.example");
    assert!(matches!(
        block_on(session.sign_in_with(ask)),
        Err(AuthError::ConfigInvalid(ConfigProblem::Field {
            field: "SignInOptions::resource",
            ..
        }))
    ));
    assert_eq!(
        page.last_navigation(),
        before,
        "nothing asked of the provider"
    );
}

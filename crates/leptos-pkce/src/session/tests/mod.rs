//! Whole-flow tests of the engine with in-memory ports: a fake provider
//! ([`provider`]), a tab whose sessionStorage outlives page loads, and a
//! page that records where it navigates.

mod apis;
mod dpop;
mod dpop_details;
mod flows;
mod page;
mod page_loads;
mod provider;
mod provider_dpop;
mod provider_wire;
mod refresh;
mod refresh_failures;
mod resource;
mod sign_in_options;
mod sign_out;
mod tab_attacks;
mod tabs;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use futures::executor::{LocalPool, LocalSpawner};
use futures::task::LocalSpawnExt as _;

use super::{
    AuthStatus, CapturedCallback, Clock, Endpoint, ResourceAuth, Session, SessionOptions,
    SilentRestore,
};
use crate::protocol::{AuthError, ClientConfig};
pub(crate) use page::Page;
use provider::{API, APP, CLIENT_ID, ISSUER, Provider};

thread_local! {
    /// The test's event loop: what `block_on` runs, and where the pages
    /// deliver tab messages that wait for something (a key fetch).
    static EVENT_LOOP: RefCell<LocalPool> = RefCell::new(LocalPool::new());
    static SPAWNER: LocalSpawner = EVENT_LOOP.with(|pool| pool.borrow().spawner());
}

/// Runs `future` to completion on the test's event loop, with everything
/// spawned on it (tab messages being delivered) making progress meanwhile.
pub(crate) fn block_on<F: core::future::Future>(future: F) -> F::Output {
    // The spawner first: it cannot be made while the loop runs.
    SPAWNER.with(|_| ());
    EVENT_LOOP.with(|pool| pool.borrow_mut().run_until(future))
}

/// Runs the test's event loop until every spawned task waits on something
/// the test controls (tab messages all delivered and handled).
pub(crate) fn settle() {
    EVENT_LOOP.with(|pool| pool.borrow_mut().run_until_stalled());
}

/// Runs `task` on the test's event loop, beside what `block_on` runs.
pub(crate) fn spawn(task: impl core::future::Future<Output = ()> + 'static) {
    SPAWNER.with(|spawner| spawner.spawn_local(task).expect("the event loop runs"));
}

/// What every page of the test shares: the provider, the clock, the tab's
/// sessionStorage, and the log of requests.
#[derive(Default)]
pub(crate) struct World {
    pub(crate) provider: RefCell<Provider>,
    pub(crate) now_ms: Cell<f64>,
    pub(crate) storage: RefCell<BTreeMap<String, String>>,
    /// localStorage, shared by every tab.
    pub(crate) local: RefCell<BTreeMap<String, String>>,
    pub(crate) requests: RefCell<Vec<(Endpoint, String)>>,
    pub(crate) verifications: Cell<u32>,
    random: Cell<u8>,
    /// sessionStorage of the tabs other than tab 0 (`storage`).
    other_storages: RefCell<BTreeMap<usize, BTreeMap<String, String>>>,
    /// The sessions listening on the channel between tabs, by tab.
    listeners: RefCell<Vec<(usize, std::rc::Weak<Session<Page>>)>>,
    /// Web Locks: the names held, and who waits for one.
    locks: Rc<RefCell<BTreeMap<String, ()>>>,
    lock_waiters: Rc<RefCell<Vec<std::task::Waker>>>,
    /// The browser has no Web Locks.
    pub(crate) no_locks: Cell<bool>,
    pub(crate) messages: Cell<u32>,
    /// Every message posted between tabs, as an attacker on the channel
    /// would capture it.
    pub(crate) posted: RefCell<Vec<String>>,
    /// Tabs in the back/forward cache: they hear nothing.
    pub(crate) frozen: RefCell<std::collections::BTreeSet<usize>>,
    /// Whether pages can make DPoP keys, and each tab's key (`x`).
    pub(crate) dpop_capable: Cell<bool>,
    pub(crate) dpop_keys: RefCell<BTreeMap<usize, String>>,
    /// Whether tabs refuse the keys other tabs send.
    pub(crate) refused_keys: Cell<bool>,
}

impl World {
    pub(crate) fn new() -> Rc<Self> {
        let world = Rc::new(Self::default());
        world.dpop_capable.set(true);
        world.now_ms.set(1_700_000_000_000.0);
        world.sync_provider_clock();
        world
    }

    pub(crate) fn advance(&self, ms: f64) {
        self.now_ms.set(self.now_ms.get() + ms);
        self.sync_provider_clock();
    }

    fn sync_provider_clock(&self) {
        #[allow(clippy::cast_possible_truncation)]
        let now_s = (self.now_ms.get() / 1000.0) as i64;
        self.provider.borrow_mut().now_s = now_s;
    }

    pub(crate) fn count(&self, endpoint: Endpoint) -> usize {
        self.requests
            .borrow()
            .iter()
            .filter(|(e, _)| *e == endpoint)
            .count()
    }

    pub(crate) fn refreshes(&self) -> Vec<String> {
        self.requests
            .borrow()
            .iter()
            .filter(|(e, form)| {
                *e == Endpoint::Token && form.starts_with("grant_type=refresh_token")
            })
            .map(|(_, form)| form.clone())
            .collect()
    }

    /// The session hint, as a sign-in in an earlier visit left it.
    pub(crate) fn hint(&self) {
        let until = self.now_ms.get() + 86_400_000.0;
        self.local
            .borrow_mut()
            .insert(hint_key(), format!("{until}"));
    }

    /// Puts a marker in tab 0's sessionStorage, as an earlier page left it.
    pub(crate) fn mark(&self, key: &str) {
        self.storage.borrow_mut().insert(key.to_owned(), "1".into());
    }

    pub(crate) fn storage_keys(&self) -> Vec<String> {
        self.storage.borrow().keys().cloned().collect()
    }

    /// Connects a tab's session to the channel between tabs.
    pub(crate) fn listen(&self, page: &Page, session: &TestSession) {
        self.listeners
            .borrow_mut()
            .push((page.0.tab, Rc::downgrade(session)));
    }

    pub(crate) fn is_locked(&self, name_part: &str) -> bool {
        self.locks
            .borrow()
            .keys()
            .any(|name| name.contains(name_part))
    }

    pub(crate) fn held_locks(&self) -> usize {
        self.locks.borrow().len()
    }
}

pub(crate) fn hint_key() -> String {
    format!("oidc.hint:{ISSUER}:{CLIENT_ID}")
}

pub(crate) fn config() -> ClientConfig {
    ClientConfig::new(ISSUER, CLIENT_ID, &format!("{APP}/callback"))
        .with_scopes(["openid", "profile"])
        .with_post_logout_redirect_uri(&format!("{APP}/"))
        .with_resource_origin(API)
}

type TestSession = Rc<Session<Page>>;

/// A page load: start-up (capturing a callback first) and `resume`.
pub(crate) fn load(world: &Rc<World>, url: &str) -> (Page, TestSession) {
    load_with(world, url, SessionOptions::default())
}

pub(crate) fn load_with(
    world: &Rc<World>,
    url: &str,
    options: SessionOptions,
) -> (Page, TestSession) {
    load_in_tab(world, 0, url, options)
}

/// A page load in tab `tab`, connected to the channel between tabs.
pub(crate) fn load_in_tab(
    world: &Rc<World>,
    tab: usize,
    url: &str,
    options: SessionOptions,
) -> (Page, TestSession) {
    load_configured(world, tab, url, options, config())
}

/// A page load with its own configuration.
pub(crate) fn load_configured(
    world: &Rc<World>,
    tab: usize,
    url: &str,
    options: SessionOptions,
    config: ClientConfig,
) -> (Page, TestSession) {
    let (path, query) = url
        .split_once('?')
        .map_or((url.to_owned(), String::new()), |(p, q)| {
            (p.to_owned(), format!("?{q}"))
        });
    let page = Page::in_tab(world, tab, &path, &query);
    let captured = CapturedCallback::capture(&page, page.now_ms());
    let session = Rc::new(Session::new(page.clone(), config, options));
    world.listen(&page, &session);
    block_on(session.resume(captured));
    block_on(session.complete_profile());
    (page, session)
}

/// Signs in with `config` from a signed-out page: the callback page load.
pub(crate) fn sign_in_with(world: &Rc<World>, config: &ClientConfig) -> (Page, TestSession) {
    let options = SessionOptions::default().silent_restore(SilentRestore::Never);
    let (page, session) = load_configured(world, 0, "/", options, config.clone());
    block_on(session.sign_in("/"));
    let (url, _) = page.last_navigation().expect("redirect");
    let back = world.provider.borrow_mut().authorize(&url);
    load_configured(
        world,
        0,
        &format!("/callback{back}"),
        options,
        config.clone(),
    )
}

/// Follows the page's last navigation to the provider and back: the
/// callback page load.
pub(crate) fn follow_to_callback(world: &Rc<World>, page: &Page) -> (Page, TestSession) {
    let (url, _) = page.last_navigation().expect("went to the provider");
    let back = world.provider.borrow_mut().authorize(&url);
    load(world, &format!("/callback{back}"))
}

/// A page load that settles signed out (no silent restore).
pub(crate) fn signed_out(world: &Rc<World>) -> (Page, TestSession) {
    let options = SessionOptions::default().silent_restore(SilentRestore::Never);
    load_with(world, "/", options)
}

/// Signs in from a signed-out page: the authorization URL the page went
/// to, and the query the provider sends back to the callback.
pub(crate) fn to_provider_and_back(world: &Rc<World>, return_to: &str) -> (String, String) {
    let (page, session) = signed_out(world);
    block_on(session.sign_in(return_to));
    let (url, _) = page.last_navigation().expect("redirect");
    let back = world.provider.borrow_mut().authorize(&url);
    (url, back)
}

/// A signed-in session: a load without a provider session, the sign-in
/// click, the provider, the callback.
pub(crate) fn signed_in(world: &Rc<World>) -> (Page, TestSession) {
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = signed_out(world);
    block_on(session.sign_in("/profile"));
    let (page2, session2) = follow_to_callback(world, &page);
    assert!(
        matches!(session2.status(), AuthStatus::SignedIn(_)),
        "{:?}",
        session2.status()
    );
    (page2, session2)
}

/// A fake resource server: 200 for `good` tokens, else 401.
pub(crate) async fn api_call(
    session: &TestSession,
    url: &str,
    accepted: impl Fn(&str) -> bool,
    seen: &RefCell<Vec<String>>,
) -> Result<u16, AuthError> {
    session
        .authorized("GET", url, |auth: ResourceAuth| {
            let header = auth.authorization;
            seen.borrow_mut().push(header.clone());
            let token = header.split_once(' ').map_or("", |(_, token)| token);
            let status = if accepted(token) { 200 } else { 401 };
            async move { Ok(status) }
        })
        .await
}

/// The refresh token a refresh request presented.
pub(crate) fn sent_token(form: &str) -> String {
    form_urlencoded::parse(form.as_bytes())
        .find(|(k, _)| k == "refresh_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The query parameters of `url`.
pub(crate) fn query_of(url: &str) -> BTreeMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

pub(crate) fn access_token(session: &TestSession) -> String {
    session.with_tokens(|t| {
        t.map(|t| t.access_token().secret().to_owned())
            .unwrap_or_default()
    })
}

pub(crate) fn refresh_token(session: &TestSession) -> Option<String> {
    session.with_tokens(|t| t.and_then(|t| t.refresh_token().map(|r| r.secret().to_owned())))
}

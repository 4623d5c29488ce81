//! Whole-flow tests of the engine with in-memory ports: a fake provider
//! ([`provider`]), a tab whose sessionStorage outlives page loads, and a
//! page that records where it navigates.

mod dpop;
mod flows;
mod page_loads;
mod provider;
mod refresh;
mod resource;
mod sign_out;
mod tabs;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::task::Poll;

use futures::executor::block_on;

use super::{
    AuthStatus, CapturedCallback, Clock, DpopKeys, Endpoint, HttpRequest, HttpResponse, LockGuard,
    Navigator, Randomness, ResourceAuth, Session, SessionOptions, SignatureVerifier, TabStore,
    Tabs, Transport,
};
use crate::protocol::{AuthError, ClientConfig, DpopPublicKey, Jwk, SigningAlg};
use provider::{API, APP, CLIENT_ID, ISSUER, Provider};

/// What every page of the test shares: the provider, the clock, the tab's
/// sessionStorage, and the log of requests.
#[derive(Default)]
pub(crate) struct World {
    pub(crate) provider: RefCell<Provider>,
    pub(crate) now_ms: Cell<f64>,
    pub(crate) storage: RefCell<BTreeMap<String, String>>,
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
    pub(crate) messages: Cell<u32>,
    /// Whether pages can make DPoP keys, and each tab's key (`x`).
    pub(crate) dpop_capable: Cell<bool>,
    pub(crate) dpop_keys: RefCell<BTreeMap<usize, String>>,
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

/// Releases a fake Web Lock when dropped.
struct Held {
    name: String,
    locks: Rc<RefCell<BTreeMap<String, ()>>>,
    waiters: Rc<RefCell<Vec<std::task::Waker>>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.locks.borrow_mut().remove(&self.name);
        for waker in self.waiters.borrow_mut().drain(..) {
            waker.wake();
        }
    }
}

/// One page load in the tab.
#[derive(Clone)]
pub(crate) struct Page(pub(crate) Rc<PageState>);

pub(crate) struct PageState {
    pub(crate) world: Rc<World>,
    /// Which tab (its own sessionStorage; the channel skips the sender).
    pub(crate) tab: usize,
    pub(crate) path: RefCell<String>,
    pub(crate) query: RefCell<String>,
    pub(crate) navigations: RefCell<Vec<(String, bool)>>,
}

impl Page {
    pub(crate) fn at(world: &Rc<World>, path: &str, query: &str) -> Self {
        Self::in_tab(world, 0, path, query)
    }

    pub(crate) fn in_tab(world: &Rc<World>, tab: usize, path: &str, query: &str) -> Self {
        // A new page load makes a new key pair.
        let serial = world.dpop_keys.borrow().len() + world.messages.get() as usize;
        world
            .dpop_keys
            .borrow_mut()
            .insert(tab, format!("key-{tab}-{serial}-{}", world.now_ms.get()));
        Self(Rc::new(PageState {
            world: Rc::clone(world),
            tab,
            path: RefCell::new(path.into()),
            query: RefCell::new(query.into()),
            navigations: RefCell::new(Vec::new()),
        }))
    }

    pub(crate) fn last_navigation(&self) -> Option<(String, bool)> {
        self.0.navigations.borrow().last().cloned()
    }

    pub(crate) fn url(&self) -> String {
        format!("{}{}", self.0.path.borrow(), self.0.query.borrow())
    }
}

/// Resolves on its second poll, so concurrent callers really interleave.
async fn yield_now() {
    let mut yielded = false;
    futures::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

impl Transport for Page {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, AuthError> {
        let world = &self.0.world;
        world
            .requests
            .borrow_mut()
            .push((request.endpoint, request.form.clone().unwrap_or_default()));
        yield_now().await;
        let mut provider = world.provider.borrow_mut();
        let network = || AuthError::Network("fake".into());
        let form = request.form.as_deref().unwrap_or_default();
        let proof = request.dpop.as_deref();
        match request.endpoint {
            Endpoint::Discovery => Ok(provider.discovery()),
            Endpoint::Keys => Ok(provider.jwks()),
            Endpoint::Token => provider.token(form, proof).ok_or_else(network),
            Endpoint::Userinfo => Ok(provider.userinfo(request.authorization.as_deref(), proof)),
            Endpoint::Revocation => Ok(provider.revoke(form)),
            Endpoint::PushedAuthorization => Ok(provider.push(form, proof)),
            _ => Err(network()),
        }
    }
}

impl Page {
    fn with_storage<R>(&self, use_it: impl FnOnce(&mut BTreeMap<String, String>) -> R) -> R {
        let world = &self.0.world;
        if self.0.tab == 0 {
            use_it(&mut world.storage.borrow_mut())
        } else {
            use_it(
                world
                    .other_storages
                    .borrow_mut()
                    .entry(self.0.tab)
                    .or_default(),
            )
        }
    }
}

impl TabStore for Page {
    fn read(&self, key: &str) -> Option<String> {
        self.with_storage(|storage| storage.get(key).cloned())
    }
    fn write(&self, key: &str, value: &str) -> Result<(), AuthError> {
        self.with_storage(|storage| storage.insert(key.into(), value.into()));
        Ok(())
    }
    fn delete(&self, key: &str) {
        self.with_storage(|storage| storage.remove(key));
    }
    fn keys(&self) -> Vec<String> {
        self.with_storage(|storage| storage.keys().cloned().collect())
    }
}

impl Tabs for Page {
    fn post(&self, message: &str) -> bool {
        let world = &self.0.world;
        world.messages.set(world.messages.get() + 1);
        let listeners: Vec<_> = world
            .listeners
            .borrow()
            .iter()
            .filter(|(tab, _)| *tab != self.0.tab)
            .filter_map(|(tab, session)| Some((*tab, session.upgrade()?)))
            .collect();
        for (tab, session) in listeners {
            // As the browser adapter does: the adopted tokens' key comes along.
            if session.on_tab_message(message) {
                let key = world.dpop_keys.borrow().get(&self.0.tab).cloned();
                if let Some(key) = key {
                    world.dpop_keys.borrow_mut().insert(tab, key);
                }
            }
        }
        true
    }

    async fn lock(&self, name: &str) -> Option<LockGuard> {
        let world = &self.0.world;
        futures::future::poll_fn(|cx| {
            if world.locks.borrow().contains_key(name) {
                world.lock_waiters.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        world.locks.borrow_mut().insert(name.to_owned(), ());
        Some(LockGuard::new(Held {
            name: name.to_owned(),
            locks: Rc::clone(&world.locks),
            waiters: Rc::clone(&world.lock_waiters),
        }))
    }
}

impl SignatureVerifier for Page {
    async fn verify_signature(
        &self,
        _alg: SigningAlg,
        key: &Jwk,
        _signing_input: &str,
        signature: &[u8],
    ) -> Result<bool, AuthError> {
        let world = &self.0.world;
        world.verifications.set(world.verifications.get() + 1);
        let expected = format!("sig:{}", key.kid.as_deref().unwrap_or_default());
        Ok(signature == expected.as_bytes())
    }
}

/// A fake DPoP key per tab: its "signature" names its `x`, which the fake
/// provider checks.
impl DpopKeys for Page {
    async fn dpop_key(&self) -> Option<DpopPublicKey> {
        let world = &self.0.world;
        if !world.dpop_capable.get() {
            return None;
        }
        let x = world.dpop_keys.borrow().get(&self.0.tab).cloned()?;
        Some(DpopPublicKey { x, y: "y".into() })
    }

    async fn dpop_sign(&self, _input: &str) -> Result<Vec<u8>, AuthError> {
        let key = self
            .dpop_key()
            .await
            .ok_or(AuthError::BrowserUnsupported("no key".into()))?;
        Ok(format!("dpop-sig:{}", key.x).into_bytes())
    }
}

impl Clock for Page {
    fn now_ms(&self) -> f64 {
        self.0.world.now_ms.get()
    }
    async fn sleep_ms(&self, ms: u32) {
        self.0.world.advance(f64::from(ms));
        yield_now().await;
    }
}

impl Randomness for Page {
    fn fill_random(&self, bytes: &mut [u8]) -> Result<(), AuthError> {
        for byte in bytes {
            let next = self.0.world.random.get().wrapping_add(37);
            self.0.world.random.set(next);
            *byte = next;
        }
        Ok(())
    }
}

impl Navigator for Page {
    fn path(&self) -> String {
        self.0.path.borrow().clone()
    }
    fn query(&self) -> String {
        self.0.query.borrow().clone()
    }
    fn current_path(&self) -> String {
        self.url()
    }
    fn navigate(&self, url: &str, replace: bool) {
        self.0.navigations.borrow_mut().push((url.into(), replace));
    }
    fn replace_url(&self, path: &str) {
        let (path, query) = path
            .split_once('?')
            .map_or((path.to_owned(), String::new()), |(p, q)| {
                (p.to_owned(), format!("?{q}"))
            });
        *self.0.path.borrow_mut() = path;
        *self.0.query.borrow_mut() = query;
    }
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
    let (path, query) = url
        .split_once('?')
        .map_or((url.to_owned(), String::new()), |(p, q)| {
            (p.to_owned(), format!("?{q}"))
        });
    let page = Page::in_tab(world, tab, &path, &query);
    let captured = CapturedCallback::capture(&page, page.now_ms());
    let session =
        Rc::new(block_on(Session::start(page.clone(), config(), options)).expect("starts"));
    world.listen(&page, &session);
    block_on(session.resume(captured));
    (page, session)
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
    let options = SessionOptions {
        silent_restore: false,
        ..SessionOptions::default()
    };
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

//! Whole-flow tests of the engine with in-memory ports: a fake provider
//! ([`provider`]), a tab whose sessionStorage outlives page loads, and a
//! page that records where it navigates.

mod flows;
mod page_loads;
mod provider;
mod refresh;
mod resource;
mod sign_out;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::task::Poll;

use futures::executor::block_on;

use super::{
    AuthStatus, CapturedCallback, Clock, Endpoint, HttpRequest, HttpResponse, Navigator,
    Randomness, Session, SessionOptions, SignatureVerifier, TabStore, Transport,
};
use crate::protocol::{AuthError, ClientConfig, Jwk, SigningAlg};
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
}

impl World {
    pub(crate) fn new() -> Rc<Self> {
        let world = Rc::new(Self::default());
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
}

/// One page load in the tab.
#[derive(Clone)]
pub(crate) struct Page(pub(crate) Rc<PageState>);

pub(crate) struct PageState {
    pub(crate) world: Rc<World>,
    pub(crate) path: RefCell<String>,
    pub(crate) query: RefCell<String>,
    pub(crate) navigations: RefCell<Vec<(String, bool)>>,
}

impl Page {
    pub(crate) fn at(world: &Rc<World>, path: &str, query: &str) -> Self {
        Self(Rc::new(PageState {
            world: Rc::clone(world),
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
        match request.endpoint {
            Endpoint::Discovery => Ok(provider.discovery()),
            Endpoint::Keys => Ok(provider.jwks()),
            Endpoint::Token => provider
                .token(request.form.as_deref().unwrap_or_default())
                .ok_or_else(network),
            Endpoint::Userinfo => Ok(provider.userinfo()),
            Endpoint::Revocation => {
                Ok(provider.revoke(request.form.as_deref().unwrap_or_default()))
            }
            Endpoint::Config => Err(network()),
        }
    }
}

impl TabStore for Page {
    fn read(&self, key: &str) -> Option<String> {
        self.0.world.storage.borrow().get(key).cloned()
    }
    fn write(&self, key: &str, value: &str) -> Result<(), AuthError> {
        self.0
            .world
            .storage
            .borrow_mut()
            .insert(key.into(), value.into());
        Ok(())
    }
    fn delete(&self, key: &str) {
        self.0.world.storage.borrow_mut().remove(key);
    }
    fn keys(&self) -> Vec<String> {
        self.0.world.storage_keys()
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

impl Clock for Page {
    fn now_ms(&self) -> f64 {
        self.0.world.now_ms.get()
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
    let (path, query) = url
        .split_once('?')
        .map_or((url.to_owned(), String::new()), |(p, q)| {
            (p.to_owned(), format!("?{q}"))
        });
    let page = Page::at(world, &path, &query);
    let captured = CapturedCallback::capture(&page, page.now_ms());
    let session =
        Rc::new(block_on(Session::start(page.clone(), config(), options)).expect("starts"));
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
    session.sign_in(return_to);
    let (url, _) = page.last_navigation().expect("redirect");
    let back = world.provider.borrow_mut().authorize(&url);
    (url, back)
}

/// A signed-in session: a load without a provider session, the sign-in
/// click, the provider, the callback.
pub(crate) fn signed_in(world: &Rc<World>) -> (Page, TestSession) {
    world.provider.borrow_mut().signed_in = false;
    let (page, session) = signed_out(world);
    session.sign_in("/profile");
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
        .authorized(url, |header: String| {
            seen.borrow_mut().push(header.clone());
            let status = if accepted(header.trim_start_matches("Bearer ")) {
                200
            } else {
                401
            };
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

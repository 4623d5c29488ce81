//! The fake page: every port of the engine in memory, over the shared
//! [`World`](super::World).

use futures::FutureExt as _;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::task::Poll;

use super::World;
use crate::protocol::{AuthError, BrowserFeature, DpopPublicKey, HashAlg, Jwk, SigningAlg};
use crate::session::{
    Clock, DpopKeys, Endpoint, HintStore, HttpRequest, HttpResponse, LockGuard, Navigator,
    Randomness, SignatureVerifier, TabStore, Tabs, Transport,
};

/// Releases a fake Web Lock when dropped.
pub(crate) struct Held {
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
pub(crate) async fn yield_now() {
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

impl HintStore for Page {
    fn read_hint(&self, key: &str) -> Option<String> {
        self.0.world.local.borrow().get(key).cloned()
    }
    fn write_hint(&self, key: &str, value: &str) {
        self.0
            .world
            .local
            .borrow_mut()
            .insert(key.into(), value.into());
    }
    fn delete_hint(&self, key: &str) {
        self.0.world.local.borrow_mut().remove(key);
    }
}

impl Tabs for Page {
    /// A tab's fake key: its `x`.
    type CarriedKey = (usize, String);

    fn adopt_key(&self, (from, x): Self::CarriedKey) -> bool {
        let world = &self.0.world;
        if world.refused_keys.get() {
            return false;
        }
        debug_assert_ne!(from, self.0.tab);
        world.dpop_keys.borrow_mut().insert(self.0.tab, x);
        true
    }

    fn post(&self, message: &str) -> bool {
        let world = &self.0.world;
        world.messages.set(world.messages.get() + 1);
        world.posted.borrow_mut().push(message.to_owned());
        let listeners: Vec<_> = world
            .listeners
            .borrow()
            .iter()
            .filter(|(tab, _)| *tab != self.0.tab && !world.frozen.borrow().contains(tab))
            .filter_map(|(tab, session)| Some((*tab, session.upgrade()?)))
            .collect();
        for (_, session) in listeners {
            // As the browser does: this tab's key comes along, and what
            // the receiver does at once is done before `post` returns.
            let key = world.dpop_keys.borrow().get(&self.0.tab).cloned();
            let (text, from) = (message.to_owned(), self.0.tab);
            let mut delivery = Box::pin(async move {
                session.on_tab_message(&text, key.map(|x| (from, x))).await;
            });
            if (&mut delivery).now_or_never().is_none() {
                super::spawn(delivery);
            }
        }
        true
    }

    async fn lock(&self, name: &str) -> Option<LockGuard> {
        let world = &self.0.world;
        if world.no_locks.get() {
            return None; // a browser without Web Locks
        }
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

    /// Real hashes, so the provider's `at_hash` is checked for real.
    async fn digest(&self, alg: HashAlg, data: &[u8]) -> Result<Vec<u8>, AuthError> {
        use sha2::{Digest, Sha256, Sha512};
        Ok(match alg {
            HashAlg::Sha512 => Sha512::digest(data).to_vec(),
            _ => Sha256::digest(data).to_vec(),
        })
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
            .ok_or(AuthError::BrowserUnsupported(BrowserFeature::DpopKey))?;
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

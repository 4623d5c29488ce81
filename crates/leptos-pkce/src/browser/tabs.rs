//! The channel between tabs (`BroadcastChannel`) and the locks they share
//! (Web Locks, bound by hand: web-sys marks them unstable).

use futures::channel::oneshot;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::BroadcastChannel;

use crate::session::LockGuard;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["navigator", "locks"], js_name = request, catch)]
    fn request_lock(name: &str, callback: &JsValue) -> Result<Promise, JsValue>;
}

/// Whether this browser has Web Locks.
fn has_locks() -> bool {
    web_sys::window()
        .and_then(|window| Reflect::get(&window.navigator(), &JsValue::from_str("locks")).ok())
        .is_some_and(|locks| !locks.is_undefined() && !locks.is_null())
}

/// Releases a Web Lock by resolving the promise its callback returned.
struct Release(Function);

impl Drop for Release {
    fn drop(&mut self) {
        let _ = self.0.call0(&JsValue::NULL);
    }
}

/// Takes the lock `name`; `None` at once where there are no Web Locks.
pub(super) async fn lock(name: &str) -> Option<LockGuard> {
    if !has_locks() {
        return None;
    }
    let (acquired, on_acquired) = oneshot::channel::<Function>();
    let mut acquired = Some(acquired);
    // Runs when the lock is granted; the lock is held until the promise
    // it returns resolves, which dropping the guard does. If nobody waits
    // any more (the future was dropped), it is released at once.
    let granted = Closure::once_into_js(move |_lock: JsValue| -> Promise {
        Promise::new(&mut |resolve, _reject| {
            if let Some(acquired) = acquired.take()
                && let Err(resolve) = acquired.send(resolve)
            {
                let _ = resolve.call0(&JsValue::NULL);
            }
        })
    });
    let _granted_later = request_lock(name, &granted).ok()?;
    let release = on_acquired.await.ok()?;
    Some(LockGuard::new(Release(release)))
}

/// Posts `message` on `channel`, with this tab's DPoP key pair (a
/// structured clone: the private key stays non-extractable); false without
/// a channel.
pub(super) fn post(
    channel: Option<&BroadcastChannel>,
    message: &str,
    key: Option<JsValue>,
) -> bool {
    let Some(channel) = channel else {
        return false;
    };
    let carried = js_sys::Object::new();
    let _ = Reflect::set(&carried, &"m".into(), &JsValue::from_str(message));
    if let Some(key) = key {
        let _ = Reflect::set(&carried, &"k".into(), &key);
    }
    channel.post_message(&carried).is_ok()
}

/// The text and the carried DPoP key of a message from another tab.
pub(crate) fn received(data: &JsValue) -> (Option<String>, Option<JsValue>) {
    let text = Reflect::get(data, &"m".into())
        .ok()
        .and_then(|m| m.as_string());
    let key = Reflect::get(data, &"k".into())
        .ok()
        .filter(|k| k.is_object());
    (text, key)
}

/// Opens the channel `name`, where there is `BroadcastChannel`.
pub(crate) fn open(name: &str) -> Option<BroadcastChannel> {
    BroadcastChannel::new(name).ok()
}

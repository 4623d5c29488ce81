//! This page's DPoP key: an ECDSA P-256 pair from WebCrypto, its private
//! half not extractable, held in memory only (a new pair per page load; it
//! reaches the app's other tabs only by structured clone, from memory to
//! memory, with the session it is bound to).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, CryptoKeyPair, SubtleCrypto};

use super::crypto::{object, subtle};
use crate::protocol::{AuthError, BrowserFeature, DpopPublicKey};

/// The key pair and its public coordinates.
#[derive(Debug, Clone)]
pub(crate) struct DpopKey {
    pair: CryptoKeyPair,
    public: DpopPublicKey,
}

/// The page's key, shared by every copy of the browser ports.
pub(crate) type DpopSlot = Rc<RefCell<Option<DpopKey>>>;

fn string(value: &JsValue, name: &str) -> Option<String> {
    Reflect::get(value, &JsValue::from_str(name))
        .ok()?
        .as_string()
}

async fn generate() -> Option<DpopKey> {
    let subtle = subtle().ok()?;
    let usages = Array::of1(&JsValue::from_str("sign"));
    let params = object(r#"{"name":"ECDSA","namedCurve":"P-256"}"#)?;
    let pair: CryptoKeyPair = JsFuture::from(
        subtle
            .generate_key_with_object(&params, false, &usages)
            .ok()?,
    )
    .await
    .ok()?
    // A dictionary, not a class: there is no `CryptoKeyPair` to check against.
    .unchecked_into();
    let public = public_key(&subtle, &pair).await?;
    Some(DpopKey { pair, public })
}

async fn public_key(subtle: &SubtleCrypto, pair: &CryptoKeyPair) -> Option<DpopPublicKey> {
    // Public keys are always exportable; the private key is not.
    let jwk = JsFuture::from(subtle.export_key("jwk", &pair.get_public_key()).ok()?)
        .await
        .ok()?;
    Some(DpopPublicKey {
        x: string(&jwk, "x")?,
        y: string(&jwk, "y")?,
    })
}

/// The page's public key, the pair made on first use.
pub(super) async fn key(slot: &DpopSlot) -> Option<DpopPublicKey> {
    if let Some(key) = slot.borrow().as_ref() {
        return Some(key.public.clone());
    }
    let made = generate().await?;
    // Another call may have made one meanwhile: the first one stays.
    let mut slot = slot.borrow_mut();
    Some(slot.get_or_insert(made).public.clone())
}

/// The ES256 signature (`r‖s`) of `input`.
pub(super) async fn sign(slot: &DpopSlot, input: &str) -> Result<Vec<u8>, AuthError> {
    const UNSUPPORTED: AuthError = AuthError::BrowserUnsupported(BrowserFeature::DpopKey);
    let private: CryptoKey = slot
        .borrow()
        .as_ref()
        .map(|key| key.pair.get_private_key())
        .ok_or(UNSUPPORTED)?;
    let subtle = subtle()?;
    let params = object(r#"{"name":"ECDSA","hash":"SHA-256"}"#).ok_or(UNSUPPORTED)?;
    let signing = subtle
        .sign_with_object_and_u8_array(&params, &private, input.as_bytes())
        .map_err(|_| UNSUPPORTED)?;
    let signature = JsFuture::from(signing).await.map_err(|_| UNSUPPORTED)?;
    Ok(Uint8Array::new(&signature).to_vec())
}

/// The key pair to hand to another tab with this tab's session.
pub(super) fn export(slot: &DpopSlot) -> Option<JsValue> {
    slot.borrow().as_ref().map(|key| {
        let carried = Object::new();
        let _ = Reflect::set(&carried, &"pair".into(), &key.pair);
        let _ = Reflect::set(&carried, &"x".into(), &key.public.x.as_str().into());
        let _ = Reflect::set(&carried, &"y".into(), &key.public.y.as_str().into());
        carried.into()
    })
}

/// Takes over another tab's key pair (its session's tokens are bound to
/// it), if it is what this page would have made: ECDSA P-256, with a
/// private half that cannot be extracted.
pub(super) fn adopt(slot: &DpopSlot, carried: &JsValue) -> bool {
    let pair = Reflect::get(carried, &"pair".into())
        .ok()
        .filter(JsValue::is_object)
        .map(JsValue::unchecked_into::<CryptoKeyPair>);
    let (Some(pair), Some(x), Some(y)) = (pair, string(carried, "x"), string(carried, "y")) else {
        return false;
    };
    if !is_our_kind_of_key(&pair) {
        return false;
    }
    *slot.borrow_mut() = Some(DpopKey {
        pair,
        public: DpopPublicKey { x, y },
    });
    true
}

/// ECDSA P-256, the private half private and not extractable, the public
/// half public.
fn is_our_kind_of_key(pair: &CryptoKeyPair) -> bool {
    let (private, public) = (pair.get_private_key(), pair.get_public_key());
    let is_p256 = |key: &CryptoKey| {
        let algorithm = key.algorithm().map_or(JsValue::UNDEFINED, JsValue::from);
        string(&algorithm, "name").as_deref() == Some("ECDSA")
            && string(&algorithm, "namedCurve").as_deref() == Some("P-256")
    };
    // A forged pair may be any object: only real keys have these.
    private.is_instance_of::<CryptoKey>()
        && public.is_instance_of::<CryptoKey>()
        && private.type_() == "private"
        && public.type_() == "public"
        && !private.extractable()
        && is_p256(&private)
        && is_p256(&public)
}

//! Calls the protected API with the access token and shows its answer.

use std::cell::Cell;
use std::rc::Rc;

use leptos::either::{Either, EitherOf4};
use leptos::prelude::*;
use leptos_pkce::http::Request;
use leptos_pkce::{Auth, AuthStatus, use_auth};
use wasm_bindgen::JsValue;

use super::{Busy, messages};

/// The URL of an API to call: the demo's own setting `setting` in
/// `config.json` (`api_url`, `orders_url`; the library ignores them), read
/// when first needed.
async fn api_url(setting: &str) -> Option<String> {
    let response = Request::get("/config.json").send().await.ok()?;
    let text = response.text().await.ok()?;
    string_member(&text, setting)
}

/// The first API (`call-api` / `api-result`).
const FIRST: Api = Api {
    setting: "api_url",
    result_id: "api-result",
};
/// The orders API, with a token of its own (`call-api-2` / `api-result-2`).
const ORDERS: Api = Api {
    setting: "orders_url",
    result_id: "api-result-2",
};

/// One of the demo's APIs: where its URL is set, and its answer's hook.
#[derive(Clone, Copy)]
struct Api {
    setting: &'static str,
    result_id: &'static str,
}

/// The string member `name` of the JSON object `text`. The demo reads its
/// two strings with the browser's `JSON.parse`, so that its first load
/// carries no JSON code besides the library's.
fn string_member(text: &str, name: &str) -> Option<String> {
    let value = js_sys::JSON::parse(text).ok()?;
    // `Reflect.get` throws on a value that is not an object.
    js_sys::Reflect::get(&value, &JsValue::from_str(name))
        .ok()?
        .as_string()
}

/// The outcome of the last API call.
#[derive(Clone, PartialEq)]
enum ApiCall {
    Idle,
    Calling,
    Answered { status: u16, text: String },
    Failed(String),
}

/// How many calls the burst button sends at once (its label says so).
const BURST: usize = 20;

/// The home page: the protected API, when signed in.
#[component]
pub(crate) fn ApiPanel() -> impl IntoView {
    let auth = use_auth();
    let call = RwSignal::new(ApiCall::Idle);
    let orders = RwSignal::new(ApiCall::Idle);
    let signed_in = Memo::new(move |_| matches!(auth.status().get(), AuthStatus::SignedIn(_)));

    let call_api = move |_| call_once(auth, call, FIRST);
    let call_orders = move |_| call_once(auth, orders, ORDERS);
    let burst = RwSignal::new(None::<(usize, usize)>);
    let call_burst = move |_| call_many(auth, burst);

    view! {
        <section class="card">
            <h1>{"Protected API"}</h1>
            // A memo and `Either`, not `<Show>`: the same DOM without a
            // type-erased fallback view.
            {move || if !signed_in.get() {
                Either::Left(view! { <p>"Sign in, then call an API that checks your access token."</p> })
            } else { Either::Right(view! {
                <p>{"The API verifies the token's signature, issuer, audience, expiry and scope."}</p>
                <button
                    class="primary"
                    data-testid="call-api"
                    on:click=call_api
                    disabled=move || call.get() == ApiCall::Calling
                >
                    "Call the protected API"
                </button>
                <button data-testid="call-api-burst" on:click=call_burst>
                    {"Call it 20 times at once"}
                </button>
                <ApiOutput call burst api=FIRST/>
                <h2>{"Orders API"}</h2>
                <p>{"A second API: its token, fetched on the first call, is for it alone."}</p>
                <button
                    data-testid="call-api-2"
                    on:click=call_orders
                    disabled=move || orders.get() == ApiCall::Calling
                >
                    "Call the orders API"
                </button>
                <ApiOutput call=orders burst=RwSignal::new(None) api=ORDERS/>
            }) }}
        </section>
    }
}

/// The answers, in a live region that is there before them.
#[component]
fn ApiOutput(
    call: RwSignal<ApiCall>,
    burst: RwSignal<Option<(usize, usize)>>,
    api: Api,
) -> impl IntoView {
    view! {
        <div class="api-output" aria-live="polite">
            {move || burst.get().map(|(ok, total)| view! {
                <p data-testid="api-burst-result" data-ok=ok.to_string() data-total=total.to_string()>
                    {format!("{ok} of {total} calls succeeded (sharing one token refresh).")}
                </p>
            })}
            {move || match call.get() {
                ApiCall::Idle => EitherOf4::A(()),
                ApiCall::Calling => EitherOf4::B(view! { <Busy label="Calling…"/> }),
                ApiCall::Answered { status, text } => EitherOf4::C(view! {
                    <p class="api-status">"HTTP " {status}</p>
                    <pre data-testid=api.result_id data-status=status.to_string()>{text}</pre>
                }),
                ApiCall::Failed(message) => EitherOf4::D(view! {
                    <p class="error" data-testid=api.result_id data-status="0">{message}</p>
                }),
            }}
        </div>
    }
}

/// One call to `api`; its outcome goes to `call`.
fn call_once(auth: Auth, call: RwSignal<ApiCall>, api: Api) {
    call.set(ApiCall::Calling);
    leptos::task::spawn_local(async move {
        let Some(url) = api_url(api.setting).await else {
            let missing = format!("No {} is set in config.json.", api.setting);
            call.set(ApiCall::Failed(missing));
            return;
        };
        let outcome = match auth.fetch(|| Request::get(&url).build()).await {
            Ok(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                ApiCall::Answered {
                    status,
                    text: summarize(&body),
                }
            }
            Err(error) => ApiCall::Failed(messages::explain(&error)),
        };
        call.set(outcome);
    });
}

/// [`BURST`] concurrent calls, each its own task; the last to finish shows
/// how many succeeded in `burst`.
fn call_many(auth: Auth, burst: RwSignal<Option<(usize, usize)>>) {
    burst.set(None);
    leptos::task::spawn_local(async move {
        let Some(url) = api_url(FIRST.setting).await else {
            return;
        };
        let tally = Rc::new(Cell::new((0, 0)));
        for _ in 0..BURST {
            let (url, tally) = (url.clone(), Rc::clone(&tally));
            leptos::task::spawn_local(async move {
                let response = auth.fetch(|| Request::get(&url).build()).await;
                let (ok, done) = tally.get();
                let ok = ok + usize::from(response.is_ok_and(|response| response.ok()));
                tally.set((ok, done + 1));
                if done + 1 == BURST {
                    burst.set(Some((ok, BURST)));
                }
            });
        }
    });
}

/// The API's `message` (or error description) if it answered JSON, else the text.
fn summarize(body: &str) -> String {
    string_member(body, "message")
        .or_else(|| string_member(body, "error_description"))
        .unwrap_or_else(|| body.chars().take(500).collect())
}

//! `fetch` with a timeout on every call (so no state waits forever), no
//! cookies to the provider, and a cap on the body size.

use std::pin::pin;

use futures::future::{Either, select};
use gloo_net::http::{Request, RequestBuilder};
use web_sys::{AbortController, AbortSignal, RequestCredentials, RequestInit};

use super::perf;
use super::window::sleep;
use crate::protocol::AuthError;
use crate::session::{Endpoint, HttpRequest, HttpResponse, MAX_BODY_BYTES};

fn what(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Config => "the app's configuration",
        Endpoint::Discovery => "the identity provider",
        Endpoint::Keys => "the identity provider's signing keys",
        Endpoint::Token | Endpoint::Revocation => "the sign-in service",
        _ => "the identity provider",
    }
}

fn builder(request: &HttpRequest) -> RequestBuilder {
    let builder = match request.form {
        Some(_) => Request::post(&request.url),
        None => Request::get(&request.url),
    };
    let builder = match &request.authorization {
        Some(value) => builder.header("Authorization", value),
        None => builder,
    };
    let builder = match &request.dpop {
        Some(proof) => builder.header("DPoP", proof),
        None => builder,
    };
    match request.endpoint {
        // The app's own file and the provider's public discovery document
        // keep the default mode, so that `<link rel=preload as=fetch
        // crossorigin>` of them is reused. For a provider on another origin
        // that mode sends no cookies either.
        Endpoint::Config | Endpoint::Discovery => builder,
        // A public client authenticates with nothing but its client_id.
        _ => builder.credentials(RequestCredentials::Omit),
    }
}

/// The User Timing measure of a request (see `perf`).
fn measure_name(request: &HttpRequest) -> &'static str {
    match request.endpoint {
        Endpoint::Config => "oidc:config-request",
        Endpoint::Discovery => "oidc:discovery-request",
        Endpoint::Keys => "oidc:jwks-request",
        Endpoint::Userinfo => "oidc:userinfo-request",
        Endpoint::Token
            if request
                .form
                .as_deref()
                .is_some_and(|form| form.starts_with("grant_type=refresh_token")) =>
        {
            "oidc:refresh-request"
        }
        Endpoint::Token => "oidc:token-request",
        _ => "oidc:request",
    }
}

/// Sends `request`, giving up after `timeout_ms`.
pub(super) async fn send(request: HttpRequest, timeout_ms: u32) -> Result<HttpResponse, AuthError> {
    let measure = measure_name(&request);
    perf::mark_start(measure);
    let result = exchange(request, timeout_ms).await;
    perf::measure_from_start(measure);
    result
}

async fn exchange(request: HttpRequest, timeout_ms: u32) -> Result<HttpResponse, AuthError> {
    let what = what(request.endpoint);
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map(AbortController::signal);
    let builder = builder(&request).abort_signal(signal.as_ref());
    let built = match request.form {
        Some(form) => builder
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form),
        None => builder.build(),
    }
    .map_err(|_| AuthError::Network(what.to_owned()))?;
    let call = async {
        let response = built.send().await.ok()?;
        let status = response.status();
        let too_large = response
            .headers()
            .get("content-length")
            .and_then(|length| length.parse::<usize>().ok())
            .is_some_and(|length| length > MAX_BODY_BYTES);
        if too_large {
            return Some(Err(AuthError::Network(format!(
                "{what} (answer too large)"
            ))));
        }
        let dpop_nonce = response.headers().get("DPoP-Nonce");
        let body = response.text().await.ok()?;
        if body.len() > MAX_BODY_BYTES {
            return Some(Err(AuthError::Network(format!(
                "{what} (answer too large)"
            ))));
        }
        Some(Ok(HttpResponse {
            status,
            body,
            dpop_nonce,
        }))
    };
    let timeout = i32::try_from(timeout_ms).unwrap_or(i32::MAX);
    match select(pin!(call), pin!(sleep(timeout))).await {
        Either::Left((Some(answer), _)) => answer,
        Either::Left((None, _)) => Err(AuthError::Network(what.to_owned())),
        Either::Right(_) => {
            if let Some(controller) = controller {
                controller.abort();
            }
            Err(AuthError::Network(format!(
                "{what} (no answer within {timeout_ms} ms)"
            )))
        }
    }
}

/// Sends an app-built request (a resource call) within the timeout; a
/// request that times out is aborted, or the browser would hold the next
/// identical request behind it.
pub(crate) async fn send_resource(
    request: Request,
    timeout_ms: u32,
) -> Result<gloo_net::http::Response, AuthError> {
    let controller = AbortController::new().ok();
    let request = match &controller {
        Some(controller) => with_signal(request, &controller.signal())?,
        None => request,
    };
    let timeout = i32::try_from(timeout_ms).unwrap_or(i32::MAX);
    match select(pin!(request.send()), pin!(sleep(timeout))).await {
        Either::Left((Ok(response), _)) => Ok(response),
        Either::Left((Err(_), _)) => Err(AuthError::Network("the API".into())),
        Either::Right(_) => {
            if let Some(controller) = controller {
                controller.abort();
            }
            Err(AuthError::Network(format!(
                "the API (no answer within {timeout_ms} ms)"
            )))
        }
    }
}

/// The same request, abortable by `signal`.
fn with_signal(request: Request, signal: &AbortSignal) -> Result<Request, AuthError> {
    let init = RequestInit::new();
    init.set_signal(Some(signal));
    let inner: web_sys::Request = request.into();
    web_sys::Request::new_with_request_and_init(&inner, &init)
        .map(Request::from)
        .map_err(|_| AuthError::Network("the request could not be built".into()))
}

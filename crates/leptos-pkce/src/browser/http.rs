//! `fetch` with a timeout on every call (so no state waits forever), no
//! cookies to the provider, a cap on the body size that is enforced while the
//! body streams in, and no redirect followed (a `DPoP` proof or a token must
//! not follow a `302` to another origin).

use std::pin::pin;

use futures::future::{Either, select};
use gloo_net::http::{Request, RequestBuilder, Response};
use web_sys::{
    AbortController, AbortSignal, RequestCredentials, RequestInit, RequestRedirect, ResponseType,
};

use super::body::{Body, read_capped};
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
    }
    .redirect(RequestRedirect::Manual);
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
    let timeout = i32::try_from(timeout_ms).unwrap_or(i32::MAX);
    let result = match select(pin!(receive(built, what)), pin!(sleep(timeout))).await {
        Either::Left((answer, _)) => answer,
        Either::Right(_) => Err(AuthError::Network(format!(
            "{what} (no answer within {timeout_ms} ms)"
        ))),
    };
    // Whatever went wrong (too large, a redirect, the timeout), the transfer stops.
    if let (Err(_), Some(controller)) = (&result, controller) {
        controller.abort();
    }
    result
}

/// The answer to `built`, its body read up to `MAX_BODY_BYTES`.
async fn receive(built: Request, what: &str) -> Result<HttpResponse, AuthError> {
    let too_large = || AuthError::Network(format!("{what} (answer too large)"));
    let response = built
        .send()
        .await
        .map_err(|_| AuthError::Network(what.to_owned()))?;
    refuse_redirect(&response, what)?;
    let declared = response
        .headers()
        .get("content-length")
        .and_then(|length| length.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let status = response.status();
    let dpop_nonce = response.headers().get("DPoP-Nonce");
    let body = match declared {
        // The length is known and within the cap, and the browser reads no
        // more than it: read it whole.
        Some(_) => match response.text().await {
            Ok(text) => Body::Complete(text),
            Err(_) => Body::Failed,
        },
        // Chunked: count as it streams in, and cancel at the cap.
        None => read_capped(response.body(), MAX_BODY_BYTES).await,
    };
    match body {
        Body::Complete(body) => Ok(HttpResponse {
            status,
            body,
            dpop_nonce,
        }),
        Body::TooLarge => Err(too_large()),
        Body::Failed => Err(AuthError::Network(what.to_owned())),
    }
}

/// With `redirect: "manual"` a redirect arrives as an opaque answer, never
/// followed: it is an error, never an answer to read.
fn refuse_redirect(response: &Response, what: &str) -> Result<(), AuthError> {
    if response.type_() == ResponseType::Opaqueredirect {
        return Err(AuthError::Network(format!(
            "{what} (answered with a redirect, which is not followed)"
        )));
    }
    Ok(())
}

/// Sends an app-built request (a resource call) within the timeout, never
/// following a redirect (the token and the proof stay with the allowed
/// origin); a request that times out is aborted, or the browser would hold
/// the next identical request behind it.
pub(crate) async fn send_resource(
    request: Request,
    timeout_ms: u32,
) -> Result<Response, AuthError> {
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map(AbortController::signal);
    let request = unredirected(request, signal.as_ref())?;
    let timeout = i32::try_from(timeout_ms).unwrap_or(i32::MAX);
    match select(pin!(request.send()), pin!(sleep(timeout))).await {
        Either::Left((Ok(response), _)) => refuse_redirect(&response, "the API").map(|()| response),
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

/// The same request, with `redirect: "manual"`, abortable by `signal`.
fn unredirected(request: Request, signal: Option<&AbortSignal>) -> Result<Request, AuthError> {
    let init = RequestInit::new();
    init.set_redirect(RequestRedirect::Manual);
    init.set_signal(signal);
    let inner: web_sys::Request = request.into();
    web_sys::Request::new_with_request_and_init(&inner, &init)
        .map(Request::from)
        .map_err(|_| AuthError::Network("the request could not be built".into()))
}

//! HTTP with a timeout on every call, so no state waits forever.

use std::pin::pin;

use futures::future::{Either, select};
use gloo_net::http::{Request, RequestBuilder, Response};
use web_sys::{AbortController, RequestCredentials};

use super::browser::sleep;
use crate::auth::error::AuthError;

/// Every request to the provider gives up after this long.
pub const REQUEST_TIMEOUT_MS: i32 = 15_000;

/// Status and body of an answer.
#[derive(Debug)]
pub struct HttpAnswer {
    /// HTTP status.
    pub status: u16,
    /// Body as text.
    pub body: String,
}

/// Sends `builder`'s request and reads the body, within the timeout.
/// `what` names the server for the error message ("the sign-in service").
async fn exchange(builder: RequestBuilder, body: Option<String>, what: &str) -> Result<HttpAnswer, AuthError> {
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map(AbortController::signal);
    // No cookies to the provider's API endpoints: a public client
    // authenticates with nothing but its client_id and the grant.
    let builder = builder
        .credentials(RequestCredentials::Omit)
        .abort_signal(signal.as_ref());
    let request = match body {
        Some(body) => builder
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body),
        None => builder.build(),
    }
    .map_err(|_| AuthError::Network(what.to_owned()))?;
    let call = async {
        let response = request.send().await.ok()?;
        let status = response.status();
        let body = response.text().await.ok()?;
        Some(HttpAnswer { status, body })
    };
    match select(pin!(call), pin!(sleep(REQUEST_TIMEOUT_MS))).await {
        Either::Left((Some(answer), _)) => Ok(answer),
        Either::Left((None, _)) => Err(AuthError::Network(what.to_owned())),
        Either::Right(_) => {
            if let Some(controller) = controller {
                controller.abort();
            }
            Err(AuthError::Network(format!("{what} (no answer within {} s)", REQUEST_TIMEOUT_MS / 1000)))
        }
    }
}

/// `GET url`.
pub async fn get(url: &str, what: &str) -> Result<HttpAnswer, AuthError> {
    exchange(Request::get(url), None, what).await
}

/// `POST url` with a form body.
pub async fn post_form(url: &str, form: String, what: &str) -> Result<HttpAnswer, AuthError> {
    exchange(Request::post(url), Some(form), what).await
}

/// Sends an already-built request (an API call), within the timeout.
pub async fn send(request: Request, what: &str) -> Result<Response, AuthError> {
    match select(pin!(request.send()), pin!(sleep(REQUEST_TIMEOUT_MS))).await {
        Either::Left((Ok(response), _)) => Ok(response),
        Either::Left((Err(_), _)) => Err(AuthError::Network(what.to_owned())),
        Either::Right(_) => Err(AuthError::Network(format!("{what} (no answer within {} s)", REQUEST_TIMEOUT_MS / 1000))),
    }
}

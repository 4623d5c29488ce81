//! HTTP with a timeout on every call, so no state waits forever.

use std::pin::pin;

use futures::future::{Either, select};
use gloo_net::http::{Request, RequestBuilder, Response};
use web_sys::{AbortController, RequestCredentials};

use super::browser::sleep;
use crate::auth::error::AuthError;

/// Status and body of an answer.
#[derive(Debug)]
pub struct HttpAnswer {
    /// HTTP status.
    pub status: u16,
    /// Body as text.
    pub body: String,
}

/// Sends requests that give up after `timeout_ms`.
#[derive(Debug, Clone, Copy)]
pub struct Http {
    /// Milliseconds before a request counts as failed.
    pub timeout_ms: u32,
}

/// A request to the provider: no cookies. A public client authenticates with
/// nothing but its `client_id` and the grant.
fn to_provider(builder: RequestBuilder) -> RequestBuilder {
    builder.credentials(RequestCredentials::Omit)
}

impl Http {
    fn timeout(self) -> i32 {
        i32::try_from(self.timeout_ms).unwrap_or(i32::MAX)
    }

    fn timed_out(self, what: &str) -> AuthError {
        AuthError::Network(format!("{what} (no answer within {} ms)", self.timeout_ms))
    }

    /// Sends `builder`'s request and reads the body, within the timeout.
    /// `what` names the server for the error message ("the sign-in service").
    async fn exchange(
        self,
        builder: RequestBuilder,
        form: Option<String>,
        what: &str,
    ) -> Result<HttpAnswer, AuthError> {
        let controller = AbortController::new().ok();
        let signal = controller.as_ref().map(AbortController::signal);
        let builder = builder.abort_signal(signal.as_ref());
        let request = match form {
            Some(form) => builder
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form),
            None => builder.build(),
        }
        .map_err(|_| AuthError::Network(what.to_owned()))?;
        let call = async {
            let response = request.send().await.ok()?;
            let status = response.status();
            let body = response.text().await.ok()?;
            Some(HttpAnswer { status, body })
        };
        match select(pin!(call), pin!(sleep(self.timeout()))).await {
            Either::Left((Some(answer), _)) => Ok(answer),
            Either::Left((None, _)) => Err(AuthError::Network(what.to_owned())),
            Either::Right(_) => {
                if let Some(controller) = controller {
                    controller.abort();
                }
                Err(self.timed_out(what))
            }
        }
    }

    /// `GET url` on the app's own origin with the browser's default
    /// credentials mode, so that `<link rel=preload as=fetch crossorigin>`
    /// of the same URL is reused rather than fetched twice.
    pub async fn get_own(self, url: &str, what: &str) -> Result<HttpAnswer, AuthError> {
        self.exchange(Request::get(url), None, what).await
    }

    /// `GET url` from the provider.
    pub async fn get(self, url: &str, what: &str) -> Result<HttpAnswer, AuthError> {
        self.exchange(to_provider(Request::get(url)), None, what)
            .await
    }

    /// `GET url` from the provider with `Authorization: Bearer <token>`.
    pub async fn get_with_bearer(
        self,
        url: &str,
        token: &str,
        what: &str,
    ) -> Result<HttpAnswer, AuthError> {
        let builder = Request::get(url).header("Authorization", &format!("Bearer {token}"));
        self.exchange(to_provider(builder), None, what).await
    }

    /// `POST url` to the provider with a form body.
    pub async fn post_form(
        self,
        url: &str,
        form: String,
        what: &str,
    ) -> Result<HttpAnswer, AuthError> {
        self.exchange(to_provider(Request::post(url)), Some(form), what)
            .await
    }

    /// Sends an already-built request (an API call), within the timeout.
    pub async fn send(self, request: Request, what: &str) -> Result<Response, AuthError> {
        match select(pin!(request.send()), pin!(sleep(self.timeout()))).await {
            Either::Left((Ok(response), _)) => Ok(response),
            Either::Left((Err(_), _)) => Err(AuthError::Network(what.to_owned())),
            Either::Right(_) => Err(self.timed_out(what)),
        }
    }
}

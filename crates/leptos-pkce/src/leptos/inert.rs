//! Off the browser (the server half of an SSR app, native tests): the
//! handle exists and renders, and does nothing. The status stays
//! `Starting`, which is also the browser's first view before start-up.

use serde::de::DeserializeOwned;

use super::{Auth, AuthOptions, http};
use crate::protocol::{AccessToken, AuthError, SignInOptions};

/// Nothing to keep off the browser.
pub(crate) struct Runtime;

impl Runtime {
    pub(super) fn new(_options: AuthOptions) -> Self {
        Self
    }
}

pub(super) fn start(_auth: Auth) {}

pub(super) fn claims<T: DeserializeOwned>(_auth: Auth) -> Option<Result<T, AuthError>> {
    None
}

pub(super) fn userinfo<T: DeserializeOwned>(_auth: Auth) -> Option<Result<T, AuthError>> {
    None
}

pub(super) fn sign_in(_auth: Auth, _options: SignInOptions) {}

pub(super) fn sign_out(_auth: Auth) {}

pub(super) async fn access_token(
    _auth: Auth,
    _api: Option<&str>,
) -> Result<AccessToken, AuthError> {
    Err(AuthError::NotInBrowser)
}

pub(super) async fn fetch(
    _auth: Auth,
    _make: &dyn Fn() -> Result<http::Request, http::Error>,
) -> Result<http::Response, AuthError> {
    Err(AuthError::NotInBrowser)
}

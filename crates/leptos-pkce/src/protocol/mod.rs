//! The protocol pieces, pure and I/O-free: each one an RFC step over strings
//! and bytes. The session engine composes them; apps rarely need them
//! directly, but they are here for those who build their own flow.

mod callback;
mod config;
mod discovery;
mod dpop;
mod error;
mod http_date;
mod id_token;
// Leaving: only session/{tabs,tokens,status}.rs still use it (see its doc).
#[allow(unreachable_pub, dead_code, unused_imports)]
pub(crate) mod codec;
mod jwk;
mod jws;
mod logout;
mod pending;
mod pkce;
pub(crate) mod random;
mod request;
mod resources;
mod return_to;
mod secret;
mod sign_in_options;
mod token;
pub(crate) mod uri;
mod userinfo;

pub use callback::{CallbackExpectations, CallbackParams, validate_callback};
#[cfg_attr(not(target_arch = "wasm32"), allow(unused_imports))]
pub(crate) use config::DEFAULT_REQUEST_TIMEOUT_MS;
pub use config::{ClientConfig, DpopMode};
pub use discovery::{ProviderMetadata, discovery_url};
pub use dpop::{
    DpopPublicKey, ProofClaims, asks_for_nonce, htu, proof, proof_signing_input, refuses_proof,
};
pub use error::{AuthError, BrowserFeature, ConfigProblem, IdTokenCheck, TokenResponseProblem};
pub(crate) use http_date::parse_http_date;
pub(crate) use id_token::SignedIdToken;
pub use id_token::{
    Audience, IdTokenClaims, IdTokenExpectations, IdTokenJws, VerifiedIdToken, at_hash,
};
pub use jwk::{Jwk, JwkSet, KeyChoice};
pub use jws::{CompactJws, HashAlg, JwsHeader, SigningAlg};
pub use logout::{end_session_url, revocation_form};
pub use pending::PendingRequest;
pub(crate) use pending::{LOGOUT_PREFIX, PENDING_TTL_MS, SILENT_SKIP_KEY, STORAGE_PREFIX};
pub use pkce::{PkceCodeChallenge, is_valid_verifier};
pub use request::{
    AuthorizationRequest, Prompt, RequestSecrets, parse_pushed_authorization_response,
    pushed_authorization_url,
};
pub use resources::ResourceServer;
pub use return_to::sanitize_return_path;
pub use secret::{
    AccessToken, AuthorizationCode, CsrfState, IdToken, Nonce, PkceCodeVerifier, RefreshToken,
};
pub use sign_in_options::SignInOptions;
pub(crate) use sign_in_options::check_param_name;
pub use token::{
    TokenResponse, TokenType, authorization_code_form, parse_token_response, refresh_form,
    rotated_refresh_token,
};
pub use userinfo::{UserinfoClaims, parse_userinfo};

pub(crate) use secret::constant_time_eq;

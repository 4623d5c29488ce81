//! An in-memory OpenID provider that behaves like the real one where the
//! engine can tell: PKCE S256 checked, codes single-use, refresh tokens
//! rotated with reuse detection, ID tokens "signed" by a key id that the
//! fake verifier checks, and scripted faults at the token endpoint.

use std::collections::{BTreeMap, VecDeque};

use serde_json::json;
use sha2::{Digest, Sha256};

pub(crate) use super::provider_wire::{Fault, answer, oauth_error, sign};
use crate::protocol::at_hash;
use crate::protocol::random::base64url;
use crate::session::HttpResponse;

pub(crate) const ISSUER: &str = "https://id.example.com";
pub(crate) const CLIENT_ID: &str = "spa";
pub(crate) const APP: &str = "https://app.example.com";
pub(crate) const API: &str = "https://api.example.com";

#[derive(Debug)]
struct Authorization {
    challenge: String,
    nonce: String,
    redirect_uri: String,
}

/// The provider's state.
#[derive(Debug)]
pub(crate) struct Provider {
    pub(crate) signed_in: bool,
    pub(crate) kid: String,
    pub(crate) published: Vec<String>,
    pub(crate) access_ttl_s: u64,
    pub(crate) issue_refresh_tokens: bool,
    pub(crate) iss_parameter: bool,
    pub(crate) refresh_id_tokens: bool,
    pub(crate) faults: VecDeque<Fault>,
    pub(crate) userinfo_sub: Option<String>,
    /// Who signs in at the login form (default alice).
    pub(crate) person: Option<String>,
    /// Userinfo answers this (status, body) instead.
    pub(crate) userinfo_answer: Option<(u16, &'static str)>,
    /// Whether ID tokens carry a `name` (some providers keep profile
    /// claims to userinfo).
    pub(crate) id_token_names: bool,
    /// The discovery document answers 503.
    pub(crate) discovery_down: bool,
    codes: BTreeMap<String, Authorization>,
    live_refresh: Option<String>,
    spent_refresh: Vec<String>,
    pub(crate) revoked: Vec<String>,
    pub(crate) serial: u32,
    pub(crate) now_s: i64,
    authorizations: u32,
    refresh_errors: u32,
    /// Advertise ES256 DPoP proofs in discovery.
    pub(crate) dpop_advertised: bool,
    /// Refuse token requests without a proof.
    pub(crate) dpop_required: bool,
    /// Demand this nonce in proofs at the token endpoint.
    pub(crate) dpop_nonce: Option<String>,
    /// Accept pushed authorization requests only.
    pub(crate) par_required: bool,
    /// Ignore proofs and issue Bearer tokens.
    pub(crate) bearer_only: bool,
    /// Refuse pushed requests with this OAuth error.
    pub(crate) push_refusal: Option<&'static str>,
    /// Proofs seen at the token endpoint (their `x`), in order.
    pub(crate) proof_keys: Vec<String>,
    pub(crate) pushed: BTreeMap<String, String>,
    /// The key a code or the live refresh token is bound to.
    pub(crate) bound_codes: BTreeMap<String, String>,
    pub(crate) bound_refresh: Option<String>,
}

impl Default for Provider {
    fn default() -> Self {
        Self {
            signed_in: true,
            kid: "k1".into(),
            published: vec!["k1".into()],
            access_ttl_s: 300,
            issue_refresh_tokens: true,
            iss_parameter: true,
            refresh_id_tokens: true,
            faults: VecDeque::new(),
            userinfo_sub: None,
            person: None,
            userinfo_answer: None,
            id_token_names: true,
            discovery_down: false,
            codes: BTreeMap::new(),
            live_refresh: None,
            spent_refresh: Vec::new(),
            revoked: Vec::new(),
            serial: 0,
            now_s: 0,
            authorizations: 0,
            refresh_errors: 0,
            dpop_advertised: false,
            dpop_required: false,
            dpop_nonce: None,
            par_required: false,
            bearer_only: false,
            push_refusal: None,
            proof_keys: Vec::new(),
            pushed: BTreeMap::new(),
            bound_codes: BTreeMap::new(),
            bound_refresh: None,
        }
    }
}

fn query(url: &str) -> BTreeMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

impl Provider {
    pub(crate) fn discovery(&self) -> HttpResponse {
        if self.discovery_down {
            return answer(503, json!({}));
        }
        answer(
            200,
            json!({
                "issuer": ISSUER,
                "authorization_endpoint": format!("{ISSUER}/auth"),
                "token_endpoint": format!("{ISSUER}/token"),
                "userinfo_endpoint": format!("{ISSUER}/me"),
                "jwks_uri": format!("{ISSUER}/jwks"),
                "end_session_endpoint": format!("{ISSUER}/logout"),
                "revocation_endpoint": format!("{ISSUER}/revoke"),
                "code_challenge_methods_supported": ["S256"],
                "authorization_response_iss_parameter_supported": self.iss_parameter,
                "id_token_signing_alg_values_supported": ["RS256"],
                "dpop_signing_alg_values_supported":
                    if self.dpop_advertised { json!(["ES256"]) } else { json!([]) },
                "pushed_authorization_request_endpoint": format!("{ISSUER}/par"),
                "require_pushed_authorization_requests": self.par_required,
            }),
        )
    }

    pub(crate) fn jwks(&self) -> HttpResponse {
        let keys: Vec<_> = self
            .published
            .iter()
            .map(|kid| json!({"kty": "RSA", "kid": kid, "use": "sig", "n": "AQAB", "e": "AQAB"}))
            .collect();
        answer(200, json!({ "keys": keys }))
    }

    /// The person arrives at the authorization endpoint with `url`; the
    /// query of the callback the provider sends them back with.
    pub(crate) fn authorize(&mut self, url: &str) -> String {
        self.authorizations += 1;
        let mut params = query(url);
        if let Some(uri) = params.get("request_uri").cloned() {
            let pushed = self.pushed.remove(&uri).unwrap_or_default();
            params = query(&format!("?{pushed}"));
        } else if self.par_required {
            return "?error=invalid_request".into();
        }
        let state = params.get("state").cloned().unwrap_or_default();
        let iss = if self.iss_parameter {
            format!(
                "&iss={}",
                form_urlencoded::byte_serialize(ISSUER.as_bytes()).collect::<String>()
            )
        } else {
            String::new()
        };
        if !self.signed_in && params.get("prompt").map(String::as_str) == Some("none") {
            return format!("?error=login_required&state={state}{iss}");
        }
        self.signed_in = true;
        self.serial += 1;
        let code = format!("code-{}", self.serial);
        if let Some(jkt) = params.get("dpop_jkt") {
            self.bound_codes.insert(code.clone(), jkt.clone());
        }
        self.codes.insert(
            code.clone(),
            Authorization {
                challenge: params.get("code_challenge").cloned().unwrap_or_default(),
                nonce: params.get("nonce").cloned().unwrap_or_default(),
                redirect_uri: params.get("redirect_uri").cloned().unwrap_or_default(),
            },
        );
        format!("?code={code}&state={state}{iss}")
    }

    fn tokens(
        &mut self,
        nonce: Option<&str>,
        sub: &str,
        corrupt: bool,
        resource: Option<&String>,
    ) -> HttpResponse {
        self.serial += 1;
        // A token for an API (RFC 8707) names it, so tests can tell them apart.
        let access_token = match resource {
            Some(resource) => format!("at-{}@{resource}", self.serial),
            None => format!("at-{}", self.serial),
        };
        let mut claims = json!({
            "iss": ISSUER, "sub": sub, "aud": CLIENT_ID, "exp": self.now_s + 600,
            "iat": self.now_s, "auth_time": 1, "name": "Alice Liddell",
            "roles": ["reader", "editor"],
            "at_hash": at_hash(&Sha256::digest(access_token.as_bytes())),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        if !self.id_token_names {
            claims.as_object_mut().map(|claims| claims.remove("name"));
        }
        let mut body = json!({
            "access_token": access_token, "token_type": "Bearer",
            "expires_in": self.access_ttl_s, "id_token": sign(&self.kid, &claims, corrupt),
        });
        if self.issue_refresh_tokens {
            let refresh = format!("rt-{}", self.serial);
            self.live_refresh = Some(refresh.clone());
            body["refresh_token"] = json!(refresh);
        }
        answer(200, body)
    }

    /// The token endpoint.
    pub(crate) fn token(&mut self, form: &str, proof: Option<&str>) -> Option<HttpResponse> {
        let fault = self.faults.pop_front();
        match fault {
            Some(Fault::Answer(status, body)) => {
                return Some(HttpResponse::new(status, body.to_owned()));
            }
            Some(Fault::Network) => return None,
            Some(Fault::NonceChallenge(nonce)) => {
                let mut refusal = oauth_error("use_dpop_nonce");
                refusal.dpop_nonce = Some(nonce.to_owned());
                return Some(refusal);
            }
            _ => {}
        }
        let params: BTreeMap<String, String> = form_urlencoded::parse(form.as_bytes())
            .into_owned()
            .collect();
        if params.get("client_id").map(String::as_str) != Some(CLIENT_ID)
            || params.contains_key("client_secret")
        {
            return Some(oauth_error("invalid_client"));
        }
        let proved = match self.check_proof(proof, "POST", &format!("{ISSUER}/token"), None) {
            Ok(proved) => proved,
            Err(refusal) => return Some(refusal),
        };
        if self.dpop_required && proved.is_none() {
            return Some(oauth_error("invalid_grant"));
        }
        let corrupt = matches!(fault, Some(Fault::BadSignature));
        let response = match params.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                let code = params.get("code").cloned().unwrap_or_default();
                let Some(authz) = self.codes.remove(&code) else {
                    return Some(oauth_error("invalid_grant"));
                };
                if let Some(bound) = self.bound_codes.remove(&code)
                    && proved.as_deref() != Some(bound.as_str())
                {
                    return Some(oauth_error("invalid_grant"));
                }
                let verifier = params.get("code_verifier").cloned().unwrap_or_default();
                if base64url(&Sha256::digest(verifier.as_bytes())) != authz.challenge
                    || params.get("redirect_uri") != Some(&authz.redirect_uri)
                {
                    return Some(oauth_error("invalid_grant"));
                }
                let person = self.person.clone().unwrap_or_else(|| "alice".into());
                self.tokens(Some(&authz.nonce), &person, corrupt, params.get("resource"))
            }
            Some("refresh_token") => {
                let presented = params.get("refresh_token").cloned().unwrap_or_default();
                if self.bound_refresh.is_some() && self.bound_refresh != proved {
                    self.refresh_errors += 1;
                    return Some(oauth_error("invalid_grant"));
                }
                if self.live_refresh.as_deref() != Some(presented.as_str()) {
                    self.refresh_errors += 1;
                    if self.spent_refresh.contains(&presented) {
                        // Reuse detection: the whole grant is revoked.
                        self.live_refresh = None;
                    }
                    return Some(oauth_error("invalid_grant"));
                }
                self.spent_refresh.push(presented);
                let sub = match fault {
                    Some(Fault::OtherSubject) => "mallory",
                    _ => "alice",
                };
                let mut response = self.tokens(None, sub, corrupt, params.get("resource"));
                if !self.refresh_id_tokens {
                    let mut body: serde_json::Value =
                        serde_json::from_str(&response.body).unwrap_or_default();
                    body.as_object_mut().map(|o| o.remove("id_token"));
                    response.body = body.to_string();
                }
                response
            }
            _ => oauth_error("unsupported_grant_type"),
        };
        let response = self.bind(response, proved);
        match fault {
            Some(Fault::ProcessedThenLost) => None,
            _ => Some(response),
        }
    }

    /// How many authorization requests reached the provider.
    pub(crate) fn authorizations(&self) -> u32 {
        self.authorizations
    }

    /// How many refresh grants the provider refused.
    pub(crate) fn refresh_errors(&self) -> u32 {
        self.refresh_errors
    }

    pub(crate) fn userinfo(
        &mut self,
        authorization: Option<&str>,
        proof: Option<&str>,
    ) -> HttpResponse {
        let (scheme, token) = authorization
            .and_then(|a| a.split_once(' '))
            .unwrap_or_default();
        if scheme == "DPoP" {
            let checked = self.check_proof(proof, "GET", &format!("{ISSUER}/me"), Some(token));
            if !matches!(checked, Ok(Some(_))) {
                return answer(401, json!({ "error": "invalid_token" }));
            }
        }
        if let Some((status, body)) = self.userinfo_answer {
            return HttpResponse::new(status, body.to_owned());
        }
        let sub = self.userinfo_sub.clone().unwrap_or_else(|| "alice".into());
        answer(
            200,
            json!({
                "sub": sub, "name": "Alice L.", "email": "alice@example.com",
                "groups": ["staff"],
            }),
        )
    }

    pub(crate) fn revoke(&mut self, form: &str) -> HttpResponse {
        let params: BTreeMap<String, String> = form_urlencoded::parse(form.as_bytes())
            .into_owned()
            .collect();
        if let Some(token) = params.get("token") {
            self.revoked.push(token.clone());
            if self.live_refresh.as_ref() == Some(token) {
                self.live_refresh = None;
            }
        }
        answer(200, json!({}))
    }
}

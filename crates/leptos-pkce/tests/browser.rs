//! The browser's ports, in headless Chromium
//! (`cargo test --target wasm32-unknown-unknown`): sessionStorage, the
//! address bar, the CSPRNG, and WebCrypto signature verification on known
//! vectors (made with jose), valid and tampered.
#![cfg(target_arch = "wasm32")]

use leptos_pkce::engine::{
    Browser, Clock, DpopKeys, Navigator, Randomness, SignatureVerifier, TabStore,
};
use leptos_pkce::protocol::{
    HashAlg, JwkSet, KeyChoice, PkceCodeVerifier, SigningAlg, at_hash, is_valid_verifier,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn browser() -> Browser {
    Browser::new(15_000)
}

/// (algorithm, public JWK, compact JWS signed with its private key).
const VECTORS: [(SigningAlg, &str, &str); 4] = [
    (
        SigningAlg::Rs256,
        r#"{"kty":"RSA","n":"wmHGOovzh-gbLfu8KnEUTri3v-WiLU1scX-XqFVoC1_A_KgVWUik5p1bsVAORnOw48wlf7enF6J4NI6C9R7uZYNd9ySn9761edmi1Gze7cmN-2Nv6v_jE2NH3t7233vc3NeQ_ughgTj5LP_SviF1I_7UZTRRpQ6iWEsnOLe2cnuY5tntSC-G53adewDC0zc5k6OTcBpONW-YvC1OwQomywJ06UqqReWzYGr2OJW9C4sVX9K9Wwy6Thi3CNzn3Z4h9cVt5Ag0GT0RXwFib2pNQVWVfvt-3xGhqspOyP82w2k9jTJL_AQw5Y_jg0pY6h4O4nKUHgNk5IK42u-NUgMzJw","e":"AQAB"}"#,
        "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJhbGljZSJ9.VRQqlt6BtmdIR-Hqgai48djff2XAH3PL8iPmt4LD7sgdcnVifpjEmhwripZhL4dPa8SKyvd3WuHdwV1zcnw01_ZtSE5p-IAmTCoY8YYD8rEMeXsu0gto96lRGd-TDpsL7ddbV0xjh66KhdZ7uTvPU8OI2dzru3je0AFHnlBbtrIlmvnJTLplP8Fd9aVBuu9gtdYn_fIBbgntCGfoTfih8LMes2TY2DDy__PJP9_eQG2TvCxPZfo6ouZIB48RAs9JslA8uP_6EmyuK02LhYGYDzUxHkuvcwX3SpET3gwNpdTq7bk4PE_igzzD09WmGUAkuMGXFmvPf4j0AzSh9kJmQw",
    ),
    (
        SigningAlg::Ps256,
        r#"{"kty":"RSA","n":"peDkpuPYmir7VOb85-MD3DZfO1YsscB1dNJzw-CK4HJfETDWBZ9V-TlMjoxCUpUmuZ1rKEflgO0C-2Xi8aqPMdvTzTM4Ry-zDsas7MoOeDtY1vXDTUUH6WltH6Zrs29UX0gWfFUmaIUKV_as2y_8TpF_3tc8yoAjtCylKJOfHO3mU0JM4j6clYk0UAufrITJCqXBin4UVGTrR6tsuu-3e1UdMKwLsNMOaXG-BNx2ysuq6tch3RwH3BmlBWXSn8EBaSzGCNh75n7-mp_COhCovsG1R8JUeqLD-dKwHNoDc_kaGq4hY2Bnytinm7TYwJxQHhNDhP4SgYm4ZLAP0odrgQ","e":"AQAB"}"#,
        "eyJhbGciOiJQUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJhbGljZSJ9.YKD-dAXnhnzR_7A_Dky-_dPVGsUShfze8KP-3ANGIWYKLouWwMNfqqWUoxwFBR2VwHWUrX7MBnWIar2pdR_TIHGOZfPhDe5CuDCo0ePcZTZV8f6HcSMGHS0RKMVaaErZKz8fFXTa4powPa4Kd-25MLBK8AoZS_RqBSZtCrz7nNNb_z7jb7FPoGJGaN7ki4fJKIkw0oCTC3x_7aQgbMuX71mgOQ70VHEnwdCPmd18z7Ecq672aP9LMjNRp-LwJihBaYBITet9nMlwbBoYrXTY1dvr45dHVNbHUPBH_IKW0xzSPwX-lcfFmQ32FXvXrpZ6QEUmicbz_fTtct2PwkMXQQ",
    ),
    (
        SigningAlg::Es256,
        r#"{"kty":"EC","x":"zgwbbrGec7w49h-m0wjzPTOSgNloIQN0H2oqaMpLarE","y":"8l4WyT7NzRG3RiEGtboS4h_1_7qPpuhQmF6qrPP2xu8","crv":"P-256"}"#,
        "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJhbGljZSJ9.qbrsUN1CYXrBIwsNHvstZODU0XnBdVVWYJjrusDyzdRwCiM8PJjB1vEJLymjPa5ZZMYZoHlMT_uz2M-j8XCA3A",
    ),
    (
        SigningAlg::EdDsa,
        r#"{"crv":"Ed25519","x":"Zei6BAD0u9kcOJrozIVewtz_6Lw-IJ890nE3Xz5gg1g","kty":"OKP"}"#,
        "eyJhbGciOiJFZERTQSIsImtpZCI6ImsifQ.eyJzdWIiOiJhbGljZSJ9.NWa-cZYcTEKyy0SA9INwPIrr5wlVItkkwndy5QDnReHsR3UZ3Rn-Yr-calEyDOmAexS1vFOl-UkmotHAbWJQDw",
    ),
];

fn split(jws: &str) -> (&str, Vec<u8>) {
    use base64::Engine as _;
    let (input, signature) = jws.rsplit_once('.').expect("a JWS");
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .expect("base64url");
    (input, signature)
}

async fn verifies(alg: SigningAlg, jwk: &str, input: &str, signature: &[u8]) -> bool {
    let set = JwkSet::from_json(&format!(r#"{{"keys":[{jwk}]}}"#)).expect("key set");
    let KeyChoice::Found(key) = set.choose(alg, None) else {
        panic!("no key for {alg:?}");
    };
    browser()
        .verify_signature(alg, key, input, signature)
        .await
        .expect("WebCrypto")
}

#[wasm_bindgen_test]
async fn webcrypto_verifies_valid_signatures_of_every_algorithm() {
    for (alg, jwk, jws) in VECTORS {
        let (input, signature) = split(jws);
        assert!(verifies(alg, jwk, input, &signature).await, "{alg:?}");
    }
}

#[wasm_bindgen_test]
async fn webcrypto_refuses_tampered_signatures_and_inputs() {
    for (alg, jwk, jws) in VECTORS {
        let (input, mut signature) = split(jws);
        let tampered_input = input.replacen('e', "f", 1);
        assert!(
            !verifies(alg, jwk, &tampered_input, &signature).await,
            "{alg:?} input"
        );
        let last = signature.len() - 1;
        signature[last] ^= 1;
        assert!(
            !verifies(alg, jwk, input, &signature).await,
            "{alg:?} signature"
        );
    }
}

#[wasm_bindgen_test]
async fn a_signature_does_not_verify_with_another_key() {
    let (_, rsa_jwk, _) = VECTORS[0];
    let (_, _, ps_jws) = VECTORS[1];
    let (input, signature) = split(ps_jws);
    assert!(!verifies(SigningAlg::Rs256, rsa_jwk, input, &signature).await);
}

#[wasm_bindgen_test]
fn rfc7636_vector_in_the_browser() {
    let octets = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    let verifier = PkceCodeVerifier::from_entropy(&octets);
    assert_eq!(
        verifier.challenge().as_str(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let random = PkceCodeVerifier::new_random().expect("crypto.getRandomValues");
    assert!(is_valid_verifier(random.secret()));
}

/// WebCrypto's digest, which `at_hash` uses: OIDC Core's example (SHA-256)
/// and the FIPS 180-2 "abc" vector (SHA-512, for Ed25519 ID tokens).
#[wasm_bindgen_test]
async fn webcrypto_digests_match_known_vectors() {
    let token = b"jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
    let sha256 = browser()
        .digest(HashAlg::Sha256, token)
        .await
        .expect("SHA-256");
    assert_eq!(at_hash(&sha256), "77QmUPtjPfzWtF2AnpK9RQ");
    let sha512 = browser()
        .digest(HashAlg::Sha512, b"abc")
        .await
        .expect("SHA-512");
    assert_eq!(sha512.len(), 64);
    assert_eq!(
        sha512[..8],
        [0xdd, 0xaf, 0x35, 0xa1, 0x93, 0x61, 0x7a, 0xba],
        "FIPS 180-2 SHA-512(\"abc\")"
    );
    assert_eq!(
        sha512[56..],
        [0x2a, 0x9a, 0xc9, 0x4f, 0xa5, 0x4c, 0xa4, 0x9f]
    );
}

#[wasm_bindgen_test]
fn the_csprng_fills_and_differs() {
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    browser().fill_random(&mut a).expect("random");
    browser().fill_random(&mut b).expect("random");
    assert_ne!(a, b);
    assert!(browser().now_ms() > 1.6e12);
}

#[wasm_bindgen_test]
fn session_storage_reads_writes_and_lists() {
    browser().write("test.key", "1").expect("write");
    assert_eq!(browser().read("test.key").as_deref(), Some("1"));
    assert!(browser().keys().contains(&"test.key".to_owned()));
    browser().delete("test.key");
    assert_eq!(browser().read("test.key"), None);
}

#[wasm_bindgen_test]
fn replace_url_rewrites_the_current_entry() {
    let history = web_sys::window()
        .expect("window")
        .history()
        .expect("history");
    let before = history.length().expect("length");
    browser().replace_url("/profile?tab=1");
    assert_eq!(browser().current_path(), "/profile?tab=1");
    assert_eq!(browser().path(), "/profile");
    assert_eq!(browser().query(), "?tab=1");
    assert_eq!(
        before,
        history.length().expect("length"),
        "replace, not push"
    );
}

#[wasm_bindgen_test]
async fn the_dpop_key_signs_es256_proofs_that_verify_with_its_public_half() {
    let browser = browser();
    let key = browser
        .dpop_key()
        .await
        .expect("WebCrypto makes a P-256 key pair");
    assert_eq!(
        browser.dpop_key().await,
        Some(key.clone()),
        "one key per page"
    );
    let input = "eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJodG0iOiJQT1NUIn0";
    let signature = browser.dpop_sign(input).await.expect("signs");
    assert_eq!(signature.len(), 64, "r||s, as JWS wants it");
    let jwk = format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
        key.x, key.y
    );
    assert!(verifies(SigningAlg::Es256, &jwk, input, &signature).await);
    assert!(!verifies(SigningAlg::Es256, &jwk, "tampered", &signature).await);
    assert!(
        Browser::new(1).dpop_key().await != Some(key),
        "another page, another key"
    );
}

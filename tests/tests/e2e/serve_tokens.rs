//! API tokens under attack: forged, tampered, expired, for another audience or of a
//! revoked session, each refused with 401 and the very same error body a missing
//! credential gets, so a refusal tells an attacker nothing about why.
//!
//! The service runs with a known `JWT_SECRET_KEY`, so the tests can sign tokens the way
//! the service does; one such token, well formed, is accepted, which shows that the
//! refusals come from what each token gets wrong and not from how the tests sign.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::serve_app::{error_code, test_settings, Service, Session, USER};
use crate::stores::{both_backends, TestStore};

const KEY: &str = "the service's own JWT key for this test, 48 characters";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn sign(claims: &Value, key: &str, algorithm: Algorithm) -> String {
    let key = EncodingKey::from_secret(key.as_bytes()).expect("an HMAC key");
    jsonwebtoken::encode(&Header::new(algorithm), claims, &key).expect("a signed token")
}

/// `header.claims.` with no signature, as an `alg: none` token is written.
fn unsigned(header: &Value, claims: &Value) -> String {
    let part = |value: &Value| base64_url(value.to_string().as_bytes());
    format!("{}.{}.", part(header), part(claims))
}

fn base64_url(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(DIGITS[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The claims the service itself writes for `session`, with `changes` applied.
async fn claims_of(service: &Service, session: &Session, changes: Value) -> Value {
    let me: Value = service.get(session, "/api/auth/me").await.json().await.unwrap();
    let now = now();
    let mut claims = json!({
        "sub": me["account"]["id"].as_i64().expect("an account id").to_string(),
        "sid": me["session"]["id"].as_i64().expect("a session id"),
        "aud": "bugdash",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 600,
    });
    for (name, value) in changes.as_object().expect("an object") {
        claims[name] = value.clone();
    }
    claims
}

async fn with_bearer(service: &Service, jwt: &str) -> (u16, Value) {
    let response =
        service.http.get(service.url("/api/projects")).bearer_auth(jwt).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// The error body without its request id, which differs for every request.
fn without_request_id(mut body: Value) -> Value {
    body["error"]["request_id"] = Value::Null;
    body
}

async fn forged_expired_foreign_and_revoked_tokens_get_the_same_401(store: TestStore) {
    let mut settings = test_settings();
    settings.auth.jwt_secret = Some(bugdash::secret::Secret::new(KEY));
    let service = Service::start(store, settings).await;
    let session = service.login(USER).await;
    let doomed = service.login(USER).await;
    let valid = sign(&claims_of(&service, &session, json!({})).await, KEY, Algorithm::HS256);
    let none_header = json!({"alg": "none", "typ": "JWT"});
    let attacks = [
        ("alg none", unsigned(&none_header, &claims_of(&service, &session, json!({})).await)),
        (
            "HS256 without a signature",
            unsigned(&json!({"alg": "HS256"}), &claims_of(&service, &session, json!({})).await),
        ),
        (
            "signed with another key",
            sign(&claims_of(&service, &session, json!({})).await, "not the key", Algorithm::HS256),
        ),
        (
            "HS512 with the right key",
            sign(&claims_of(&service, &session, json!({})).await, KEY, Algorithm::HS512),
        ),
        (
            "expired",
            sign(
                &claims_of(&service, &session, json!({"exp": now() - 1, "iat": now() - 900})).await,
                KEY,
                Algorithm::HS256,
            ),
        ),
        (
            "not yet valid",
            sign(
                &claims_of(&service, &session, json!({"nbf": now() + 300})).await,
                KEY,
                Algorithm::HS256,
            ),
        ),
        (
            "another audience",
            sign(
                &claims_of(&service, &session, json!({"aud": "other-service"})).await,
                KEY,
                Algorithm::HS256,
            ),
        ),
        (
            "another account's subject",
            sign(&claims_of(&service, &session, json!({"sub": "1"})).await, KEY, Algorithm::HS256),
        ),
        (
            "a revoked session",
            sign(&claims_of(&service, &doomed, json!({})).await, KEY, Algorithm::HS256),
        ),
        ("not a token at all", "e30.e30.e30".to_owned()),
    ];
    let logout = service
        .http
        .post(service.url("/api/auth/logout"))
        .headers(doomed.for_writes())
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);

    let accepted = with_bearer(&service, &valid).await.0;
    let anonymous = service.http.get(service.url("/api/projects")).send().await.unwrap();
    let anonymous_body = without_request_id(anonymous.json().await.unwrap());
    let mut answers = Vec::new();
    for (attack, jwt) in &attacks {
        answers.push((attack, with_bearer(&service, jwt).await));
    }

    assert_eq!(accepted, 200, "a well-formed token signed with the service's key");
    assert_eq!(anonymous_body["error"]["code"], "unauthorized");
    // No password was sent, so the answer does not speak of one.
    let said = anonymous_body["error"]["message"].as_str().unwrap_or_default();
    assert!(said.contains("no valid session or API token"), "{anonymous_body}");
    assert!(!said.contains("password"), "{anonymous_body}");
    for (attack, (status, body)) in answers {
        assert_eq!(status, 401, "{attack}: {body}");
        assert!(body["error"]["request_id"].is_string(), "{attack}: {body}");
        assert_eq!(without_request_id(body), anonymous_body, "{attack}");
    }
}
both_backends!(forged_expired_foreign_and_revoked_tokens_get_the_same_401);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_authorization_header_gets_the_same_401() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;

    let mut answers = Vec::new();
    for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token abc", "bearer e30.e30."] {
        let response = service
            .http
            .get(service.url("/api/auth/me"))
            .header("authorization", value)
            .send()
            .await
            .unwrap();
        answers.push((value, error_code(response).await));
    }

    for (value, answer) in answers {
        assert_eq!(answer, (401, "unauthorized".to_owned()), "{value:?}");
    }
}

//! Access tokens that must not work, built by hand so every header and claim is controlled.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde_json::{Value, json};
use sha2::{Sha256, Sha512};

use crate::helpers::{TEST_SECRET, TestApp, assert_error, spawn_app};

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn sign_hs256(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn sign_hs512(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let mut mac = Hmac::<Sha512>::new_from_slice(key).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// A signed-in app and the claims of its real access token.
async fn signed_in() -> (TestApp, Value) {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let token = app.cookie("access_token").unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    (app, claims)
}

async fn assert_rejected(app: &TestApp, token: &str) {
    assert_error(app.profile_with_bearer(token).await, 401, "unauthenticated").await;
    let as_cookie = reqwest::Client::new()
        .get(app.url("/profile"))
        .header("cookie", format!("access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_error(as_cookie, 401, "unauthenticated").await;
}

fn hs256() -> Value {
    json!({ "alg": "HS256", "typ": "JWT" })
}

#[tokio::test]
async fn a_correctly_signed_token_is_accepted() {
    let (app, claims) = signed_in().await;
    let token = sign_hs256(&hs256(), &claims, TEST_SECRET.as_bytes());
    assert_eq!(app.profile_with_bearer(&token).await.status(), 200);
}

#[tokio::test]
async fn a_tampered_payload_or_signature_is_rejected() {
    let (app, claims) = signed_in().await;
    let real = app.cookie("access_token").unwrap();
    let mut parts: Vec<String> = real.split('.').map(str::to_owned).collect();
    let mut forged = claims.clone();
    forged["sub"] = json!(uuid::Uuid::new_v4());
    parts[1] = b64(&forged);
    assert_rejected(&app, &parts.join(".")).await;

    let mut flipped: Vec<String> = real.split('.').map(str::to_owned).collect();
    let mut signature = URL_SAFE_NO_PAD.decode(&flipped[2]).unwrap();
    signature[0] ^= 1;
    flipped[2] = URL_SAFE_NO_PAD.encode(signature);
    assert_rejected(&app, &flipped.join(".")).await;

    let (head, _) = real.rsplit_once('.').unwrap();
    assert_rejected(&app, &format!("{head}.")).await;
}

#[tokio::test]
async fn alg_none_is_rejected_in_every_spelling() {
    let (app, claims) = signed_in().await;
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = format!(
            "{}.{}.",
            b64(&json!({ "alg": alg, "typ": "JWT" })),
            b64(&claims)
        );
        assert_rejected(&app, &token).await;
    }
    let missing_alg = sign_hs256(&json!({ "typ": "JWT" }), &claims, TEST_SECRET.as_bytes());
    assert_rejected(&app, &missing_alg).await;
}

#[tokio::test]
async fn hs512_with_the_right_secret_is_rejected() {
    let (app, claims) = signed_in().await;
    let token = sign_hs512(
        &json!({ "alg": "HS512", "typ": "JWT" }),
        &claims,
        TEST_SECRET.as_bytes(),
    );
    assert_rejected(&app, &token).await;
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_rejected() {
    let (app, claims) = signed_in().await;
    let token = sign_hs256(&hs256(), &claims, b"another-secret-of-sufficient-length!!");
    assert_rejected(&app, &token).await;
}

#[tokio::test]
async fn an_expired_token_is_rejected() {
    let (app, mut claims) = signed_in().await;
    let now = chrono::Utc::now().timestamp();
    claims["iat"] = json!(now - 1000);
    claims["exp"] = json!(now - 60);
    assert_rejected(&app, &sign_hs256(&hs256(), &claims, TEST_SECRET.as_bytes())).await;
}

#[tokio::test]
async fn tokens_missing_a_required_claim_are_rejected() {
    let (app, claims) = signed_in().await;
    for claim in ["exp", "iat", "sub", "sid", "iss"] {
        let mut partial = claims.clone();
        partial.as_object_mut().unwrap().remove(claim);
        assert_rejected(
            &app,
            &sign_hs256(&hs256(), &partial, TEST_SECRET.as_bytes()),
        )
        .await;
    }
}

#[tokio::test]
async fn a_wrong_issuer_is_rejected() {
    let (app, mut claims) = signed_in().await;
    claims["iss"] = json!("someone-else");
    assert_rejected(&app, &sign_hs256(&hs256(), &claims, TEST_SECRET.as_bytes())).await;
}

#[tokio::test]
async fn an_unknown_subject_or_session_is_rejected() {
    let (app, claims) = signed_in().await;
    let mut unknown_user = claims.clone();
    unknown_user["sub"] = json!(uuid::Uuid::new_v4());
    assert_rejected(
        &app,
        &sign_hs256(&hs256(), &unknown_user, TEST_SECRET.as_bytes()),
    )
    .await;
    let mut unknown_session = claims.clone();
    unknown_session["sid"] = json!(uuid::Uuid::new_v4());
    assert_rejected(
        &app,
        &sign_hs256(&hs256(), &unknown_session, TEST_SECRET.as_bytes()),
    )
    .await;
}

#[tokio::test]
async fn a_refresh_token_is_not_an_access_token() {
    let (app, _) = signed_in().await;
    let refresh = app.cookie("refresh_token").unwrap();
    assert_rejected(&app, &refresh).await;
}

#[tokio::test]
async fn structural_junk_is_rejected() {
    let (app, _) = signed_in().await;
    let huge = "a".repeat(5000);
    for junk in [
        "a",
        "a.b",
        "a.b.c.d",
        "!!!.@@@.###",
        "e30.e30.",
        huge.as_str(),
    ] {
        assert_rejected(&app, junk).await;
    }
}

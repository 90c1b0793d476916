//! Access tokens that must not work, built by hand so every header and claim is controlled.
//! Valid signatures come from the server's own current key, opened the way the server opens
//! it; everything else is forged.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Sha256, Sha512};

use crate::helpers::{TEST_SECRET, TestApp, assert_error, spawn_app_with};

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn sign_hmac<M: Mac + KeyInit>(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let mut mac = <M as KeyInit>::new_from_slice(key).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// The server's signing key: its id and its private half.
async fn server_key(app: &TestApp) -> (String, EncodingKey, Algorithm) {
    use latchkey::entity::signing_key;
    use sea_orm::EntityTrait as _;
    let now = chrono::Utc::now();
    let rows: Vec<_> = signing_key::Entity::find()
        .all(&app.state.auth.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.algorithm != "RS256")
        .collect();
    let states = latchkey::auth::keys::states(&rows, app.state.auth.keys.policy(), now);
    let (kid, _) = states
        .into_iter()
        .find(|(_, s)| *s == latchkey::auth::keys::KeyState::Current)
        .unwrap();
    let row = rows.iter().find(|r| r.kid == kid).unwrap();
    let private = app
        .state
        .auth
        .secrets
        .open(&row.private_key, kid.as_bytes())
        .unwrap();
    match row.algorithm.as_str() {
        "EdDSA" => (kid, EncodingKey::from_ed_der(&private), Algorithm::EdDSA),
        "ES256" => (kid, EncodingKey::from_ec_der(&private), Algorithm::ES256),
        _ => (
            kid,
            EncodingKey::from_secret(&private).unwrap(),
            Algorithm::HS256,
        ),
    }
}

/// Signs `claims` with the server's own key and the header fields given.
async fn server_signed(app: &TestApp, claims: &Value, tweak: impl FnOnce(&mut Header)) -> String {
    let (kid, key, alg) = server_key(app).await;
    let mut header = Header::new(alg);
    header.kid = Some(kid);
    header.typ = Some("at+jwt".to_owned());
    tweak(&mut header);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// A signed-in app and the claims of its real access token.
async fn signed_in_with(vars: &[(&str, &str)]) -> (TestApp, Value) {
    let app = spawn_app_with(vars).await;
    app.signed_in("alice").await;
    let token = app.cookie("access_token").unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    (app, claims)
}

async fn signed_in() -> (TestApp, Value) {
    signed_in_with(&[]).await
}

fn header_of(token: &str) -> Value {
    let head = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).unwrap()).unwrap()
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

#[tokio::test]
async fn issued_tokens_are_eddsa_at_jwt_with_a_kid_and_every_claim() {
    let (app, claims) = signed_in().await;
    let header = header_of(&app.cookie("access_token").unwrap());
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    assert!(header["kid"].as_str().is_some_and(|k| !k.is_empty()));
    for claim in ["sub", "sid", "iat", "exp", "iss", "aud", "jti", "client_id"] {
        assert!(!claims[claim].is_null(), "{claim}");
    }
    assert_eq!(claims["aud"], "latchkey");
    assert_eq!(claims["iss"], "latchkey");
}

#[tokio::test]
async fn a_token_signed_by_the_server_key_is_accepted() {
    let (app, claims) = signed_in().await;
    let token = server_signed(&app, &claims, |_| {}).await;
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
    let kid = header_of(&app.cookie("access_token").unwrap())["kid"].clone();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({ "alg": alg, "typ": "at+jwt", "kid": kid });
        assert_rejected(&app, &format!("{}.{}.", b64(&header), b64(&claims))).await;
    }
}

#[tokio::test]
async fn hs256_with_the_public_key_as_the_secret_is_rejected() {
    let (app, claims) = signed_in().await;
    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = access_keys(&jwks)[0];
    let header = json!({ "alg": "HS256", "typ": "at+jwt", "kid": jwk["kid"] });
    let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
    // Key confusion: the public key's bytes, its base64, and the whole JWK as HMAC secrets.
    for secret in [
        x.clone(),
        jwk["x"].as_str().unwrap().as_bytes().to_vec(),
        jwk.to_string().into_bytes(),
    ] {
        assert_rejected(&app, &sign_hmac::<Hmac<Sha256>>(&header, &claims, &secret)).await;
    }
}

#[tokio::test]
async fn jwt_secret_alone_cannot_mint_an_access_token() {
    let (app, claims) = signed_in().await;
    let kid = header_of(&app.cookie("access_token").unwrap())["kid"].clone();
    for alg in ["HS256", "HS512"] {
        let header = json!({ "alg": alg, "typ": "at+jwt", "kid": kid });
        let token = if alg == "HS256" {
            sign_hmac::<Hmac<Sha256>>(&header, &claims, TEST_SECRET.as_bytes())
        } else {
            sign_hmac::<Hmac<Sha512>>(&header, &claims, TEST_SECRET.as_bytes())
        };
        assert_rejected(&app, &token).await;
    }
}

#[tokio::test]
async fn an_unknown_kid_a_missing_kid_or_another_type_is_rejected() {
    let (app, claims) = signed_in().await;
    let unknown = server_signed(&app, &claims, |h| h.kid = Some("no-such-key".into())).await;
    assert_rejected(&app, &unknown).await;
    let no_kid = server_signed(&app, &claims, |h| h.kid = None).await;
    assert_rejected(&app, &no_kid).await;
    for typ in [None, Some("JWT"), Some("id+jwt")] {
        let token = server_signed(&app, &claims, |h| h.typ = typ.map(str::to_owned)).await;
        assert_rejected(&app, &token).await;
    }
}

#[tokio::test]
async fn a_token_signed_with_another_key_under_the_same_kid_is_rejected() {
    let (app, claims) = signed_in().await;
    let kid = header_of(&app.cookie("access_token").unwrap())["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    let key = EncodingKey::from_ed_der(other.to_pkcs8_der().unwrap().as_bytes());
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid);
    header.typ = Some("at+jwt".into());
    assert_rejected(&app, &jsonwebtoken::encode(&header, &claims, &key).unwrap()).await;
}

#[tokio::test]
async fn an_expired_or_future_token_is_rejected() {
    let (app, mut claims) = signed_in().await;
    let now = chrono::Utc::now().timestamp();
    claims["iat"] = json!(now - 1000);
    claims["exp"] = json!(now - 60);
    assert_rejected(&app, &server_signed(&app, &claims, |_| {}).await).await;
    claims["iat"] = json!(now + 3600);
    claims["exp"] = json!(now + 7200);
    assert_rejected(&app, &server_signed(&app, &claims, |_| {}).await).await;
}

#[tokio::test]
async fn tokens_missing_a_required_claim_are_rejected() {
    let (app, claims) = signed_in().await;
    for claim in ["exp", "iat", "sub", "sid", "iss", "aud", "jti", "client_id"] {
        let mut partial = claims.clone();
        partial.as_object_mut().unwrap().remove(claim);
        assert_rejected(&app, &server_signed(&app, &partial, |_| {}).await).await;
    }
}

#[tokio::test]
async fn a_wrong_issuer_or_audience_is_rejected() {
    let (app, claims) = signed_in().await;
    let mut wrong_issuer = claims.clone();
    wrong_issuer["iss"] = json!("someone-else");
    assert_rejected(&app, &server_signed(&app, &wrong_issuer, |_| {}).await).await;
    for audience in [json!("another-service"), json!(["another-service"])] {
        let mut wrong_audience = claims.clone();
        wrong_audience["aud"] = audience;
        assert_rejected(&app, &server_signed(&app, &wrong_audience, |_| {}).await).await;
    }
}

#[tokio::test]
async fn an_unknown_subject_or_session_is_rejected() {
    let (app, claims) = signed_in().await;
    let mut unknown_user = claims.clone();
    unknown_user["sub"] = json!(uuid::Uuid::new_v4());
    assert_rejected(&app, &server_signed(&app, &unknown_user, |_| {}).await).await;
    let mut unknown_session = claims.clone();
    unknown_session["sid"] = json!(uuid::Uuid::new_v4());
    assert_rejected(&app, &server_signed(&app, &unknown_session, |_| {}).await).await;
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

#[tokio::test]
async fn es256_and_hs256_deployments_sign_with_their_algorithm() {
    for (algorithm, published) in [("ES256", 1), ("HS256", 0)] {
        let (app, claims) = signed_in_with(&[("JWT_ALGORITHM", algorithm)]).await;
        let token = app.cookie("access_token").unwrap();
        assert_eq!(header_of(&token)["alg"], algorithm);
        assert_eq!(app.profile_with_bearer(&token).await.status(), 200);
        let jwks: Value = app
            .client
            .get(app.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(access_keys(&jwks).len(), published, "{algorithm}");
        // HS256 keys are random and sealed in the database, not JWT_SECRET.
        let header = json!({ "alg": "HS256", "typ": "at+jwt", "kid": header_of(&token)["kid"] });
        assert_rejected(
            &app,
            &sign_hmac::<Hmac<Sha256>>(&header, &claims, TEST_SECRET.as_bytes()),
        )
        .await;
    }
}

/// The published keys that verify access tokens (the RS256 key signs ID tokens only).
pub(crate) fn access_keys(jwks: &Value) -> Vec<&Value> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["alg"] != "RS256")
        .collect()
}

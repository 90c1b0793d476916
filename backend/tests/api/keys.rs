//! Signing keys: JWKS, independent verification, rotation on a timeline, several instances,
//! retirement, and private keys that never sit in the database in clear.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;
use latchkey::{
    auth::{
        Auth, Identity,
        keys::{self, Verification},
    },
    entity::signing_key,
};
use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};

async fn jwks(app: &TestApp) -> (Value, String) {
    let response = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cache = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    (response.json().await.unwrap(), cache)
}

fn kids(jwks: &[keys::PublishedKey]) -> Vec<String> {
    let mut kids: Vec<String> = jwks
        .iter()
        .filter(|k| k.alg != "RS256")
        .map(|k| k.kid.clone())
        .collect();
    kids.sort();
    kids
}

pub(crate) fn kid_of(token: &str) -> String {
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

fn someone() -> Identity {
    Identity {
        id: uuid::Uuid::new_v4(),
        username: "alice".into(),
        created_at: Utc::now(),
    }
}

fn valid(auth: &Auth, token: &str, now: DateTime<Utc>) -> bool {
    matches!(auth.keys.verify(token, now), Verification::Valid(_))
}

#[tokio::test]
async fn the_jwks_verifies_an_issued_token_without_our_jwt_code() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let token = app.cookie("access_token").unwrap();
    let (jwks, cache) = jwks(&app).await;
    assert_eq!(cache, "public, max-age=300");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid_of(&token))
        .expect("the token's key is published");
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );
    assert_eq!(
        (key["alg"].as_str(), key["use"].as_str()),
        (Some("EdDSA"), Some("sig"))
    );
    // Verify the signature with the curve library alone, from the JWK's `x`.
    let x: [u8; 32] = URL_SAFE_NO_PAD
        .decode(key["x"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let public = ed25519_dalek::VerifyingKey::from_bytes(&x).unwrap();
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap()
        .try_into()
        .unwrap();
    use ed25519_dalek::Verifier as _;
    public
        .verify(
            signing_input.as_bytes(),
            &ed25519_dalek::Signature::from_bytes(&signature),
        )
        .expect("valid Ed25519 signature");
    // No private material is published.
    assert!(key.get("d").is_none());
}

#[tokio::test]
async fn an_es256_token_verifies_with_p256_from_the_jwks() {
    let app = spawn_app_with(&[("JWT_ALGORITHM", "ES256")]).await;
    app.signed_in("alice").await;
    let token = app.cookie("access_token").unwrap();
    let (jwks, _) = jwks(&app).await;
    let key = crate::jwt_attacks::access_keys(&jwks)[0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    let mut point = vec![4u8];
    point.extend(URL_SAFE_NO_PAD.decode(key["x"].as_str().unwrap()).unwrap());
    point.extend(URL_SAFE_NO_PAD.decode(key["y"].as_str().unwrap()).unwrap());
    let public = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let signature =
        p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
    use p256::ecdsa::signature::Verifier as _;
    public
        .verify(signing_input.as_bytes(), &signature)
        .expect("valid ES256 signature");
}

#[tokio::test]
async fn rotation_publishes_early_and_retires_late_exactly_as_promised() {
    let app = spawn_app_with(&[("JWT_KEY_ROTATION_DAYS", "1")]).await;
    let auth = &app.state.auth;
    let policy = auth.keys.policy().clone();
    let (ttl, max_age) = (
        Duration::from_std(policy.access_ttl).unwrap(),
        Duration::from_std(policy.jwks_max_age).unwrap(),
    );
    let lead = Duration::from_std(policy.lead()).unwrap();
    let start = Utc::now();
    let old_kid = kids(&auth.keys.published())[0].clone();
    let session = uuid::Uuid::new_v4();

    // Just before the rotation is due, nothing happens.
    let early = start + Duration::days(1) - lead - Duration::minutes(5);
    assert_eq!(
        auth.keys
            .rotate_if_due(&auth.db, &auth.secrets, early)
            .await
            .unwrap(),
        None
    );

    // When it is due, the next key is published at once but does not sign yet.
    let due = start + Duration::days(1) - lead + Duration::seconds(1);
    let new_kid = auth
        .keys
        .rotate_if_due(&auth.db, &auth.secrets, due)
        .await
        .unwrap()
        .expect("a key is created");
    auth.keys
        .reload(&auth.db, &auth.secrets, due)
        .await
        .unwrap();
    assert_eq!(kids(&auth.keys.published()), {
        let mut both = vec![old_kid.clone(), new_kid.clone()];
        both.sort();
        both
    });
    let before = auth
        .keys
        .issue_access(&someone(), &[], session, due, due + ttl)
        .unwrap();
    assert_eq!(kid_of(&before), old_kid, "the old key still signs");
    // A second check at the same time finds the waiting key: one rotation, not two.
    assert_eq!(
        auth.keys
            .rotate_if_due(&auth.db, &auth.secrets, due)
            .await
            .unwrap(),
        None
    );

    // From its activation the new key signs; the old key's tokens still verify.
    let switch = due + lead;
    auth.keys
        .reload(&auth.db, &auth.secrets, switch)
        .await
        .unwrap();
    let after = auth
        .keys
        .issue_access(&someone(), &[], session, switch, switch + ttl)
        .unwrap();
    assert_eq!(kid_of(&after), new_kid);
    assert!(valid(auth, &before, switch));
    assert!(valid(auth, &after, switch));

    // The old key's last token expires at switch + ttl; it stays published max-age longer.
    let last_old_expiry = switch + ttl;
    auth.keys
        .reload(
            &auth.db,
            &auth.secrets,
            last_old_expiry - Duration::seconds(1),
        )
        .await
        .unwrap();
    assert!(kids(&auth.keys.published()).contains(&old_kid));
    auth.keys
        .reload(
            &auth.db,
            &auth.secrets,
            last_old_expiry + max_age - Duration::seconds(1),
        )
        .await
        .unwrap();
    assert!(
        kids(&auth.keys.published()).contains(&old_kid),
        "until caches have refetched"
    );
    assert!(valid(auth, &after, switch + ttl - Duration::seconds(1)));
    auth.keys
        .reload(&auth.db, &auth.secrets, last_old_expiry + max_age)
        .await
        .unwrap();
    assert_eq!(kids(&auth.keys.published()), vec![new_kid.clone()]);
    // A token the old key claims to have signed after it stopped is refused.
    assert!(!valid(auth, &before, last_old_expiry + max_age));
}

#[tokio::test]
async fn instances_rotating_at_the_same_moment_create_one_key() {
    let app = spawn_app_with(&[("JWT_KEY_ROTATION_DAYS", "1")]).await;
    let settings = app.state.config.auth.clone();
    let now = Utc::now();
    let instances = join_all((0..4).map(|_| Auth::new(app.state.auth.db.clone(), &settings, now)))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect::<Vec<_>>();
    assert_eq!(
        signing_key::Entity::find()
            .filter(signing_key::Column::Algorithm.ne("RS256"))
            .count(&app.state.auth.db)
            .await
            .unwrap(),
        1
    );
    let due = now + Duration::days(2);
    let created = join_all(
        instances
            .iter()
            .map(|auth| auth.keys.rotate_if_due(&auth.db, &auth.secrets, due)),
    )
    .await;
    let created: Vec<String> = created.into_iter().filter_map(Result::unwrap).collect();
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(
        signing_key::Entity::find()
            .filter(signing_key::Column::Algorithm.ne("RS256"))
            .count(&app.state.auth.db)
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn another_instances_new_key_is_picked_up_on_first_sight() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let token = app.cookie("access_token").unwrap();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    // Another instance (or the CLI) retires the key; a new one takes over there.
    let other = Auth::new(
        app.state.auth.db.clone(),
        &app.state.config.auth,
        Utc::now(),
    )
    .await
    .unwrap();
    let now = Utc::now();
    let old_kid = kid_of(&token);
    let new_kid = keys::retire(
        &other.db,
        &other.secrets,
        other.keys.policy(),
        &old_kid,
        now,
    )
    .await
    .unwrap();
    assert_ne!(new_kid, old_kid);
    other
        .keys
        .reload(&other.db, &other.secrets, now)
        .await
        .unwrap();
    let identity = Identity {
        id: claims["sub"].as_str().unwrap().parse().unwrap(),
        username: "alice".into(),
        created_at: DateTime::from_timestamp_micros(claims["user_created_at"].as_i64().unwrap())
            .unwrap(),
    };
    let sid = claims["sid"].as_str().unwrap().parse().unwrap();
    let fresh = other
        .keys
        .issue_access(&identity, &[], sid, now, now + Duration::minutes(5))
        .unwrap();
    assert_eq!(kid_of(&fresh), new_kid);
    // This instance may not have heard of the change yet (it follows within about a second):
    // if not, the unknown kid makes it look at once.
    assert_eq!(app.profile_with_bearer(&fresh).await.status(), 200);
    // After its reload, the retired key's tokens are refused.
    app.state
        .auth
        .keys
        .reload(&app.state.auth.db, &app.state.auth.secrets, Utc::now())
        .await
        .unwrap();
    assert_eq!(app.profile_with_bearer(&token).await.status(), 401);
    let (jwks, _) = jwks(&app).await;
    let published: Vec<&str> = crate::jwt_attacks::access_keys(&jwks)
        .into_iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(published, [new_kid.as_str()]);
}

#[tokio::test]
async fn the_database_never_holds_a_private_key_in_clear() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let auth = &app.state.auth;
    auth.keys
        .rotate_if_due(&auth.db, &auth.secrets, Utc::now() + Duration::days(40))
        .await
        .unwrap();
    let rows: Vec<_> = signing_key::Entity::find()
        .filter(signing_key::Column::Algorithm.ne("RS256"))
        .all(&auth.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let dump: String = rows.iter().map(|r| format!("{r:?}")).collect();
    for row in &rows {
        let private = auth
            .secrets
            .open(&row.private_key, row.kid.as_bytes())
            .unwrap();
        use ed25519_dalek::pkcs8::DecodePrivateKey as _;
        let seed = ed25519_dalek::SigningKey::from_pkcs8_der(&private)
            .unwrap()
            .to_bytes();
        let seed = &seed[..];
        for encoding in [
            hex::encode(seed),
            hex::encode(&private),
            URL_SAFE_NO_PAD.encode(seed),
            URL_SAFE_NO_PAD.encode(&private),
            base64::engine::general_purpose::STANDARD.encode(&private),
        ] {
            assert!(!dump.contains(&encoding));
        }
        if let Some(path) = app.database_url().strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap();
            for file in [path.to_owned(), format!("{path}-wal")] {
                let bytes = std::fs::read(&file).unwrap_or_default();
                assert!(!bytes.windows(32).any(|w| w == seed), "raw seed in {file}");
            }
        }
    }
}

/// A changed `JWT_SECRET` leaves the stored keys sealed under the old one: the instance makes a
/// key it can use, and people sign in again (as the README says), instead of every sign-in
/// failing for want of a signing key.
#[tokio::test]
async fn an_instance_with_a_changed_jwt_secret_signs_with_a_key_of_its_own() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    let renewed = crate::helpers::ServerProcess::start(
        app.database_url(),
        &[(
            "JWT_SECRET",
            "a different secret, at least thirty-two characters",
        )],
    )
    .await;
    let browser = renewed.browser();
    assert_eq!(browser.login("alice", PASSWORD).await.status(), 200);
    assert_eq!(browser.get("/profile").await.status(), 200);
    let jwks: serde_json::Value =
        reqwest::get(format!("{}/.well-known/jwks.json", renewed.address))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1, "{jwks}");
}

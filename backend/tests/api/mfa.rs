//! Second factors: enrolment, codes accepted once and within their window, recovery codes,
//! the two-step sign-in (cookies and body), throttling of wrong codes, step-up, passkey
//! ceremonies the server can check without an authenticator.

use chrono::Utc;
use sea_orm::EntityTrait as _;
use serde_json::{Value, json};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::helpers::{Browser, PASSWORD, TestApp, assert_error, spawn_app, spawn_app_with};

/// The app a person would use: the same algorithm, fed with the enrolment's secret.
pub(crate) struct Authenticator(Totp);

impl Authenticator {
    pub(crate) fn from_enrolment(body: &Value) -> Self {
        let secret = Secret::try_from_base32(body["secret"].as_str().unwrap()).unwrap();
        Self(
            Builder::new()
                .with_algorithm(Algorithm::SHA1)
                .with_digits(6)
                .with_step_duration(30)
                .with_secret(secret.to_vec())
                .build()
                .unwrap(),
        )
    }

    /// The code for the step `steps` away from now.
    pub(crate) fn code(&self, steps: i64) -> String {
        let time = Utc::now().timestamp() + steps * 30;
        self.0.generate(u64::try_from(time).unwrap()).to_string()
    }
}

pub(crate) async fn json_ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// Alice, signed in on the app's browser, with 2FA on; returns her app and recovery codes.
pub(crate) async fn alice_with_2fa(app: &TestApp) -> (Authenticator, Vec<String>) {
    app.signed_in("alice").await;
    let browser = app.main_browser();
    let enrolment = json_ok(
        browser
            .post_json("/mfa/totp", &json!({ "password": PASSWORD }))
            .await,
    )
    .await;
    let authenticator = Authenticator::from_enrolment(&enrolment);
    let confirmed = json_ok(
        browser
            .post_json(
                "/mfa/totp/confirm",
                &json!({ "code": authenticator.code(0) }),
            )
            .await,
    )
    .await;
    let codes = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (authenticator, codes)
}

/// Signs in with the password on a new browser; asserts the second-factor step is asked.
pub(crate) async fn password_step(app: &TestApp) -> Browser {
    let browser = app.browser();
    let response = browser.login("alice", PASSWORD).await;
    let cookies = crate::helpers::set_cookies(response.headers());
    assert!(cookies.contains_key("mfa_challenge"));
    assert!(
        !cookies.contains_key("access_token"),
        "no session before the second factor"
    );
    let body = json_ok(response).await;
    assert_eq!(body["mfa_required"], true);
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    browser
}

#[tokio::test]
async fn enrolment_needs_the_password_and_a_first_code() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let browser = app.main_browser();
    assert_error(
        browser
            .post_json("/mfa/totp", &json!({ "password": "not my password" }))
            .await,
        403,
        "invalid_credentials",
    )
    .await;
    let enrolment = json_ok(
        browser
            .post_json("/mfa/totp", &json!({ "password": PASSWORD }))
            .await,
    )
    .await;
    let uri = enrolment["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Latchkey:alice?"), "{uri}");
    assert!(
        uri.contains("issuer=Latchkey") && uri.contains("secret="),
        "{uri}"
    );
    assert!(
        !uri.contains("algorithm=") || uri.contains("algorithm=SHA1"),
        "{uri}"
    );
    let status = json_ok(browser.get("/mfa").await).await;
    assert_eq!(status["totp_enabled"], false, "pending until confirmed");
    assert_eq!(browser.login("alice", PASSWORD).await.status(), 200);

    let authenticator = Authenticator::from_enrolment(&enrolment);
    assert_error(
        browser
            .post_json("/mfa/totp/confirm", &json!({ "code": "000000" }))
            .await,
        400,
        "invalid_mfa_code",
    )
    .await;
    let confirmed = json_ok(
        browser
            .post_json(
                "/mfa/totp/confirm",
                &json!({ "code": authenticator.code(0) }),
            )
            .await,
    )
    .await;
    let codes = confirmed["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    let status = json_ok(browser.get("/mfa").await).await;
    assert_eq!(status["totp_enabled"], true);
    assert_eq!(status["recovery_codes_remaining"], 10);
    assert_error(
        browser
            .post_json("/mfa/totp", &json!({ "password": PASSWORD }))
            .await,
        409,
        "mfa_already_enabled",
    )
    .await;
    // The secret is sealed in the database, never in clear.
    let secret = enrolment["secret"].as_str().unwrap();
    let rows = latchkey::entity::totp_factor::Entity::find()
        .all(&app.state.auth.db)
        .await
        .unwrap();
    assert!(!format!("{rows:?}").contains(secret));
}

#[tokio::test]
async fn signing_in_takes_the_password_then_a_code_and_a_code_works_once() {
    let app = spawn_app().await;
    let (authenticator, _) = alice_with_2fa(&app).await;
    let browser = password_step(&app).await;
    assert_error(browser.get("/profile").await, 401, "unauthenticated").await;
    // The code that confirmed the enrolment is already spent: the next step's is fresh.
    let code = authenticator.code(1);
    let response = browser
        .post_json("/login/mfa", &json!({ "code": code }))
        .await;
    let cookies = crate::helpers::set_cookies(response.headers());
    assert_eq!(cookies["mfa_challenge"].attributes["max-age"], "0");
    assert_eq!(json_ok(response).await["user"]["username"], "alice");
    assert_eq!(browser.get("/profile").await.status(), 200);

    // The same code again, in a new sign-in: refused.
    let replay = password_step(&app).await;
    assert_error(
        replay
            .post_json("/login/mfa", &json!({ "code": code }))
            .await,
        401,
        "invalid_mfa_code",
    )
    .await;
}

#[tokio::test]
async fn codes_one_step_away_are_accepted_and_older_ones_are_not() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE_FAILURES", "20")]).await;
    let (authenticator, _) = alice_with_2fa(&app).await;
    let browser = password_step(&app).await;
    for steps in [-3, 3] {
        assert_error(
            browser
                .post_json("/login/mfa", &json!({ "code": authenticator.code(steps) }))
                .await,
            401,
            "invalid_mfa_code",
        )
        .await;
    }
    // Confirmation used the current step: one step back is not newer than it.
    assert_error(
        browser
            .post_json("/login/mfa", &json!({ "code": authenticator.code(-1) }))
            .await,
        401,
        "invalid_mfa_code",
    )
    .await;
    assert_eq!(
        browser
            .post_json("/login/mfa", &json!({ "code": authenticator.code(1) }))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn recovery_codes_work_once_each_and_can_be_replaced() {
    let app = spawn_app().await;
    let (authenticator, codes) = alice_with_2fa(&app).await;
    let browser = password_step(&app).await;
    let typed = codes[0].to_uppercase().replace('-', " ");
    assert_eq!(
        browser
            .post_json("/login/mfa", &json!({ "recovery_code": typed }))
            .await
            .status(),
        200
    );
    let status = json_ok(browser.get("/mfa").await).await;
    assert_eq!(status["recovery_codes_remaining"], 9);
    let again = password_step(&app).await;
    assert_error(
        again
            .post_json("/login/mfa", &json!({ "recovery_code": codes[0] }))
            .await,
        401,
        "invalid_mfa_code",
    )
    .await;

    let replaced = json_ok(
        browser
            .post_json(
                "/mfa/recovery-codes",
                &json!({ "password": PASSWORD, "code": authenticator.code(1) }),
            )
            .await,
    )
    .await;
    let fresh = replaced["recovery_codes"][0].as_str().unwrap().to_owned();
    assert_error(
        again
            .post_json("/login/mfa", &json!({ "recovery_code": codes[1] }))
            .await,
        401,
        "invalid_mfa_code",
    )
    .await;
    assert_eq!(
        again
            .post_json("/login/mfa", &json!({ "recovery_code": fresh }))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn body_clients_get_an_mfa_token_and_finish_at_token_mfa() {
    let app = spawn_app().await;
    let (authenticator, _) = alice_with_2fa(&app).await;
    let client = reqwest::Client::new();
    let first: Value = client
        .post(app.url("/token"))
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["mfa_required"], true);
    assert!(first.get("access_token").is_none());
    let token = first["mfa_token"].as_str().unwrap();
    let tokens: Value = client
        .post(app.url("/token/mfa"))
        .json(&json!({ "mfa_token": token, "code": authenticator.code(1) }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.profile_with_bearer(access).await.status(), 200);
    // The challenge was single use.
    let again = client
        .post(app.url("/token/mfa"))
        .json(&json!({ "mfa_token": token, "code": authenticator.code(1) }))
        .send()
        .await
        .unwrap();
    assert_error(again, 401, "mfa_challenge_expired").await;
}

#[tokio::test]
async fn wrong_codes_are_throttled_like_wrong_passwords() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE_FAILURES", "3")]).await;
    let (authenticator, _) = alice_with_2fa(&app).await;
    // A stranger with the password but no device cookie: the name's counter.
    let browser = password_step(&app).await;
    for _ in 0..2 {
        assert_error(
            browser
                .post_json("/login/mfa", &json!({ "code": "000000" }))
                .await,
            401,
            "invalid_mfa_code",
        )
        .await;
    }
    assert_error(
        browser
            .post_json("/login/mfa", &json!({ "code": "000000" }))
            .await,
        401,
        "invalid_mfa_code",
    )
    .await;
    let refused = browser
        .post_json("/login/mfa", &json!({ "code": authenticator.code(1) }))
        .await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_error(refused, 429, "too_many_attempts").await;
}

#[tokio::test]
async fn the_challenge_dies_after_five_wrong_codes() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE_FAILURES", "0")]).await;
    let (authenticator, _) = alice_with_2fa(&app).await;
    let browser = password_step(&app).await;
    for _ in 0..5 {
        assert_error(
            browser
                .post_json("/login/mfa", &json!({ "code": "000000" }))
                .await,
            401,
            "invalid_mfa_code",
        )
        .await;
    }
    assert_error(
        browser
            .post_json("/login/mfa", &json!({ "code": authenticator.code(1) }))
            .await,
        401,
        "mfa_challenge_expired",
    )
    .await;
    assert_error(
        app.browser()
            .post_json("/login/mfa", &json!({ "code": authenticator.code(1) }))
            .await,
        401,
        "mfa_challenge_expired",
    )
    .await;
}

#[tokio::test]
async fn sensitive_changes_need_the_second_factor_too() {
    let app = spawn_app().await;
    let (authenticator, codes) = alice_with_2fa(&app).await;
    let browser = app.main_browser();
    let change = |extra: Value| {
        let mut body = json!({
            "current_password": PASSWORD,
            "new_password": "another long passphrase, mine",
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    assert_error(
        browser.post_json("/password", &change(json!({}))).await,
        403,
        "second_factor_required",
    )
    .await;
    assert_error(
        browser
            .post_json("/password", &change(json!({ "code": "000000" })))
            .await,
        403,
        "invalid_mfa_code",
    )
    .await;
    assert_error(
        browser
            .delete_json("/profile", &json!({ "password": PASSWORD }))
            .await,
        403,
        "second_factor_required",
    )
    .await;
    assert_error(
        browser
            .delete_json("/mfa/totp", &json!({ "password": PASSWORD }))
            .await,
        403,
        "second_factor_required",
    )
    .await;
    assert_eq!(
        browser
            .post_json("/password", &change(json!({ "recovery_code": codes[2] })))
            .await
            .status(),
        200
    );
    // Turning it off with a code: the next sign-in asks for the password only.
    assert_eq!(
        browser
            .delete_json(
                "/mfa/totp",
                &json!({ "password": "another long passphrase, mine", "code": authenticator.code(1) }),
            )
            .await
            .status(),
        200
    );
    let status = json_ok(browser.get("/mfa").await).await;
    assert_eq!(
        (
            status["totp_enabled"].clone(),
            status["recovery_codes_remaining"].clone()
        ),
        (json!(false), json!(0))
    );
    let response = app
        .browser()
        .login("alice", "another long passphrase, mine")
        .await;
    assert!(json_ok(response).await.get("user").is_some());
    app.settle().await;

    let activity = json_ok(browser.get("/activity").await).await;
    let kinds: Vec<&str> = activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "second_factor_added",
        "second_factor_failed",
        "second_factor_removed",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
}

#[tokio::test]
async fn an_operator_reset_does_not_skip_the_second_factor() {
    let app = spawn_app().await;
    alice_with_2fa(&app).await;
    let auth = &app.state.auth;
    let account = latchkey::auth::accounts::find(&auth.db, "alice")
        .await
        .unwrap();
    latchkey::auth::accounts::reset_password(
        &auth.db,
        auth.post(),
        &auth.hasher,
        auth.policy.passwords,
        &latchkey::auth::audit::Actor::cli(),
        &account,
        "an operator picked this phrase".into(),
        Utc::now(),
    )
    .await
    .unwrap();
    let response = app
        .browser()
        .login("alice", "an operator picked this phrase")
        .await;
    assert_eq!(json_ok(response).await["mfa_required"], true);
}

#[tokio::test]
async fn passkey_ceremonies_are_checked_on_the_server() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let browser = app.main_browser();
    // Adding a passkey needs the password.
    assert_error(
        browser
            .post_json(
                "/passkeys/register/start",
                &json!({ "password": "nope nope nope" }),
            )
            .await,
        403,
        "invalid_credentials",
    )
    .await;
    let ceremony = json_ok(
        browser
            .post_json("/passkeys/register/start", &json!({ "password": PASSWORD }))
            .await,
    )
    .await;
    let options = &ceremony["options"]["publicKey"];
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["user"]["name"], "alice");
    assert!(options["challenge"].as_str().is_some_and(|c| c.len() >= 43));
    // A made-up answer is refused, however often it is sent (a registration ceremony is spent
    // only by an answer that verifies).
    let finish = json!({
        "ceremony": ceremony["ceremony"],
        "name": "Laptop",
        "credential": { "id": "AAAA", "rawId": "AAAA", "type": "public-key",
                        "response": { "attestationObject": "AAAA", "clientDataJSON": "AAAA" } },
    });
    assert_error(
        browser
            .post_json("/passkeys/register/finish", &finish)
            .await,
        400,
        "invalid_passkey",
    )
    .await;
    assert_error(
        browser
            .post_json("/passkeys/register/finish", &finish)
            .await,
        400,
        "invalid_passkey",
    )
    .await;
    assert_eq!(
        json_ok(browser.get("/passkeys").await).await["passkeys"],
        json!([])
    );

    // Signing in starts without a name: the same options for everyone, naming no credential.
    let started = json_ok(app.browser().post("/login/passkey/start").await).await;
    let options = &started["options"]["publicKey"];
    assert_eq!(options["rpId"], "localhost");
    assert_eq!(options["userVerification"], "required");
    assert!(
        options["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
    let unknown = started;
    let finish = json!({
        "ceremony": unknown["ceremony"],
        "credential": { "id": "AAAA", "rawId": "AAAA", "type": "public-key",
                        "response": { "authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA" } },
    });
    assert_error(
        app.browser()
            .post_json("/login/passkey/finish", &finish)
            .await,
        401,
        "invalid_passkey",
    )
    .await;
}

//! Account recovery: every path, against a real SMTP server. The same answer for every name; a
//! link that works once and expires; the operator's link; the recovery key; a recovery code with
//! an authenticator code (and never a code alone); limits; and no mail lost to an outage.

use std::time::Duration;

use chrono::Utc;
use latchkey::{auth::accounts, entity::account_token};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, EntityTrait as _};
use serde_json::{Value, json};

use crate::{
    cli::latchkey,
    helpers::{Browser, PASSWORD, TestApp, assert_error, spawn_app, spawn_app_with},
    mail::{spawn_app_with_mail, with_verified_address},
    mfa::{alice_with_2fa, json_ok},
    smtp_sink::{Received, SmtpSink},
};

const NEW_PASSWORD: &str = "a freshly chosen passphrase, 2026";
const WAIT: Duration = Duration::from_secs(10);

async fn forgot(app: &TestApp, username: &str) -> reqwest::Response {
    app.browser()
        .post_json("/password/forgot", &json!({ "username": username }))
        .await
}

async fn reset(app: &TestApp, body: Value) -> reqwest::Response {
    app.browser().post_json("/password/reset", &body).await
}

/// The one mail to `to` among those received, waiting for it.
async fn mail_to(sink: &SmtpSink, to: &str, subject_has: &str) -> Received {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(mail) = sink
            .received()
            .into_iter()
            .find(|m| m.to.iter().any(|t| t == to) && m.subject().contains(subject_has))
        {
            return mail;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no mail to {to} about {subject_has:?}: {:?}",
            sink.received()
                .iter()
                .map(|m| (m.to.clone(), m.subject()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Status, body and headers, without those that differ per request.
async fn as_seen(response: reqwest::Response) -> (u16, Vec<(String, String)>, String) {
    let status = response.status().as_u16();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    (status, headers, response.text().await.unwrap())
}

#[tokio::test]
async fn asking_for_a_link_answers_the_same_for_every_name() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with_mail(&sink, &[]).await;
    with_verified_address(&app, "alice").await;
    app.register("bob", PASSWORD).await; // no address
    let with_address = as_seen(forgot(&app, "alice").await).await;
    let without_address = as_seen(forgot(&app, "bob").await).await;
    let unknown = as_seen(forgot(&app, "nobody-at-all").await).await;
    let invalid = as_seen(forgot(&app, "not a valid name!").await).await;
    assert_eq!(with_address.0, 202);
    assert_eq!(with_address, without_address);
    assert_eq!(with_address, unknown);
    assert_eq!(with_address, invalid);
    app.settle().await;
    let mail = mail_to(&sink, "alice@example.com", "Reset your password").await;
    assert!(mail.token_for("reset-password").is_some());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        sink.received().len(),
        1,
        "only the account with an address got mail"
    );
}

#[tokio::test]
async fn a_mailed_link_resets_the_password_once_ends_everything_and_signs_no_one_in() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with_mail(&sink, &[]).await;
    with_verified_address(&app, "alice").await;
    let laptop = app.browser();
    assert_eq!(laptop.login("alice", PASSWORD).await.status(), 200);
    assert_eq!(forgot(&app, "alice").await.status(), StatusCode::ACCEPTED);
    let link = mail_to(&sink, "alice@example.com", "Reset your password").await;
    let token = link.token_for("reset-password").unwrap();
    assert!(link.text().contains("30 minutes"));
    // Nothing changed yet: the old password still works.
    assert_eq!(app.browser().login("alice", PASSWORD).await.status(), 200);

    let done = reset(
        &app,
        json!({ "token": token, "new_password": NEW_PASSWORD }),
    )
    .await;
    assert!(
        !done.headers().contains_key("set-cookie"),
        "no one is signed in"
    );
    assert_eq!(json_ok(done).await["status"], "ok");
    assert_error(laptop.get("/profile").await, 401, "unauthenticated").await;
    assert_error(
        app.browser().login("alice", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    let after = app.browser();
    assert_eq!(after.login("alice", NEW_PASSWORD).await.status(), 200);
    // A link works once.
    assert_error(
        reset(
            &app,
            json!({ "token": token, "new_password": "yet another passphrase here" }),
        )
        .await,
        400,
        "invalid_token",
    )
    .await;
    // The owner is told, and the activity says so.
    let told = mail_to(&sink, "alice@example.com", "Your password was reset").await;
    assert!(told.text().contains("If it was not"));
    let activity = json_ok(after.get("/activity?kind=password_reset").await).await;
    assert_eq!(activity["events"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_link_expires_and_dies_with_a_password_change() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with_mail(&sink, &[]).await;
    with_verified_address(&app, "alice").await;
    forgot(&app, "alice").await;
    let token = mail_to(&sink, "alice@example.com", "Reset your password")
        .await
        .token_for("reset-password")
        .unwrap();
    // Thirty-one minutes on (the clock is the row's: the link was issued for thirty).
    let mut row: account_token::ActiveModel = account_token::Entity::find()
        .one(&app.state.auth.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    row.expires_at = Set(Utc::now() - chrono::Duration::minutes(1));
    row.update(&app.state.auth.db).await.unwrap();
    assert_error(
        reset(
            &app,
            json!({ "token": token, "new_password": NEW_PASSWORD }),
        )
        .await,
        400,
        "invalid_token",
    )
    .await;

    // A fresh link, then the owner changes the password another way: the link is dead.
    tokio::time::sleep(Duration::from_millis(50)).await;
    forgot(&app, "alice").await;
    app.settle().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let second = loop {
        let tokens: Vec<String> = sink
            .received()
            .iter()
            .filter_map(|m| m.token_for("reset-password"))
            .collect();
        if tokens.len() == 2 {
            break tokens[1].clone();
        }
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let owner = app.browser();
    owner.login("alice", PASSWORD).await;
    let changed = owner
        .post_json(
            "/password",
            &json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(changed.status(), 200);
    assert_error(
        reset(
            &app,
            json!({ "token": second, "new_password": "the attacker's choice here!" }),
        )
        .await,
        400,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn an_operators_link_works_once_without_email() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let run = latchkey(
        &app,
        &["admin", "users", "reset-link", "alice", "--ttl", "2h"],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let link = run.stdout.trim();
    assert!(
        link.starts_with("http://localhost:5173/reset-password#token="),
        "{link}"
    );
    assert!(run.stderr.contains("120 minutes"), "{}", run.stderr);
    let token = link.rsplit_once("#token=").unwrap().1;
    let done = reset(
        &app,
        json!({ "token": token, "new_password": NEW_PASSWORD }),
    )
    .await;
    assert_eq!(done.status(), 200);
    assert_eq!(
        app.browser().login("alice", NEW_PASSWORD).await.status(),
        200
    );
    assert_error(
        reset(
            &app,
            json!({ "token": token, "new_password": NEW_PASSWORD }),
        )
        .await,
        400,
        "invalid_token",
    )
    .await;
    for bad in ["0m", "25h", "soon"] {
        let refused = latchkey(
            &app,
            &["admin", "users", "reset-link", "alice", "--ttl", bad],
            "",
        )
        .await;
        assert_eq!(refused.code, 2, "--ttl {bad}: {}", refused.stderr);
    }
}

#[tokio::test]
async fn a_saved_recovery_key_resets_the_password() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let browser = app.main_browser();
    assert_error(
        browser
            .post_json("/recovery-key", &json!({ "password": "not it at all" }))
            .await,
        403,
        "invalid_credentials",
    )
    .await;
    let first = json_ok(
        browser
            .post_json("/recovery-key", &json!({ "password": PASSWORD }))
            .await,
    )
    .await;
    let old_key = first["recovery_key"].as_str().unwrap().to_owned();
    let key = json_ok(
        browser
            .post_json("/recovery-key", &json!({ "password": PASSWORD }))
            .await,
    )
    .await["recovery_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(key.len(), 32);
    assert_ne!(key, old_key);
    let profile = json_ok(browser.get("/profile").await).await;
    assert!(profile["recovery_key_created_at"].is_string());

    // The replaced key, a wrong one, and the right one for another name are all the same no.
    app.register("bob", PASSWORD).await;
    for (name, candidate) in [
        ("alice", old_key.as_str()),
        ("alice", "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-23"),
        ("bob", key.as_str()),
    ] {
        assert_error(
            reset(&app, json!({ "username": name, "recovery_key": candidate, "new_password": NEW_PASSWORD })).await,
            400,
            "invalid_token",
        )
        .await;
    }
    // Typed loosely: case and dashes do not matter.
    let typed = key.to_lowercase().replace('-', " ");
    let done = reset(
        &app,
        json!({ "username": "ALICE", "recovery_key": typed, "new_password": NEW_PASSWORD }),
    )
    .await;
    assert_eq!(done.status(), 200, "{}", done.text().await.unwrap());
    assert_eq!(
        app.browser().login("alice", NEW_PASSWORD).await.status(),
        200
    );
    assert_error(app.profile().await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn with_2fa_a_recovery_code_and_an_authenticator_code_reset_the_password_but_neither_alone() {
    let app = spawn_app().await;
    let (authenticator, codes) = alice_with_2fa(&app).await;
    let code = authenticator.code(1);
    assert_error(
        reset(
            &app,
            json!({ "username": "alice", "code": code, "new_password": NEW_PASSWORD }),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_error(
        reset(
            &app,
            json!({ "username": "alice", "recovery_code": codes[0], "new_password": NEW_PASSWORD }),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_error(
        reset(&app, json!({ "username": "alice", "recovery_code": "aaaaa-bbbbb", "code": code, "new_password": NEW_PASSWORD })).await,
        400,
        "invalid_token",
    )
    .await;
    let done = reset(
        &app,
        json!({ "username": "alice", "recovery_code": codes[0], "code": code, "new_password": NEW_PASSWORD }),
    )
    .await;
    assert_eq!(done.status(), 200, "{}", done.text().await.unwrap());
    // 2FA stays on: the new password asks for the second factor.
    let step = json_ok(app.browser().login("alice", NEW_PASSWORD).await).await;
    assert_eq!(step["mfa_required"], true);
    // The recovery code was used up.
    assert_error(
        reset(&app, json!({ "username": "alice", "recovery_code": codes[0], "code": authenticator.code(1), "new_password": "one more new passphrase" })).await,
        400,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn exactly_one_proof_is_needed() {
    let app = spawn_app().await;
    for body in [
        json!({ "new_password": NEW_PASSWORD }),
        json!({ "new_password": NEW_PASSWORD, "token": "x".repeat(43), "username": "alice", "recovery_key": "abcd" }),
        json!({ "new_password": NEW_PASSWORD, "recovery_key": "abcd" }),
    ] {
        assert_error(reset(&app, body).await, 400, "validation_failed").await;
    }
    assert_error(
        reset(
            &app,
            json!({ "new_password": NEW_PASSWORD, "token": "x".repeat(65) }),
        )
        .await,
        400,
        "malformed_request",
    )
    .await;
}

#[tokio::test]
async fn guessing_a_recovery_code_is_throttled_per_name() {
    let app = spawn_app().await;
    let (authenticator, _codes) = alice_with_2fa(&app).await;
    let guess = || {
        reset(
            &app,
            json!({ "username": "alice", "recovery_code": "aaaaa-bbbbb", "code": authenticator.code(1), "new_password": NEW_PASSWORD }),
        )
    };
    for _ in 0..5 {
        assert_error(guess().await, 400, "invalid_token").await;
    }
    let limited = guess().await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "too_many_attempts").await;
}

#[tokio::test]
async fn wrong_recovery_keys_count_against_the_address_and_never_lock_the_owner_out() {
    let app = spawn_app_with(&[
        ("LOGIN_THROTTLE_IP_FAILURES", "12"),
        ("TRUSTED_PROXIES", "127.0.0.1/32"),
    ])
    .await;
    app.signed_in("alice").await;
    let key = json_ok(
        app.main_browser()
            .post_json("/recovery-key", &json!({ "password": PASSWORD }))
            .await,
    )
    .await["recovery_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = || {
        reset(
            &app,
            json!({ "username": "alice", "recovery_key": "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-23", "new_password": NEW_PASSWORD }),
        )
    };
    // Six wrong keys are more than the name's budget (5), but a 130-bit key cannot be guessed:
    // the name is untouched, and the owner still signs in.
    for _ in 0..6 {
        assert_error(wrong().await, 400, "invalid_token").await;
    }
    assert_eq!(app.browser().login("alice", PASSWORD).await.status(), 200);
    // The address's budget holds: the twelfth failure from here is the last.
    for _ in 0..6 {
        assert_error(wrong().await, 400, "invalid_token").await;
    }
    let limited = wrong().await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "too_many_attempts").await;
    // From anywhere else, the owner's key works.
    let elsewhere = reqwest::Client::new()
        .post(app.url("/password/reset"))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({ "username": "alice", "recovery_key": key, "new_password": NEW_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        200,
        "{}",
        elsewhere.text().await.unwrap()
    );
}

#[tokio::test]
async fn a_recovery_key_works_once_and_ends_with_the_password_it_was_made_beside() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let browser = app.main_browser();
    let make_key = || async {
        json_ok(
            browser
                .post_json("/recovery-key", &json!({ "password": PASSWORD }))
                .await,
        )
        .await["recovery_key"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // Made by someone who had the password; the owner changes it: the key is gone.
    let planted = make_key().await;
    let changed = browser
        .post_json(
            "/password",
            &json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let profile = json_ok(browser.get("/profile").await).await;
    assert!(profile["recovery_key_created_at"].is_null(), "{profile}");
    assert_error(
        reset(&app, json!({ "username": "alice", "recovery_key": planted, "new_password": "an attacker's passphrase 1" })).await,
        400,
        "invalid_token",
    )
    .await;

    // A key made now resets the password once.
    let key = json_ok(
        browser
            .post_json("/recovery-key", &json!({ "password": NEW_PASSWORD }))
            .await,
    )
    .await["recovery_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = reset(
        &app,
        json!({ "username": "alice", "recovery_key": key, "new_password": "the third passphrase, 2026" }),
    )
    .await;
    assert_eq!(done.status(), 200);
    assert_error(
        reset(&app, json!({ "username": "alice", "recovery_key": key, "new_password": "a fourth passphrase, 2026" })).await,
        400,
        "invalid_token",
    )
    .await;

    // The operator sees a key, and reset-factors removes it.
    let signed_in = app.browser();
    assert_eq!(
        signed_in
            .login("alice", "the third passphrase, 2026")
            .await
            .status(),
        200
    );
    let last = json_ok(
        signed_in
            .post_json(
                "/recovery-key",
                &json!({ "password": "the third passphrase, 2026" }),
            )
            .await,
    )
    .await["recovery_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown = latchkey(&app, &["admin", "users", "show", "alice"], "").await;
    assert!(
        shown.stdout.contains("recovery key: made"),
        "{}",
        shown.stdout
    );
    let removed = latchkey(
        &app,
        &["admin", "users", "reset-factors", "alice", "--yes"],
        "",
    )
    .await;
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert!(
        removed.stdout.contains("recovery key removed"),
        "{}",
        removed.stdout
    );
    assert_error(
        reset(&app, json!({ "username": "alice", "recovery_key": last, "new_password": "a fifth passphrase, 2026" })).await,
        400,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn thirty_requests_for_a_link_send_at_most_three_mails() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with_mail(&sink, &[("TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    with_verified_address(&app, "alice").await;
    for n in 0..30 {
        let answer = reqwest::Client::new()
            .post(app.url("/password/forgot"))
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .json(&json!({ "username": "alice" }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 202);
    }
    app.settle().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mails = sink.received().len();
    assert!((1..=3).contains(&mails), "{mails} mails");
    // And one address cannot ask without end either.
    let mut limited = false;
    for _ in 0..12 {
        if forgot(&app, "alice").await.status() == 429 {
            limited = true;
        }
    }
    assert!(limited);
}

#[tokio::test]
async fn an_smtp_outage_during_a_reset_loses_no_mail() {
    let mut sink = SmtpSink::start().await;
    let app = spawn_app_with_mail(&sink, &[]).await;
    with_verified_address(&app, "alice").await;
    sink.stop().await;
    assert_eq!(forgot(&app, "alice").await.status(), 202);
    app.settle().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(sink.received().is_empty());
    sink.restart().await;
    let token = mail_to(&sink, "alice@example.com", "Reset your password")
        .await
        .token_for("reset-password")
        .unwrap();
    let done = reset(
        &app,
        json!({ "token": token, "new_password": NEW_PASSWORD }),
    )
    .await;
    assert_eq!(done.status(), 200);
}

#[tokio::test]
async fn an_address_is_verified_by_its_link_and_changes_are_told_to_the_old_one() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with_mail(&sink, &[]).await;
    app.signed_in("alice").await;
    let browser = app.main_browser();
    assert_eq!(json_ok(browser.get("/features").await).await["email"], true);
    assert_error(
        browser
            .post_json(
                "/email",
                &json!({ "email": "not an address", "password": PASSWORD }),
            )
            .await,
        400,
        "validation_failed",
    )
    .await;
    let set = browser
        .post_json(
            "/email",
            &json!({ "email": " alice@example.com ", "password": PASSWORD }),
        )
        .await;
    assert_eq!(set.status(), StatusCode::ACCEPTED);
    let profile = json_ok(browser.get("/profile").await).await;
    assert_eq!(profile["email"], "alice@example.com");
    assert_eq!(profile["email_verified"], false);
    // An unverified address gets no reset link.
    forgot(&app, "alice").await;
    let verify = mail_to(&sink, "alice@example.com", "Confirm your email address").await;
    let token = verify.token_for("verify-email").unwrap();
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !sink
            .received()
            .iter()
            .any(|m| m.subject().contains("Reset"))
    );

    // Following the link needs no session (another device).
    let verified = json_ok(
        app.browser()
            .post_json("/email/verify", &json!({ "token": token }))
            .await,
    )
    .await;
    assert_eq!(verified["email"], "alice@example.com");
    assert_eq!(
        json_ok(browser.get("/profile").await).await["email_verified"],
        true
    );
    mail_to(
        &sink,
        "alice@example.com",
        "Your email address is confirmed",
    )
    .await;
    assert_error(
        app.browser()
            .post_json("/email/verify", &json!({ "token": token }))
            .await,
        400,
        "invalid_token",
    )
    .await;

    // A new address: the old one is told; its link verifies the new one only.
    browser
        .post_json(
            "/email",
            &json!({ "email": "alice@new.example", "password": PASSWORD }),
        )
        .await;
    mail_to(&sink, "alice@example.com", "Your email address was changed").await;
    let new_link = mail_to(&sink, "alice@new.example", "Confirm your email address").await;
    // A third address before the second was verified: the second's link is dead.
    browser
        .post_json(
            "/email",
            &json!({ "email": "alice@third.example", "password": PASSWORD }),
        )
        .await;
    assert_error(
        app.browser()
            .post_json(
                "/email/verify",
                &json!({ "token": new_link.token_for("verify-email").unwrap() }),
            )
            .await,
        400,
        "invalid_token",
    )
    .await;
    let removed = browser
        .delete_json("/email", &json!({ "password": PASSWORD }))
        .await;
    assert_eq!(removed.status(), 200);
    assert!(json_ok(browser.get("/profile").await).await["email"].is_null());
    assert_error(
        browser
            .delete_json("/email", &json!({ "password": PASSWORD }))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn without_smtp_every_email_feature_says_it_is_off() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let browser = app.main_browser();
    assert_eq!(
        json_ok(browser.get("/features").await).await["email"],
        false
    );
    assert_error(forgot(&app, "alice").await, 409, "email_disabled").await;
    assert_error(
        browser
            .post_json(
                "/email",
                &json!({ "email": "alice@example.com", "password": PASSWORD }),
            )
            .await,
        409,
        "email_disabled",
    )
    .await;
}

#[tokio::test]
async fn the_owner_is_told_of_changes_and_of_a_new_device() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with_mail(&sink, &[]).await;
    with_verified_address(&app, "alice").await;
    let laptop = Browser::new(&app.address);
    laptop.login("alice", PASSWORD).await;
    let new_device = mail_to(&sink, "alice@example.com", "A sign-in from a new device").await;
    assert!(new_device.text().contains("127.0.0.1"));
    // The same browser again is not new.
    laptop.post("/logout").await;
    laptop.login("alice", PASSWORD).await;
    laptop
        .post_json(
            "/password",
            &json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }),
        )
        .await;
    mail_to(&sink, "alice@example.com", "Your password was changed").await;
    let new_devices = sink
        .received()
        .iter()
        .filter(|m| m.subject().contains("new device"))
        .count();
    assert_eq!(new_devices, 1);
    let alice = accounts::find(&app.state.auth.db, "alice").await.unwrap();
    assert!(alice.email_verified_at.is_some());
}

/// Twenty resets with one key at once, each with its own new password: the key is used up by the
/// first to commit, so exactly one answers 200 and its password is the one that works.
#[tokio::test]
async fn a_recovery_key_sent_twenty_times_at_once_resets_the_password_once() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let key = json_ok(
        app.main_browser()
            .post_json("/recovery-key", &json!({ "password": PASSWORD }))
            .await,
    )
    .await["recovery_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let passwords: Vec<String> = (0..20)
        .map(|i| format!("racing passphrase number {i}, 2026"))
        .collect();
    let answers = futures::future::join_all(passwords.iter().map(|password| {
        reset(
            &app,
            json!({ "username": "alice", "recovery_key": key, "new_password": password }),
        )
    }))
    .await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    let winners: Vec<&String> = passwords
        .iter()
        .zip(&statuses)
        .filter(|(_, status)| **status == 200)
        .map(|(password, _)| password)
        .collect();
    assert_eq!(winners.len(), 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
    // The winner's password works; a loser's does not (one try: failures count toward the limit).
    assert_eq!(app.browser().login("alice", winners[0]).await.status(), 200);
    let loser = passwords.iter().find(|p| *p != winners[0]).unwrap();
    assert_error(
        app.browser().login("alice", loser).await,
        401,
        "invalid_credentials",
    )
    .await;
}

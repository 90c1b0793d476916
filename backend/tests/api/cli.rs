//! The operator's command line, run as a process against the test's database.

use std::{io::Write as _, process::Stdio};

use sea_orm::EntityTrait as _;

use crate::helpers::{PASSWORD, TestApp, assert_error, spawn_app, test_environment};

pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `latchkey ARGS` to completion off the test's runtime (which serves the app meanwhile).
pub(crate) async fn latchkey(app: &TestApp, args: &[&str], stdin: &str) -> Run {
    let database_url = app.database_url().to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || run_blocking(&database_url, &args, &stdin))
        .await
        .unwrap()
}

fn run_blocking(database_url: &str, args: &[String], stdin: &str) -> Run {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .env_clear()
        .envs(test_environment(database_url))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test]
async fn an_operator_lists_shows_and_unlocks_accounts() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    app.register("bob", PASSWORD).await;
    let list = latchkey(&app, &["admin", "users", "list"], "").await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("alice") && list.stdout.contains("bob"));
    let filtered = latchkey(&app, &["admin", "users", "list", "--filter", "ALI"], "").await;
    assert!(filtered.stdout.contains("alice") && !filtered.stdout.contains("bob"));
    let page_two = latchkey(
        &app,
        &["admin", "users", "list", "--per-page", "1", "--page", "2"],
        "",
    )
    .await;
    assert!(page_two.stdout.contains("bob") && !page_two.stdout.contains("alice"));

    let show = latchkey(&app, &["admin", "users", "show", "ALICE"], "").await;
    assert_eq!(show.code, 0);
    assert!(show.stdout.contains("sessions:   1"), "{}", show.stdout);

    for _ in 0..5 {
        app.browser().login("bob", "not the password at all").await;
    }
    // Five failures lock the name for 1 s, then 2 s, 4 s…: probe with a wrong password, so a
    // probe that comes after the lock (a loaded machine) adds a failure instead of signing in.
    let locked_at = std::time::Instant::now();
    let probe = app.browser().login("bob", "not the password at all").await;
    if locked_at.elapsed() < std::time::Duration::from_millis(900) {
        assert_error(probe, 429, "too_many_attempts").await;
    }
    let unlock = latchkey(&app, &["admin", "users", "unlock", "bob"], "").await;
    assert_eq!(unlock.code, 0, "{}", unlock.stderr);
    // Unlocked, the name has its five free failures again: without the unlock the first of
    // these would start a lock of at least 2 s and the next would be refused.
    for _ in 0..5 {
        let attempt = app.browser().login("bob", "not the password at all").await;
        assert_eq!(attempt.status(), 401);
    }
    let unlock = latchkey(&app, &["admin", "users", "unlock", "bob"], "").await;
    assert_eq!(unlock.code, 0, "{}", unlock.stderr);
    assert_eq!(app.browser().login("bob", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn destructive_commands_ask_first_and_act_at_once() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    // No terminal and no --yes: refused, nothing changed.
    let refused = latchkey(&app, &["admin", "users", "disable", "alice"], "").await;
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(app.profile().await.status(), 200);

    let disable = latchkey(&app, &["admin", "users", "disable", "alice", "--yes"], "").await;
    assert_eq!(disable.code, 0, "{}", disable.stderr);
    assert_error(app.profile().await, 401, "unauthenticated").await;
    assert_error(
        app.browser().login("alice", PASSWORD).await,
        403,
        "account_disabled",
    )
    .await;
    assert_error(
        app.browser().login("alice", "wrong password!").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        latchkey(&app, &["admin", "users", "enable", "alice"], "")
            .await
            .code,
        0
    );
    let browser = app.browser();
    assert_eq!(browser.login("alice", PASSWORD).await.status(), 200);

    let revoke = latchkey(
        &app,
        &["admin", "users", "revoke-sessions", "alice", "--yes"],
        "",
    )
    .await;
    assert_eq!(revoke.code, 0);
    assert!(
        revoke.stdout.contains("ended 1 session"),
        "{}",
        revoke.stdout
    );
    assert_error(browser.get("/profile").await, 401, "unauthenticated").await;

    let delete = latchkey(&app, &["admin", "users", "delete", "alice", "--yes"], "").await;
    assert_eq!(delete.code, 0);
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
}

#[tokio::test]
async fn set_password_checks_the_policy_and_ends_every_session() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let weak = latchkey(
        &app,
        &[
            "admin",
            "users",
            "set-password",
            "alice",
            "--password-stdin",
            "--yes",
        ],
        "passwordpassword\n",
    )
    .await;
    assert_ne!(weak.code, 0);
    assert!(weak.stderr.contains("too easy to guess"), "{}", weak.stderr);
    assert_eq!(app.profile().await.status(), 200, "nothing changed");

    let new = "an operator chose this one, 2026";
    let set = latchkey(
        &app,
        &[
            "admin",
            "users",
            "set-password",
            "alice",
            "--password-stdin",
            "--yes",
        ],
        &format!("{new}\n"),
    )
    .await;
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(
        !set.stdout.contains(new) && !set.stderr.contains(new),
        "never echoed"
    );
    assert_error(app.profile().await, 401, "unauthenticated").await;
    assert_error(
        app.browser().login("alice", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(app.browser().login("alice", new).await.status(), 200);
}

#[tokio::test]
async fn bad_arguments_and_missing_users_fail_clearly() {
    let app = spawn_app().await;
    let missing = latchkey(&app, &["admin", "users", "show", "nobody"], "").await;
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("no such user"),
        "{}",
        missing.stderr
    );
    let bad_page = latchkey(&app, &["admin", "users", "list", "--page", "0"], "").await;
    assert_eq!(bad_page.code, 2, "{}", bad_page.stderr);
    let unknown = latchkey(&app, &["admin", "users", "frobnicate"], "").await;
    assert_eq!(unknown.code, 2);
    let no_key = latchkey(&app, &["keys", "retire", "no-such-kid", "--yes"], "").await;
    assert_eq!(no_key.code, 1);
    assert!(no_key.stderr.contains("no such key"), "{}", no_key.stderr);
}

#[tokio::test]
async fn keys_are_listed_rotated_and_retired_from_the_command_line() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let list = latchkey(&app, &["keys", "list"], "").await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("current (signing)"), "{}", list.stdout);
    let rotate = latchkey(&app, &["keys", "rotate"], "").await;
    assert_eq!(rotate.code, 0);
    assert!(rotate.stdout.starts_with("published "), "{}", rotate.stdout);
    let again = latchkey(&app, &["keys", "rotate"], "").await;
    assert!(again.stdout.contains("already waiting"));
    let list = latchkey(&app, &["keys", "list"], "").await;
    assert!(list.stdout.contains("next (published"), "{}", list.stdout);

    // Retiring the signing key ends its tokens and brings the waiting key forward.
    let current = list
        .stdout
        .lines()
        .find(|l| l.contains("current (signing)"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let retire = latchkey(&app, &["keys", "retire", &current, "--yes"], "").await;
    assert_eq!(retire.code, 0, "{}", retire.stderr);
    app.state
        .auth
        .keys
        .reload(
            &app.state.auth.db,
            &app.state.auth.secrets,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_error(app.profile().await, 401, "unauthenticated").await;
    assert_eq!(
        app.refresh().await.status(),
        200,
        "the session itself lives on"
    );
    assert_eq!(app.profile().await.status(), 200);
}

#[tokio::test]
async fn healthcheck_and_migrate_exit_with_the_right_code() {
    let app = spawn_app().await;
    let healthy = latchkey(&app, &["healthcheck", "--url", &app.url("/health")], "").await;
    assert_eq!(healthy.code, 0, "{}", healthy.stderr);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let down = latchkey(
        &app,
        &[
            "healthcheck",
            "--url",
            &format!("http://127.0.0.1:{port}/health"),
        ],
        "",
    )
    .await;
    assert_eq!(down.code, 1);
    let not_found = latchkey(&app, &["healthcheck", "--url", &app.url("/nope")], "").await;
    assert_eq!(not_found.code, 1);
    assert_eq!(latchkey(&app, &["migrate"], "").await.code, 0);
}

#[tokio::test]
async fn set_password_asks_first_unless_yes() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let refused = latchkey(
        &app,
        &[
            "admin",
            "users",
            "set-password",
            "alice",
            "--password-stdin",
        ],
        "an operator chose this one, 2026\n",
    )
    .await;
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(app.profile().await.status(), 200, "nothing changed");
    assert_eq!(app.browser().login("alice", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn list_filters_match_text_literally() {
    let app = spawn_app().await;
    for name in ["alice", "bob_x", "carol"] {
        app.register(name, PASSWORD).await;
    }
    let everything = latchkey(&app, &["admin", "users", "list", "--filter", "%"], "").await;
    assert_eq!(everything.code, 0, "{}", everything.stderr);
    assert!(
        everything.stdout.contains("(no accounts"),
        "{}",
        everything.stdout
    );
    let underscore = latchkey(&app, &["admin", "users", "list", "--filter", "_"], "").await;
    assert!(underscore.stdout.contains("bob_x"));
    assert!(!underscore.stdout.contains("alice") && !underscore.stdout.contains("carol"));
}

#[tokio::test]
async fn an_operator_sees_every_factor_and_device_and_can_reset_the_factors() {
    let app = spawn_app().await;
    let (_, codes) = crate::mfa::alice_with_2fa(&app).await;
    // A passkey someone planted (a real ceremony needs an authenticator: the browser suite).
    let alice = latchkey::auth::accounts::find(&app.state.auth.db, "alice")
        .await
        .unwrap();
    latchkey::entity::passkey::Entity::insert(latchkey::entity::passkey::ActiveModel {
        id: sea_orm::ActiveValue::Set(uuid::Uuid::new_v4()),
        user_id: sea_orm::ActiveValue::Set(alice.id),
        name: sea_orm::ActiveValue::Set("Planted key".into()),
        credential_id: sea_orm::ActiveValue::Set("AAAA".into()),
        credential: sea_orm::ActiveValue::Set("{}".into()),
        created_at: sea_orm::ActiveValue::Set(chrono::Utc::now()),
        last_used_at: sea_orm::ActiveValue::Set(None),
    })
    .exec_without_returning(&app.state.auth.db)
    .await
    .unwrap();
    let show = latchkey(&app, &["admin", "users", "show", "alice"], "").await;
    assert_eq!(show.code, 0, "{}", show.stderr);
    for line in [
        "authenticator app: on",
        "recovery codes:    10 left",
        "passkeys:   1",
        "Planted key",
        "trusted devices: 1",
    ] {
        assert!(show.stdout.contains(line), "{line:?} in {}", show.stdout);
    }

    let refused = latchkey(&app, &["admin", "users", "reset-factors", "alice"], "").await;
    assert_ne!(refused.code, 0);
    let reset = latchkey(
        &app,
        &["admin", "users", "reset-factors", "alice", "--yes"],
        "",
    )
    .await;
    assert_eq!(reset.code, 0, "{}", reset.stderr);
    assert!(reset.stdout.contains("1 passkey(s)"), "{}", reset.stdout);
    let show = latchkey(&app, &["admin", "users", "show", "alice"], "").await;
    for line in [
        "authenticator app: off",
        "recovery codes:    0 left",
        "passkeys:   0",
        "trusted devices: 0",
    ] {
        assert!(show.stdout.contains(line), "{line:?} in {}", show.stdout);
    }
    // Signing in needs the password alone now; the old recovery codes are gone.
    let browser = app.browser();
    let body: serde_json::Value = browser.login("alice", PASSWORD).await.json().await.unwrap();
    assert!(body.get("user").is_some(), "{body}");
    drop(codes);
    // The owner sees it in their activity.
    let activity: serde_json::Value = browser.get("/activity").await.json().await.unwrap();
    assert!(
        activity["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "factors_reset")
    );
}

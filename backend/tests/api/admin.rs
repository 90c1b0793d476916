//! The admin API: who may use it (walked from the served spec), the step-up window, every
//! action in the target's own activity and in the audit log, roles in access tokens, paging
//! and the JSON-lines export, and the command line writing the same records.

use chrono::{Duration, Utc};
use latchkey::{
    auth::{AuthError, accounts, audit::Actor, roles},
    entity::{audit_entry, session},
};
use reqwest::StatusCode;
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _, sea_query::Expr,
};
use serde_json::{Value, json};

use crate::{
    cli::latchkey,
    helpers::{Browser, PASSWORD, TestApp, assert_error, spawn_app},
};

/// Registers `name`, makes them an administrator (as `latchkey admin users grant` would) and
/// signs them in from a browser of their own.
async fn admin_browser(app: &TestApp, name: &str) -> Browser {
    assert_eq!(
        app.register(name, PASSWORD).await.status(),
        StatusCode::CREATED
    );
    grant(app, name, roles::ADMIN).await;
    let browser = app.browser();
    assert_eq!(browser.login(name, PASSWORD).await.status(), StatusCode::OK);
    browser
}

async fn grant(app: &TestApp, name: &str, role: &str) {
    let db = &app.state.auth.db;
    let account = accounts::find(db, name).await.unwrap();
    roles::grant(db, &Actor::cli(), &account, role, Utc::now())
        .await
        .unwrap();
}

async fn step_up(browser: &Browser) {
    let response = browser
        .post_json("/admin/step-up", &json!({ "password": PASSWORD }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn signed_in_browser(app: &TestApp, name: &str) -> Browser {
    assert_eq!(
        app.register(name, PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let browser = app.browser();
    assert_eq!(browser.login(name, PASSWORD).await.status(), StatusCode::OK);
    browser
}

async fn json_of(response: reqwest::Response) -> Value {
    assert!(
        response.status().is_success(),
        "{}: {}",
        response.status(),
        response.text().await.unwrap()
    );
    response.json().await.unwrap()
}

/// Every `/admin` operation in the served spec: method, concrete path, and a body with the
/// required fields of its schema (so only the caller can be what is refused).
async fn admin_operations(app: &TestApp) -> Vec<(String, String, Option<Value>)> {
    let spec: Value = reqwest::get(app.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/admin") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            let concrete = path.replace("{name}", "bob").replace("{role}", "admin");
            let body = operation["requestBody"]["content"]["application/json"]["schema"]
                .get("$ref")
                .map(|r| example_body(&spec, r.as_str().unwrap()));
            operations.push((method.to_uppercase(), concrete, body));
        }
    }
    operations
}

fn example_body(spec: &Value, reference: &str) -> Value {
    let name = reference.trim_start_matches("#/components/schemas/");
    let schema = &spec["components"]["schemas"][name];
    let mut body = serde_json::Map::new();
    for field in schema["required"].as_array().into_iter().flatten() {
        let field = field.as_str().unwrap();
        let value = match schema["properties"][field]["type"].as_str() {
            Some("integer") => json!(1),
            Some("boolean") => json!(false),
            _ => json!("support"),
        };
        body.insert(field.to_owned(), value);
    }
    Value::Object(body)
}

async fn send(
    browser: &Browser,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = browser.client.request(method, browser.url(path));
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn admin_every_operation_refuses_strangers_and_people_without_the_role() {
    let app = spawn_app().await;
    app.register("bob", PASSWORD).await;
    let alice = signed_in_browser(&app, "alice").await;
    let nobody = app.browser();
    let operations = admin_operations(&app).await;
    assert!(operations.len() >= 15, "{operations:?}");
    for (method, path, body) in &operations {
        let response = send(&nobody, method, path, body.as_ref()).await;
        assert_eq!(response.status(), 401, "{method} {path} without a token");
        assert_error(response, 401, "unauthenticated").await;
        let response = send(&alice, method, path, body.as_ref()).await;
        assert_eq!(response.status(), 403, "{method} {path} without the role");
        assert_error(response, 403, "forbidden").await;
    }
    // Nothing happened to bob, and nothing was recorded.
    let db = &app.state.auth.db;
    let bob = accounts::find(db, "bob").await.unwrap();
    assert!(bob.disabled_at.is_none());
    assert!(roles::of_user(db, bob.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn admin_a_demoted_admin_is_refused_on_the_next_request() {
    let app = spawn_app().await;
    let root = admin_browser(&app, "root").await;
    let _ops = admin_browser(&app, "ops").await;
    assert_eq!(root.get("/admin/users").await.status(), StatusCode::OK);
    let db = &app.state.auth.db;
    let account = accounts::find(db, "root").await.unwrap();
    roles::revoke(db, &Actor::cli(), &account, roles::ADMIN, Utc::now())
        .await
        .unwrap();
    // The same, still unexpired access token.
    assert_error(root.get("/admin/users").await, 403, "forbidden").await;
    assert_error(root.get("/admin/audit").await, 403, "forbidden").await;
}

/// The actor the API builds for `name`'s browser session after its own checks: what a change
/// that started just before a demotion (or the window closing) carries into its transaction.
async fn actor_of_session(app: &TestApp, name: &str) -> Actor {
    let db = &app.state.auth.db;
    let account = accounts::find(db, name).await.unwrap();
    let session = session::Entity::find()
        .filter(session::Column::UserId.eq(account.id))
        .filter(session::Column::RevokedAt.is_null())
        .one(db)
        .await
        .unwrap()
        .unwrap();
    Actor {
        user_id: Some(account.id),
        name: account.username,
        client: None,
        reason: None,
        session_id: Some(session.id),
    }
}

async fn audit_entries(app: &TestApp) -> u64 {
    audit_entry::Entity::find()
        .count(&app.state.auth.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn admin_a_change_rechecks_the_role_and_the_window_in_its_own_transaction() {
    let app = spawn_app().await;
    app.register("bob", PASSWORD).await;
    let root = admin_browser(&app, "root").await;
    let _ops = admin_browser(&app, "ops").await;
    step_up(&root).await;
    let db = &app.state.auth.db;
    let bob = accounts::find(db, "bob").await.unwrap();
    // Built while root passed every check the API makes before the change's transaction.
    let actor = actor_of_session(&app, "root").await;

    // The window closes between the API's check and the change.
    session::Entity::update_many()
        .col_expr(
            session::Column::SteppedUpAt,
            Expr::value(Some(Utc::now() - Duration::minutes(6))),
        )
        .filter(session::Column::SteppedUpAt.is_not_null())
        .exec(db)
        .await
        .unwrap();
    let before = audit_entries(&app).await;
    let refused = accounts::set_disabled(db, &actor, &bob, true, Utc::now()).await;
    assert!(
        matches!(refused, Err(AuthError::StepUpRequired)),
        "{refused:?}"
    );
    let refused = roles::grant(db, &actor, &bob, roles::ADMIN, Utc::now()).await;
    assert!(
        matches!(refused, Err(AuthError::StepUpRequired)),
        "{refused:?}"
    );
    let bob = accounts::find(db, "bob").await.unwrap();
    assert!(bob.disabled_at.is_none());
    assert!(roles::of_user(db, bob.id).await.unwrap().is_empty());
    assert_eq!(audit_entries(&app).await, before);

    // Stepped up again, then demoted between the API's check and the change.
    step_up(&root).await;
    let root_account = accounts::find(db, "root").await.unwrap();
    roles::revoke(db, &Actor::cli(), &root_account, roles::ADMIN, Utc::now())
        .await
        .unwrap();
    let before = audit_entries(&app).await;
    let refused = accounts::set_disabled(db, &actor, &bob, true, Utc::now()).await;
    assert!(matches!(refused, Err(AuthError::Forbidden)), "{refused:?}");
    let refused = accounts::revoke_sessions(db, &actor, &bob, Utc::now()).await;
    assert!(matches!(refused, Err(AuthError::Forbidden)), "{refused:?}");
    assert!(
        accounts::find(db, "bob")
            .await
            .unwrap()
            .disabled_at
            .is_none()
    );
    assert_eq!(audit_entries(&app).await, before);
    // Over HTTP the same demoted administrator hears 403 `forbidden`, stepped up or not.
    assert_error(
        root.post_json("/admin/users/bob/disable", &json!({ "reason": "x" }))
            .await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn admin_the_last_enabled_administrator_stays_one() {
    let app = spawn_app().await;
    let root = admin_browser(&app, "root").await;
    step_up(&root).await;
    let why = json!({ "reason": "leaving" });
    assert_error(
        root.delete("/admin/users/root/roles/admin").await,
        409,
        "last_admin",
    )
    .await;
    assert_error(
        root.post_json("/admin/users/root/disable", &why).await,
        409,
        "cannot_disable_self",
    )
    .await;
    // A disabled administrator does not count.
    let _ops = admin_browser(&app, "ops").await;
    json_of(root.post_json("/admin/users/ops/disable", &why).await).await;
    assert_error(
        root.delete("/admin/users/root/roles/admin").await,
        409,
        "last_admin",
    )
    .await;
    // The command line keeps the guard too, and says why.
    for args in [
        &["admin", "users", "revoke", "root", "admin"][..],
        &["admin", "users", "disable", "root", "--yes"][..],
        &["admin", "users", "delete", "root", "--yes"][..],
    ] {
        let refused = latchkey(&app, args, "").await;
        assert_eq!(refused.code, 1, "{args:?}");
        assert!(
            refused.stderr.contains("last enabled administrator"),
            "{}",
            refused.stderr
        );
    }
    // Nor can the last administrator delete their own account.
    assert_error(
        root.delete_json("/profile", &json!({ "password": PASSWORD }))
            .await,
        409,
        "last_admin",
    )
    .await;
    let db = &app.state.auth.db;
    let root_account = accounts::find(db, "root").await.unwrap();
    assert!(root_account.disabled_at.is_none());
    assert_eq!(
        roles::of_user(db, root_account.id).await.unwrap(),
        [roles::ADMIN]
    );
    // With another enabled administrator, root may step down.
    json_of(root.post_json("/admin/users/ops/enable", &why).await).await;
    let revoked = json_of(root.delete("/admin/users/root/roles/admin").await).await;
    assert_eq!(revoked["roles"], json!([]));
}

#[tokio::test]
async fn admin_two_administrators_revoking_each_other_at_once_leave_one() {
    let app = spawn_app().await;
    let root = admin_browser(&app, "root").await;
    let ops = admin_browser(&app, "ops").await;
    step_up(&root).await;
    step_up(&ops).await;
    let (a, b) = tokio::join!(
        root.delete("/admin/users/ops/roles/admin"),
        ops.delete("/admin/users/root/roles/admin"),
    );
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    for response in [a, b] {
        match response.status().as_u16() {
            200 => {}
            409 => {
                assert_error(response, 409, "last_admin").await;
            }
            _ => {
                assert_error(response, 403, "forbidden").await;
            }
        }
    }
    let db = &app.state.auth.db;
    let mut admins = 0;
    for name in ["root", "ops"] {
        let account = accounts::find(db, name).await.unwrap();
        if roles::holds(db, account.id, roles::ADMIN).await.unwrap() {
            admins += 1;
        }
    }
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn admin_changes_need_a_fresh_step_up() {
    let app = spawn_app().await;
    app.register("bob", PASSWORD).await;
    let root = admin_browser(&app, "root").await;
    let disable = json!({ "reason": "testing" });
    assert_error(
        root.post_json("/admin/users/bob/disable", &disable).await,
        403,
        "step_up_required",
    )
    .await;
    assert_error(
        root.post_json(
            "/admin/step-up",
            &json!({ "password": "not the password at all" }),
        )
        .await,
        403,
        "invalid_credentials",
    )
    .await;
    assert_error(
        root.post_json("/admin/users/bob/disable", &disable).await,
        403,
        "step_up_required",
    )
    .await;
    let window = json_of(
        root.post_json("/admin/step-up", &json!({ "password": PASSWORD }))
            .await,
    )
    .await;
    assert!(window["stepped_up_until"].is_string());
    let user = json_of(root.post_json("/admin/users/bob/disable", &disable).await).await;
    assert_eq!(user["status"], "disabled");

    // Five minutes later the window has closed.
    session::Entity::update_many()
        .col_expr(
            session::Column::SteppedUpAt,
            Expr::value(Some(Utc::now() - Duration::minutes(6))),
        )
        .filter(session::Column::SteppedUpAt.is_not_null())
        .exec(&app.state.auth.db)
        .await
        .unwrap();
    assert_error(
        root.post_json("/admin/users/bob/enable", &json!({})).await,
        403,
        "step_up_required",
    )
    .await;
    // Reads need none.
    assert_eq!(root.get("/admin/users/bob").await.status(), StatusCode::OK);
    // Another session of the same administrator has its own window.
    let laptop = app.browser();
    laptop.login("root", PASSWORD).await;
    assert_error(
        laptop
            .post_json("/admin/users/bob/enable", &json!({}))
            .await,
        403,
        "step_up_required",
    )
    .await;
}

#[tokio::test]
async fn admin_each_action_shows_in_the_targets_activity_and_the_audit_log() {
    let app = spawn_app().await;
    let bob = signed_in_browser(&app, "bob").await;
    let root = admin_browser(&app, "root").await;
    step_up(&root).await;
    let created = root
        .post_json(
            "/admin/roles",
            &json!({ "name": "support", "description": "Answers tickets" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let why = json!({ "reason": "ticket 42" });
    for path in [
        "/admin/users/bob/revoke-sessions",
        "/admin/users/bob/reset-factors",
        "/admin/users/bob/unlock",
    ] {
        json_of(root.post_json(path, &why).await).await;
    }
    // The session bob had is over.
    assert_error(bob.get("/profile").await, 401, "unauthenticated").await;
    let link = json_of(
        root.post_json(
            "/admin/users/bob/reset-link",
            &json!({ "valid_minutes": 30 }),
        )
        .await,
    )
    .await;
    let link = link["link"].as_str().unwrap().to_owned();
    assert!(link.contains("/reset-password#token="), "{link}");
    let granted = json_of(
        root.client
            .put(root.url("/admin/users/bob/roles/support"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(granted["roles"], json!(["support"]));
    let revoked = json_of(root.delete("/admin/users/bob/roles/support").await).await;
    assert_eq!(revoked["roles"], json!([]));
    let bob = app.browser();
    assert_eq!(bob.login("bob", PASSWORD).await.status(), StatusCode::OK);
    assert_error(
        root.post_json("/admin/users/bob/disable", &json!({})).await,
        400,
        "validation_failed",
    )
    .await;
    json_of(
        root.post_json(
            "/admin/users/bob/disable",
            &json!({ "reason": "abuse report" }),
        )
        .await,
    )
    .await;
    // Disabling ends bob's other browser at once.
    assert_error(bob.get("/profile").await, 401, "unauthenticated").await;
    json_of(root.post_json("/admin/users/bob/enable", &why).await).await;

    let bob = app.browser();
    assert_eq!(bob.login("bob", PASSWORD).await.status(), StatusCode::OK);
    app.settle().await;
    let activity = json_of(bob.get("/activity?limit=200").await).await;
    let kinds: Vec<&str> = activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    // The person reads why, in the administrator's words.
    let reason_of = |kind: &str| {
        activity["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == kind)
            .map(|e| e["reason"].clone())
    };
    assert_eq!(reason_of("account_disabled"), Some(json!("abuse report")));
    assert_eq!(reason_of("account_enabled"), Some(json!("ticket 42")));
    assert_eq!(reason_of("role_granted"), Some(Value::Null));
    assert_eq!(reason_of("signed_in"), Some(Value::Null));
    for kind in [
        "admin_sessions_revoked",
        "factors_reset",
        "admin_unlocked",
        "admin_reset_link",
        "role_granted",
        "role_revoked",
        "account_disabled",
        "account_enabled",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }

    let audit = json_of(root.get("/admin/audit?target=BOB&limit=200").await).await;
    let entries = audit["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user_enabled",
            "user_disabled",
            "role_revoked",
            "role_granted",
            "reset_link_issued",
            "unlocked",
            "factors_reset",
            "sessions_revoked",
        ]
    );
    for entry in entries {
        assert_eq!(entry["actor"], "root");
        assert_eq!(entry["target"], "bob");
        assert_eq!(entry["ip"], "127.0.0.1");
    }
    assert_eq!(entries[1]["detail"]["reason"], "abuse report");
    assert_eq!(entries[7]["detail"]["reason"], "ticket 42");
    assert_eq!(entries[4]["detail"]["valid_minutes"], 30);
    // The link is a credential: it is nowhere in the log.
    let token = link.split("token=").nth(1).unwrap();
    let everything = root.get("/admin/audit.jsonl").await.text().await.unwrap();
    assert!(!everything.contains(token));
    let by_action = json_of(root.get("/admin/audit?action=role_created").await).await;
    assert_eq!(by_action["entries"][0]["detail"]["role"], "support");
    let by_actor = json_of(root.get("/admin/audit?actor=root&action=stepped_up").await).await;
    assert_eq!(by_actor["entries"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn admin_the_roles_claim_is_in_access_tokens_and_verifies_against_the_jwks() {
    let app = spawn_app().await;
    let root = admin_browser(&app, "root").await;
    let alice = signed_in_browser(&app, "alice").await;
    let claims = verified_claims(&app, &root.cookie("access_token").unwrap()).await;
    assert_eq!(claims["roles"], json!(["admin"]));
    assert_eq!(claims["username"], "root");
    let claims = verified_claims(&app, &alice.cookie("access_token").unwrap()).await;
    assert_eq!(claims["roles"], json!([]));
    let profile = json_of(root.get("/profile").await).await;
    assert_eq!(profile["roles"], json!(["admin"]));
    // The sign-in answer says so too, so an app needs no second request to show "Admin".
    let signed_in = json_of(app.browser().login("root", PASSWORD).await).await;
    assert_eq!(signed_in["roles"], json!(["admin"]));
    assert_eq!(signed_in["user"]["username"], "root");
    let signed_in = json_of(app.browser().login("alice", PASSWORD).await).await;
    assert_eq!(signed_in["roles"], json!([]));

    // A role granted later shows in the next token (at refresh) and at once in /profile.
    grant(&app, "alice", roles::ADMIN).await;
    assert_eq!(
        json_of(alice.get("/profile").await).await["roles"],
        json!(["admin"])
    );
    let refreshed = json_of(alice.post("/refresh").await).await;
    assert_eq!(refreshed["roles"], json!(["admin"]));
    let claims = verified_claims(&app, &alice.cookie("access_token").unwrap()).await;
    assert_eq!(claims["roles"], json!(["admin"]));
}

async fn verified_claims(app: &TestApp, token: &str) -> Value {
    use jsonwebtoken::{DecodingKey, Validation, jwk::Jwk};
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwks: Value = reqwest::get(app.url("/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .expect("the token's key is published");
    let jwk: Jwk = serde_json::from_value(key.clone()).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&["latchkey"]);
    validation.set_issuer(&["latchkey"]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(&jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn admin_users_and_the_audit_log_page_and_export_as_json_lines() {
    let app = spawn_app().await;
    for name in ["carol", "dave", "erin", "frank", "carl"] {
        app.register(name, PASSWORD).await;
    }
    let root = admin_browser(&app, "root").await;

    let mut seen = Vec::new();
    let mut path = "/admin/users?limit=2".to_owned();
    loop {
        let page = json_of(root.get(&path).await).await;
        let users = page["users"].as_array().unwrap();
        assert!(users.len() <= 2);
        seen.extend(
            users
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_owned()),
        );
        match page["next_after"].as_str() {
            Some(after) => path = format!("/admin/users?limit=2&after={after}"),
            None => break,
        }
    }
    assert_eq!(seen, ["carl", "carol", "dave", "erin", "frank", "root"]);
    let prefix = json_of(root.get("/admin/users?name=CAR").await).await;
    assert_eq!(prefix["users"].as_array().unwrap().len(), 2);
    let contains = json_of(root.get("/admin/users?name=r&match=contains").await).await;
    let names: Vec<&str> = contains["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["carl", "carol", "erin", "frank", "root"]);
    let root_row = json_of(root.get("/admin/users?name=root").await).await;
    assert_eq!(root_row["users"][0]["roles"], json!(["admin"]));
    assert!(root_row["users"][0]["last_sign_in_at"].is_string());

    step_up(&root).await;
    for name in ["carol", "dave", "erin"] {
        json_of(
            root.post_json(
                &format!("/admin/users/{name}/disable"),
                &json!({ "reason": "spam" }),
            )
            .await,
        )
        .await;
    }
    let disabled = json_of(root.get("/admin/users?status=disabled").await).await;
    assert_eq!(disabled["users"].as_array().unwrap().len(), 3);
    let active = json_of(root.get("/admin/users?status=active").await).await;
    assert_eq!(active["users"].as_array().unwrap().len(), 3);

    // The audit log, a page at a time, newest first: three disables, the step-up, and root's
    // own grant of admin.
    let mut actions = Vec::new();
    let mut path = "/admin/audit?limit=1".to_owned();
    loop {
        let page = json_of(root.get(&path).await).await;
        actions.extend(
            page["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["target"].as_str().unwrap_or("-").to_owned()),
        );
        match page["next_before"].as_str() {
            Some(before) => path = format!("/admin/audit?limit=1&before={before}"),
            None => break,
        }
    }
    assert_eq!(actions, ["erin", "dave", "carol", "-", "root"]);

    let export = root.get("/admin/audit.jsonl?action=user_disabled").await;
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(
        export.headers()["content-type"].to_str().unwrap(),
        "text/plain"
    );
    let text = export.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines
            .iter()
            .all(|l| l["action"] == "user_disabled" && l["detail"]["reason"] == "spam")
    );
    let since =
        (Utc::now() + Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let none = root.get(&format!("/admin/audit.jsonl?since={since}")).await;
    assert_eq!(none.text().await.unwrap(), "");
}

#[tokio::test]
async fn admin_bad_input_is_a_json_4xx() {
    let app = spawn_app().await;
    let root = admin_browser(&app, "root").await;
    for path in [
        "/admin/users?limit=0",
        "/admin/users?limit=101",
        "/admin/users?status=gone",
        "/admin/users?created_since=yesterday",
        "/admin/audit?since=yesterday",
        "/admin/audit?action=nonsense",
        "/admin/audit?before=not-a-uuid",
        "/admin/audit.jsonl?limit=10001",
    ] {
        assert_error(root.get(path).await, 400, "malformed_request").await;
    }
    assert_error(
        root.get(&format!("/admin/audit?before={}", uuid::Uuid::new_v4()))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(root.get("/admin/users/nobody").await, 404, "not_found").await;
    assert_error(root.get("/admin/users/%20").await, 404, "not_found").await;
    step_up(&root).await;
    assert_error(
        root.post_json("/admin/roles", &json!({ "name": "Bad Name" }))
            .await,
        400,
        "validation_failed",
    )
    .await;
    assert_error(
        root.post_json("/admin/roles", &json!({ "name": "admin" }))
            .await,
        409,
        "role_exists",
    )
    .await;
    assert_error(
        root.delete("/admin/roles/admin").await,
        409,
        "role_built_in",
    )
    .await;
    assert_error(root.delete("/admin/roles/ghost").await, 404, "not_found").await;
    assert_error(
        root.client
            .put(root.url("/admin/users/root/roles/ghost"))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_error(
        root.post_json("/admin/users/nobody/unlock", &json!({}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        root.post_json(
            "/admin/users/root/reset-link",
            &json!({ "valid_minutes": 0 }),
        )
        .await,
        400,
        "malformed_request",
    )
    .await;
    assert_error(
        root.post_json(
            "/admin/users/root/unlock",
            &json!({ "reason": "x".repeat(501) }),
        )
        .await,
        400,
        "malformed_request",
    )
    .await;
}

#[tokio::test]
async fn admin_the_user_page_says_why_a_name_is_locked_until_it_is_unlocked() {
    let app = spawn_app().await;
    app.register("bob", PASSWORD).await;
    let root = admin_browser(&app, "root").await;
    let stranger = app.browser();
    for _ in 0..6 {
        stranger
            .login("bob", "wrong password, again and again")
            .await;
    }
    app.settle().await;
    let detail = json_of(root.get("/admin/users/bob").await).await;
    assert!(
        detail["throttle"]["failures"].as_u64().unwrap() >= 5,
        "{detail}"
    );
    assert!(detail["throttle"]["clears_at"].is_string());
    assert!(
        detail["recent_activity"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "sign_in_failed")
    );
    step_up(&root).await;
    json_of(root.post_json("/admin/users/bob/unlock", &json!({})).await).await;
    let detail = json_of(root.get("/admin/users/bob").await).await;
    assert!(detail["throttle"].is_null(), "{detail}");
    assert_eq!(detail["user"]["status"], "active");
}

#[tokio::test]
async fn admin_the_command_line_manages_roles_and_writes_the_same_records() {
    let app = spawn_app().await;
    let bob = signed_in_browser(&app, "bob").await;
    let run = latchkey(
        &app,
        &[
            "admin",
            "roles",
            "create",
            "support",
            "--description",
            "Tickets",
        ],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = latchkey(&app, &["admin", "users", "grant", "bob", "admin"], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = latchkey(&app, &["admin", "users", "grant", "bob", "support"], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let list = latchkey(&app, &["admin", "roles", "list"], "").await;
    assert!(
        list.stdout.contains("support") && list.stdout.contains("built-in"),
        "{}",
        list.stdout
    );
    let refused = latchkey(&app, &["admin", "roles", "delete", "admin", "--yes"], "").await;
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("built in"), "{}", refused.stderr);
    let bad = latchkey(&app, &["admin", "roles", "create", "Not Valid"], "").await;
    assert_eq!(bad.code, 1);
    let run = latchkey(&app, &["admin", "users", "revoke", "bob", "support"], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = latchkey(&app, &["admin", "users", "unlock", "bob"], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    app.register("carol", PASSWORD).await;
    let run = latchkey(
        &app,
        &[
            "admin",
            "users",
            "disable",
            "carol",
            "--reason",
            "spam wave",
            "--yes",
        ],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = latchkey(
        &app,
        &[
            "admin",
            "users",
            "enable",
            "carol",
            "--reason",
            "appeal won",
        ],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let carol = app.browser();
    assert_eq!(
        carol.login("carol", PASSWORD).await.status(),
        StatusCode::OK
    );
    app.settle().await;
    let events = json_of(
        carol
            .get("/activity?kind=account_disabled&kind=account_enabled")
            .await,
    )
    .await;
    let reasons: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["appeal won", "spam wave"]);

    // bob is an administrator now, made from the command line: his audit log shows the CLI.
    let audit = json_of(bob.get("/admin/audit").await).await;
    let entries: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        entries,
        [
            ("cli", "user_enabled"),
            ("cli", "user_disabled"),
            ("cli", "unlocked"),
            ("cli", "role_revoked"),
            ("cli", "role_granted"),
            ("cli", "role_granted"),
            ("cli", "role_created"),
        ]
    );
    app.settle().await;
    let activity = json_of(
        bob.get("/activity?kind=role_granted&kind=role_revoked&kind=admin_unlocked")
            .await,
    )
    .await;
    assert_eq!(activity["events"].as_array().unwrap().len(), 4);
}

//! Mail goes through the outbox: delivered by a background sender, at least once, exactly one
//! sender per message across instances, and nothing lost when the SMTP server is down for a
//! while. (Which mail each flow sends is tested with the flow: recovery, email.)

use std::time::Duration;

use chrono::Utc;
use latchkey::{
    auth::{ClientInfo, accounts, outbox, recovery},
    entity::{mail_outbox, user},
};
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, EntityTrait as _, PaginatorTrait as _};

use crate::{
    helpers::{PASSWORD, ServerProcess, TestApp, spawn_app_with},
    smtp_sink::SmtpSink,
};

pub async fn spawn_app_with_mail(sink: &SmtpSink, extra: &[(&str, &str)]) -> TestApp {
    let url = sink.url();
    let mut vars = vec![
        ("SMTP_URL", url.as_str()),
        ("MAIL_FROM", "Latchkey <no-reply@latchkey.test>"),
        ("APP_URL", "http://app.latchkey.test"),
    ];
    vars.extend_from_slice(extra);
    spawn_app_with(&vars).await
}

/// Registers `name` with a verified address `name@example.com`.
pub async fn with_verified_address(app: &TestApp, name: &str) -> user::Model {
    app.register(name, PASSWORD).await;
    let account = accounts::find(&app.state.auth.db, name).await.unwrap();
    let mut row: user::ActiveModel = account.into();
    row.email = Set(Some(format!("{name}@example.com")));
    row.email_verified_at = Set(Some(Utc::now()));
    row.update(&app.state.auth.db).await.unwrap()
}

fn client() -> ClientInfo {
    ClientInfo::new(Some("curl/8.5"), Some("192.0.2.10".parse().unwrap()))
}

#[tokio::test]
async fn a_message_in_the_outbox_is_delivered_with_text_and_html() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with_mail(&sink, &[]).await;
    with_verified_address(&app, "alice").await;
    recovery::forgot(&app.state.auth, "alice", &client(), Utc::now())
        .await
        .unwrap();
    let received = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.to, ["alice@example.com"]);
    assert_eq!(mail.subject(), "Latchkey: Reset your password");
    let token = mail.token_for("reset-password").expect("a reset link");
    assert_eq!(token.len(), 43);
    assert!(
        mail.text()
            .contains("http://app.latchkey.test/reset-password#token=")
    );
    assert!(
        mail.html()
            .contains("<a href=\"http://app.latchkey.test/reset-password#token=")
    );
    assert!(mail.raw.contains("From: Latchkey <no-reply@latchkey.test>"));

    // Once sent, the outbox keeps no content.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let row = mail_outbox::Entity::find()
        .one(&app.state.auth.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.sent_at.is_some());
    assert!(row.payload.is_none());
}

#[tokio::test]
async fn an_smtp_outage_loses_no_mail() {
    let mut sink = SmtpSink::start().await;
    let app = spawn_app_with_mail(&sink, &[]).await;
    with_verified_address(&app, "alice").await;
    sink.stop().await;
    recovery::forgot(&app.state.auth, "alice", &client(), Utc::now())
        .await
        .unwrap();
    // The sender tries, fails, and waits longer each time.
    let db = &app.state.auth.db;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let row = mail_outbox::Entity::find().one(db).await.unwrap().unwrap();
        if row.attempts >= 2 {
            assert!(row.sent_at.is_none() && row.failed_at.is_none());
            assert!(row.last_error.is_some());
            assert!(row.payload.is_some(), "kept until it is sent");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no retry: {row:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sink.restart().await;
    let received = sink.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(received.len(), 1, "delivered once the server is back");
    assert!(received[0].token_for("reset-password").is_some());
}

#[tokio::test]
async fn two_instances_send_each_message_exactly_once() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with_mail(&sink, &[]).await;
    let url = sink.url();
    let _second = ServerProcess::start(
        app.database_url(),
        &[
            ("SMTP_URL", url.as_str()),
            ("MAIL_FROM", "Latchkey <no-reply@latchkey.test>"),
        ],
    )
    .await;
    let secrets = &app.state.auth.secrets;
    let db = &app.state.auth.db;
    let txn = latchkey::storage::begin_write(db).await.unwrap();
    for n in 0..30 {
        let message = outbox::Message {
            to: format!("person{n}@example.com"),
            subject: format!("message {n}"),
            text: "hello".into(),
            html: "<p>hello</p>".into(),
        };
        outbox::enqueue(&txn, secrets, "test", &message, Utc::now())
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
    let received = sink.wait_for(30, Duration::from_secs(20)).await;
    // Give a duplicate the time to show up, if there were one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received = sink.received().len().max(received.len());
    assert_eq!(received, 30);
    let mut subjects: Vec<String> = sink.received().iter().map(|m| m.subject()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 30);
    let pending = outbox::backlog(db).await.unwrap();
    assert_eq!(pending.pending, 0);
    assert_eq!(mail_outbox::Entity::find().count(db).await.unwrap(), 30);
}

//! A flood of refused requests is counted one by one in the metrics, and summarised in the log:
//! the first refusal at once, then at most one line per kind per interval.

use futures::StreamExt as _;
use serde_json::Value;

use crate::helpers::{PASSWORD, ServerProcess, free_port, spawn_app};

#[tokio::test]
async fn two_hundred_refused_logins_write_a_few_warn_lines_and_are_all_counted() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    let dir = std::env::temp_dir().join(format!("latchkey-log-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("latchkey.log");
    let metrics = format!("127.0.0.1:{}", free_port());
    let mut server = ServerProcess::start_logging_to(
        app.database_url(),
        &[
            // One failure per address, then every sign-in from it is refused for 15 minutes.
            ("LOGIN_THROTTLE_IP_FAILURES", "1"),
            ("LOG_FORMAT", "json"),
            ("RUST_LOG", "info"),
            ("METRICS_ADDR", &metrics),
        ],
        Some(&log),
    )
    .await;
    let wrong = || {
        let browser = server.browser();
        async move {
            browser
                .login("alice", "not the password at all")
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(wrong().await, 401);
    let statuses: Vec<u16> = futures::stream::iter((0..200).map(|_| wrong()))
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 429), "{statuses:?}");

    let scraped = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        scraped
            .lines()
            .any(|line| line == r#"latchkey_throttled_total{action="login"} 200"#),
        "{scraped}"
    );

    assert!(server.interrupt().success());
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    let warnings: Vec<&Value> = lines.iter().filter(|l| l["level"] == "WARN").collect();
    assert!(
        !warnings.is_empty() && warnings.len() <= 3,
        "{} WARN lines: {warnings:#?}",
        warnings.len()
    );
    // The lines still account for every refusal: the first at once, the rest summarised (here
    // at shutdown, since the test ends before the interval does).
    let counted: u64 = warnings
        .iter()
        .filter(|l| l["event"] == "throttled")
        .map(|l| l["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 200, "{warnings:#?}");
}

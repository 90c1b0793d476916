//! A connection that takes too long to send its request head (slowloris), or sits idle, is
//! closed after `HEADER_READ_TIMEOUT_MS`; a client that keeps asking is served as before.
//! Real time is the point here, so these tests wait, within bounds.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader},
    net::{TcpStream, tcp::OwnedReadHalf},
};

use crate::helpers::{TestApp, spawn_app_with};

const HEADER_READ_TIMEOUT: Duration = Duration::from_millis(1000);
/// Scheduling slack on a busy two-core machine.
const MARGIN: Duration = Duration::from_millis(1500);
const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";

async fn app() -> TestApp {
    spawn_app_with(&[("HEADER_READ_TIMEOUT_MS", "1000")]).await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Resolves when the server closes the connection (end of stream or reset), with when that was
/// and whatever it sent.
fn closed(mut reader: OwnedReadHalf) -> tokio::task::JoinHandle<(Instant, Vec<u8>)> {
    tokio::spawn(async move {
        let mut received = Vec::new();
        let _ = reader.read_to_end(&mut received).await;
        (Instant::now(), received)
    })
}

/// Reads one response: its status and body (the server always sends `Content-Length`).
async fn read_response(reader: &mut BufReader<OwnedReadHalf>) -> (u16, String) {
    let mut status_line = String::new();
    reader.read_line(&mut status_line).await.unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {status_line:?}"));
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.unwrap();
    (status, String::from_utf8(body).unwrap())
}

#[tokio::test]
async fn a_client_that_trickles_its_request_head_is_disconnected_within_the_timeout() {
    let app = app().await;
    let (reader, mut writer) = connect(&app).await.into_split();
    let opened = Instant::now();
    let closed = closed(reader);
    writer
        .write_all(b"POST /login HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    // A byte every 200 ms keeps any per-read idle timer happy; only a deadline on the whole
    // head ends it. Give up trickling after 10 s, whatever happens.
    while !closed.is_finished() && opened.elapsed() < Duration::from_secs(10) {
        if writer.write_all(b"a").await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (closed_at, received) = closed.await.unwrap();
    let lasted = closed_at - opened;
    assert!(
        lasted < HEADER_READ_TIMEOUT + MARGIN,
        "the connection stayed open {lasted:?}"
    );
    assert!(
        !received.starts_with(b"HTTP/1.1 2"),
        "nothing was served: {:?}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_within_the_timeout() {
    let app = app().await;
    let (reader, _writer) = connect(&app).await.into_split();
    let opened = Instant::now();
    let (closed_at, _) = tokio::time::timeout(Duration::from_secs(10), closed(reader))
        .await
        .expect("the server closes a silent connection")
        .unwrap();
    assert!(closed_at - opened < HEADER_READ_TIMEOUT + MARGIN);
}

#[tokio::test]
async fn a_keep_alive_client_that_keeps_asking_is_served_on_one_connection() {
    let app = app().await;
    let (reader, mut writer) = connect(&app).await.into_split();
    let mut reader = BufReader::new(reader);
    let started = Instant::now();
    // Longer in all than the timeout, each request well within it.
    for _ in 0..6 {
        writer.write_all(HEALTH).await.unwrap();
        let (status, body) = read_response(&mut reader).await;
        assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(started.elapsed() > HEADER_READ_TIMEOUT);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
    let app = app().await;
    let (reader, mut writer) = connect(&app).await.into_split();
    let mut reader = BufReader::new(reader);
    writer.write_all(HEALTH).await.unwrap();
    assert_eq!(read_response(&mut reader).await.0, 200);
    let answered = Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut rest))
        .await
        .expect("the server closes an idle connection");
    assert!(read.is_ok_and(|n| n == 0), "nothing more was sent");
    assert!(answered.elapsed() < HEADER_READ_TIMEOUT + MARGIN);
}

#[tokio::test]
async fn a_pooled_client_carries_on_after_its_idle_connection_was_closed() {
    let app = app().await;
    let client = reqwest::Client::new();
    assert_eq!(app_health(&client, &app).await, 200);
    tokio::time::sleep(HEADER_READ_TIMEOUT + Duration::from_millis(500)).await;
    assert_eq!(app_health(&client, &app).await, 200);
}

async fn app_health(client: &reqwest::Client, app: &TestApp) -> u16 {
    client
        .get(app.url("/health"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

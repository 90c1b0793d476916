//! Closed-loop load generator for `POST /refresh`, used by `scripts/bench`.
//!
//! A refresh load needs every connection to carry its own rotating cookie. wrk cannot do it: its Lua
//! `response()` gets the headers as a table keyed by name, so of the two `Set-Cookie` headers only the
//! last one survives, and the order of cookies is not part of the contract. Here each connection is a
//! reqwest client with its own cookie jar: it logs in once (before the measured window), then refreshes
//! in a loop, each request sending the refresh token the previous response set.
//!
//! Usage: `refresh_load --url http://127.0.0.1:8000 [--connections 16] [--duration 8] [--warmup 1]
//! [--user-prefix bench] [--users 16]`, password in `BENCH_PASSWORD`. Prints one line
//! `BENCH_JSON {…}` in the same shape as `bench/wrk/lib.lua`.

use std::{
    collections::BTreeMap,
    error::Error,
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::json;
use tokio::sync::{Barrier, OnceCell};

struct Sample {
    /// When the request started, relative to the common start.
    at: Duration,
    latency: Duration,
    /// HTTP status, or 0 for a transport error.
    status: u16,
    /// The response set a new `refresh_token` cookie.
    rotated: bool,
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

async fn connection(
    url: String,
    username: String,
    password: String,
    start: Arc<Barrier>,
    clock: Arc<OnceCell<Instant>>,
    end: Duration,
) -> Result<Vec<Sample>, String> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let login = client
        .post(format!("{url}/login"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await;
    let logged_in = matches!(&login, Ok(r) if r.status().is_success());
    start.wait().await;
    // Every connection starts its clock at the first instant after the barrier opened.
    let started = *clock.get_or_init(|| async { Instant::now() }).await;
    if !logged_in {
        return Err(format!("login as {username} failed: {login:?}"));
    }
    let mut samples = Vec::with_capacity(4096);
    loop {
        let t0 = Instant::now();
        let at = t0.duration_since(started);
        if at >= end {
            break;
        }
        let (status, rotated) = match client.post(format!("{url}/refresh")).send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let rotated = resp
                    .headers()
                    .get_all(reqwest::header::SET_COOKIE)
                    .iter()
                    .any(|v| v.as_bytes().starts_with(b"refresh_token="));
                // Read the body so the connection is reused and the latency covers the whole response.
                let _ = resp.bytes().await;
                (status, rotated)
            }
            Err(_) => (0, false),
        };
        samples.push(Sample {
            at,
            latency: t0.elapsed(),
            status,
            rotated,
        });
    }
    Ok(samples)
}

fn percentile(sorted: &[u128], q: f64) -> u128 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let url = arg("--url", "http://127.0.0.1:8000");
    let connections: usize = arg("--connections", "16").parse()?;
    let duration: f64 = arg("--duration", "8").parse()?;
    let warmup: f64 = arg("--warmup", "1").parse()?;
    let prefix = arg("--user-prefix", "bench");
    let users: usize = arg("--users", "16").parse()?;
    let password = std::env::var("BENCH_PASSWORD").unwrap_or_default();

    // Each connection logs in, then waits on the barrier: the measured window starts once all have.
    let start = Arc::new(Barrier::new(connections));
    let clock = Arc::new(OnceCell::<Instant>::new());
    let mut tasks = Vec::with_capacity(connections);
    for i in 0..connections {
        let (url, password, start, clock) =
            (url.clone(), password.clone(), start.clone(), clock.clone());
        let username = format!("{prefix}{}", i % users.max(1));
        let end = Duration::from_secs_f64(warmup + duration);
        tasks.push(tokio::spawn(connection(
            url, username, password, start, clock, end,
        )));
    }

    let mut samples = Vec::new();
    let mut failures = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(s)) => samples.extend(s),
            Ok(Err(e)) => failures.push(e),
            Err(e) => failures.push(e.to_string()),
        }
    }
    let warm = Duration::from_secs_f64(warmup);
    let measured: Vec<&Sample> = samples.iter().filter(|s| s.at >= warm).collect();
    let mut latencies: Vec<u128> = measured.iter().map(|s| s.latency.as_micros()).collect();
    latencies.sort_unstable();
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    for s in &measured {
        *statuses.entry(s.status.to_string()).or_default() += 1;
    }
    let transport = measured.iter().filter(|s| s.status == 0).count();
    let non_success = measured
        .iter()
        .filter(|s| s.status != 0 && !(200..300).contains(&s.status))
        .count();
    let not_rotated = measured
        .iter()
        .filter(|s| (200..300).contains(&s.status) && !s.rotated)
        .count();
    let mean = if latencies.is_empty() {
        0.0
    } else {
        latencies.iter().sum::<u128>() as f64 / latencies.len() as f64
    };
    let result = json!({
        "requests": measured.len(),
        "duration_us": (duration * 1e6) as u64,
        "errors": { "connect": failures.len(), "read": transport, "write": 0, "status": non_success, "timeout": 0 },
        "not_rotated": not_rotated,
        "login_failures": failures,
        "statuses": statuses,
        "latency_us": {
            "p50": percentile(&latencies, 0.50),
            "p90": percentile(&latencies, 0.90),
            "p99": percentile(&latencies, 0.99),
            "max": latencies.last().copied().unwrap_or_default(),
            "mean": mean,
        },
    });
    println!("BENCH_JSON {result}");
    Ok(())
}

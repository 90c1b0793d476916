//! Fixed-rate latency probe for `scripts/bench`, free of coordinated omission (wrk2's method).
//!
//! A closed-loop client (wrk, or wrk with think time) sends its next request only after the
//! previous answer, so a server that stalls for 50 ms is asked *fewer* questions during the stall
//! and the stall hardly shows in the percentiles. Here every request has an intended send time on a
//! fixed schedule (`--rate` requests/s spread over `--connections` keep-alive connections), and its
//! latency is measured from that intended time to the last byte of the answer. A request that
//! could not be sent on time, because its connection was still waiting for the previous answer,
//! is sent as soon as the connection is free and still counted from when it should have left.
//!
//! Each connection is one OS thread with a blocking socket and a minimal HTTP/1.1 client (no async
//! runtime, whose millisecond timer would add up to 1 ms to every measurement): the probe costs
//! a few percent of one core at 1,000 requests/s, and sleeps precisely between sends.
//!
//! Usage: `rate_probe --url http://127.0.0.1:8000/profile [--rate 1000] [--connections 8]
//! [--duration 8] [--warmup 1] [--tokens-file FILE]` (one access token per line, sent as
//! `Authorization: Bearer`, round-robin). Prints one line `BENCH_JSON {…}` in the shape of
//! `bench/wrk/lib.lua`, plus `service_latency_us` (from the actual send, for comparison) and
//! `late_sends` (requests sent more than 1 ms after their intended time).

use std::{
    collections::BTreeMap,
    error::Error,
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::{TcpStream, ToSocketAddrs as _},
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::json;

struct Sample {
    /// Intended send time, relative to the common start.
    intended: Duration,
    /// From the intended send time to the end of the answer.
    latency: Duration,
    /// From the actual send to the end of the answer.
    service: Duration,
    /// HTTP status, or 0 for a transport error.
    status: u16,
}

struct Target {
    host: String,
    port: u16,
    path: String,
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| format!("{url}: bad port"))?),
        None => (authority, 80),
    };
    Ok(Target {
        host: host.to_owned(),
        port,
        path: if path.is_empty() { "/" } else { path }.to_owned(),
    })
}

/// One keep-alive HTTP/1.1 connection, reopened after any error.
struct Connection {
    target: Arc<Target>,
    reader: Option<BufReader<TcpStream>>,
}

impl Connection {
    fn open(&mut self) -> std::io::Result<&mut BufReader<TcpStream>> {
        if self.reader.is_none() {
            let addr = (self.target.host.as_str(), self.target.port)
                .to_socket_addrs()?
                .next()
                .ok_or_else(|| std::io::Error::other("no address"))?;
            let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(Duration::from_secs(15)))?;
            self.reader = Some(BufReader::with_capacity(16 * 1024, stream));
        }
        self.reader
            .as_mut()
            .ok_or_else(|| std::io::Error::other("not connected"))
    }

    /// Sends one request and reads the whole answer; returns its status.
    fn request(&mut self, raw: &[u8]) -> std::io::Result<u16> {
        let result = self.exchange(raw);
        if result.is_err() {
            self.reader = None;
        }
        result
    }

    fn exchange(&mut self, raw: &[u8]) -> std::io::Result<u16> {
        let reader = self.open()?;
        reader.get_mut().write_all(raw)?;
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let (mut length, mut chunked, mut close) = (0usize, false, false);
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("connection closed in the headers"));
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.eq_ignore_ascii_case("chunked");
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                }
            }
        }
        if chunked {
            loop {
                line.clear();
                reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| std::io::Error::other("bad chunk size"))?;
                // The chunk and its CRLF (the last, empty chunk has just the CRLF).
                std::io::copy(
                    &mut reader.by_ref().take(size as u64 + 2),
                    &mut std::io::sink(),
                )?;
                if size == 0 {
                    break;
                }
            }
        } else {
            std::io::copy(
                &mut reader.by_ref().take(length as u64),
                &mut std::io::sink(),
            )?;
        }
        if close {
            self.reader = None;
        }
        Ok(status)
    }
}

fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied().unwrap_or_default()
}

fn summary(mut micros: Vec<u64>) -> serde_json::Value {
    micros.sort_unstable();
    let mean = if micros.is_empty() {
        0.0
    } else {
        micros.iter().sum::<u64>() as f64 / micros.len() as f64
    };
    json!({
        "p50": percentile(&micros, 0.50),
        "p90": percentile(&micros, 0.90),
        "p99": percentile(&micros, 0.99),
        "p999": percentile(&micros, 0.999),
        "max": micros.last().copied().unwrap_or_default(),
        "mean": mean,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let target = Arc::new(parse_url(&arg("--url", "http://127.0.0.1:8000/profile"))?);
    let rate: f64 = arg("--rate", "1000").parse()?;
    let connections: usize = arg("--connections", "8").parse::<usize>()?.max(1);
    let duration: f64 = arg("--duration", "8").parse()?;
    let warmup: f64 = arg("--warmup", "1").parse()?;
    let tokens: Vec<String> = match std::env::args().any(|a| a == "--tokens-file") {
        true => std::fs::read_to_string(arg("--tokens-file", ""))?
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        false => Vec::new(),
    };
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(if tokens.is_empty() {
        vec![
            format!(
                "GET {} HTTP/1.1\r\nHost: {}:{}\r\n\r\n",
                target.path, target.host, target.port
            )
            .into_bytes(),
        ]
    } else {
        tokens
            .iter()
            .map(|t| {
                format!(
                    "GET {} HTTP/1.1\r\nHost: {}:{}\r\nAuthorization: Bearer {t}\r\n\r\n",
                    target.path, target.host, target.port
                )
                .into_bytes()
            })
            .collect()
    });

    // Connection i sends requests i, i + C, i + 2C … of one schedule of `rate` requests/s.
    let interval = Duration::from_secs_f64(connections as f64 / rate);
    let end = Duration::from_secs_f64(warmup + duration);
    let start = Instant::now() + Duration::from_millis(50);
    let mut threads = Vec::with_capacity(connections);
    for i in 0..connections {
        let (target, requests) = (target.clone(), requests.clone());
        let offset = Duration::from_secs_f64(i as f64 / rate);
        threads.push(std::thread::spawn(move || {
            let mut conn = Connection {
                target,
                reader: None,
            };
            // Connect before the clock starts.
            let _ = conn.open();
            let mut samples =
                Vec::with_capacity((end.as_secs_f64() / interval.as_secs_f64()) as usize + 1);
            let mut k: u32 = 0;
            loop {
                let intended = offset + interval * k;
                if intended >= end {
                    break;
                }
                let due = start + intended;
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                let sent = Instant::now();
                let raw = &requests[(i + k as usize * 7) % requests.len()];
                let status = conn.request(raw).unwrap_or(0);
                let done = Instant::now();
                samples.push(Sample {
                    intended,
                    latency: done.saturating_duration_since(due),
                    service: done.saturating_duration_since(sent),
                    status,
                });
                k += 1;
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for t in threads {
        samples.extend(t.join().map_err(|_| "probe thread panicked")?);
    }

    let warm = Duration::from_secs_f64(warmup);
    let measured: Vec<&Sample> = samples.iter().filter(|s| s.intended >= warm).collect();
    let micros = |f: fn(&Sample) -> Duration| -> Vec<u64> {
        measured
            .iter()
            .map(|s| u64::try_from(f(s).as_micros()).unwrap_or(u64::MAX))
            .collect()
    };
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    for s in &measured {
        *statuses.entry(s.status.to_string()).or_default() += 1;
    }
    let transport = measured.iter().filter(|s| s.status == 0).count();
    let late = measured
        .iter()
        .filter(|s| s.latency.saturating_sub(s.service) > Duration::from_millis(1))
        .count();
    let result = json!({
        "requests": measured.len(),
        "duration_us": (duration * 1e6) as u64,
        "rate": rate,
        "connections": connections,
        "errors": { "connect": 0, "read": transport, "write": 0, "status": 0, "timeout": 0 },
        "statuses": statuses,
        "late_sends": late,
        "latency_us": summary(micros(|s| s.latency)),
        "service_latency_us": summary(micros(|s| s.service)),
    });
    println!("BENCH_JSON {result}");
    Ok(())
}

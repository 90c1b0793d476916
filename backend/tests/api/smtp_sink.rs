//! A real SMTP server for the tests: it speaks enough of RFC 5321 for any client (EHLO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every message it receives, and can be stopped
//! and started again on the same port, to play an outage.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// One message as the sink received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    /// The message (headers and MIME body) as sent.
    pub raw: String,
}

impl Received {
    /// The subject, decoded.
    pub fn subject(&self) -> String {
        parse(&self.raw).subject().unwrap_or_default().to_owned()
    }

    /// The plain-text body, decoded.
    pub fn text(&self) -> String {
        parse(&self.raw)
            .body_text(0)
            .map(|body| body.into_owned())
            .unwrap_or_default()
    }

    /// The HTML body, decoded.
    pub fn html(&self) -> String {
        parse(&self.raw)
            .body_html(0)
            .map(|body| body.into_owned())
            .unwrap_or_default()
    }

    /// The token of the first link to `page` in the text (`…/page#token=…`).
    pub fn token_for(&self, page: &str) -> Option<String> {
        let text = self.text();
        let marker = format!("/{page}#token=");
        let start = text.find(&marker)? + marker.len();
        Some(
            text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .collect(),
        )
    }
}

fn parse(raw: &str) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a message the sink received parses")
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    server: Option<JoinHandle<()>>,
}

impl SmtpSink {
    /// A sink on a free port.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap(), Arc::default()).await
    }

    async fn start_on(addr: SocketAddr, received: Arc<Mutex<Vec<Received>>>) -> Self {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let inbox = received.clone();
        let server = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(converse(stream, inbox.clone()));
            }
        });
        Self {
            addr,
            received,
            server: Some(server),
        }
    }

    /// `smtp://127.0.0.1:<port>` for `SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Stops listening and drops every open connection: the server is gone.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }

    /// Listens again on the same port, keeping what was received.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut again = Self::start_on(self.addr, self.received.clone()).await;
        self.server = again.server.take();
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to `within`) until at least `n` messages arrived; returns them all.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= n || tokio::time::Instant::now() >= deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

async fn converse(stream: TcpStream, inbox: Arc<Mutex<Vec<Received>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut to = Vec::new();
    if write.write_all(b"220 sink ESMTP ready\r\n").await.is_err() {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if command.starts_with("HELO") {
            b"250 sink\r\n"
        } else if command.starts_with("MAIL FROM") {
            to.clear();
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO") {
            let address = line.trim_end()[8..]
                .trim()
                .trim_start_matches(':')
                .trim()
                .trim_matches(['<', '>'])
                .to_owned();
            to.push(address);
            b"250 OK\r\n"
        } else if command == "DATA" {
            if write.write_all(b"354 go ahead\r\n").await.is_err() {
                return;
            }
            let mut raw = String::new();
            loop {
                let mut data = String::new();
                match lines.read_line(&mut data).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if data == ".\r\n" || data == ".\n" {
                    break;
                }
                // Dot-stuffing (RFC 5321 §4.5.2).
                raw.push_str(data.strip_prefix('.').unwrap_or(&data));
            }
            inbox.lock().unwrap().push(Received {
                to: std::mem::take(&mut to),
                raw,
            });
            b"250 OK queued\r\n"
        } else if command == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else if command == "RSET" || command == "NOOP" {
            b"250 OK\r\n"
        } else {
            b"502 not implemented\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

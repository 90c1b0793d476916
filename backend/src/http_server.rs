//! The HTTP/1.1 server under the poem routes: hyper's connection handling, with the limits
//! poem's own `Server` cannot set.
//!
//! poem 3.1.12's `Server` builds hyper-util's auto (HTTP/1 + HTTP/2) builder itself, with no
//! timer, so a client that sends half a request head and then a byte now and then holds its
//! connection, and a file descriptor, forever (slowloris); a few thousand such clients take the
//! server down. Here hyper's `header_read_timeout` closes such a connection: every request head
//! must arrive whole within `Limits::header_read_timeout`, counted from when the connection opens
//! or its previous response was sent. That same clock is therefore the keep-alive idle timeout.
//!
//! HTTP/1.1 only, on purpose: hyper-util's protocol detection reads the first bytes with no
//! timeout at all, and hyper's HTTP/2 has no request-head timeout. Latchkey sits behind a TLS
//! proxy, which speaks HTTP/2 with browsers and HTTP/1.1 with us; nothing used plain-text HTTP/2.
//!
//! Shutdown works as poem's did: stop accepting, let each connection finish the request it is
//! serving and close (hyper-util's `GracefulShutdown`), and after the grace period close what is
//! left.

use std::{convert::Infallible, future::Future, io, sync::Arc, time::Duration};

use http_body_util::combinators::BoxBody;
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use poem::{
    Endpoint as _, Response,
    endpoint::BoxEndpoint,
    http::uri::Scheme,
    web::{LocalAddr, RemoteAddr},
};
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// poem's response body, as hyper sends it.
type Body = BoxBody<bytes::Bytes, io::Error>;

/// What a connection may take its time over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A request head (request line and headers) must arrive whole within this long after the
    /// connection opened or the previous response was sent; otherwise the connection is closed.
    pub header_read_timeout: Duration,
}

/// Serves `endpoint` on `listener` until `stop` resolves; then stops accepting and gives the
/// requests in flight up to `grace` to finish before closing their connections.
pub async fn serve(
    listener: TcpListener,
    endpoint: BoxEndpoint<'static, Response>,
    limits: Limits,
    stop: impl Future<Output = ()>,
    grace: Duration,
) -> io::Result<()> {
    let local = LocalAddr(listener.local_addr()?.into());
    let endpoint = Arc::new(endpoint);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let connections = TaskTracker::new();
    let graceful = GracefulShutdown::new();
    let close_now = CancellationToken::new();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    wait_after_accept_error(e).await;
                    continue;
                }
            },
        };
        let service = {
            let (endpoint, local, remote) =
                (endpoint.clone(), local.clone(), RemoteAddr(peer.into()));
            service_fn(move |req: hyper::Request<Incoming>| {
                let endpoint = endpoint.clone();
                let req = poem::Request::from((req, local.clone(), remote.clone(), Scheme::HTTP));
                async move {
                    Ok::<_, Infallible>(hyper::Response::<Body>::from(
                        endpoint.get_response(req).await,
                    ))
                }
            })
        };
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        let close_now = close_now.clone();
        connections.spawn(async move {
            tokio::select! {
                result = connection => {
                    // A client that went away, a head that took too long: routine, not ours.
                    if let Err(e) = result {
                        tracing::debug!(error = %e, %peer, "connection closed");
                    }
                }
                () = close_now.cancelled() => {}
            }
        });
    }
    drop(listener);
    connections.close();
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = connections.len(),
            grace_s = grace.as_secs(),
            "closing connections still busy after the grace period"
        );
        close_now.cancel();
    }
    // Every connection's task has ended, so no request holds a database connection any more.
    connections.wait().await;
    Ok(())
}

/// A connection that died before it was accepted is nothing to act on. Anything else (the
/// process is out of file descriptors) would fail again at once: wait instead of spinning.
async fn wait_after_accept_error(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "cannot accept connections; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

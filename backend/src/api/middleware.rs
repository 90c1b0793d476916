//! Cross-cutting request handling, applied once around every route in `startup::routes`:
//! request logging, security headers, the body-size limit and the same-origin rule for CORS.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc, LazyLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderValue, Method, StatusCode, header},
};
use uuid::Uuid;

use super::{
    client::{self, TrustedProxies},
    error::{ApiError, ErrorCode},
};
use crate::telemetry;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Turns an error into the standard JSON body with its status.
pub fn error_response(error: ApiError) -> Response {
    let status = error.status();
    error.into_json().with_status(status).into_response()
}

/// One log line per request: method, path (never the query string), status, latency, the
/// client address (see `client`) and a request id, which is also returned in `X-Request-Id`
/// and attached to every event logged while the request runs (see
/// `telemetry::with_request_id`). Headers, cookies and bodies are never logged.
///
/// The id is the one a trusted proxy sent (so one request can be followed through the proxy's
/// log and ours), or our own. A client's own `X-Request-Id` is ignored: anyone could otherwise
/// pick the id of another person's request and mix their lines into its trail.
pub async fn log_requests<E: Endpoint>(
    next: E,
    mut req: Request,
    proxies: Arc<TrustedProxies>,
    record_metrics: bool,
) -> poem::Result<Response> {
    let from_proxy = proxies.trusts_peer(&req);
    let request_id = req
        .header("x-request-id")
        .filter(|_| from_proxy)
        .filter(|id| id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map_or_else(next_request_id, str::to_owned);
    let header = HeaderValue::from_str(&request_id).ok();
    let ip = client::resolve(&mut req, &proxies);
    let mut response =
        telemetry::with_request_id(request_id, serve_and_log(next, req, ip, record_metrics)).await;
    if let Some(value) = header {
        response.headers_mut().insert("x-request-id", value);
    }
    Ok(response)
}

async fn serve_and_log<E: Endpoint>(
    next: E,
    req: Request,
    ip: Option<IpAddr>,
    record_metrics: bool,
) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    let response = match next.call(req).await {
        Ok(response) => response.into_response(),
        Err(e) => e.into_response(),
    };
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    if record_metrics {
        // Labelled by operation id, never by path: ids in paths would make a series each.
        let operation = response
            .data::<poem_openapi::OperationId>()
            .map_or("other", |id| id.0);
        metrics::counter!(
            "latchkey_http_requests_total",
            "operation" => operation,
            "method" => method.to_string(),
            "status" => status.to_string()
        )
        .increment(1);
        metrics::histogram!(
            "latchkey_http_request_duration_seconds",
            "operation" => operation,
            "method" => method.to_string()
        )
        .record(elapsed.as_secs_f64());
    }
    let latency_ms = (elapsed.as_secs_f64() * 100_000.0).round() / 100.0;
    let ip = ip.map(|ip| ip.to_string()).unwrap_or_default();
    // A 503 is a refusal ("retry later"), summarised by `telemetry::refusals`; an ERROR line
    // for each would flood the log exactly when the service is under strain.
    if status >= 500 && status != 503 {
        tracing::error!(%method, %path, status, latency_ms, %ip, "request");
    } else {
        tracing::info!(%method, %path, status, latency_ms, %ip, "request");
    }
    response
}

/// A process-unique id: a random prefix chosen at startup and a counter. Cheaper than a UUID
/// per request (no system call), and still unique across restarts and replicas in practice.
fn next_request_id() -> String {
    static PREFIX: LazyLock<u32> = LazyLock::new(|| Uuid::new_v4().as_u128() as u32);
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{:08x}-{:x}",
        *PREFIX,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The Swagger UI page needs its own inline script and styles, and nothing from elsewhere.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self' 'unsafe-inline'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/// The API never returns HTML: it forbids everything.
const API_CSP: &str = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'";
/// Two years, subdomains included (ASVS V3.4.1); sent only when cookies are `Secure`, i.e. the
/// deployment is HTTPS-only.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Headers for every response, errors and preflights included.
pub async fn security_headers<E: Endpoint>(
    next: E,
    req: Request,
    https_only: bool,
) -> poem::Result<Response> {
    let is_docs = req.uri().path().starts_with("/docs");
    let mut response = next.call(req).await?.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Responses carry session state: never store them in a shared or browser cache (unless an
    // operation said otherwise: the public JWKS).
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if is_docs { DOCS_CSP } else { API_CSP }),
    );
    // CORS answers depend on the request's Origin (poem adds this only for wildcard matches).
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if https_only {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    Ok(response)
}

/// Answers 503 (retry in a second) when a request takes longer than `REQUEST_TIMEOUT_MS`:
/// a database that stopped answering, or a client that trickles its body, must not hold a
/// request (and its pool connection) forever. PostgreSQL's own `statement_timeout` cancels
/// slow statements earlier; this bounds everything else. The cut request's transaction, if
/// any, is rolled back: a 2xx is only ever sent after a commit.
pub async fn deadline<E: Endpoint>(
    next: E,
    req: Request,
    limit: std::time::Duration,
) -> poem::Result<Response> {
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(result) => result.map(IntoResponse::into_response),
        Err(_) => {
            // Logged in summaries: a database that hangs times out every request at once.
            telemetry::refusals::refused(telemetry::refusals::Refusal::RequestTimeout, None);
            Ok(error_response(ApiError::new(ErrorCode::ServiceUnavailable)))
        }
    }
}

/// Rejects bodies over `MAX_BODY_BYTES` with 413, whether or not they declare a length
/// (chunked bodies are read up to the limit and no further).
pub async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    let declared = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Ok(error_response(ApiError::new(ErrorCode::PayloadTooLarge)));
    }
    match req.take_body().into_bytes_limit(MAX_BODY_BYTES).await {
        Ok(bytes) => {
            req.set_body(bytes);
            next.call(req).await.map(IntoResponse::into_response)
        }
        Err(poem::error::ReadBodyError::PayloadTooLarge) => {
            Ok(error_response(ApiError::new(ErrorCode::PayloadTooLarge)))
        }
        Err(_) => Ok(error_response(ApiError::new(ErrorCode::MalformedRequest))),
    }
}

/// Marks a request that carried an `Origin` header, i.e. came from a browser page (kept after
/// the header itself is dropped for same-origin requests).
#[derive(Debug, Clone, Copy)]
pub struct SentOrigin;

/// A browser sends `Origin` even on same-origin POSTs (Swagger UI at `/docs` calling the API
/// it is served from). Those need no CORS, so the header is dropped before the CORS layer,
/// which otherwise answers 403 to any origin not in `CORS_ORIGINS`.
///
/// "Same origin" means one of the API's own origins as configured (`Config::own_origins`),
/// never "the `Origin` matches the `Host` header": a DNS-rebinding page at
/// `http://evil.example` that resolves to this server sends both as `evil.example`.
pub async fn same_origin_is_not_cross_origin<E: Endpoint>(
    next: E,
    mut req: Request,
    own_origins: Arc<[String]>,
) -> poem::Result<Response> {
    let sent = req.header(header::ORIGIN).map(|origin| {
        own_origins
            .iter()
            .any(|own| own.eq_ignore_ascii_case(origin))
    });
    if let Some(same_origin) = sent {
        req.extensions_mut().insert(SentOrigin);
        if same_origin {
            req.headers_mut().remove(header::ORIGIN);
        }
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// The methods each path serves, for the `Allow` header of a 405 (RFC 9110 §15.5.6).
/// Read from the OpenAPI document, so it cannot drift from the routes.
pub struct AllowedMethods(HashMap<String, String>);

impl AllowedMethods {
    pub fn from_spec(spec: &str) -> Self {
        let mut table = HashMap::new();
        let parsed: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        if let Some(paths) = parsed.get("paths").and_then(|p| p.as_object()) {
            for (path, operations) in paths {
                let mut methods: Vec<String> = operations
                    .as_object()
                    .map(|ops| ops.keys().map(|m| m.to_ascii_uppercase()).collect())
                    .unwrap_or_default();
                methods.sort();
                table.insert(path.clone(), methods.join(", "));
            }
        }
        for path in ["/openapi.json", "/docs", "/docs/", "/favicon.ico"] {
            table.insert(path.to_owned(), "GET".to_owned());
        }
        Self(table)
    }

    /// The methods of the path itself, or of the spec's template it matches (`/sessions/{id}`).
    fn for_path(&self, path: &str) -> Option<&str> {
        if let Some(methods) = self.0.get(path) {
            return Some(methods);
        }
        let segments: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|(template, _)| {
                let parts: Vec<&str> = template.split('/').collect();
                parts.len() == segments.len()
                    && parts.iter().zip(&segments).all(|(part, segment)| {
                        part == segment
                            || (part.starts_with('{') && part.ends_with('}') && !segment.is_empty())
                    })
            })
            .map(|(_, methods)| methods.as_str())
    }
}

/// The JSON body for anything that failed outside an operation: unknown route (404), wrong
/// method (405, with `Allow`), a CORS rejection (403) and the like.
pub async fn json_errors<E: Endpoint>(
    next: E,
    req: Request,
    allowed: Arc<AllowedMethods>,
) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let err = match next.call(req).await {
        Ok(response) => return Ok(response.into_response()),
        Err(err) => err,
    };
    let mut response = error_response(ApiError::from_rejection(&err));
    if err.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(methods) = allowed
            .for_path(&path)
            .and_then(|m| HeaderValue::from_str(m).ok())
    {
        response.headers_mut().insert(header::ALLOW, methods);
    }
    Ok(response)
}

/// CORS for public clients (browser apps) at the token and revocation endpoints, for the origins
/// of their registered redirect URIs only, without credentials. Runs outside the CORS layer,
/// which refuses any origin not in `CORS_ORIGINS`: a request from such an origin is answered
/// here (a preflight) or passed on without its `Origin` and given `Access-Control-Allow-Origin`.
pub async fn public_client_cors<E: Endpoint>(
    next: E,
    mut req: Request,
    db: sea_orm::DatabaseConnection,
    cors_origins: Arc<[String]>,
) -> poem::Result<Response> {
    let path = req.uri().path();
    let oauth = path == "/oauth2/token" || path == "/oauth2/revoke";
    let origin = req.header(header::ORIGIN).map(str::to_owned);
    let Some(origin) = origin.filter(|o| oauth && !cors_origins.iter().any(|c| c == o)) else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let allowed = crate::auth::oidc::clients::is_public_client_origin(&db, &origin)
        .await
        .unwrap_or(false);
    let Ok(value) = HeaderValue::from_str(&origin) else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    if !allowed {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    if *req.method() == Method::OPTIONS {
        let mut response = Response::builder().status(StatusCode::NO_CONTENT).finish();
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(600));
        return Ok(response);
    }
    req.headers_mut().remove(header::ORIGIN);
    let mut response = next.call(req).await?.into_response();
    response
        .headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    Ok(response)
}

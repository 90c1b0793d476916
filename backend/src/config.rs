//! Configuration: every environment variable Latchkey reads, its default, and the one clear
//! error that stops startup when a value is wrong.

use std::{
    collections::HashMap,
    fmt,
    net::{IpAddr, SocketAddr},
    str::FromStr,
    time::Duration,
};

use ipnet::IpNet;

/// Everything the server needs to run, parsed once at startup.
#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub jwt_secret: Secret,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub session_max_lifetime: Duration,
    pub refresh_reuse_interval: Duration,
    pub host: IpAddr,
    pub port: u16,
    pub cors_origins: Vec<String>,
    pub cookie_secure: bool,
    pub cookie_same_site: SameSite,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub argon2: Argon2Settings,
    pub hash_concurrency: usize,
    /// Requests allowed to wait for a hashing slot before new ones get 503.
    pub hash_queue_limit: usize,
    pub throttle: ThrottleSettings,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// zxcvbn score (0–4) a new password must reach.
    pub password_min_score: u8,
    pub docs_enabled: bool,
    pub activity_retention: Duration,
    pub shutdown_drain: Duration,
    /// Where `/metrics` is served; `None` turns metrics off.
    pub metrics_addr: Option<SocketAddr>,
    pub database: DatabaseSettings,
    /// A request that takes longer (e.g. a database that stopped answering) gets 503.
    pub request_timeout: Duration,
    /// A connection whose request head has not arrived whole this long after it opened (or
    /// after its previous response) is closed: slow-header clients and idle keep-alives.
    pub header_read_timeout: Duration,
    pub jwt: JwtSettings,
    /// The API's public base URL, published as the spec's `servers` entry.
    pub public_url: Option<String>,
    pub mfa_issuer: String,
    pub webauthn: WebauthnSettings,
}

/// Brute-force limits (see `auth::throttle`). A limit of 0 turns that rule off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failures per username (or per known device) before delays start.
    pub login_failures: u32,
    /// Failed logins per client address in 15 minutes.
    pub ip_failures: u32,
    /// Registrations per client address in an hour.
    pub register_per_ip: u32,
    /// Passkey sign-in ceremonies started per client address in 15 minutes.
    pub passkey_start_per_ip: u32,
    /// How long a successful login's device cookie is trusted; zero disables device cookies.
    pub device_trust: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatabaseSettings {
    pub max_connections: u32,
    /// PostgreSQL `statement_timeout` for every pooled session.
    pub statement_timeout: Duration,
    /// PostgreSQL `lock_timeout` for every pooled session.
    pub lock_timeout: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwtSettings {
    pub algorithm: JwtAlgorithm,
    pub audience: String,
    /// `Cache-Control: max-age` of the JWKS.
    pub jwks_max_age: Duration,
    /// Automatic signing-key rotation period; `None` rotates only by hand.
    pub rotation: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwtAlgorithm {
    EdDsa,
    Es256,
    Hs256,
}

impl JwtAlgorithm {
    /// The JOSE name (`alg`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
            Self::Hs256 => "HS256",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "EdDSA" => Some(Self::EdDsa),
            "ES256" => Some(Self::Es256),
            "HS256" => Some(Self::Hs256),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebauthnSettings {
    pub rp_id: String,
    pub origin: String,
}

/// Argon2id cost parameters (OWASP's baseline by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// A string that never shows up in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database", &redact_url(&self.database_url))
            .field("jwt_secret", &self.jwt_secret)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("session_max_lifetime", &self.session_max_lifetime)
            .field("refresh_reuse_interval", &self.refresh_reuse_interval)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("cors_origins", &self.cors_origins)
            .field("cookie_secure", &self.cookie_secure)
            .field("cookie_same_site", &self.cookie_same_site)
            .field("log_format", &self.log_format)
            .field("argon2", &self.argon2)
            .field("hash_concurrency", &self.hash_concurrency)
            .field("hash_queue_limit", &self.hash_queue_limit)
            .field("throttle", &self.throttle)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("password_min_score", &self.password_min_score)
            .field("docs_enabled", &self.docs_enabled)
            .field("activity_retention", &self.activity_retention)
            .field("shutdown_drain", &self.shutdown_drain)
            .field("metrics_addr", &self.metrics_addr)
            .field("database_settings", &self.database)
            .field("request_timeout", &self.request_timeout)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("jwt", &self.jwt)
            .field("public_url", &self.public_url)
            .field("mfa_issuer", &self.mfa_issuer)
            .field("webauthn", &self.webauthn)
            .finish()
    }
}

/// Drops the password from `scheme://user:password@host/db` and from a `password=` query
/// parameter, so the URL can be logged.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut redacted = match (base.find("://"), base.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &base[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}://{}:***@{}", &base[..scheme_end], user, &base[at + 1..])
        }
        _ => base.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => param.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&params.join("&"));
    }
    redacted
}

/// Why startup stopped: always names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/latchkey.db?mode=rwc";
const MIN_SECRET_LEN: usize = 32;

impl Config {
    /// Reads the process environment (after a `.env` file in the working directory, if any;
    /// variables already set win over the file).
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is not silently ignored.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => {
                return Err(ConfigError {
                    variable: ".env",
                    reason: format!("could not be read: {e}"),
                });
            }
        }
        Self::from_vars(&std::env::vars().collect())
    }

    /// Parses a configuration from a map of variables: the testable core of `from_env`.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let env = Vars(vars);
        let jwt_secret = env.required("JWT_SECRET", parse_secret)?;
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let config = Self {
            database_url: env.or(
                "DATABASE_URL",
                DEFAULT_DATABASE_URL.to_owned(),
                parse_database_url,
            )?,
            jwt_secret,
            access_token_ttl: env.or("ACCESS_TOKEN_EXPIRATION", secs(900), parse_seconds)?,
            refresh_token_ttl: env.or("REFRESH_TOKEN_EXPIRATION", secs(604_800), parse_seconds)?,
            session_max_lifetime: env.or("SESSION_MAX_LIFETIME", secs(2_592_000), parse_seconds)?,
            refresh_reuse_interval: env.or(
                "REFRESH_REUSE_INTERVAL",
                secs(10),
                parse_seconds_or_zero,
            )?,
            host: env.or("HOST", IpAddr::from([127, 0, 0, 1]), parse_from_str)?,
            port: env.or("PORT", 8000, parse_from_str)?,
            cors_origins: env.or(
                "CORS_ORIGINS",
                vec!["http://localhost:5173".to_owned()],
                parse_origins,
            )?,
            cookie_secure: env.or("COOKIE_SECURE", false, parse_bool)?,
            cookie_same_site: env.or("COOKIE_SAMESITE", SameSite::Lax, parse_same_site)?,
            log_filter: env.or("RUST_LOG", "info".to_owned(), parse_log_filter)?,
            log_format: env.or("LOG_FORMAT", LogFormat::Pretty, parse_log_format)?,
            argon2: Argon2Settings {
                memory_kib: env.or("ARGON2_MEMORY_KIB", 19_456, |s| {
                    parse_in_range(s, 8, 4_194_304)
                })?,
                iterations: env.or("ARGON2_ITERATIONS", 2, |s| parse_in_range(s, 1, 64))?,
                parallelism: env.or("ARGON2_PARALLELISM", 1, |s| parse_in_range(s, 1, 64))?,
            },
            hash_concurrency: env.or("HASH_CONCURRENCY", cpus, |s| {
                parse_in_range(s, 1, 1024).map(|n: u32| n as usize)
            })?,
            hash_queue_limit: env.or("HASH_QUEUE_LIMIT", 64, |s| {
                parse_in_range(s, 1, 100_000).map(|n: u32| n as usize)
            })?,
            throttle: ThrottleSettings {
                login_failures: env
                    .or("LOGIN_THROTTLE_FAILURES", 5, |s| parse_in_range(s, 0, 1000))?,
                ip_failures: env.or("LOGIN_THROTTLE_IP_FAILURES", 50, |s| {
                    parse_in_range(s, 0, 1_000_000)
                })?,
                register_per_ip: env.or("REGISTER_LIMIT_PER_IP", 20, |s| {
                    parse_in_range(s, 0, 1_000_000)
                })?,
                passkey_start_per_ip: env.or("PASSKEY_START_LIMIT_PER_IP", 100, |s| {
                    parse_in_range(s, 0, 1_000_000)
                })?,
                device_trust: env.or("DEVICE_COOKIE_DAYS", days(365), |s| {
                    parse_in_range(s, 0, 3650).map(|n: u64| days(n))
                })?,
            },
            trusted_proxies: env.or("TRUSTED_PROXIES", Vec::new(), parse_cidrs)?,
            password_min_score: env.or("PASSWORD_MIN_SCORE", 3, |s| parse_in_range(s, 0, 4))?,
            docs_enabled: env.or("DOCS_ENABLED", true, parse_bool)?,
            activity_retention: env.or("ACTIVITY_RETENTION_DAYS", days(90), |s| {
                parse_in_range(s, 1, 3650).map(|n: u64| days(n))
            })?,
            shutdown_drain: env.or("SHUTDOWN_DRAIN_SECONDS", secs(1), parse_seconds_or_zero)?,
            metrics_addr: env.or("METRICS_ADDR", None, |s| parse_from_str(s).map(Some))?,
            database: DatabaseSettings {
                max_connections: env.or("DATABASE_MAX_CONNECTIONS", 32, |s| {
                    parse_in_range(s, 1, 10_000)
                })?,
                statement_timeout: env.or("DATABASE_STATEMENT_TIMEOUT_MS", millis(5000), |s| {
                    parse_in_range(s, 100, 3_600_000).map(millis)
                })?,
                lock_timeout: env.or("DATABASE_LOCK_TIMEOUT_MS", millis(2000), |s| {
                    parse_in_range(s, 100, 3_600_000).map(millis)
                })?,
            },
            request_timeout: env.or("REQUEST_TIMEOUT_MS", millis(10_000), |s| {
                parse_in_range(s, 100, 3_600_000).map(millis)
            })?,
            header_read_timeout: env.or("HEADER_READ_TIMEOUT_MS", millis(10_000), |s| {
                parse_in_range(s, 100, 3_600_000).map(millis)
            })?,
            jwt: JwtSettings {
                algorithm: env.or("JWT_ALGORITHM", JwtAlgorithm::EdDsa, |s| {
                    JwtAlgorithm::parse(s)
                        .ok_or_else(|| format!("must be EdDSA, ES256 or HS256, got {s:?}"))
                })?,
                audience: env.or("JWT_AUDIENCE", "latchkey".to_owned(), parse_audience)?,
                jwks_max_age: env.or("JWKS_MAX_AGE", secs(300), |s| {
                    parse_in_range(s, 0, 86_400).map(secs)
                })?,
                rotation: env.or("JWT_KEY_ROTATION_DAYS", Some(days(30)), |s| {
                    parse_in_range(s, 0, 3650).map(|n: u64| (n > 0).then(|| days(n)))
                })?,
            },
            public_url: env.or("PUBLIC_URL", None, |s| parse_public_url(s).map(Some))?,
            mfa_issuer: env.or("MFA_ISSUER", "Latchkey".to_owned(), parse_issuer_name)?,
            webauthn: WebauthnSettings {
                rp_id: env.or("WEBAUTHN_RP_ID", "localhost".to_owned(), parse_rp_id)?,
                origin: env.or(
                    "WEBAUTHN_ORIGIN",
                    "http://localhost:5173".to_owned(),
                    parse_origin,
                )?,
            },
        };
        config.check_relations()?;
        Ok(config)
    }

    /// The origins a browser shows for pages this API serves itself (Swagger UI at `/docs`),
    /// listening on `port`: the origin of `PUBLIC_URL` when it is set, else the loopback names
    /// a developer opens. Never the request's own `Host`, which a DNS-rebinding page controls.
    pub fn own_origins(&self, port: u16) -> Vec<String> {
        match self.public_url.as_deref().and_then(origin_of) {
            Some(origin) => vec![origin],
            None => ["localhost", "127.0.0.1", "[::1]"]
                .iter()
                .map(|host| format!("http://{host}:{port}"))
                .collect(),
        }
    }

    /// Rules that involve two variables at once.
    fn check_relations(&self) -> Result<(), ConfigError> {
        if self.argon2.memory_kib < 8 * self.argon2.parallelism {
            return Err(ConfigError {
                variable: "ARGON2_MEMORY_KIB",
                reason: "must be at least 8 × ARGON2_PARALLELISM".to_owned(),
            });
        }
        if self.cors_origins.is_empty() {
            return Err(ConfigError {
                variable: "CORS_ORIGINS",
                reason: "lists no origin; name the frontend's exact origin(s), e.g. http://localhost:5173"
                    .to_owned(),
            });
        }
        let webauthn_host = self
            .webauthn
            .origin
            .split_once("://")
            .map(|(_, rest)| rest.split(':').next().unwrap_or_default())
            .unwrap_or_default();
        if webauthn_host != self.webauthn.rp_id
            && !webauthn_host.ends_with(&format!(".{}", self.webauthn.rp_id))
        {
            return Err(ConfigError {
                variable: "WEBAUTHN_RP_ID",
                reason: "must be WEBAUTHN_ORIGIN's host or a parent domain of it".to_owned(),
            });
        }
        if self.refresh_token_ttl > self.session_max_lifetime {
            return Err(ConfigError {
                variable: "REFRESH_TOKEN_EXPIRATION",
                reason: "must not exceed SESSION_MAX_LIFETIME".to_owned(),
            });
        }
        Ok(())
    }
}

struct Vars<'a>(&'a HashMap<String, String>);

impl Vars<'_> {
    /// The parsed value of `name`, or `default` when it is unset or empty. A value that is set
    /// but parses to nothing (`CORS_ORIGINS=","`) is the parser's to refuse.
    fn or<T>(
        &self,
        name: &'static str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        match self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(raw) => parse(raw).map_err(|reason| ConfigError {
                variable: name,
                reason,
            }),
        }
    }

    fn required<T>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        match self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Err(ConfigError {
                variable: name,
                reason: "is required but not set; generate one with `openssl rand -hex 32`"
                    .to_owned(),
            }),
            Some(raw) => parse(raw).map_err(|reason| ConfigError {
                variable: name,
                reason,
            }),
        }
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn millis(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

/// The filter must parse now: a typo would otherwise silently log nothing (or everything).
fn parse_log_filter(raw: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(raw)
        .map(|_| raw.to_owned())
        .map_err(|e| {
            format!("is not a valid log filter ({e}), e.g. `info` or `latchkey=debug,info`")
        })
}

/// Comma-separated CIDRs or single addresses (`10.0.0.0/8, 192.168.1.7`).
fn parse_cidrs(raw: &str) -> Result<Vec<IpNet>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is not an IP address or CIDR range"))
        })
        .collect()
}

fn parse_audience(raw: &str) -> Result<String, String> {
    if raw.len() > 256 || raw.chars().any(char::is_control) {
        return Err("must be at most 256 printable characters".to_owned());
    }
    Ok(raw.to_owned())
}

fn parse_issuer_name(raw: &str) -> Result<String, String> {
    // It becomes part of an otpauth:// URI label, where ':' separates issuer and account.
    if raw.len() > 64 || raw.contains(':') || raw.chars().any(char::is_control) {
        return Err("must be at most 64 printable characters without ':'".to_owned());
    }
    Ok(raw.to_owned())
}

fn parse_public_url(raw: &str) -> Result<String, String> {
    let url = raw.trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("{raw:?} must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!("{raw:?} must be scheme://host[:port][/path]"));
    }
    Ok(url.to_owned())
}

/// The origin (RFC 6454) of an `http(s)://` URL as a browser serializes it: scheme and host in
/// lower case, the port only when it is not the scheme's default, no path.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let host_port = host_port.strip_suffix(default_port).unwrap_or(&host_port);
    (!host_port.is_empty()).then(|| format!("{scheme}://{host_port}"))
}

fn parse_rp_id(raw: &str) -> Result<String, String> {
    let valid = !raw.is_empty()
        && raw.len() <= 253
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if valid {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err(format!("{raw:?} must be a domain name such as example.com"))
    }
}

fn parse_secret(raw: &str) -> Result<Secret, String> {
    if raw.chars().count() < MIN_SECRET_LEN {
        return Err(format!(
            "must be at least {MIN_SECRET_LEN} characters; generate one with `openssl rand -hex 32`"
        ));
    }
    Ok(Secret::new(raw))
}

fn parse_database_url(raw: &str) -> Result<String, String> {
    if raw.starts_with("sqlite:")
        || raw.starts_with("postgres://")
        || raw.starts_with("postgresql://")
    {
        Ok(raw.to_owned())
    } else {
        Err("must start with sqlite: or postgres://".to_owned())
    }
}

fn parse_seconds(raw: &str) -> Result<Duration, String> {
    match raw.parse::<u64>() {
        Ok(n) if (1..=10 * 365 * 86_400).contains(&n) => Ok(secs(n)),
        _ => Err(format!(
            "must be a whole number of seconds between 1 and 315360000, got {raw:?}"
        )),
    }
}

fn parse_seconds_or_zero(raw: &str) -> Result<Duration, String> {
    match raw.parse::<u64>() {
        Ok(n) if n <= 3600 => Ok(secs(n)),
        _ => Err(format!(
            "must be a whole number of seconds between 0 and 3600, got {raw:?}"
        )),
    }
}

fn parse_from_str<T: FromStr>(raw: &str) -> Result<T, String> {
    raw.parse().map_err(|_| format!("is not valid: {raw:?}"))
}

fn parse_in_range<T: FromStr + PartialOrd + fmt::Display>(
    raw: &str,
    min: T,
    max: T,
) -> Result<T, String> {
    match raw.parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(format!(
            "must be a whole number between {min} and {max}, got {raw:?}"
        )),
    }
}

fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!("must be true or false, got {raw:?}")),
    }
}

fn parse_same_site(raw: &str) -> Result<SameSite, String> {
    match raw.to_ascii_lowercase().as_str() {
        "lax" => Ok(SameSite::Lax),
        "strict" => Ok(SameSite::Strict),
        _ => Err(format!("must be lax or strict, got {raw:?}")),
    }
}

fn parse_log_format(raw: &str) -> Result<LogFormat, String> {
    match raw.to_ascii_lowercase().as_str() {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!("must be pretty or json, got {raw:?}")),
    }
}

/// Exact origins only: a wildcard with credentials would let any site act as the user. An
/// empty list is refused by `check_relations` (poem's CORS treats it as "every origin").
fn parse_origins(raw: &str) -> Result<Vec<String>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(parse_origin)
        .collect()
}

fn parse_origin(origin: &str) -> Result<String, String> {
    if origin == "*" {
        return Err("must list exact origins; `*` is not allowed with credentials".to_owned());
    }
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .ok_or_else(|| format!("{origin:?} must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(format!(
            "{origin:?} must be scheme://host[:port] with no path or trailing slash"
        ));
    }
    Ok(origin.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry("JWT_SECRET".into())
            .or_insert_with(|| "x".repeat(32));
        map
    }

    fn error_for(pairs: &[(&str, &str)]) -> ConfigError {
        match Config::from_vars(&vars(pairs)) {
            Err(e) => e,
            Ok(_) => panic!("expected an error for {pairs:?}"),
        }
    }

    #[test]
    fn defaults_match_the_readme() {
        let config = Config::from_vars(&vars(&[])).expect("defaults parse");
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.access_token_ttl, secs(900));
        assert_eq!(config.refresh_token_ttl, secs(604_800));
        assert_eq!(config.session_max_lifetime, secs(2_592_000));
        assert_eq!(config.refresh_reuse_interval, secs(10));
        assert_eq!(config.port, 8000);
        assert_eq!(config.header_read_timeout, millis(10_000));
        assert_eq!(config.cors_origins, vec!["http://localhost:5173"]);
        assert!(!config.cookie_secure);
        assert_eq!(config.cookie_same_site, SameSite::Lax);
        assert_eq!(
            config.argon2,
            Argon2Settings {
                memory_kib: 19_456,
                iterations: 2,
                parallelism: 1
            }
        );
    }

    #[test]
    fn a_missing_secret_names_the_variable_and_how_to_make_one() {
        let e = Config::from_vars(&HashMap::new()).expect_err("no secret");
        assert_eq!(e.variable, "JWT_SECRET");
        assert!(e.to_string().contains("openssl rand -hex 32"));
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert_eq!(error_for(&[("JWT_SECRET", "short")]).variable, "JWT_SECRET");
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert_eq!(error_for(&[("PORT", "http")]).variable, "PORT");
        assert_eq!(
            error_for(&[("ACCESS_TOKEN_EXPIRATION", "-5")]).variable,
            "ACCESS_TOKEN_EXPIRATION"
        );
        assert_eq!(error_for(&[("CORS_ORIGINS", "*")]).variable, "CORS_ORIGINS");
        assert_eq!(
            error_for(&[("CORS_ORIGINS", "http://a.example/")]).variable,
            "CORS_ORIGINS"
        );
        assert_eq!(
            error_for(&[("COOKIE_SAMESITE", "none")]).variable,
            "COOKIE_SAMESITE"
        );
        assert_eq!(
            error_for(&[("DATABASE_URL", "mysql://x")]).variable,
            "DATABASE_URL"
        );
        assert_eq!(
            error_for(&[("HASH_CONCURRENCY", "0")]).variable,
            "HASH_CONCURRENCY"
        );
        assert_eq!(error_for(&[("LOG_FORMAT", "xml")]).variable, "LOG_FORMAT");
    }

    #[test]
    fn an_origin_list_with_no_origin_stops_startup() {
        for empty in [",", " , ,"] {
            let e = error_for(&[("CORS_ORIGINS", empty)]);
            assert_eq!(e.variable, "CORS_ORIGINS");
            assert!(e.reason.contains("no origin"), "{e}");
        }
    }

    #[test]
    fn new_settings_parse_and_name_their_variable() {
        let config = Config::from_vars(&vars(&[
            ("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7,::1"),
            ("LOGIN_THROTTLE_IP_FAILURES", "0"),
            ("METRICS_ADDR", "127.0.0.1:9100"),
            ("JWT_ALGORITHM", "ES256"),
            ("JWT_KEY_ROTATION_DAYS", "0"),
            ("PUBLIC_URL", "https://auth.example.com/"),
        ]))
        .expect("parses");
        assert_eq!(config.trusted_proxies.len(), 3);
        assert_eq!(config.throttle.ip_failures, 0);
        assert_eq!(config.metrics_addr, Some("127.0.0.1:9100".parse().unwrap()));
        assert_eq!(config.jwt.algorithm, JwtAlgorithm::Es256);
        assert_eq!(config.jwt.rotation, None);
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://auth.example.com")
        );
        for (variable, bad) in [
            ("TRUSTED_PROXIES", "10.0.0.0/33"),
            ("RUST_LOG", "info,[[["),
            ("PASSWORD_MIN_SCORE", "5"),
            ("JWT_ALGORITHM", "none"),
            ("METRICS_ADDR", "9100"),
            ("PUBLIC_URL", "auth.example.com"),
            ("DOCS_ENABLED", "maybe"),
            ("HASH_QUEUE_LIMIT", "0"),
            ("HEADER_READ_TIMEOUT_MS", "50"),
            ("WEBAUTHN_RP_ID", "example.com"),
        ] {
            assert_eq!(error_for(&[(variable, bad)]).variable, variable, "{bad}");
        }
    }

    #[test]
    fn the_apis_own_origins_come_from_public_url_or_else_loopback() {
        let local = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(
            local.own_origins(8123),
            [
                "http://localhost:8123",
                "http://127.0.0.1:8123",
                "http://[::1]:8123"
            ]
        );
        for (public_url, origin) in [
            ("https://Auth.Example.com/", "https://auth.example.com"),
            (
                "https://auth.example.com:443/api",
                "https://auth.example.com",
            ),
            (
                "http://auth.example.com:8080/api/",
                "http://auth.example.com:8080",
            ),
            ("http://10.0.0.5:80", "http://10.0.0.5"),
        ] {
            let config = Config::from_vars(&vars(&[("PUBLIC_URL", public_url)])).unwrap();
            assert_eq!(config.own_origins(8123), [origin], "{public_url}");
        }
    }

    #[test]
    fn a_password_in_a_url_query_is_redacted_too() {
        assert_eq!(
            redact_url("postgres://db/latchkey?user=app&password=hunter2&sslmode=require"),
            "postgres://db/latchkey?user=app&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("sqlite://data/latchkey.db?mode=rwc"),
            "sqlite://data/latchkey.db?mode=rwc"
        );
    }

    #[test]
    fn debug_output_hides_secrets() {
        let config = Config::from_vars(&vars(&[
            ("JWT_SECRET", "super-secret-value-that-is-long-enough"),
            ("DATABASE_URL", "postgres://app:hunter2@db:5432/latchkey"),
        ]))
        .expect("parses");
        let shown = format!("{config:?}");
        assert!(!shown.contains("super-secret"));
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("postgres://app:***@db:5432/latchkey"));
    }
}

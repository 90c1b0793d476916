//! Configuration: every environment variable Latchkey reads, its default, and the one clear
//! error that stops startup when a value is wrong.

use std::{collections::HashMap, fmt, net::IpAddr, str::FromStr, time::Duration};

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
    pub login_free_failures: u32,
    pub shutdown_drain: Duration,
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
            .field("login_free_failures", &self.login_free_failures)
            .field("shutdown_drain", &self.shutdown_drain)
            .finish()
    }
}

/// Drops the password from `scheme://user:password@host/db` so the URL can be logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
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
            log_filter: env.or("RUST_LOG", "info".to_owned(), |s| Ok(s.to_owned()))?,
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
            login_free_failures: env
                .or("LOGIN_THROTTLE_FAILURES", 5, |s| parse_in_range(s, 0, 1000))?,
            shutdown_drain: env.or("SHUTDOWN_DRAIN_SECONDS", secs(1), parse_seconds_or_zero)?,
        };
        config.check_relations()?;
        Ok(config)
    }

    /// Rules that involve two variables at once.
    fn check_relations(&self) -> Result<(), ConfigError> {
        if self.argon2.memory_kib < 8 * self.argon2.parallelism {
            return Err(ConfigError {
                variable: "ARGON2_MEMORY_KIB",
                reason: "must be at least 8 × ARGON2_PARALLELISM".to_owned(),
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
    /// The parsed value of `name`, or `default` when it is unset or empty.
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

/// Exact origins only: a wildcard with credentials would let any site act as the user.
fn parse_origins(raw: &str) -> Result<Vec<String>, String> {
    let mut origins = Vec::new();
    for origin in raw.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        if origin == "*" {
            return Err("must list exact origins; `*` is not allowed with credentials".to_owned());
        }
        let rest = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .ok_or_else(|| format!("{origin:?} must start with http:// or https://"))?;
        if rest.is_empty() || rest.contains('/') {
            return Err(format!(
                "{origin:?} must be scheme://host[:port] with no path or trailing slash"
            ));
        }
        origins.push(origin.to_owned());
    }
    Ok(origins)
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

//! Configuration: every environment variable Latchkey reads, its default, and the one clear
//! error that stops startup when a value is wrong. Each part is read into the type of the module
//! that uses it (`auth::Settings`, `storage::DatabaseSettings`, `telemetry::LogFormat`), so
//! none of them reads the environment or knows this module.

mod auth;
mod parse;
mod vars;

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use ipnet::IpNet;

pub use self::vars::ConfigError;
use self::{
    parse::{
        days, millis, origin_of, parse_bool, parse_cidrs, parse_database_url, parse_from_str,
        parse_in_range, parse_log_filter, parse_log_format, parse_mailbox, parse_origins,
        parse_public_url, parse_same_site, parse_seconds_or_zero, parse_smtp_url, secs,
    },
    vars::Vars,
};
use crate::{
    storage::{DatabaseSettings, DatabaseUrl},
    telemetry::LogFormat,
};

/// Everything the server needs to run, parsed once at startup. `Debug` shows every field; the
/// secret and the database password redact themselves.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub database: DatabaseSettings,
    pub host: IpAddr,
    pub port: u16,
    /// The API's public base URL, published as the spec's `servers` entry.
    pub public_url: Option<String>,
    pub cors_origins: Vec<String>,
    pub cookie_secure: bool,
    pub cookie_same_site: SameSite,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    pub docs_enabled: bool,
    /// Where `/metrics` is served; `None` turns metrics off.
    pub metrics_addr: Option<SocketAddr>,
    /// A request that takes longer (e.g. a database that stopped answering) gets 503.
    pub request_timeout: Duration,
    /// A connection whose request head has not arrived whole this long after it opened (or
    /// after its previous response) is closed: slow-header clients and idle keep-alives.
    pub header_read_timeout: Duration,
    pub shutdown_drain: Duration,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub activity_retention: Duration,
    /// How to send mail (`SMTP_URL`, `MAIL_FROM`); `None` turns email features off.
    pub mail: Option<crate::mail::MailSettings>,
    /// The authentication core's part: tokens, sessions, hashing, limits, second factors.
    pub auth: crate::auth::Settings,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/latchkey.db?mode=rwc";

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
        Self::read(&Vars::new(vars))
    }

    fn read(env: &Vars) -> Result<Self, ConfigError> {
        let mut config = Self {
            database_url: env.or(
                "DATABASE_URL",
                DatabaseUrl::new(DEFAULT_DATABASE_URL),
                parse_database_url,
            )?,
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
                acquire_timeout: env.or("DATABASE_ACQUIRE_TIMEOUT_MS", millis(1500), |s| {
                    parse_in_range(s, 100, 600_000).map(millis)
                })?,
            },
            host: env.or("HOST", IpAddr::from([127, 0, 0, 1]), parse_from_str)?,
            port: env.or("PORT", 8000, parse_from_str)?,
            public_url: env.or("PUBLIC_URL", None, |s| parse_public_url(s).map(Some))?,
            cors_origins: env.or(
                "CORS_ORIGINS",
                vec!["http://localhost:5173".to_owned()],
                parse_origins,
            )?,
            cookie_secure: env.or("COOKIE_SECURE", false, parse_bool)?,
            cookie_same_site: env.or("COOKIE_SAMESITE", SameSite::Lax, parse_same_site)?,
            trusted_proxies: env.or("TRUSTED_PROXIES", Vec::new(), parse_cidrs)?,
            docs_enabled: env.or("DOCS_ENABLED", true, parse_bool)?,
            metrics_addr: env.or("METRICS_ADDR", None, |s| parse_from_str(s).map(Some))?,
            request_timeout: env.or("REQUEST_TIMEOUT_MS", millis(10_000), |s| {
                parse_in_range(s, 100, 3_600_000).map(millis)
            })?,
            header_read_timeout: env.or("HEADER_READ_TIMEOUT_MS", millis(10_000), |s| {
                parse_in_range(s, 100, 3_600_000).map(millis)
            })?,
            shutdown_drain: env.or("SHUTDOWN_DRAIN_SECONDS", secs(1), parse_seconds_or_zero)?,
            log_filter: env.or("RUST_LOG", "info".to_owned(), parse_log_filter)?,
            log_format: env.or("LOG_FORMAT", LogFormat::Pretty, parse_log_format)?,
            activity_retention: env.or("ACTIVITY_RETENTION_DAYS", days(90), |s| {
                parse_in_range(s, 1, 3650).map(|n: u64| days(n))
            })?,
            mail: match env.or("SMTP_URL", None, |s| parse_smtp_url(s).map(Some))? {
                Some(smtp_url) => Some(crate::mail::MailSettings {
                    smtp_url,
                    from: env
                        .or("MAIL_FROM", None, |s| parse_mailbox(s).map(Some))?
                        .ok_or_else(|| ConfigError {
                            variable: "MAIL_FROM",
                            reason: "is required when SMTP_URL is set, e.g. Latchkey <no-reply@example.com>"
                                .to_owned(),
                        })?,
                }),
                None => None,
            },
            auth: auth::settings(env)?,
        };
        config.auth.id_tokens = config.public_url.is_some();
        if config.mail.is_some() {
            config.auth.mail = Some(crate::auth::notices::MailPolicy::new(
                &config.auth.app_url,
                &config.auth.mfa_issuer,
            ));
        }
        if config.cors_origins.is_empty() {
            return Err(ConfigError {
                variable: "CORS_ORIGINS",
                reason: "lists no origin; name the frontend's exact origin(s), e.g. http://localhost:5173"
                    .to_owned(),
            });
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::JwtAlgorithm;

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

    /// Every row of the README's configuration tables: the variable and its default as
    /// written there (`` `900` ``, `unset`, `required` …).
    fn documented_defaults() -> Vec<(String, String)> {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
            .expect("README.md is readable");
        let section = readme
            .split("\n## Configuration\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("the README has a Configuration section");
        section
            .lines()
            .filter_map(|line| {
                let mut cells = line.split('|').map(str::trim).skip(1);
                let name = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
                Some((name.to_owned(), cells.next()?.to_owned()))
            })
            .collect()
    }

    #[test]
    fn defaults_match_the_readme() {
        let documented = documented_defaults();
        let unset = Config::from_vars(&vars(&[])).expect("defaults parse");
        for (name, default) in &documented {
            if let Some(literal) = default.strip_prefix('`').and_then(|d| d.strip_suffix('`')) {
                // Setting the documented default must change nothing.
                let set = Config::from_vars(&vars(&[(name, literal)]))
                    .unwrap_or_else(|e| panic!("the README's default of {name} is refused: {e}"));
                assert_eq!(
                    format!("{set:?}"),
                    format!("{unset:?}"),
                    "{name}: the README says `{literal}`, the code uses something else"
                );
                continue;
            }
            let holds = match (name.as_str(), default.as_str()) {
                ("JWT_SECRET", "required") => {
                    Config::from_vars(&HashMap::new()).is_err_and(|e| e.variable == "JWT_SECRET")
                }
                ("PUBLIC_URL", "unset") => unset.public_url.is_none(),
                ("METRICS_ADDR", "unset (off)") => unset.metrics_addr.is_none(),
                ("TRUSTED_PROXIES", "empty") => unset.trusted_proxies.is_empty(),
                ("SMTP_URL", "unset (mail off)") => {
                    unset.mail.is_none() && unset.auth.mail.is_none()
                }
                ("MAIL_FROM", "required with `SMTP_URL`") => {
                    Config::from_vars(&vars(&[("SMTP_URL", "smtp://127.0.0.1:25")]))
                        .is_err_and(|e| e.variable == "MAIL_FROM")
                }
                ("HASH_CONCURRENCY", "number of CPUs") => {
                    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
                    unset.auth.hash_concurrency == cpus
                }
                _ => panic!("{name}: teach this test what the README's default {default:?} means"),
            };
            assert!(
                holds,
                "{name}: the README says {default:?}, the code does not"
            );
        }
        // Every variable read is documented, and every documented one is read (some are read
        // only when another one is set: mail's sender once there is a server).
        let mut read = Vec::new();
        for values in [
            vars(&[]),
            vars(&[
                ("SMTP_URL", "smtp://127.0.0.1:25"),
                ("MAIL_FROM", "a@example.com"),
            ]),
        ] {
            let env = Vars::new(&values);
            Config::read(&env).expect("defaults parse");
            read.extend(env.asked());
        }
        let names: Vec<&str> = documented.iter().map(|(name, _)| name.as_str()).collect();
        let undocumented: Vec<&str> = read
            .iter()
            .copied()
            .filter(|n| !names.contains(n))
            .collect();
        let unread: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !read.contains(n))
            .collect();
        assert!(
            undocumented.is_empty(),
            "read but not in the README: {undocumented:?}"
        );
        assert!(
            unread.is_empty(),
            "in the README but never read: {unread:?}"
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
        assert_eq!(config.auth.throttle.ip_failures, 0);
        assert_eq!(config.metrics_addr, Some("127.0.0.1:9100".parse().unwrap()));
        assert_eq!(config.auth.jwt.algorithm, JwtAlgorithm::Es256);
        assert_eq!(config.auth.jwt.rotation, None);
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

//! Parsers for variable values: each returns the value or a reason that fits after the
//! variable's name ("PORT: is not valid: …").

use std::{fmt, net::IpAddr, str::FromStr, time::Duration};

use ipnet::IpNet;

use super::SameSite;
use crate::{auth::secrets::Secret, storage::DatabaseUrl, telemetry::LogFormat};

const MIN_SECRET_LEN: usize = 32;

pub(super) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub(super) fn millis(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(super) fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

/// The filter must parse now: a typo would otherwise silently log nothing (or everything).
pub(super) fn parse_log_filter(raw: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(raw)
        .map(|_| raw.to_owned())
        .map_err(|e| {
            format!("is not a valid log filter ({e}), e.g. `info` or `latchkey=debug,info`")
        })
}

/// Comma-separated CIDRs or single addresses (`10.0.0.0/8, 192.168.1.7`).
pub(super) fn parse_cidrs(raw: &str) -> Result<Vec<IpNet>, String> {
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

pub(super) fn parse_audience(raw: &str) -> Result<String, String> {
    if raw.len() > 256 || raw.chars().any(char::is_control) {
        return Err("must be at most 256 printable characters".to_owned());
    }
    Ok(raw.to_owned())
}

pub(super) fn parse_issuer_name(raw: &str) -> Result<String, String> {
    // It becomes part of an otpauth:// URI label, where ':' separates issuer and account.
    if raw.len() > 64 || raw.contains(':') || raw.chars().any(char::is_control) {
        return Err("must be at most 64 printable characters without ':'".to_owned());
    }
    Ok(raw.to_owned())
}

/// `smtp://` (plain, or STARTTLS with `?tls=required`) or `smtps://` (TLS from the start);
/// lettre reads the rest (user, password, host, port).
pub(super) fn parse_smtp_url(raw: &str) -> Result<String, String> {
    let scheme = raw.split_once("://").map(|(scheme, _)| scheme);
    if !matches!(scheme, Some("smtp" | "smtps")) {
        return Err("must start with smtp:// or smtps:// (e.g. smtp://mail:1025)".to_owned());
    }
    lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(raw)
        .map(|_| raw.to_owned())
        .map_err(|_| {
            "is not a valid SMTP URL (smtp[s]://[user:password@]host[:port][?tls=required])"
                .to_owned()
        })
}

/// `Name <address@example.com>` or a bare address.
pub(super) fn parse_mailbox(raw: &str) -> Result<lettre::message::Mailbox, String> {
    raw.parse().map_err(|_| {
        format!(
            "{raw:?} must be an address, optionally with a name: Latchkey <no-reply@example.com>"
        )
    })
}

pub(super) fn parse_public_url(raw: &str) -> Result<String, String> {
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
pub(super) fn origin_of(url: &str) -> Option<String> {
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

pub(super) fn parse_rp_id(raw: &str) -> Result<String, String> {
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

pub(super) fn parse_secret(raw: &str) -> Result<Secret, String> {
    if raw.chars().count() < MIN_SECRET_LEN {
        return Err(format!(
            "must be at least {MIN_SECRET_LEN} characters; generate one with `openssl rand -hex 32`"
        ));
    }
    Ok(Secret::new(raw))
}

pub(super) fn parse_database_url(raw: &str) -> Result<DatabaseUrl, String> {
    if raw.starts_with("sqlite:")
        || raw.starts_with("postgres://")
        || raw.starts_with("postgresql://")
    {
        Ok(DatabaseUrl::new(raw))
    } else {
        Err("must start with sqlite: or postgres://".to_owned())
    }
}

pub(super) fn parse_seconds(raw: &str) -> Result<Duration, String> {
    match raw.parse::<u64>() {
        Ok(n) if (1..=10 * 365 * 86_400).contains(&n) => Ok(secs(n)),
        _ => Err(format!(
            "must be a whole number of seconds between 1 and 315360000, got {raw:?}"
        )),
    }
}

pub(super) fn parse_seconds_or_zero(raw: &str) -> Result<Duration, String> {
    match raw.parse::<u64>() {
        Ok(n) if n <= 3600 => Ok(secs(n)),
        _ => Err(format!(
            "must be a whole number of seconds between 0 and 3600, got {raw:?}"
        )),
    }
}

pub(super) fn parse_from_str<T: FromStr>(raw: &str) -> Result<T, String> {
    raw.parse().map_err(|_| format!("is not valid: {raw:?}"))
}

pub(super) fn parse_in_range<T: FromStr + PartialOrd + fmt::Display>(
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

pub(super) fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!("must be true or false, got {raw:?}")),
    }
}

pub(super) fn parse_same_site(raw: &str) -> Result<SameSite, String> {
    match raw.to_ascii_lowercase().as_str() {
        "lax" => Ok(SameSite::Lax),
        "strict" => Ok(SameSite::Strict),
        _ => Err(format!("must be lax or strict, got {raw:?}")),
    }
}

pub(super) fn parse_log_format(raw: &str) -> Result<LogFormat, String> {
    match raw.to_ascii_lowercase().as_str() {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!("must be pretty or json, got {raw:?}")),
    }
}

/// Exact origins only: a wildcard with credentials would let any site act as the user. An
/// empty list is refused by `check_relations` (poem's CORS treats it as "every origin").
pub(super) fn parse_origins(raw: &str) -> Result<Vec<String>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(parse_origin)
        .collect()
}

pub(super) fn parse_origin(origin: &str) -> Result<String, String> {
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

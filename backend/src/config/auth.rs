//! The authentication core's variables (tokens, sessions, hashing, limits, second factors),
//! read into `auth::Settings`.

use crate::{
    auth::{
        SessionPolicy, Settings,
        keys::{JwtAlgorithm, JwtSettings},
        passkeys::WebauthnSettings,
        password_hash::Argon2Settings,
        throttle::ThrottleSettings,
    },
    domain::PasswordPolicy,
};

use super::{
    ConfigError,
    parse::{
        days, parse_audience, parse_in_range, parse_issuer_name, parse_origin, parse_public_url,
        parse_rp_id, parse_seconds, parse_seconds_or_zero, parse_secret, secs,
    },
    vars::Vars,
};

pub(super) fn settings(env: &Vars) -> Result<Settings, ConfigError> {
    let jwt_secret = env.required("JWT_SECRET", parse_secret)?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let settings = Settings {
        jwt_secret,
        sessions: SessionPolicy {
            access_ttl: env.or("ACCESS_TOKEN_EXPIRATION", secs(900), parse_seconds)?,
            refresh_ttl: env.or("REFRESH_TOKEN_EXPIRATION", secs(604_800), parse_seconds)?,
            max_lifetime: env.or("SESSION_MAX_LIFETIME", secs(2_592_000), parse_seconds)?,
            reuse_interval: env.or("REFRESH_REUSE_INTERVAL", secs(10), parse_seconds_or_zero)?,
        },
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
            login_failures: env.or("LOGIN_THROTTLE_FAILURES", 5, |s| parse_in_range(s, 0, 1000))?,
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
        passwords: PasswordPolicy {
            min_score: env.or("PASSWORD_MIN_SCORE", 3, |s| parse_in_range(s, 0, 4))?,
        },
        jwt: JwtSettings {
            algorithm: env.or("JWT_ALGORITHM", JwtAlgorithm::EdDsa, |s| {
                JwtAlgorithm::parse(s)
                    // RS256 keys sign ID tokens only (see `auth::keys`).
                    .filter(|alg| *alg != JwtAlgorithm::Rs256)
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
        mfa_issuer: env.or("MFA_ISSUER", "Latchkey".to_owned(), parse_issuer_name)?,
        webauthn: WebauthnSettings {
            rp_id: env.or("WEBAUTHN_RP_ID", "localhost".to_owned(), parse_rp_id)?,
            origin: env.or(
                "WEBAUTHN_ORIGIN",
                "http://localhost:5173".to_owned(),
                parse_origin,
            )?,
        },
        app_url: env.or(
            "APP_URL",
            "http://localhost:5173".to_owned(),
            parse_public_url,
        )?,
        // Set by `Config::read` once it knows whether mail is on.
        mail: None,
        // Set by `Config::read` once it knows whether `PUBLIC_URL` is set.
        id_tokens: false,
    };
    check_relations(&settings)?;
    Ok(settings)
}

/// Rules that involve two variables at once.
fn check_relations(settings: &Settings) -> Result<(), ConfigError> {
    if settings.argon2.memory_kib < 8 * settings.argon2.parallelism {
        return Err(ConfigError {
            variable: "ARGON2_MEMORY_KIB",
            reason: "must be at least 8 × ARGON2_PARALLELISM".to_owned(),
        });
    }
    let webauthn = &settings.webauthn;
    let webauthn_host = webauthn
        .origin
        .split_once("://")
        .map(|(_, rest)| rest.split(':').next().unwrap_or_default())
        .unwrap_or_default();
    if webauthn_host != webauthn.rp_id && !webauthn_host.ends_with(&format!(".{}", webauthn.rp_id))
    {
        return Err(ConfigError {
            variable: "WEBAUTHN_RP_ID",
            reason: "must be WEBAUTHN_ORIGIN's host or a parent domain of it".to_owned(),
        });
    }
    if settings.sessions.refresh_ttl > settings.sessions.max_lifetime {
        return Err(ConfigError {
            variable: "REFRESH_TOKEN_EXPIRATION",
            reason: "must not exceed SESSION_MAX_LIFETIME".to_owned(),
        });
    }
    Ok(())
}

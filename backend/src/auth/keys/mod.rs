//! Access-token signing keys: asymmetric by default (Ed25519, or P-256), kept in the database so
//! every instance signs and verifies with the same set, private halves sealed with a key
//! derived from `JWT_SECRET` (see `secrets`), public halves published as a JWKS.
//!
//! Rotation without downtime, as a timeline every instance computes from the same rows:
//! a new key is published as *next* `JWKS_MAX_AGE` + one reload interval before it signs, so
//! every verifier's cached JWKS knows it by then; the key it replaces stops signing at that
//! moment and stays published until every token it signed has expired, plus `JWKS_MAX_AGE`.
//! Retiring a key by hand (a compromise) removes it at once and ends the tokens it signed.
//!
//! Every change to the keys is announced in its own transaction (`changes::announce`), and each
//! instance reloads when it hears of one (`changes::follow`, started by `startup`): within about a
//! second on SQLite, as soon as the notification arrives on PostgreSQL. The reload every
//! `RELOAD_EVERY` stays, for an instance that could not hear.
//!
//! RSA keys (RS256) form a second line with the same timeline: they sign OpenID Connect ID
//! tokens only, so access tokens keep `JWT_ALGORITHM` whatever clients need.
//!
//! `timeline` says what every key is at an instant, `generation` makes key pairs, `ring` holds
//! the keys in force (and reloads them), `rotation` changes them under a lock.

mod generation;
mod ring;
mod rotation;
mod timeline;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use self::{
    ring::{KeyRing, Verification},
    rotation::{list, purge_expired, retire, rotate},
    timeline::{KeyState, states},
};
use super::Settings;

/// How often every instance re-reads the key set whether or not it heard of a change: the bound
/// for an instance whose change notifications were cut off.
pub const RELOAD_EVERY: Duration = Duration::from_secs(60);

pub const ISSUER: &str = "latchkey";
/// RFC 9068 §2.1: the access-token JWT type.
pub const TOKEN_TYPE: &str = "at+jwt";
/// RFC 9068 §2.2 requires `client_id`; Latchkey's own clients share one.
pub const CLIENT_ID: &str = "latchkey";

/// Access-token signing as configured (`JWT_*`, `JWKS_MAX_AGE`).
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
    /// ID tokens only: RSA keys are a line of their own (see `timeline`), never access tokens.
    Rs256,
}

impl JwtAlgorithm {
    /// The JOSE name (`alg`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
            Self::Hs256 => "HS256",
            Self::Rs256 => "RS256",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "EdDSA" => Some(Self::EdDsa),
            "ES256" => Some(Self::Es256),
            "HS256" => Some(Self::Hs256),
            "RS256" => Some(Self::Rs256),
            _ => None,
        }
    }
}

/// The settings the key ring works with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPolicy {
    /// What new keys use.
    pub algorithm: JwtAlgorithm,
    pub audience: String,
    pub access_ttl: Duration,
    pub jwks_max_age: Duration,
    /// Automatic rotation period; `None` rotates only by hand.
    pub rotation: Option<Duration>,
    /// Whether the RSA line for ID tokens is kept (an OpenID provider: `PUBLIC_URL` set).
    pub id_tokens: bool,
}

impl KeyPolicy {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            algorithm: settings.jwt.algorithm,
            audience: settings.jwt.audience.clone(),
            access_ttl: settings.sessions.access_ttl,
            jwks_max_age: settings.jwt.jwks_max_age,
            rotation: settings.jwt.rotation,
            id_tokens: settings.id_tokens,
        }
    }

    /// How long before it signs a new key is published.
    pub fn lead(&self) -> Duration {
        self.jwks_max_age + RELOAD_EVERY
    }
}

/// A public key as published in the JWKS (RFC 7517, RFC 8037 for Ed25519, RFC 7518 §6.3 for
/// RSA).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

/// One published key with its id and algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    pub kid: String,
    pub alg: &'static str,
    pub jwk: PublicJwk,
}

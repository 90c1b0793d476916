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

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait as _, QueryFilter as _, QueryOrder as _, Statement, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{AuthError, Settings, secrets::Secrets, sessions::duration, tokens::AccessClaims};
use crate::{
    changes::{self, Topic},
    entity::signing_key,
    storage,
};

/// How often every instance re-reads the key set whether or not it heard of a change: the bound
/// for an instance whose change notifications were cut off.
pub const RELOAD_EVERY: Duration = Duration::from_secs(60);
/// An unknown `kid` triggers a reload at most this often (a forged one must not flood the db).
const UNKNOWN_KID_RELOAD: Duration = Duration::from_secs(1);
/// Clock skew tolerated on `exp` and `iat`, in seconds.
const LEEWAY_SECS: i64 = 5;
/// Verified tokens remembered, so a token used many times costs one signature check.
const VERIFIED_CACHE: usize = 20_000;
/// Distinguishes Latchkey's key-rotation lock from any other user of the database.
const ROTATION_LOCK: i64 = 0x6c61_7463_686b_0003;

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
}

impl KeyPolicy {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            algorithm: settings.jwt.algorithm,
            audience: settings.jwt.audience.clone(),
            access_ttl: settings.sessions.access_ttl,
            jwks_max_age: settings.jwt.jwks_max_age,
            rotation: settings.jwt.rotation,
        }
    }

    /// How long before it signs a new key is published.
    pub fn lead(&self) -> Duration {
        self.jwks_max_age + RELOAD_EVERY
    }
}

/// A public key as published in the JWKS (RFC 7517, RFC 8037 for Ed25519).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// One published key with its id and algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    pub kid: String,
    pub alg: &'static str,
    pub jwk: PublicJwk,
}

/// Where a key is in its life at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published; starts signing at its `activates_at`.
    Next,
    /// Signs new tokens.
    Current,
    /// Replaced at `signed_until`; verifies until `verifies_until`, published until
    /// `published_until`.
    Retired {
        signed_until: DateTime<Utc>,
        verifies_until: DateTime<Utc>,
        published_until: DateTime<Utc>,
    },
    /// Over: neither verifies nor is published.
    Expired,
    /// Retired by hand: nothing it signed is accepted.
    Revoked,
}

/// What the timeline says of every key at `now` (pure: computed alike by every instance).
/// Keys take over from each other in order of activation.
pub fn states(
    rows: &[signing_key::Model],
    policy: &KeyPolicy,
    now: DateTime<Utc>,
) -> Vec<(String, KeyState)> {
    let mut live: Vec<&signing_key::Model> =
        rows.iter().filter(|k| k.revoked_at.is_none()).collect();
    live.sort_by_key(|k| (k.activates_at, k.created_at));
    let state_of = |key: &signing_key::Model| {
        if key.revoked_at.is_some() {
            return KeyState::Revoked;
        }
        if key.activates_at > now {
            return KeyState::Next;
        }
        let position = live.iter().position(|k| k.kid == key.kid);
        let successor = position.and_then(|i| live.get(i + 1));
        match successor.filter(|next| next.activates_at <= now) {
            None => KeyState::Current,
            Some(next) => {
                let signed_until = next.activates_at;
                let verifies_until = signed_until + duration(policy.access_ttl);
                let published_until = verifies_until + duration(policy.jwks_max_age);
                if published_until <= now {
                    KeyState::Expired
                } else {
                    KeyState::Retired {
                        signed_until,
                        verifies_until,
                        published_until,
                    }
                }
            }
        }
    };
    rows.iter()
        .map(|key| (key.kid.clone(), state_of(key)))
        .collect()
}

struct Signer {
    kid: String,
    algorithm: Algorithm,
    key: EncodingKey,
    /// The key signs from this instant until the next signer's: chosen at signing time, so
    /// every instance switches at the same moment whenever it last reloaded.
    activates_at: DateTime<Utc>,
}

struct Verifier {
    key: DecodingKey,
    validation: Validation,
    /// The span in which this key signed (or may sign): a token claiming another issue time
    /// is refused.
    signs_from: DateTime<Utc>,
    signs_until: Option<DateTime<Utc>>,
}

/// The keys in force, as last loaded.
#[derive(Default)]
struct KeySet {
    /// Current and next keys, by activation.
    signers: Vec<Signer>,
    verifiers: HashMap<String, Verifier>,
    published: Vec<PublishedKey>,
}

/// The outcome of checking an access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Valid(Arc<AccessClaims>),
    /// Well formed, but signed with a `kid` this instance does not know (yet).
    UnknownKey,
    Invalid,
}

/// Every instance's view of the signing keys; see the module documentation.
pub struct KeyRing {
    policy: KeyPolicy,
    set: RwLock<Arc<KeySet>>,
    last_unknown_reload: Mutex<Option<Instant>>,
    verified: quick_cache::sync::Cache<[u8; 32], Arc<AccessClaims>>,
}

impl KeyRing {
    /// Loads the key set, creating the first key (or the one the configured algorithm needs)
    /// when due.
    pub async fn load(
        db: &DatabaseConnection,
        secrets: &Secrets,
        policy: KeyPolicy,
        now: DateTime<Utc>,
    ) -> Result<Self, AuthError> {
        let ring = Self {
            policy,
            set: RwLock::new(Arc::new(KeySet::default())),
            last_unknown_reload: Mutex::new(None),
            verified: quick_cache::sync::Cache::new(VERIFIED_CACHE),
        };
        ring.rotate_if_due(db, secrets, now).await?;
        ring.reload(db, secrets, now).await?;
        Ok(ring)
    }

    pub fn policy(&self) -> &KeyPolicy {
        &self.policy
    }

    fn current(&self) -> Arc<KeySet> {
        self.set
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Re-reads the keys from the database.
    pub async fn reload(
        &self,
        db: &DatabaseConnection,
        secrets: &Secrets,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let rows = signing_key::Entity::find()
            .order_by_asc(signing_key::Column::ActivatesAt)
            .all(db)
            .await?;
        let set = build_set(&rows, &self.policy, secrets, now)?;
        let changed = {
            let old = self.current();
            let mut old_kids: Vec<&String> = old.verifiers.keys().collect();
            let mut new_kids: Vec<&String> = set.verifiers.keys().collect();
            old_kids.sort();
            new_kids.sort();
            old_kids != new_kids
        };
        *self
            .set
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(set);
        if changed {
            // A key that no longer verifies must not keep its tokens alive through the cache.
            self.verified.clear();
        }
        Ok(())
    }

    /// The keys a verifier needs now, for `/.well-known/jwks.json`.
    pub fn published(&self) -> Vec<PublishedKey> {
        self.current().published.clone()
    }

    /// Signs `claims` with the key that signs at `claims.iat`.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String, String> {
        let set = self.current();
        let signer = set
            .signers
            .iter()
            .rev()
            .find(|s| s.activates_at.timestamp() <= claims.iat)
            .ok_or("no signing key is active")?;
        let mut header = Header::new(signer.algorithm);
        header.kid = Some(signer.kid.clone());
        header.typ = Some(TOKEN_TYPE.to_owned());
        jsonwebtoken::encode(&header, claims, &signer.key)
            .map_err(|e| format!("signing access token: {e}"))
    }

    /// Checks signature (algorithm pinned by the key), type, issuer, audience and time.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Verification {
        // 8725bis: anything but the compact form is not a JWT; also bounds work on junk input.
        if token.len() > 4096 || token.split('.').count() != 3 {
            return Verification::Invalid;
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(claims) = self.verified.get(&digest) {
            return if is_fresh(&claims, now) {
                Verification::Valid(claims)
            } else {
                Verification::Invalid
            };
        }
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return Verification::Invalid;
        };
        let typ_ok = header.typ.as_deref().is_some_and(|typ| {
            typ.eq_ignore_ascii_case(TOKEN_TYPE) || typ.eq_ignore_ascii_case("application/at+jwt")
        });
        let Some(kid) = header.kid.filter(|_| typ_ok) else {
            return Verification::Invalid;
        };
        let set = self.current();
        let Some(verifier) = set.verifiers.get(&kid) else {
            return Verification::UnknownKey;
        };
        let Ok(data) =
            jsonwebtoken::decode::<AccessClaims>(token, &verifier.key, &verifier.validation)
        else {
            return Verification::Invalid;
        };
        let claims = Arc::new(data.claims);
        let within_key_life = claims.iat >= verifier.signs_from.timestamp() - LEEWAY_SECS
            && verifier
                .signs_until
                .is_none_or(|until| claims.iat <= until.timestamp() + LEEWAY_SECS);
        if !within_key_life || !is_fresh(&claims, now) {
            return Verification::Invalid;
        }
        self.verified.insert(digest, claims.clone());
        Verification::Valid(claims)
    }

    /// `verify`, reloading the keys once (rate-limited) when the token names a key this
    /// instance has not loaded yet: one that another instance or the CLI just created.
    pub async fn verify_fresh(
        &self,
        db: &DatabaseConnection,
        secrets: &Secrets,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Arc<AccessClaims>>, AuthError> {
        match self.verify(token, now) {
            Verification::Valid(claims) => Ok(Some(claims)),
            Verification::Invalid => Ok(None),
            Verification::UnknownKey => {
                let due = {
                    let mut last = self
                        .last_unknown_reload
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    let due = last.is_none_or(|at| at.elapsed() >= UNKNOWN_KID_RELOAD);
                    if due {
                        *last = Some(Instant::now());
                    }
                    due
                };
                if !due {
                    return Ok(None);
                }
                self.reload(db, secrets, now).await?;
                Ok(match self.verify(token, now) {
                    Verification::Valid(claims) => Some(claims),
                    _ => None,
                })
            }
        }
    }

    /// Creates the next key when one is due: none is active, the configured algorithm
    /// changed, or the current key is older than the rotation period. One instance does it
    /// (a lock, then a re-check), however many run this at once. Returns the new key's id.
    pub async fn rotate_if_due(
        &self,
        db: &DatabaseConnection,
        secrets: &Secrets,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, AuthError> {
        let policy = self.policy.clone();
        with_rotation_lock(db, async move |txn| {
            let rows = signing_key::Entity::find().all(txn).await?;
            let Some(activates_at) = due_activation(&rows, &policy, now) else {
                return Ok(None);
            };
            let kid = insert_key(txn, secrets, policy.algorithm, now, activates_at).await?;
            tracing::info!(event = "signing_key_created", kid, algorithm = policy.algorithm.as_str(), %activates_at, "new signing key published");
            Ok(Some(kid))
        })
        .await
    }
}

fn is_fresh(claims: &AccessClaims, now: DateTime<Utc>) -> bool {
    let now = now.timestamp();
    claims.exp + LEEWAY_SECS > now && claims.iat <= now + LEEWAY_SECS
}

/// When a new key should start signing, if one is due now.
fn due_activation(
    rows: &[signing_key::Model],
    policy: &KeyPolicy,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let states = states(rows, policy, now);
    let current = rows.iter().find(|k| {
        states
            .iter()
            .any(|(kid, s)| *kid == k.kid && *s == KeyState::Current)
    });
    let pending = rows.iter().any(|k| {
        states
            .iter()
            .any(|(kid, s)| *kid == k.kid && *s == KeyState::Next)
            && k.algorithm == policy.algorithm.as_str()
    });
    let lead = duration(policy.lead());
    match current {
        // Nothing can sign: a key is needed at once.
        None if !pending => Some(now),
        None => None,
        Some(_) if pending => None,
        Some(current) if current.algorithm != policy.algorithm.as_str() => Some(now + lead),
        Some(current) => {
            let period = duration(policy.rotation?);
            (current.activates_at + period <= now + lead)
                .then(|| (now + lead).max(current.activates_at + period))
        }
    }
}

/// Runs `work` in a write transaction that only one instance holds at a time. `work` returns
/// `Some` when it changed the keys; the change is then announced to every instance in the same
/// transaction, so they hear of it exactly when it commits.
async fn with_rotation_lock<T>(
    db: &DatabaseConnection,
    work: impl AsyncFnOnce(&sea_orm::DatabaseTransaction) -> Result<Option<T>, AuthError>,
) -> Result<Option<T>, AuthError> {
    let txn = storage::begin_write(db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        // Waits for another instance's rotation, then sees its key in the re-check.
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [ROTATION_LOCK.into()],
        ))
        .await?;
    }
    let result = work(&txn).await?;
    if result.is_some() {
        changes::announce(&txn, Topic::SigningKeys).await?;
    }
    txn.commit().await?;
    Ok(result)
}

/// Generates a key pair and stores it, the private half sealed to its `kid`.
async fn insert_key(
    txn: &impl ConnectionTrait,
    secrets: &Secrets,
    algorithm: JwtAlgorithm,
    now: DateTime<Utc>,
    activates_at: DateTime<Utc>,
) -> Result<String, AuthError> {
    // Hex, not base64url: an id that starts with '-' reads as an option on a command line.
    let mut id = [0u8; 12];
    getrandom::fill(&mut id).map_err(|e| AuthError::Internal(format!("OS randomness: {e}")))?;
    let kid = hex::encode(id);
    let (private_der, public) = generate(algorithm).map_err(AuthError::Internal)?;
    let sealed = secrets
        .seal(&private_der, kid.as_bytes())
        .map_err(AuthError::Internal)?;
    let public_jwk = public
        .map(|jwk| serde_json::to_string(&jwk))
        .transpose()
        .map_err(|e| AuthError::Internal(format!("public key: {e}")))?;
    signing_key::Entity::insert(signing_key::ActiveModel {
        kid: Set(kid.clone()),
        algorithm: Set(algorithm.as_str().to_owned()),
        public_jwk: Set(public_jwk),
        private_key: Set(sealed),
        created_at: Set(now),
        activates_at: Set(activates_at),
        revoked_at: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(kid)
}

/// A new private key (PKCS#8 DER, or raw bytes for HS256) and its public JWK.
fn generate(algorithm: JwtAlgorithm) -> Result<(Vec<u8>, Option<PublicJwk>), String> {
    let random = |n: usize| -> Result<Vec<u8>, String> {
        let mut bytes = vec![0u8; n];
        getrandom::fill(&mut bytes).map_err(|e| format!("OS randomness: {e}"))?;
        Ok(bytes)
    };
    match algorithm {
        JwtAlgorithm::EdDsa => {
            use ed25519_dalek::pkcs8::EncodePrivateKey as _;
            let seed: [u8; 32] = random(32)?
                .try_into()
                .map_err(|_| "seed length".to_owned())?;
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            let der = key
                .to_pkcs8_der()
                .map_err(|e| format!("Ed25519 PKCS#8: {e}"))?;
            let jwk = PublicJwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x: URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
                y: None,
            };
            Ok((der.as_bytes().to_vec(), Some(jwk)))
        }
        JwtAlgorithm::Es256 => {
            use p256::pkcs8::EncodePrivateKey as _;
            // A random scalar is valid unless it is zero or ≥ the group order (~2^-32).
            let key = loop {
                if let Ok(key) = p256::SecretKey::from_slice(&random(32)?) {
                    break key;
                }
            };
            let der = key
                .to_pkcs8_der()
                .map_err(|e| format!("P-256 PKCS#8: {e}"))?;
            let point = key.public_key().to_sec1_bytes();
            if point.len() != 65 || point[0] != 4 {
                return Err("P-256 public key is not an uncompressed point".to_owned());
            }
            let jwk = PublicJwk {
                kty: "EC".into(),
                crv: "P-256".into(),
                x: URL_SAFE_NO_PAD.encode(&point[1..33]),
                y: Some(URL_SAFE_NO_PAD.encode(&point[33..65])),
            };
            Ok((der.as_bytes().to_vec(), Some(jwk)))
        }
        JwtAlgorithm::Hs256 => Ok((random(32)?, None)),
    }
}

/// Builds the in-memory key set from the rows at `now`.
fn build_set(
    rows: &[signing_key::Model],
    policy: &KeyPolicy,
    secrets: &Secrets,
    now: DateTime<Utc>,
) -> Result<KeySet, AuthError> {
    let leeway = chrono::Duration::seconds(LEEWAY_SECS);
    let mut set = KeySet::default();
    for (kid, state) in states(rows, policy, now) {
        let Some(row) = rows.iter().find(|r| r.kid == kid) else {
            continue;
        };
        let (signs, verifies, signs_until, published) = match state {
            KeyState::Next | KeyState::Current => (true, true, None, true),
            KeyState::Retired {
                signed_until,
                verifies_until,
                published_until,
            } => (
                false,
                verifies_until + leeway > now,
                Some(signed_until),
                published_until > now,
            ),
            KeyState::Expired | KeyState::Revoked => continue,
        };
        let Some(algorithm) = JwtAlgorithm::parse(&row.algorithm) else {
            tracing::error!(
                kid,
                algorithm = row.algorithm,
                "signing key with an unknown algorithm"
            );
            continue;
        };
        let Some(private) = secrets.open(&row.private_key, kid.as_bytes()) else {
            // Sealed under another JWT_SECRET: this instance cannot use it.
            tracing::error!(
                kid,
                "a signing key cannot be opened: is JWT_SECRET the same on every instance?"
            );
            continue;
        };
        let public: Option<PublicJwk> = row
            .public_jwk
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| AuthError::Internal(format!("stored public key {kid}: {e}")))?;
        let (jwt_alg, encoding, decoding) = keys_for(algorithm, &private, public.as_ref())
            .map_err(|e| AuthError::Internal(format!("signing key {kid}: {e}")))?;
        if signs {
            set.signers.push(Signer {
                kid: kid.clone(),
                algorithm: jwt_alg,
                key: encoding,
                activates_at: row.activates_at,
            });
        }
        if verifies {
            set.verifiers.insert(
                kid.clone(),
                Verifier {
                    key: decoding,
                    validation: validation(jwt_alg, &policy.audience),
                    signs_from: row.activates_at,
                    signs_until,
                },
            );
        }
        if published && let Some(jwk) = public {
            set.published.push(PublishedKey {
                kid,
                alg: algorithm.as_str(),
                jwk,
            });
        }
    }
    set.signers.sort_by_key(|s| s.activates_at);
    Ok(set)
}

fn keys_for(
    algorithm: JwtAlgorithm,
    private: &[u8],
    public: Option<&PublicJwk>,
) -> Result<(Algorithm, EncodingKey, DecodingKey), String> {
    let missing = || "public key missing".to_owned();
    let key_error = |e: jsonwebtoken::errors::Error| e.to_string();
    Ok(match algorithm {
        JwtAlgorithm::EdDsa => (
            Algorithm::EdDSA,
            EncodingKey::from_ed_der(private),
            DecodingKey::from_ed_components(&public.ok_or_else(missing)?.x).map_err(key_error)?,
        ),
        JwtAlgorithm::Es256 => {
            let public = public.ok_or_else(missing)?;
            (
                Algorithm::ES256,
                EncodingKey::from_ec_der(private),
                DecodingKey::from_ec_components(
                    &public.x,
                    public.y.as_deref().ok_or_else(missing)?,
                )
                .map_err(key_error)?,
            )
        }
        JwtAlgorithm::Hs256 => (
            Algorithm::HS256,
            EncodingKey::from_secret(private).map_err(key_error)?,
            DecodingKey::from_secret(private).map_err(key_error)?,
        ),
    })
}

/// As strict as it gets: one algorithm, every claim required, issuer and audience checked.
/// Expiry is checked against the caller's `now`, not the system clock.
fn validation(algorithm: Algorithm, audience: &str) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
    validation.validate_exp = false;
    validation.leeway = 0;
    validation
}

// ---- Operators (the `latchkey keys` CLI) --------------------------------------------------

/// Every key with its state at `now`, oldest first.
pub async fn list(
    db: &DatabaseConnection,
    policy: &KeyPolicy,
    now: DateTime<Utc>,
) -> Result<Vec<(signing_key::Model, KeyState)>, AuthError> {
    let rows = signing_key::Entity::find()
        .order_by_asc(signing_key::Column::ActivatesAt)
        .all(db)
        .await?;
    let states = states(&rows, policy, now);
    Ok(rows
        .into_iter()
        .zip(states)
        .map(|(row, (_, state))| (row, state))
        .collect())
}

/// Publishes a new key now that starts signing after the lead time; `None` when one is
/// already waiting.
pub async fn rotate(
    db: &DatabaseConnection,
    secrets: &Secrets,
    policy: &KeyPolicy,
    now: DateTime<Utc>,
) -> Result<Option<(String, DateTime<Utc>)>, AuthError> {
    let policy = policy.clone();
    with_rotation_lock(db, async move |txn| {
        let rows = signing_key::Entity::find().all(txn).await?;
        let waiting = states(&rows, &policy, now)
            .into_iter()
            .any(|(_, state)| state == KeyState::Next);
        if waiting {
            return Ok(None);
        }
        let activates_at = now + duration(policy.lead());
        let kid = insert_key(txn, secrets, policy.algorithm, now, activates_at).await?;
        tracing::info!(
            event = "signing_key_created",
            kid,
            "new signing key published by an operator"
        );
        Ok(Some((kid, activates_at)))
    })
    .await
}

/// Retires `kid` at once: it is no longer published and nothing it signed verifies. If it
/// was signing, a waiting key takes over now, or a new one is made. Returns the key that
/// signs afterwards.
pub async fn retire(
    db: &DatabaseConnection,
    secrets: &Secrets,
    policy: &KeyPolicy,
    kid: &str,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    let policy = policy.clone();
    let kid = kid.to_owned();
    let signer = with_rotation_lock(db, async move |txn| {
        let retired = signing_key::Entity::update_many()
            .col_expr(signing_key::Column::RevokedAt, Expr::value(Some(now)))
            .filter(signing_key::Column::Kid.eq(kid.clone()))
            .filter(signing_key::Column::RevokedAt.is_null())
            .exec(txn)
            .await?
            .rows_affected;
        if retired != 1 {
            return Err(AuthError::NotFound);
        }
        let rows = signing_key::Entity::find().all(txn).await?;
        let states = states(&rows, &policy, now);
        if let Some((current, _)) = states.iter().find(|(_, s)| *s == KeyState::Current) {
            return Ok(Some(current.clone()));
        }
        // Nothing signs now: bring a waiting key forward, or make one.
        let waiting = rows
            .iter()
            .filter(|k| k.revoked_at.is_none() && k.activates_at > now)
            .min_by_key(|k| k.activates_at);
        let successor = match waiting {
            Some(next) => {
                signing_key::Entity::update_many()
                    .col_expr(signing_key::Column::ActivatesAt, Expr::value(now))
                    .filter(signing_key::Column::Kid.eq(next.kid.clone()))
                    .exec(txn)
                    .await?;
                next.kid.clone()
            }
            None => insert_key(txn, secrets, policy.algorithm, now, now).await?,
        };
        tracing::warn!(
            event = "signing_key_retired",
            security = true,
            kid,
            successor,
            "signing key retired by an operator"
        );
        Ok(Some(successor))
    })
    .await?;
    signer.ok_or_else(|| AuthError::Internal("retiring a key changed nothing".to_owned()))
}

/// Deletes keys that are over (expired a day ago, or revoked a day ago).
pub async fn purge_expired(
    db: &DatabaseConnection,
    policy: &KeyPolicy,
    now: DateTime<Utc>,
) -> Result<u64, AuthError> {
    let day_ago = now - chrono::Duration::days(1);
    let rows = signing_key::Entity::find().all(db).await?;
    let over: Vec<String> = states(&rows, policy, day_ago)
        .into_iter()
        .filter(|(kid, state)| {
            *state == KeyState::Expired
                || (*state == KeyState::Revoked
                    && rows
                        .iter()
                        .any(|r| r.kid == *kid && r.revoked_at.is_some_and(|at| at < day_ago)))
        })
        .map(|(kid, _)| kid)
        .collect();
    if over.is_empty() {
        return Ok(0);
    }
    Ok(signing_key::Entity::delete_many()
        .filter(signing_key::Column::Kid.is_in(over))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use chrono::Duration as ChronoDuration;

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn policy() -> KeyPolicy {
        KeyPolicy {
            algorithm: JwtAlgorithm::EdDsa,
            audience: "latchkey".into(),
            access_ttl: Duration::from_secs(900),
            jwks_max_age: Duration::from_secs(300),
            rotation: Some(Duration::from_secs(30 * 86_400)),
        }
    }

    fn key(kid: &str, activates: i64) -> signing_key::Model {
        signing_key::Model {
            kid: kid.into(),
            algorithm: "EdDSA".into(),
            public_jwk: None,
            private_key: String::new(),
            created_at: at(activates - 360),
            activates_at: at(activates),
            revoked_at: None,
        }
    }

    fn state_of(rows: &[signing_key::Model], kid: &str, now: i64) -> KeyState {
        states(rows, &policy(), at(now))
            .into_iter()
            .find(|(k, _)| k == kid)
            .unwrap()
            .1
    }

    #[test]
    fn a_new_key_is_next_then_current_and_the_old_one_lingers_as_promised() {
        let rows = [key("old", 0), key("new", 1000)];
        assert_eq!(state_of(&rows, "old", 999), KeyState::Current);
        assert_eq!(state_of(&rows, "new", 999), KeyState::Next);
        assert_eq!(state_of(&rows, "new", 1000), KeyState::Current);
        // The old key signed until 1000: its tokens live 900 s more, its JWKS entry 300 s more.
        assert_eq!(
            state_of(&rows, "old", 1000),
            KeyState::Retired {
                signed_until: at(1000),
                verifies_until: at(1900),
                published_until: at(2200),
            }
        );
        assert_eq!(state_of(&rows, "old", 2200), KeyState::Expired);
    }

    #[test]
    fn a_revoked_key_is_over_at_once() {
        let mut rows = [key("old", 0), key("new", 1000)];
        rows[1].revoked_at = Some(at(1500));
        assert_eq!(state_of(&rows, "new", 1500), KeyState::Revoked);
        assert_eq!(state_of(&rows, "old", 1500), KeyState::Current);
    }

    #[test]
    fn rotation_is_due_a_lead_time_before_the_period_ends() {
        let p = policy();
        let period = 30 * 86_400;
        let lead = p.lead().as_secs() as i64;
        let rows = [key("k", 0)];
        assert_eq!(due_activation(&rows, &p, at(period - lead - 1)), None);
        assert_eq!(
            due_activation(&rows, &p, at(period - lead)),
            Some(at(period))
        );
        // Once the next key is waiting, nothing more is due.
        let rows = [key("k", 0), key("n", period)];
        assert_eq!(due_activation(&rows, &p, at(period - 10)), None);
        assert_eq!(
            due_activation(&[], &p, at(5)),
            Some(at(5)),
            "no key at all: at once"
        );
    }

    #[test]
    fn a_change_of_algorithm_publishes_a_key_of_the_new_one() {
        let mut p = policy();
        p.algorithm = JwtAlgorithm::Es256;
        let rows = [key("k", 0)];
        assert_eq!(
            due_activation(&rows, &p, at(10)),
            Some(at(10) + ChronoDuration::from_std(p.lead()).unwrap())
        );
    }

    #[test]
    fn generated_keys_sign_and_verify() {
        for algorithm in [
            JwtAlgorithm::EdDsa,
            JwtAlgorithm::Es256,
            JwtAlgorithm::Hs256,
        ] {
            let (private, public) = generate(algorithm).unwrap();
            let (alg, encoding, decoding) = keys_for(algorithm, &private, public.as_ref()).unwrap();
            let token =
                jsonwebtoken::encode(&Header::new(alg), &serde_json::json!({"a": 1}), &encoding)
                    .unwrap();
            let mut v = Validation::new(alg);
            v.required_spec_claims.clear();
            v.validate_exp = false;
            assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &v).is_ok());
        }
    }
}

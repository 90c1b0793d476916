//! The key ring: the keys in force on this instance, as last loaded from the database, and the
//! signing and verifying of access tokens with them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{DatabaseConnection, EntityTrait as _, QueryOrder as _};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest as _, Sha256};

use super::{
    ISSUER, JwtAlgorithm, KeyPolicy, PublicJwk, PublishedKey, TOKEN_TYPE,
    generation::keys_for,
    timeline::{KeyState, states},
};
use crate::{
    auth::{AuthError, secrets::Secrets, tokens::AccessClaims},
    entity::signing_key,
};

/// An unknown `kid` triggers a reload at most this often (a forged one must not flood the db).
const UNKNOWN_KID_RELOAD: Duration = Duration::from_secs(1);
/// Clock skew tolerated on `exp` and `iat`, in seconds.
const LEEWAY_SECS: i64 = 5;
/// Verified tokens remembered, so a token used many times costs one signature check.
const VERIFIED_CACHE: usize = 20_000;

struct Signer {
    kid: String,
    /// The key's kind: RS256 keys sign ID tokens only.
    kind: JwtAlgorithm,
    algorithm: Algorithm,
    key: EncodingKey,
    /// The key signs from this instant until the next signer's: chosen at signing time, so
    /// every instance switches at the same moment whenever it last reloaded.
    activates_at: DateTime<Utc>,
}

struct Verifier {
    algorithm: Algorithm,
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
    pub fn sign(&self, claims: &AccessClaims) -> Result<String, AuthError> {
        self.sign_claims(claims, claims.iat, TOKEN_TYPE, |kind| {
            kind != JwtAlgorithm::Rs256
        })
    }

    /// Signs an access token for an OAuth client (RFC 9068) with the access-token key.
    pub fn sign_client_access<T: Serialize>(
        &self,
        claims: &T,
        iat: i64,
    ) -> Result<String, AuthError> {
        self.sign_claims(claims, iat, TOKEN_TYPE, |kind| kind != JwtAlgorithm::Rs256)
    }

    /// Signs an ID token with a key of `wanted` (`ES256` or `EdDSA` when the access-token key is
    /// of that kind), or else with the RSA key (RS256).
    pub fn sign_id_token<T: Serialize>(
        &self,
        claims: &T,
        iat: i64,
        wanted: JwtAlgorithm,
    ) -> Result<String, AuthError> {
        let available = self
            .current()
            .signers
            .iter()
            .any(|s| s.kind == wanted && s.activates_at.timestamp() <= iat);
        let kind = if available && wanted != JwtAlgorithm::Hs256 {
            wanted
        } else {
            JwtAlgorithm::Rs256
        };
        self.sign_claims(claims, iat, "JWT", |k| k == kind)
    }

    /// The algorithms ID tokens can be signed with now (for discovery).
    pub fn id_token_algorithms(&self) -> Vec<&'static str> {
        let mut algs = vec![JwtAlgorithm::Rs256.as_str()];
        if matches!(
            self.policy.algorithm,
            JwtAlgorithm::EdDsa | JwtAlgorithm::Es256
        ) {
            algs.push(self.policy.algorithm.as_str());
        }
        algs
    }

    fn sign_claims<T: Serialize>(
        &self,
        claims: &T,
        iat: i64,
        typ: &str,
        line: impl Fn(JwtAlgorithm) -> bool,
    ) -> Result<String, AuthError> {
        let set = self.current();
        let signer = set
            .signers
            .iter()
            .rev()
            .filter(|s| line(s.kind))
            .find(|s| s.activates_at.timestamp() <= iat)
            .ok_or_else(|| AuthError::bug("no signing key is active"))?;
        let mut header = Header::new(signer.algorithm);
        header.kid = Some(signer.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &signer.key)
            .map_err(|e| AuthError::internal("signing a token", e))
    }

    /// Verifies a token Latchkey signed as an OpenID provider (an ID token or a client's access
    /// token): signature with the key its `kid` names (algorithm pinned by the key), `typ`,
    /// `iss` = `issuer`; `exp` checked against `now` unless `allow_expired` (an
    /// `id_token_hint`). The audience is the caller's to check.
    pub fn verify_issued<T: DeserializeOwned>(
        &self,
        token: &str,
        issuer: &str,
        typ: &str,
        allow_expired: bool,
        now: DateTime<Utc>,
    ) -> Option<T> {
        if token.len() > 8192 || token.split('.').count() != 3 {
            return None;
        }
        let header = jsonwebtoken::decode_header(token).ok()?;
        let typ_ok = header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case(typ) || t.eq_ignore_ascii_case(&format!("application/{typ}"))
        });
        if !typ_ok {
            return None;
        }
        let set = self.current();
        let verifier = set.verifiers.get(&header.kid?)?;
        let mut validation = Validation::new(verifier.algorithm);
        validation.set_issuer(&[issuer]);
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
        validation.validate_exp = false;
        validation.leeway = 0;
        let data =
            jsonwebtoken::decode::<serde_json::Value>(token, &verifier.key, &validation).ok()?;
        let exp = data.claims.get("exp")?.as_i64()?;
        let iat = data.claims.get("iat")?.as_i64()?;
        let now = now.timestamp();
        if iat > now + LEEWAY_SECS || (!allow_expired && exp + LEEWAY_SECS <= now) {
            return None;
        }
        serde_json::from_value(data.claims).ok()
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
}

fn is_fresh(claims: &AccessClaims, now: DateTime<Utc>) -> bool {
    let now = now.timestamp();
    claims.exp + LEEWAY_SECS > now && claims.iat <= now + LEEWAY_SECS
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
            .map_err(|e| AuthError::internal(format!("the stored public key of {kid}"), e))?;
        let (jwt_alg, encoding, decoding) = keys_for(algorithm, &private, public.as_ref())?;
        if signs {
            set.signers.push(Signer {
                kid: kid.clone(),
                kind: algorithm,
                algorithm: jwt_alg,
                key: encoding,
                activates_at: row.activates_at,
            });
        }
        if verifies {
            set.verifiers.insert(
                kid.clone(),
                Verifier {
                    algorithm: jwt_alg,
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

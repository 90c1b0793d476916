//! Changing the keys: the next key when rotation is due, and an operator's rotation and
//! retirement (the `latchkey keys` CLI). One instance at a time, under a lock, each change
//! announced to every instance in its own transaction.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait as _, QueryFilter as _, QueryOrder as _, Statement, sea_query::Expr,
};

use super::{
    JwtAlgorithm, KeyPolicy, KeyRing, PublicJwk,
    generation::generate,
    timeline::{KeyState, due_activation, due_id_token_activation, is_id_token_line, states},
};
use crate::{
    auth::{
        AuthError,
        secrets::{Secrets, random_bytes},
        sessions::duration,
    },
    changes::{self, Topic},
    entity::signing_key,
    storage,
};

/// Distinguishes Latchkey's key-rotation lock from any other user of the database.
const ROTATION_LOCK: i64 = 0x6c61_7463_686b_0003;

impl KeyRing {
    /// Creates the next key when one is due: none is active, the configured algorithm
    /// changed, or the current key is older than the rotation period. One instance does it
    /// (a lock, then a re-check), however many run this at once. Returns the new key's id.
    pub async fn rotate_if_due(
        &self,
        db: &DatabaseConnection,
        secrets: &Secrets,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, AuthError> {
        let policy = self.policy().clone();
        // An RSA key takes a while to make: made before the lock when one looks due, so the
        // lock (and a pooled connection) is not held meanwhile, and on a blocking thread. Used
        // only if still due under the lock.
        let rows = usable(signing_key::Entity::find().all(db).await?, secrets);
        let mut rsa = match due_id_token_activation(&rows, &policy, now) {
            // Off the async threads: key generation is seconds of CPU on a busy machine.
            Some(_) => Some(
                tokio::task::spawn_blocking(|| generate(JwtAlgorithm::Rs256))
                    .await
                    .map_err(|e| AuthError::internal("generating an RSA key", e))??,
            ),
            None => None,
        };
        with_rotation_lock(db, async move |txn| {
            let rows = usable(signing_key::Entity::find().all(txn).await?, secrets);
            let mut created = None;
            for (algorithm, due) in [
                (policy.algorithm, due_activation(&rows, &policy, now)),
                (
                    JwtAlgorithm::Rs256,
                    due_id_token_activation(&rows, &policy, now),
                ),
            ] {
                let Some(activates_at) = due else {
                    continue;
                };
                let material = match (algorithm, rsa.take()) {
                    (JwtAlgorithm::Rs256, Some(made)) => made,
                    _ => generate(algorithm)?,
                };
                let kid = store_key(txn, secrets, algorithm, material, now, activates_at).await?;
                tracing::info!(event = "signing_key_created", kid, algorithm = algorithm.as_str(), %activates_at, "new signing key published");
                // The access-token key's id when both lines rotate at once.
                created = created.or(Some(kid));
            }
            Ok(created)
        })
        .await
    }
}

/// The keys this instance can open. One sealed under another `JWT_SECRET` (the secret was
/// changed, as the README allows: everyone signs in again) cannot sign here, so it must not
/// count as the active key either: without this, no key would ever be due and every sign-in
/// would fail for want of a signing key.
fn usable(rows: Vec<signing_key::Model>, secrets: &Secrets) -> Vec<signing_key::Model> {
    rows.into_iter()
        .filter(|row| secrets.open(&row.private_key, row.kid.as_bytes()).is_some())
        .collect()
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
    let material = generate(algorithm)?;
    store_key(txn, secrets, algorithm, material, now, activates_at).await
}

/// Stores a key pair made by `generate`, the private half sealed to a new `kid`.
async fn store_key(
    txn: &impl ConnectionTrait,
    secrets: &Secrets,
    algorithm: JwtAlgorithm,
    (private_der, public): (Vec<u8>, Option<PublicJwk>),
    now: DateTime<Utc>,
    activates_at: DateTime<Utc>,
) -> Result<String, AuthError> {
    // Hex, not base64url: an id that starts with '-' reads as an option on a command line.
    let kid = hex::encode(random_bytes::<12>()?);
    let sealed = secrets.seal(&private_der, kid.as_bytes())?;
    let public_jwk = public
        .map(|jwk| serde_json::to_string(&jwk))
        .transpose()
        .map_err(|e| AuthError::internal("storing a public key", e))?;
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
        let rows: Vec<signing_key::Model> = signing_key::Entity::find()
            .all(txn)
            .await?
            .into_iter()
            .filter(|k| !is_id_token_line(k))
            .collect();
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
        let all = signing_key::Entity::find().all(txn).await?;
        let id_token_line = all
            .iter()
            .find(|k| k.kid == kid)
            .is_some_and(is_id_token_line);
        // Only the retired key's own line needs a signer again.
        let rows: Vec<signing_key::Model> = all
            .into_iter()
            .filter(|k| is_id_token_line(k) == id_token_line)
            .collect();
        let states = states(&rows, &policy, now);
        if let Some((current, _)) = states.iter().find(|(_, s)| *s == KeyState::Current) {
            return Ok(Some(current.clone()));
        }
        let algorithm = if id_token_line {
            JwtAlgorithm::Rs256
        } else {
            policy.algorithm
        };
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
            None => insert_key(txn, secrets, algorithm, now, now).await?,
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
    signer.ok_or_else(|| AuthError::bug("retiring a key changed nothing"))
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

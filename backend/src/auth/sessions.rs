//! Sessions: one database row per login (the refresh-token family), rotated on every refresh,
//! revoked on logout, by the user from another device, or when a spent refresh token comes back.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, Statement,
    sea_query::Expr,
};
use uuid::Uuid;

use super::{
    Auth, AuthError, ClientInfo, Identity, SessionPolicy,
    activity::{self, Event, Kind},
    keys::KeyRing,
    roles,
    tokens::RefreshToken,
};
use crate::{
    entity::{refresh_token, session, user},
    storage,
};

/// A signed-in session as handed to the client: the user and both tokens with their expiry.
#[derive(Debug)]
pub struct IssuedSession {
    pub user: Identity,
    /// The roles the access token carries, as read when it was issued.
    pub roles: Vec<String>,
    pub session_id: Uuid,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: RefreshToken,
    pub refresh_expires_at: DateTime<Utc>,
}

/// The caller of an authenticated request: who they are and which session vouches for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub user: Identity,
    pub session_id: Uuid,
    /// When the presented access token expires.
    pub token_expires_at: DateTime<Utc>,
    /// What the account says about itself now (read with the session, at no extra cost).
    pub details: AccountDetails,
}

/// The parts of an account that change (unlike the name and creation time the token carries).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountDetails {
    pub email: Option<String>,
    pub email_verified: bool,
    pub recovery_key_created_at: Option<DateTime<Utc>>,
}

/// Starts a new session for `account` with a random first refresh token, inside the caller's
/// transaction (so the session, its first token and whatever let it in commit together).
pub async fn start(
    auth: &Auth,
    txn: &impl ConnectionTrait,
    account: &Identity,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<IssuedSession, AuthError> {
    start_as(auth, txn, account, client, Kind::SignedIn, "pwd", now).await
}

/// `start`, recording the sign-in as `kind` (a passkey sign-in, say), made with the methods
/// `amr` names (RFC 8176 values, space-separated: `pwd`, `pwd otp mfa`, `hwk`).
pub async fn start_as(
    auth: &Auth,
    txn: &impl ConnectionTrait,
    account: &Identity,
    client: &ClientInfo,
    kind: Kind,
    amr: &str,
    now: DateTime<Utc>,
) -> Result<IssuedSession, AuthError> {
    let policy = &auth.policy.sessions;
    let session_id = Uuid::new_v4();
    let token = RefreshToken::generate()?;
    let absolute_expires_at = now + duration(policy.max_lifetime);
    let expires_at = sliding_expiry(policy, now, absolute_expires_at);
    session::Entity::insert(session::ActiveModel {
        id: Set(session_id),
        user_id: Set(account.id),
        generation: Set(0),
        created_at: Set(now),
        last_used_at: Set(now),
        rotated_at: Set(None),
        expires_at: Set(expires_at),
        absolute_expires_at: Set(absolute_expires_at),
        revoked_at: Set(None),
        user_agent: Set(client.user_agent.clone()),
        ip: Set(client.ip.map(|ip| ip.to_string())),
        client_id: Set(None),
        scope: Set(None),
        amr: Set(Some(amr.to_owned())),
        auth_time: Set(Some(now)),
        parent_session_id: Set(None),
        stepped_up_at: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    record_token(txn, &token, session_id, 0, now).await?;
    let roles = roles::of_user(txn, account.id).await?;
    activity::record(
        txn,
        Event {
            user_id: account.id,
            kind,
            client: Some(client),
            session_id: Some(session_id),
        },
        now,
    )
    .await?;
    issue(
        &auth.keys,
        policy,
        account.clone(),
        &roles,
        session_id,
        token,
        expires_at,
        absolute_expires_at,
        now,
    )
}

/// Exchanges a refresh token for a new pair.
///
/// - The current token: the session moves to the next generation in one transaction, with a
///   conditional update, so concurrent requests consume a token once.
/// - The token rotated just before, within `REFRESH_REUSE_INTERVAL`: the same successor again
///   (a lost response, two tabs), never a second branch.
/// - Any other spent token: a replay. The whole session is revoked.
pub async fn rotate(
    auth: &Auth,
    presented: &str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<IssuedSession, AuthError> {
    let rotated = rotate_family(auth, presented, None, client, now).await?;
    issue(
        &auth.keys,
        &auth.policy.sessions,
        Identity::from(&rotated.account),
        &rotated.roles,
        rotated.session.id,
        rotated.token,
        rotated.expires_at,
        rotated.session.absolute_expires_at,
        now,
    )
}

/// A refresh token rotated: the account, the session (as it was before), the successor token
/// and its expiry. The caller mints the access token the session's kind calls for.
#[derive(Debug)]
pub struct Rotated {
    pub account: user::Model,
    /// The roles the person holds, read in the rotation's transaction: a role granted or
    /// revoked shows in the next access token.
    pub roles: Vec<String>,
    pub session: session::Model,
    pub token: RefreshToken,
    pub expires_at: DateTime<Utc>,
}

/// The rotation behind `rotate`, for a browser or API session (`owner` `None`) or for the grant
/// of the OAuth client `owner`. A token of another kind of session is refused as unknown,
/// without ending that session.
pub async fn rotate_family(
    auth: &Auth,
    presented: &str,
    owner: Option<&str>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Rotated, AuthError> {
    let policy = &auth.policy.sessions;
    let presented = RefreshToken::parse(presented).ok_or(AuthError::InvalidRefreshToken)?;
    let txn = storage::begin_write(&auth.db).await?;
    let Some(spent) = refresh_token::Entity::find_by_id(presented.hash())
        .one(&txn)
        .await?
    else {
        return Err(AuthError::InvalidRefreshToken);
    };
    // FOR UPDATE on PostgreSQL: a concurrent rotation of the same session waits here and then
    // sees the generation this one wrote. SQLite's IMMEDIATE transaction already serialises.
    let Some(current) = session::Entity::find_by_id(spent.session_id)
        .lock_exclusive()
        .one(&txn)
        .await?
    else {
        return Err(AuthError::InvalidRefreshToken);
    };
    if current.client_id.as_deref() != owner {
        return Err(AuthError::InvalidRefreshToken);
    }
    let account = user::Entity::find_by_id(current.user_id)
        .one(&txn)
        .await?
        .ok_or(AuthError::InvalidRefreshToken)?;

    // A disabled account's sessions were revoked when it was disabled; this also covers a
    // session that somehow outlived that (belt and braces on the one path that extends one).
    if current.revoked_at.is_some()
        || current.absolute_expires_at <= now
        || account.disabled_at.is_some()
    {
        return Err(AuthError::InvalidRefreshToken);
    }

    match classify(&current, spent.generation, policy.reuse_interval, now) {
        Presented::Current if current.expires_at <= now => Err(AuthError::InvalidRefreshToken),
        Presented::Current => {
            let generation = current.generation + 1;
            let successor = successor(auth, current.id, generation, &presented);
            let expires_at = sliding_expiry(policy, now, current.absolute_expires_at);
            let claimed = session::Entity::update_many()
                .col_expr(session::Column::Generation, Expr::value(generation))
                .col_expr(session::Column::RotatedAt, Expr::value(Some(now)))
                .col_expr(session::Column::LastUsedAt, Expr::value(now))
                .col_expr(session::Column::ExpiresAt, Expr::value(expires_at))
                .col_expr(
                    session::Column::Ip,
                    Expr::value(client.ip.map(|ip| ip.to_string()).or(current.ip.clone())),
                )
                .filter(session::Column::Id.eq(current.id))
                .filter(session::Column::Generation.eq(current.generation))
                .filter(session::Column::RevokedAt.is_null())
                .exec(&txn)
                .await?
                .rows_affected;
            if claimed != 1 {
                // Cannot happen while the row is locked; refuse rather than fork the session.
                return Err(AuthError::InvalidRefreshToken);
            }
            record_token(&txn, &successor, current.id, generation, now).await?;
            let roles = roles::of_user(&txn, account.id).await?;
            txn.commit().await?;
            count_refresh("rotated");
            tracing::info!(event = "refresh", user_id = %account.id, session_id = %current.id, generation, "session refreshed");
            Ok(Rotated {
                account,
                roles,
                session: current,
                token: successor,
                expires_at,
            })
        }
        Presented::JustRotated => {
            let roles = roles::of_user(&txn, account.id).await?;
            txn.commit().await?;
            let successor = successor(auth, current.id, current.generation, &presented);
            count_refresh("retried");
            tracing::info!(event = "refresh_retried", user_id = %account.id, session_id = %current.id, "rotation replayed within the reuse interval");
            let expires_at = current.expires_at;
            Ok(Rotated {
                account,
                roles,
                session: current,
                token: successor,
                expires_at,
            })
        }
        Presented::Replayed => {
            revoke_in(&txn, current.id, now).await?;
            activity::record(
                &txn,
                Event {
                    user_id: account.id,
                    kind: Kind::RefreshTokenReuseDetected,
                    client: Some(client),
                    session_id: Some(current.id),
                },
                now,
            )
            .await?;
            txn.commit().await?;
            count_refresh("reuse_detected");
            metrics::counter!("latchkey_refresh_token_reuse_total").increment(1);
            count_revoked("reuse_detected", 1);
            tracing::warn!(
                event = "refresh_token_reuse",
                security = true,
                user_id = %account.id,
                session_id = %current.id,
                presented_generation = spent.generation,
                current_generation = current.generation,
                "a spent refresh token was replayed; the session is revoked"
            );
            Err(AuthError::InvalidRefreshToken)
        }
    }
}

/// Which token of a session's history was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented {
    Current,
    JustRotated,
    Replayed,
}

/// Decides, from the session row alone, what presenting generation `generation` means at `now`.
pub fn classify(
    session: &session::Model,
    generation: i64,
    reuse_interval: std::time::Duration,
    now: DateTime<Utc>,
) -> Presented {
    if generation == session.generation {
        return Presented::Current;
    }
    let within_interval = session
        .rotated_at
        .is_some_and(|rotated| now - rotated <= duration(reuse_interval));
    if generation == session.generation - 1 && within_interval {
        Presented::JustRotated
    } else {
        Presented::Replayed
    }
}

/// Ends the session a logout names, by its refresh token or by its access token's `sid`.
/// Idempotent: revoking an unknown or revoked session does nothing.
pub async fn logout(
    db: &DatabaseConnection,
    refresh: Option<&str>,
    access_session: Option<Uuid>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let by_refresh = match refresh.and_then(RefreshToken::parse) {
        Some(token) => refresh_token::Entity::find_by_id(token.hash())
            .one(db)
            .await?
            .map(|row| row.session_id),
        None => None,
    };
    // Normally both name the same session; if not, both are ended.
    let mut named: Vec<Uuid> = by_refresh.into_iter().chain(access_session).collect();
    named.dedup();
    if named.is_empty() {
        return Ok(());
    }
    let txn = storage::begin_write(db).await?;
    let mut ended = Vec::new();
    for id in named {
        if let Some(user_id) = revoke_in(&txn, id, now).await? {
            activity::record(
                &txn,
                Event {
                    user_id,
                    kind: Kind::SignedOut,
                    client: Some(client),
                    session_id: Some(id),
                },
                now,
            )
            .await?;
            ended.push(id);
        }
    }
    txn.commit().await?;
    count_revoked("logout", ended.len() as u64);
    for id in ended {
        tracing::info!(event = "logout", session_id = %id, "session ended");
    }
    Ok(())
}

/// The user behind a valid access token whose session is still alive and whose account is
/// enabled. This is the one place that decides identity: a revoked session makes the token
/// worthless at once, and so does a deleted user (their sessions go with them, by foreign key)
/// or a disabled one.
///
/// The user's name and creation time come from the signed token (both are immutable), so the
/// check costs one query: the session by primary key, joined to its account by primary key.
pub async fn authenticate(
    auth: &Auth,
    access_token: &str,
    now: DateTime<Utc>,
) -> Result<Authenticated, AuthError> {
    let db = &auth.db;
    let claims = auth
        .keys
        .verify_fresh(db, &auth.secrets, access_token, now)
        .await?
        .ok_or(AuthError::Unauthenticated)?;
    let user = claims.identity().ok_or(AuthError::Unauthenticated)?;
    // The hottest query in the service: a fixed statement, so nothing is rebuilt per request.
    let backend = db.get_database_backend();
    let statement = Statement::from_sql_and_values(
        backend,
        live_session_sql(backend),
        [claims.sid.into(), claims.sub.into(), now.into()],
    );
    let live = db
        .query_one_raw(statement)
        .await?
        .ok_or(AuthError::Unauthenticated)?;
    let email: Option<String> = live.try_get("", "email")?;
    let verified_at: Option<DateTime<Utc>> = live.try_get("", "email_verified_at")?;
    Ok(Authenticated {
        user,
        session_id: claims.sid,
        token_expires_at: DateTime::from_timestamp(claims.exp, 0)
            .ok_or(AuthError::Unauthenticated)?,
        details: AccountDetails {
            email_verified: email.is_some() && verified_at.is_some(),
            email,
            recovery_key_created_at: live.try_get("", "recovery_key_created_at")?,
        },
    })
}

fn live_session_sql(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "SELECT u.email, u.email_verified_at, u.recovery_key_created_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.client_id IS NULL \
             AND s.absolute_expires_at > $3 AND u.disabled_at IS NULL"
        }
        _ => {
            "SELECT u.email, u.email_verified_at, u.recovery_key_created_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.user_id = ? AND s.revoked_at IS NULL AND s.client_id IS NULL \
             AND s.absolute_expires_at > ? AND u.disabled_at IS NULL"
        }
    }
}

/// Whether a session can still be used, read inside the caller's transaction (a sensitive
/// change made from a session that was ended meanwhile must not go through).
pub async fn is_live(
    conn: &impl ConnectionTrait,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, AuthError> {
    Ok(session::Entity::find_by_id(session_id)
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::AbsoluteExpiresAt.gt(now))
        .one(conn)
        .await?
        .is_some())
}

/// The user's sessions that can still be used, most recently used first. Grants to OAuth
/// clients are not sessions a person signed in with: they are listed as connected apps.
pub async fn active(
    db: &DatabaseConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<session::Model>, AuthError> {
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::ClientId.is_null())
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .filter(session::Column::AbsoluteExpiresAt.gt(now))
        .order_by_desc(session::Column::LastUsedAt)
        .order_by_desc(session::Column::CreatedAt)
        .limit(500)
        .all(db)
        .await?)
}

/// Revokes one of the user's own sessions. Someone else's session answers exactly like a
/// missing one (`NotFound`), so ids cannot be probed.
pub async fn revoke(
    db: &DatabaseConnection,
    user_id: Uuid,
    session_id: Uuid,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let txn = storage::begin_write(db).await?;
    let revoked = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Some(now)))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if revoked != 1 {
        return Err(AuthError::NotFound);
    }
    activity::record(
        &txn,
        Event {
            user_id,
            kind: Kind::SessionRevoked,
            client: Some(client),
            session_id: Some(session_id),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    count_revoked("revoked_by_user", 1);
    tracing::info!(event = "session_revoked", %user_id, %session_id, "session revoked by its user");
    Ok(())
}

/// `latchkey_refreshes_total{outcome}`.
fn count_refresh(outcome: &'static str) {
    metrics::counter!("latchkey_refreshes_total", "outcome" => outcome).increment(1);
}

/// `latchkey_sessions_revoked_total{reason}`.
pub(crate) fn count_revoked(reason: &'static str, sessions: u64) {
    metrics::counter!("latchkey_sessions_revoked_total", "reason" => reason).increment(sessions);
}

/// Revokes every live session of the user except `keep`; returns how many ended.
pub async fn revoke_all(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<u64, AuthError> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Some(now)))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(session::Column::Id.ne(keep));
    }
    Ok(update.exec(conn).await?.rows_affected)
}

/// Revokes one session; returns its user when it was live until now.
pub(crate) async fn revoke_in(
    txn: &impl ConnectionTrait,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, AuthError> {
    let affected = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Some(now)))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(txn)
        .await?
        .rows_affected;
    if affected != 1 {
        return Ok(None);
    }
    Ok(session::Entity::find_by_id(session_id)
        .select_only()
        .column(session::Column::UserId)
        .into_tuple::<Uuid>()
        .one(txn)
        .await?)
}

pub(crate) async fn record_token(
    txn: &impl ConnectionTrait,
    token: &RefreshToken,
    session_id: Uuid,
    generation: i64,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        token_hash: Set(token.hash()),
        session_id: Set(session_id),
        generation: Set(generation),
        created_at: Set(now),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

fn successor(auth: &Auth, session: Uuid, generation: i64, previous: &RefreshToken) -> RefreshToken {
    RefreshToken::successor(auth.secrets.successor_mac(), session, generation, previous)
}

/// A refresh token lives `REFRESH_TOKEN_EXPIRATION` from its issue, never past the session's end.
pub(crate) fn sliding_expiry(
    policy: &SessionPolicy,
    now: DateTime<Utc>,
    absolute_expires_at: DateTime<Utc>,
) -> DateTime<Utc> {
    (now + duration(policy.refresh_ttl)).min(absolute_expires_at)
}

#[allow(clippy::too_many_arguments)]
fn issue(
    keys: &KeyRing,
    policy: &SessionPolicy,
    user: Identity,
    roles: &[String],
    session_id: Uuid,
    refresh_token: RefreshToken,
    refresh_expires_at: DateTime<Utc>,
    absolute_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<IssuedSession, AuthError> {
    let access_expires_at = (now + duration(policy.access_ttl)).min(absolute_expires_at);
    let access_token = keys.issue_access(&user, roles, session_id, now, access_expires_at)?;
    Ok(IssuedSession {
        user,
        roles: roles.to_vec(),
        session_id,
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at,
    })
}

pub(crate) fn duration(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration as StdDuration;

    use super::*;

    fn session_at_generation(generation: i64, rotated_at: Option<DateTime<Utc>>) -> session::Model {
        let now = Utc::now();
        session::Model {
            id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            generation,
            created_at: now,
            last_used_at: now,
            rotated_at,
            expires_at: now + Duration::days(7),
            absolute_expires_at: now + Duration::days(30),
            revoked_at: None,
            user_agent: None,
            ip: None,
            client_id: None,
            scope: None,
            amr: None,
            auth_time: None,
            parent_session_id: None,
            stepped_up_at: None,
        }
    }

    #[test]
    fn the_current_generation_is_current() {
        let s = session_at_generation(3, Some(Utc::now()));
        assert_eq!(
            classify(&s, 3, StdDuration::from_secs(10), Utc::now()),
            Presented::Current
        );
    }

    #[test]
    fn the_previous_generation_within_the_interval_is_a_retry() {
        let rotated = Utc::now();
        let s = session_at_generation(3, Some(rotated));
        let interval = StdDuration::from_secs(10);
        assert_eq!(
            classify(&s, 2, interval, rotated + Duration::seconds(10)),
            Presented::JustRotated
        );
        assert_eq!(
            classify(&s, 2, interval, rotated + Duration::seconds(11)),
            Presented::Replayed
        );
    }

    #[test]
    fn older_generations_are_always_replays() {
        let rotated = Utc::now();
        let s = session_at_generation(3, Some(rotated));
        assert_eq!(
            classify(&s, 1, StdDuration::from_secs(10), rotated),
            Presented::Replayed
        );
    }

    #[test]
    fn a_zero_interval_treats_every_previous_token_as_a_replay_once_time_moves() {
        let rotated = Utc::now();
        let s = session_at_generation(1, Some(rotated));
        assert_eq!(
            classify(
                &s,
                0,
                StdDuration::ZERO,
                rotated + Duration::milliseconds(1)
            ),
            Presented::Replayed
        );
    }
}

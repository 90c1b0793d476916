//! Account recovery: a person who forgot their password gets back in with one proof, and an
//! attacker gets nothing (OWASP Forgot Password cheat sheet, NIST SP 800-63B-4 §4.2):
//!
//! - a **reset token**: mailed to the account's verified address (`forgot`), or issued by an
//!   operator (`issue_reset_link`); random, single use, short-lived, stored hashed, and dead as
//!   soon as the account's credential epoch moves;
//! - the account's **recovery key**, saved by the owner beforehand (128 bits, stored under a
//!   keyed hash);
//! - with 2FA on, a **recovery code together with an authenticator code**: two factors in,
//!   two factors needed.
//!
//! Every proof goes through `attempt` (limits per name and per address, before any check). A
//! reset ends every session, pending challenge and trusted device, keeps 2FA and passkeys, signs
//! no one in, and tells the owner by mail. Asking for a link answers the same, in the same
//! time, whatever the name: the work happens after the answer.

use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::Mac as _;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait as _, QueryFilter as _, QuerySelect as _, sea_query::Expr,
};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::{
    Auth, AuthError, ClientInfo,
    activity::{self, Event, Kind},
    attempt::{Action, Attempt, Claimant},
    audit::{self, Actor},
    credentials::judge_new_password,
    notices::{self, Notice},
    second_factor::{self, Code, StepUpAnswer},
    secrets::random_bytes,
    sessions::{self, Authenticated, duration},
    standing::{self, Standing},
    throttle::{self, Key, Rule},
};
use crate::{
    entity::{account_token, user},
    storage,
};

/// How long a mailed reset link works.
pub const MAILED_LINK_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// An operator's link: one hour unless they say otherwise, a day at most.
pub const OPERATOR_LINK_LIFETIME: Duration = Duration::from_secs(3600);
pub const OPERATOR_LINK_MAX: Duration = Duration::from_secs(24 * 3600);
/// Reset links mailed per account at most (a mailbox cannot be flooded).
const MAILED_LINKS_PER_HOUR: u32 = 3;
/// Requests for a link per client address.
const FORGOT_PER_ADDRESS: Rule = Rule::Rate {
    limit: 10,
    window: Duration::from_secs(15 * 60),
};
const TOKEN_BYTES: usize = 32;
/// A token's length in base64url; anything else is not one of ours.
const TOKEN_LEN: usize = 43;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    PasswordReset,
    EmailVerification,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
        }
    }
}

fn hash_of(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_token() -> Result<String, AuthError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<TOKEN_BYTES>()?))
}

/// Stores a new token for the account (at its current standing) and returns it.
pub(super) async fn issue_token(
    txn: &impl ConnectionTrait,
    standing: Standing,
    purpose: Purpose,
    email: Option<&str>,
    lifetime: Duration,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    let token = random_token()?;
    account_token::Entity::insert(account_token::ActiveModel {
        id: Set(hash_of(&token)),
        user_id: Set(standing.user_id),
        purpose: Set(purpose.as_str().to_owned()),
        email: Set(email.map(str::to_owned)),
        credential_epoch: Set(standing.epoch),
        created_at: Set(now),
        expires_at: Set(now + duration(lifetime)),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(token)
}

/// The live token `token` names for `purpose`, if any.
pub(super) async fn find_token(
    conn: &impl ConnectionTrait,
    token: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Option<account_token::Model>, AuthError> {
    if token.len() != TOKEN_LEN {
        return Ok(None);
    }
    Ok(account_token::Entity::find_by_id(hash_of(token))
        .filter(account_token::Column::Purpose.eq(purpose.as_str()))
        .filter(account_token::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?)
}

/// Uses a token up; `false` when a concurrent request used it first.
pub(super) async fn consume_token(
    txn: &impl ConnectionTrait,
    token: &account_token::Model,
) -> Result<bool, AuthError> {
    Ok(account_token::Entity::delete_by_id(token.id.clone())
        .exec(txn)
        .await?
        .rows_affected
        == 1)
}

/// Ends every outstanding token of `purpose` of the user.
pub(super) async fn end_tokens(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    purpose: Purpose,
) -> Result<(), AuthError> {
    account_token::Entity::delete_many()
        .filter(account_token::Column::UserId.eq(user_id))
        .filter(account_token::Column::Purpose.eq(purpose.as_str()))
        .exec(txn)
        .await?;
    Ok(())
}

// ---- Asking for a link -------------------------------------------------------------------

/// Counts a request for a reset link against its address, before anything else: the only
/// part of asking that can answer differently, and it says nothing about accounts.
pub async fn admit_forgot(
    db: &DatabaseConnection,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    if let Some(ip) = client.ip {
        throttle::reserve(db, vec![(Key::forgot_address(ip), FORGOT_PER_ADDRESS)], now)
            .await
            .inspect_err(|e| super::attempt::refused(e, Action::Recovery))?;
    }
    Ok(())
}

/// Mails a reset link to `username`'s verified address, if the name exists, has one, and has
/// not had `MAILED_LINKS_PER_HOUR` links this hour. Runs after the request was answered (the
/// same answer whatever happens here), so nothing is returned but failures, for the log.
pub async fn forgot(
    auth: &Auth,
    username: &str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let Some(policy) = &auth.mail else {
        return Ok(());
    };
    let Ok(name) = crate::domain::Username::parse(username.to_owned()) else {
        return Ok(());
    };
    let Some(account) = super::credentials::find_by_username(&auth.db, &name).await? else {
        return Ok(());
    };
    let (Some(address), Some(_), None) = (
        account.email.clone(),
        account.email_verified_at,
        account.disabled_at,
    ) else {
        return Ok(());
    };
    let per_account = Rule::Rate {
        limit: MAILED_LINKS_PER_HOUR,
        window: Duration::from_secs(3600),
    };
    if throttle::reserve(
        &auth.db,
        vec![(Key::mailed_links(&account.id), per_account)],
        now,
    )
    .await
    .is_err()
    {
        tracing::info!(event = "reset_link_skipped", user_id = %account.id, "reset link not sent: enough were sent this hour");
        return Ok(());
    }
    let standing = Standing::of(&account);
    let txn = storage::begin_write(&auth.db).await?;
    standing::confirm(&txn, standing, AuthError::NotFound).await?;
    let token = issue_token(
        &txn,
        standing,
        Purpose::PasswordReset,
        None,
        MAILED_LINK_LIFETIME,
        now,
    )
    .await?;
    let link = policy.link("reset-password", &token);
    notices::tell_address(
        auth.post(),
        &txn,
        &address,
        &account.username,
        Notice::ResetLink {
            link: &link,
            valid_for: MAILED_LINK_LIFETIME,
        },
        Some(client),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "reset_link_mailed", user_id = %account.id, "password reset link mailed");
    Ok(())
}

/// A reset link for an operator to hand over (`latchkey admin users reset-link`): valid for
/// `lifetime` (at most a day), single use, like a mailed one. Takes only what it uses.
pub async fn issue_reset_link(
    db: &DatabaseConnection,
    actor: &Actor,
    app_url: &str,
    account: &user::Model,
    lifetime: Duration,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    let lifetime = lifetime.min(OPERATOR_LINK_MAX);
    let standing = Standing::of(account);
    let txn = super::admin::begin_change(db, actor, audit::Action::ResetLinkIssued, now).await?;
    standing::confirm(&txn, standing, AuthError::NotFound).await?;
    let token = issue_token(&txn, standing, Purpose::PasswordReset, None, lifetime, now).await?;
    activity::record_with_reason(
        &txn,
        Event {
            user_id: account.id,
            kind: Kind::AdminResetLink,
            client: None,
            session_id: None,
        },
        actor.reason.as_deref(),
        now,
    )
    .await?;
    // The link itself is a credential: only its lifetime is recorded.
    audit::record(
        &txn,
        actor,
        audit::Action::ResetLinkIssued,
        Some(account),
        serde_json::json!({ "valid_minutes": lifetime.as_secs() / 60 }),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "reset_link_issued", user_id = %account.id, lifetime_s = lifetime.as_secs(), "password reset link issued by an operator");
    Ok(format!(
        "{}/reset-password#token={token}",
        app_url.trim_end_matches('/')
    ))
}

// ---- Resetting -----------------------------------------------------------------------------

/// The one proof a reset comes with. No `Debug`: it holds secrets.
pub enum Proof {
    Token(String),
    RecoveryKey {
        username: String,
        key: String,
    },
    /// With 2FA on: one recovery code and a current authenticator code, both.
    RecoveryCode {
        username: String,
        recovery_code: String,
        code: String,
    },
}

impl Proof {
    fn method(&self) -> &'static str {
        match self {
            Self::Token(_) => "token",
            Self::RecoveryKey { .. } => "recovery_key",
            Self::RecoveryCode { .. } => "recovery_code",
        }
    }
}

/// What a checked proof lets in, to be used up in the reset's transaction.
enum Checked {
    Token(account_token::Model),
    RecoveryKey,
    RecoveryCode(second_factor::Proof, second_factor::Proof),
}

/// Sets a new password on the strength of one proof. A wrong, used or expired proof is
/// `InvalidToken` whatever was wrong (the name, the key, the code), and counts like a failed
/// sign-in. A right proof with a new password the policy refuses is `Validation`, and uses
/// nothing up.
pub async fn reset_password(
    auth: &Auth,
    proof: Proof,
    new_password: String,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let method = proof.method();
    // A token names its account, but a wrong one names none: tokens are limited per address
    // only (256 bits cannot be guessed, and a stranger must not be able to lock an owner out of
    // the link they were sent). A recovery key (130 bits) likewise counts per address only,
    // though it comes with a name. A recovery code is short enough to guess at: a code and an
    // authenticator code count per name and per address, like a sign-in.
    let (attempt, checked, account) = match &proof {
        Proof::Token(token) => {
            let attempt =
                Attempt::begin(auth, Claimant::Unnamed, None, client, Action::Recovery, now)
                    .await?;
            let found = find_token(&auth.db, token, Purpose::PasswordReset, now).await?;
            let account = match &found {
                Some(found) => {
                    user::Entity::find_by_id(found.user_id)
                        .one(&auth.db)
                        .await?
                }
                None => None,
            };
            let live = found
                .zip(account)
                .filter(|(token, account)| token.credential_epoch == account.credential_epoch);
            match live {
                Some((token, account)) => (attempt, Some(Checked::Token(token)), Some(account)),
                None => (attempt, None, None),
            }
        }
        Proof::RecoveryKey { username, key } => {
            let attempt = Attempt::begin(
                auth,
                Claimant::NameWithUnguessableProof(username),
                None,
                client,
                Action::Recovery,
                now,
            )
            .await?;
            let checked = check_recovery_key(auth, attempt.account.as_ref(), key)
                .then_some(Checked::RecoveryKey);
            let account = attempt.account.clone();
            (attempt, checked, account)
        }
        Proof::RecoveryCode {
            username,
            recovery_code,
            code,
        } => {
            let attempt = Attempt::begin(
                auth,
                Claimant::Name(username),
                None,
                client,
                Action::Recovery,
                now,
            )
            .await?;
            let checked = match &attempt.account {
                Some(account) => check_two_factors(auth, account, recovery_code, code, now).await?,
                None => None,
            };
            let account = attempt.account.clone();
            (attempt, checked, account)
        }
    };
    let (Some(checked), Some(account)) = (checked, account) else {
        attempt.failed(auth, None, client, now);
        tracing::info!(event = "password_reset_refused", method, ip = ?client.ip, "wrong, used or expired recovery proof");
        return Err(AuthError::InvalidToken);
    };
    if account.disabled_at.is_some() {
        attempt.passed_now(&auth.db, now).await?;
        return Err(AuthError::AccountDisabled);
    }
    let new = match judge_new_password(
        &auth.hasher,
        auth.policy.passwords,
        &account.username,
        new_password,
        "new_password",
    )
    .await
    {
        Ok(new) => new,
        Err(e) => {
            // The proof was right: only the new password is refused.
            attempt.passed_now(&auth.db, now).await?;
            return Err(e);
        }
    };
    let hash = auth.hasher.hash(&new).await?;
    let standing = Standing::of(&account);
    let txn = storage::begin_write(&auth.db).await?;
    standing::confirm(&txn, standing, AuthError::InvalidToken).await?;
    match &checked {
        Checked::Token(token) => {
            if !consume_token(&txn, token).await? {
                return Err(AuthError::InvalidToken);
            }
        }
        // The key is used up by `advance` below, with every other grant of this password;
        // a concurrent reset with the same key finds the epoch moved (`confirm` above).
        Checked::RecoveryKey => {}
        Checked::RecoveryCode(recovery, totp) => {
            if !second_factor::claim(&txn, account.id, recovery, now).await?
                || !second_factor::claim(&txn, account.id, totp, now).await?
            {
                return Err(AuthError::InvalidToken);
            }
        }
    }
    attempt.passed(&txn, now).await?;
    standing::advance(&txn, account.id, None, now).await?;
    end_tokens(&txn, account.id, Purpose::PasswordReset).await?;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(account.id))
        .exec(&txn)
        .await?;
    let ended = sessions::revoke_all(&txn, account.id, None, now).await?;
    activity::record(
        &txn,
        Event {
            user_id: account.id,
            kind: Kind::PasswordReset,
            client: Some(client),
            session_id: None,
        },
        now,
    )
    .await?;
    notices::tell_owner(
        auth.post(),
        &txn,
        account.id,
        Notice::PasswordReset,
        Some(client),
        now,
    )
    .await?;
    txn.commit().await?;
    sessions::count_revoked("password_reset", ended);
    tracing::info!(event = "password_reset", method, user_id = %account.id, sessions_ended = ended, "password reset");
    Ok(())
}

/// The keyed hash a recovery key is stored under (HMAC-SHA256, key derived from `JWT_SECRET`,
/// over the account and the key as typed without separators or case).
fn recovery_key_hash(auth: &Auth, user_id: Uuid, key: &str) -> String {
    let normalised: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let mut mac = auth.secrets.recovery_code_mac();
    mac.update(b"recovery-key:");
    mac.update(user_id.as_bytes());
    mac.update(normalised.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `key` is the account's recovery key. The same work for an unknown name, or one
/// without a key.
fn check_recovery_key(auth: &Auth, account: Option<&user::Model>, key: &str) -> bool {
    let user_id = account.map_or(Uuid::nil(), |a| a.id);
    let presented = recovery_key_hash(auth, user_id, key);
    let stored = account
        .and_then(|a| a.recovery_key_hash.as_deref())
        .unwrap_or("");
    // Both sides are keyed hashes: how long a comparison takes tells an attacker nothing that
    // moves them closer (they cannot choose the hash's bytes without the key).
    !stored.is_empty() && presented == stored
}

/// With 2FA on: both a recovery code and a current authenticator code, checked.
async fn check_two_factors(
    auth: &Auth,
    account: &user::Model,
    recovery_code: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<Checked>, AuthError> {
    let Some(factor) = second_factor::enabled_factor(&auth.db, account.id).await? else {
        return Ok(None);
    };
    let recovery = second_factor::check(
        auth,
        &factor,
        account,
        &Code::Recovery(recovery_code.to_owned()),
        now,
    )
    .await?;
    let totp =
        second_factor::check(auth, &factor, account, &Code::Totp(code.to_owned()), now).await?;
    Ok(recovery
        .zip(totp)
        .map(|(recovery, totp)| Checked::RecoveryCode(recovery, totp)))
}

// ---- The recovery key ----------------------------------------------------------------------

/// A new recovery key for the caller, after a step-up: 130 random bits as 26 characters of
/// Crockford base32 in groups of four. Shown once; any earlier key stops working.
pub async fn create_recovery_key(
    auth: &Auth,
    caller: &Authenticated,
    answer: &StepUpAnswer,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    let step_up = second_factor::step_up(auth, caller, answer, client, now).await?;
    let key = new_recovery_key()?;
    let txn = storage::begin_write(&auth.db).await?;
    step_up.apply(&txn, now).await?;
    user::Entity::update_many()
        .col_expr(
            user::Column::RecoveryKeyHash,
            Expr::value(Some(recovery_key_hash(auth, caller.user.id, &key))),
        )
        .col_expr(user::Column::RecoveryKeyCreatedAt, Expr::value(Some(now)))
        .filter(user::Column::Id.eq(caller.user.id))
        .exec(&txn)
        .await?;
    activity::record(
        &txn,
        Event {
            user_id: caller.user.id,
            kind: Kind::RecoveryKeyCreated,
            client: Some(client),
            session_id: Some(caller.session_id),
        },
        now,
    )
    .await?;
    notices::tell_owner(
        auth.post(),
        &txn,
        caller.user.id,
        Notice::RecoveryKeyCreated,
        Some(client),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "recovery_key_created", user_id = %caller.user.id, "recovery key created");
    Ok(key)
}

/// When the account's recovery key was made, if it has one.
pub async fn recovery_key_created_at(
    db: &DatabaseConnection,
    user_id: Uuid,
) -> Result<Option<DateTime<Utc>>, AuthError> {
    Ok(user::Entity::find_by_id(user_id)
        .select_only()
        .column(user::Column::RecoveryKeyCreatedAt)
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten())
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XX`: 26 symbols of 5 bits, 130 bits in all.
fn new_recovery_key() -> Result<String, AuthError> {
    let bytes = random_bytes::<26>()?;
    let symbols: Vec<char> = bytes
        .iter()
        .map(|b| char::from(CROCKFORD[usize::from(b % 32)]))
        .collect();
    Ok(symbols
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// Tokens past their expiry (purged in the background).
pub fn expired(now: DateTime<Utc>) -> Condition {
    Condition::all().add(account_token::Column::ExpiresAt.lt(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_key_has_130_bits_in_readable_groups() {
        let key = new_recovery_key().unwrap();
        assert_eq!(key.len(), 26 + 6);
        assert_eq!(key.split('-').count(), 7);
        assert!(
            key.chars()
                .all(|c| c == '-' || CROCKFORD.contains(&(c as u8)))
        );
        assert_ne!(key, new_recovery_key().unwrap());
    }
}

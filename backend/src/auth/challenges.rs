//! Short-lived, single-use ceremonies kept on the server: a sign-in waiting for its second
//! factor, a passkey being registered, a passkey sign-in. The client holds a random token;
//! the database holds its SHA-256, the user and their credential epoch (see `standing`), the
//! ceremony's state and an expiry.

use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection, EntityTrait as _,
    QueryFilter as _,
    sea_query::{Expr, ExprTrait as _},
};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::{AuthError, secrets::random_bytes, sessions::duration, standing::Standing};
use crate::entity::auth_challenge;

/// How long a ceremony may take (a second-factor step, a passkey prompt).
pub const LIFETIME: Duration = Duration::from_secs(5 * 60);
/// Answers a sign-in challenge checks at most, however many arrive at once.
pub const MAX_ANSWERS: i32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The password was right; a second factor must follow.
    SecondFactor,
    PasskeyRegistration,
    PasskeySignIn,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::SecondFactor => "second_factor",
            Self::PasskeyRegistration => "passkey_registration",
            Self::PasskeySignIn => "passkey_sign_in",
        }
    }
}

/// A random token for the client to present.
pub fn new_token() -> Result<String, AuthError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

fn id_of(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Stores a ceremony and returns the token that names it. A ceremony for an account carries
/// the standing it was started under, and dies with it.
pub async fn create(
    conn: &impl ConnectionTrait,
    kind: Kind,
    account: Option<Standing>,
    state: Option<String>,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    let token = new_token()?;
    auth_challenge::Entity::insert(auth_challenge::ActiveModel {
        id: Set(id_of(&token)),
        user_id: Set(account.map(|a| a.user_id)),
        credential_epoch: Set(account.map(|a| a.epoch)),
        kind: Set(kind.as_str().to_owned()),
        state: Set(state),
        failures: Set(0),
        created_at: Set(now),
        expires_at: Set(now + duration(LIFETIME)),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(token)
}

/// The live ceremony of `kind` that `token` names, if any.
pub async fn find(
    conn: &impl ConnectionTrait,
    token: &str,
    kind: Kind,
    now: DateTime<Utc>,
) -> Result<Option<auth_challenge::Model>, AuthError> {
    if token.len() > 64 {
        return Ok(None);
    }
    Ok(auth_challenge::Entity::find_by_id(id_of(token))
        .filter(auth_challenge::Column::Kind.eq(kind.as_str()))
        .filter(auth_challenge::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?)
}

/// Ends a ceremony; `false` when it was already gone (used by a concurrent request).
pub async fn consume(
    conn: &impl ConnectionTrait,
    challenge: &auth_challenge::Model,
) -> Result<bool, AuthError> {
    let deleted = auth_challenge::Entity::delete_by_id(challenge.id.clone())
        .exec(conn)
        .await?
        .rows_affected;
    Ok(deleted == 1)
}

/// The standing a ceremony was started under, for `standing::confirm` when it completes.
pub fn standing_of(challenge: &auth_challenge::Model) -> Option<Standing> {
    Some(Standing {
        user_id: challenge.user_id?,
        epoch: challenge.credential_epoch?,
    })
}

/// Takes one of the challenge's `MAX_ANSWERS` turns, before the answer is checked: a
/// conditional increment, so however many answers arrive at once, at most that many are
/// checked. `false` when none is left (or it expired or was used).
pub async fn take_turn(
    db: &DatabaseConnection,
    challenge: &auth_challenge::Model,
    now: DateTime<Utc>,
) -> Result<bool, AuthError> {
    let taken = auth_challenge::Entity::update_many()
        .col_expr(
            auth_challenge::Column::Failures,
            Expr::col(auth_challenge::Column::Failures).add(1),
        )
        .filter(auth_challenge::Column::Id.eq(challenge.id.clone()))
        .filter(auth_challenge::Column::Failures.lt(MAX_ANSWERS))
        .filter(auth_challenge::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?
        .rows_affected;
    Ok(taken == 1)
}

/// After a wrong answer: ends the challenge once its turns are spent.
pub async fn end_if_spent(
    db: &DatabaseConnection,
    challenge: &auth_challenge::Model,
) -> Result<(), AuthError> {
    auth_challenge::Entity::delete_many()
        .filter(auth_challenge::Column::Id.eq(challenge.id.clone()))
        .filter(auth_challenge::Column::Failures.gte(MAX_ANSWERS))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every pending ceremony of the user (their credentials changed, or they signed out
/// everywhere).
pub async fn end_all_of(txn: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, AuthError> {
    Ok(auth_challenge::Entity::delete_many()
        .filter(auth_challenge::Column::UserId.eq(user_id))
        .exec(txn)
        .await?
        .rows_affected)
}

/// Ceremonies past their expiry at `now`.
pub fn expired(now: DateTime<Utc>) -> Condition {
    Condition::all().add(auth_challenge::Column::ExpiresAt.lt(now))
}

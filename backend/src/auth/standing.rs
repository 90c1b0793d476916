//! An account's standing: what every grant is made under, and re-checked against.
//!
//! A session, a second-factor challenge, a passkey ceremony or a device's trust is granted
//! under the account as it was when the credential was judged: enabled, at its credential
//! epoch. A change that must end what was granted before it (a password change or reset,
//! disabling, a factor reset) *advances* the epoch and ends what carries the old one, in one
//! transaction. A grant made after a slow step (a password hash, a network call) *confirms* the
//! standing it was judged under inside the transaction that grants: a change that committed
//! meanwhile wins, and one that commits afterwards finds the new grant and ends it.
//!
//! Both start by taking the account's row (PostgreSQL: a row lock held to commit; SQLite's
//! IMMEDIATE write transactions are already serial), so they cannot interleave; and every
//! transaction that touches an account's grants takes that row before any other row, so two
//! of them cannot deadlock. The one row taken earlier still is the `admin` role's: every
//! administrator's change and a self-deletion that may remove the last administrator take it
//! first (`roles::lock_admin`), then the account's.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QuerySelect as _,
    sea_query::{Expr, ExprTrait as _},
};
use uuid::Uuid;

use super::{AuthError, challenges, device};
use crate::entity::user;

/// The account state a credential was judged under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub user_id: Uuid,
    pub epoch: i32,
}

impl Standing {
    pub fn of(account: &user::Model) -> Self {
        Self {
            user_id: account.id,
            epoch: account.credential_epoch,
        }
    }
}

/// Confirms, first thing in `txn`, that the account is still enabled and at `standing`'s epoch,
/// and holds its row until the transaction ends. A disabled account is `AccountDisabled`; a
/// deleted one, or one whose credentials changed meanwhile, is `stale` (the error the caller's
/// flow gives for a credential that is no longer right).
pub async fn confirm(
    txn: &impl ConnectionTrait,
    standing: Standing,
    stale: AuthError,
) -> Result<(), AuthError> {
    // A no-op write: on PostgreSQL it takes the row lock and re-reads the row if another
    // transaction changed it first (READ COMMITTED re-evaluates the condition).
    let held = user::Entity::update_many()
        .col_expr(
            user::Column::CredentialEpoch,
            Expr::col(user::Column::CredentialEpoch),
        )
        .filter(user::Column::Id.eq(standing.user_id))
        .filter(user::Column::CredentialEpoch.eq(standing.epoch))
        .filter(user::Column::DisabledAt.is_null())
        .exec(txn)
        .await?
        .rows_affected;
    if held == 1 {
        return Ok(());
    }
    let disabled: Option<Option<DateTime<Utc>>> = user::Entity::find_by_id(standing.user_id)
        .select_only()
        .column(user::Column::DisabledAt)
        .into_tuple()
        .one(txn)
        .await?;
    Err(match disabled {
        Some(Some(_)) => AuthError::AccountDisabled,
        _ => stale,
    })
}

/// Takes the account's row for the rest of `txn`, whatever its state (for changes that end
/// grants without moving the epoch, such as signing out everywhere). `false` if it is gone.
pub async fn hold(txn: &impl ConnectionTrait, user_id: Uuid) -> Result<bool, AuthError> {
    let held = user::Entity::update_many()
        .col_expr(
            user::Column::CredentialEpoch,
            Expr::col(user::Column::CredentialEpoch),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(held == 1)
}

/// Moves the account to a new epoch, first thing in `txn`: every pending challenge, every
/// trusted device (except `keep`, the device the change itself came from, which carries over)
/// and the recovery key of the old one end. Sessions are the caller's to end, in the same transaction: some
/// changes keep the caller's own. Returns the new epoch.
pub async fn advance(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    keep_device: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<i32, AuthError> {
    // The recovery key stands in for the password it was made beside: a new password (or a
    // disable, a factor reset) needs a new key, so a key planted by someone who once had the
    // password dies with it, and a key that reset the password is used up.
    user::Entity::update_many()
        .col_expr(
            user::Column::CredentialEpoch,
            Expr::col(user::Column::CredentialEpoch).add(1),
        )
        .col_expr(user::Column::RecoveryKeyHash, Expr::value(None::<String>))
        .col_expr(
            user::Column::RecoveryKeyCreatedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(txn)
        .await?;
    let epoch: i32 = user::Entity::find_by_id(user_id)
        .select_only()
        .column(user::Column::CredentialEpoch)
        .into_tuple()
        .one(txn)
        .await?
        .ok_or(AuthError::NotFound)?;
    challenges::end_all_of(txn, user_id).await?;
    device::forget_all_but(txn, user_id, keep_device, epoch).await?;
    Ok(epoch)
}

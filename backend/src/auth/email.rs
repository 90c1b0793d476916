//! An account's optional email address: for recovery and notices only (the username stays the
//! identifier, and two accounts may share an address). A new address is unverified until the
//! link mailed to it is followed; only a verified address receives reset links and notices.
//! Changing it tells the old verified address.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};

use super::{
    Auth, AuthError, ClientInfo,
    activity::{self, Event, Kind},
    notices::{self, Notice},
    recovery::{self, Purpose},
    second_factor::{self, StepUpAnswer},
    sessions::Authenticated,
    standing::{self, Standing},
};
use crate::{domain::EmailAddress, entity::user, storage};

/// How long a verification link works.
pub const VERIFICATION_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The address on an account, and whether it is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub email: Option<String>,
    pub verified: bool,
}

/// Sets (or replaces) the caller's address, after a step-up: it is unverified until the link
/// mailed to it is followed; the old verified address, if any, is told. `MailDisabled` when the
/// server sends no mail.
pub async fn set(
    auth: &Auth,
    caller: &Authenticated,
    address: EmailAddress,
    answer: &StepUpAnswer,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let policy = auth.mail.as_ref().ok_or(AuthError::MailDisabled)?;
    let step_up = second_factor::step_up(auth, caller, answer, client, now).await?;
    let txn = storage::begin_write(&auth.db).await?;
    step_up.apply(&txn, now).await?;
    let account = user::Entity::find_by_id(caller.user.id)
        .one(&txn)
        .await?
        .ok_or(AuthError::Unauthenticated)?;
    user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::value(Some(address.as_str())))
        .col_expr(
            user::Column::EmailVerifiedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(account.id))
        .exec(&txn)
        .await?;
    recovery::end_tokens(&txn, account.id, Purpose::EmailVerification).await?;
    let token = recovery::issue_token(
        &txn,
        step_up.standing(),
        Purpose::EmailVerification,
        Some(address.as_str()),
        VERIFICATION_LIFETIME,
        now,
    )
    .await?;
    let link = policy.link("verify-email", &token);
    notices::tell_address(
        auth.post(),
        &txn,
        address.as_str(),
        &account.username,
        Notice::VerifyAddress {
            link: &link,
            valid_for: VERIFICATION_LIFETIME,
        },
        Some(client),
        now,
    )
    .await?;
    if let (Some(old), Some(_)) = (&account.email, account.email_verified_at)
        && !old.eq_ignore_ascii_case(address.as_str())
    {
        notices::tell_address(
            auth.post(),
            &txn,
            old,
            &account.username,
            Notice::AddressChanged,
            Some(client),
            now,
        )
        .await?;
    }
    record(&txn, caller, Kind::EmailChanged, client, now).await?;
    txn.commit().await?;
    tracing::info!(event = "email_changed", user_id = %caller.user.id, "email address set; verification mailed");
    Ok(())
}

/// Follows a verification link: the address it was sent to becomes the verified address, if
/// it is still the account's. Needs no session (the link may be opened on another device).
/// A wrong, used or expired token, or one for an address since replaced, is `InvalidToken`.
pub async fn verify(
    auth: &Auth,
    token: &str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    let found = recovery::find_token(&auth.db, token, Purpose::EmailVerification, now)
        .await?
        .ok_or(AuthError::InvalidToken)?;
    let address = found.email.clone().ok_or(AuthError::InvalidToken)?;
    let txn = storage::begin_write(&auth.db).await?;
    standing::confirm(
        &txn,
        Standing {
            user_id: found.user_id,
            epoch: found.credential_epoch,
        },
        AuthError::InvalidToken,
    )
    .await?;
    if !recovery::consume_token(&txn, &found).await? {
        return Err(AuthError::InvalidToken);
    }
    let verified = user::Entity::update_many()
        .col_expr(user::Column::EmailVerifiedAt, Expr::value(Some(now)))
        .filter(user::Column::Id.eq(found.user_id))
        .filter(user::Column::Email.eq(address.clone()))
        .exec(&txn)
        .await?
        .rows_affected;
    if verified != 1 {
        return Err(AuthError::InvalidToken);
    }
    activity::record(
        &txn,
        Event {
            user_id: found.user_id,
            kind: Kind::EmailVerified,
            client: Some(client),
            session_id: None,
        },
        now,
    )
    .await?;
    notices::tell_owner(
        auth.post(),
        &txn,
        found.user_id,
        Notice::AddressVerified,
        Some(client),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "email_verified", user_id = %found.user_id, "email address verified");
    Ok(address)
}

/// Removes the caller's address, after a step-up; the address is told.
pub async fn remove(
    auth: &Auth,
    caller: &Authenticated,
    answer: &StepUpAnswer,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let step_up = second_factor::step_up(auth, caller, answer, client, now).await?;
    let txn = storage::begin_write(&auth.db).await?;
    step_up.apply(&txn, now).await?;
    let account = user::Entity::find_by_id(caller.user.id)
        .one(&txn)
        .await?
        .ok_or(AuthError::Unauthenticated)?;
    let Some(old) = &account.email else {
        return Err(AuthError::NotFound);
    };
    if account.email_verified_at.is_some() {
        notices::tell_address(
            auth.post(),
            &txn,
            old,
            &account.username,
            Notice::AddressRemoved,
            Some(client),
            now,
        )
        .await?;
    }
    user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::value(None::<String>))
        .col_expr(
            user::Column::EmailVerifiedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(account.id))
        .exec(&txn)
        .await?;
    recovery::end_tokens(&txn, account.id, Purpose::EmailVerification).await?;
    record(&txn, caller, Kind::EmailRemoved, client, now).await?;
    txn.commit().await?;
    tracing::info!(event = "email_removed", user_id = %caller.user.id, "email address removed");
    Ok(())
}

async fn record(
    txn: &impl sea_orm::ConnectionTrait,
    caller: &Authenticated,
    kind: Kind,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    activity::record(
        txn,
        Event {
            user_id: caller.user.id,
            kind,
            client: Some(client),
            session_id: Some(caller.session_id),
        },
        now,
    )
    .await
}

//! Device trust (OWASP Credential Stuffing and Authentication cheat sheets). After a sign-in,
//! the browser (a cookie) or client (`device_token` in `/token`'s body) holds a random token
//! naming a device this account trusts. A later sign-in that presents it is judged by that
//! device's own failure count instead of the username's, so a stranger guessing a victim's
//! password locks out only devices that never signed in, never the victim's own. The attempt
//! still counts against its address, so trusted devices cannot multiply a guesser's budget.
//!
//! Trust lives here, not in the token: at most `MAX_PER_ACCOUNT` devices per account (the most
//! recently used), listed to the owner and the operator, forgotten one by one, and ended with
//! every other grant when the account's credential epoch moves (see `standing`). Only the
//! token's SHA-256 is stored.

use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, sea_query::Expr,
};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::{AuthError, ClientInfo, secrets::random_bytes, sessions::duration, standing::Standing};
use crate::entity::{trusted_device, user};

/// Devices an account trusts at most; signing in on one more forgets the least recently used.
pub const MAX_PER_ACCOUNT: u64 = 10;
const TOKEN_BYTES: usize = 32;
/// A token's length in base64url; anything else is not one of ours.
const TOKEN_LEN: usize = 43;

/// A device the account trusts, recognised from the token it presented.
#[derive(Debug, Clone)]
pub struct Recognised {
    pub device: trusted_device::Model,
    token: String,
}

impl Recognised {
    pub fn id(&self) -> Uuid {
        self.device.id
    }
}

/// The device token to hand back after a sign-in, and until when it is trusted.
#[derive(Debug, Clone)]
pub struct Remembered {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

fn hash_of(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The device `token` names, if this account trusts it at its current epoch. The lookup runs
/// whenever a token is presented, whether or not the account exists, so it costs an unknown
/// name the same as a real one.
pub async fn recognise(
    conn: &impl ConnectionTrait,
    token: Option<&str>,
    account: Option<&user::Model>,
    now: DateTime<Utc>,
) -> Result<Option<Recognised>, AuthError> {
    let Some(token) = token.filter(|t| t.len() == TOKEN_LEN) else {
        return Ok(None);
    };
    let found = trusted_device::Entity::find()
        .filter(trusted_device::Column::TokenHash.eq(hash_of(token)))
        .filter(trusted_device::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?;
    Ok(found
        .filter(|device| {
            account.is_some_and(|account| {
                device.user_id == account.id && device.credential_epoch == account.credential_epoch
            })
        })
        .map(|device| Recognised {
            device,
            token: token.to_owned(),
        }))
}

/// Trusts the device that just signed in, inside the sign-in's transaction (after its
/// standing was confirmed): the same device for longer, or a new one. A new one beyond
/// `MAX_PER_ACCOUNT` forgets the least recently used. `None` when device trust is off.
pub async fn remember(
    txn: &impl ConnectionTrait,
    known: Option<&Recognised>,
    standing: Standing,
    client: &ClientInfo,
    trust: Option<Duration>,
    now: DateTime<Utc>,
) -> Result<Option<Remembered>, AuthError> {
    let Some(trust) = trust else {
        return Ok(None);
    };
    let expires_at = now + duration(trust);
    let ip = client.ip.map(|ip| ip.to_string());
    if let Some(known) = known {
        trusted_device::Entity::update_many()
            .col_expr(trusted_device::Column::LastUsedAt, Expr::value(now))
            .col_expr(trusted_device::Column::ExpiresAt, Expr::value(expires_at))
            .col_expr(
                trusted_device::Column::UserAgent,
                Expr::value(client.user_agent.clone()),
            )
            .col_expr(trusted_device::Column::Ip, Expr::value(ip))
            .filter(trusted_device::Column::Id.eq(known.device.id))
            .exec(txn)
            .await?;
        return Ok(Some(Remembered {
            token: known.token.clone(),
            expires_at,
        }));
    }
    let token = URL_SAFE_NO_PAD.encode(random_bytes::<TOKEN_BYTES>()?);
    trusted_device::Entity::insert(trusted_device::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(standing.user_id),
        token_hash: Set(hash_of(&token)),
        credential_epoch: Set(standing.epoch),
        created_at: Set(now),
        last_used_at: Set(now),
        expires_at: Set(expires_at),
        user_agent: Set(client.user_agent.clone()),
        ip: Set(ip),
    })
    .exec_without_returning(txn)
    .await?;
    forget_beyond_limit(txn, standing.user_id).await?;
    Ok(Some(Remembered { token, expires_at }))
}

/// Keeps the `MAX_PER_ACCOUNT` most recently used devices of the account.
async fn forget_beyond_limit(txn: &impl ConnectionTrait, user_id: Uuid) -> Result<(), AuthError> {
    let surplus: Vec<Uuid> = trusted_device::Entity::find()
        .select_only()
        .column(trusted_device::Column::Id)
        .filter(trusted_device::Column::UserId.eq(user_id))
        .order_by_desc(trusted_device::Column::LastUsedAt)
        .order_by_desc(trusted_device::Column::Id)
        .offset(MAX_PER_ACCOUNT)
        .limit(100)
        .into_tuple()
        .all(txn)
        .await?;
    if !surplus.is_empty() {
        trusted_device::Entity::delete_many()
            .filter(trusted_device::Column::Id.is_in(surplus))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// The devices an account trusts now, most recently used first.
pub async fn trusted(
    db: &DatabaseConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<trusted_device::Model>, AuthError> {
    Ok(trusted_device::Entity::find()
        .filter(trusted_device::Column::UserId.eq(user_id))
        .filter(trusted_device::Column::ExpiresAt.gt(now))
        .order_by_desc(trusted_device::Column::LastUsedAt)
        .order_by_desc(trusted_device::Column::Id)
        .all(db)
        .await?)
}

/// Whether `device` is the one that presented `token` (to mark "this device" in a list).
pub fn is_presented(device: &trusted_device::Model, token: Option<&str>) -> bool {
    token.is_some_and(|token| hash_of(token) == device.token_hash)
}

/// Stops trusting one of the user's devices. Someone else's id answers like a missing one.
pub async fn forget(db: &DatabaseConnection, user_id: Uuid, id: Uuid) -> Result<(), AuthError> {
    let deleted = trusted_device::Entity::delete_many()
        .filter(trusted_device::Column::Id.eq(id))
        .filter(trusted_device::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected;
    if deleted == 1 {
        Ok(())
    } else {
        Err(AuthError::NotFound)
    }
}

/// Ends the account's device trust (see `standing::advance`), except `keep`, which moves to
/// `epoch`.
pub(super) async fn forget_all_but(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    keep: Option<Uuid>,
    epoch: i32,
) -> Result<(), AuthError> {
    let mut forget =
        trusted_device::Entity::delete_many().filter(trusted_device::Column::UserId.eq(user_id));
    if let Some(keep) = keep {
        forget = forget.filter(trusted_device::Column::Id.ne(keep));
        trusted_device::Entity::update_many()
            .col_expr(trusted_device::Column::CredentialEpoch, Expr::value(epoch))
            .filter(trusted_device::Column::Id.eq(keep))
            .filter(trusted_device::Column::UserId.eq(user_id))
            .exec(txn)
            .await?;
    }
    forget.exec(txn).await?;
    Ok(())
}

/// Devices whose trust has run out at `now`.
pub fn expired(now: DateTime<Utc>) -> Condition {
    Condition::all().add(trusted_device::Column::ExpiresAt.lt(now))
}

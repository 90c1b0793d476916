//! Accounts coming in: registration and password sign-in, behind the brute-force limits.
//!
//! Every password check follows the same order: find the account (a cheap indexed read),
//! reserve the attempt in the throttle (atomic, in the database), and only then hash. A
//! success gives the reservation back in the same transaction that starts the session.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, DatabaseConnection,
    EntityTrait as _, QueryFilter as _, SqlErr, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    Auth, AuthError, ClientInfo, Identity,
    activity::{self, Event, Kind},
    challenges,
    device::Device,
    password_hash::Verdict,
    second_factor::{self, Code},
    sessions::{self, IssuedSession},
    throttle::{self, Key, Reservation, Rule, ThrottlePolicy},
};
use crate::{
    domain::{FieldError, Password, PasswordPolicy, Username},
    entity::user,
    storage,
};

/// Parses registration input, reporting every invalid field at once. The password is judged
/// with the username as context (it must not contain it, and zxcvbn knows it).
pub fn parse_registration(
    username: String,
    password: String,
    policy: PasswordPolicy,
) -> Result<(Username, Password), AuthError> {
    let username = Username::parse(username);
    let password = match &username {
        Ok(name) => Password::parse_new(password, name, policy),
        Err(_) => Password::parse(password),
    };
    match (username, password) {
        (Ok(username), Ok(password)) => Ok((username, password)),
        (username, password) => {
            let errors: Vec<FieldError> = [username.err(), password.err()]
                .into_iter()
                .flatten()
                .collect();
            Err(AuthError::Validation(errors))
        }
    }
}

/// Creates an account. The unique index on the canonical name decides races between
/// concurrent registrations: exactly one insert wins, the others get `UsernameTaken`.
pub async fn register(
    auth: &Auth,
    username: Username,
    password: Password,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Identity, AuthError> {
    // Counted before the existence check: learning which names are taken costs a slot too.
    if let (Some(rule), Some(ip)) = (auth.policy.throttle.registration, client.ip) {
        throttle::reserve(&auth.db, vec![(Key::registration_address(ip), rule)], now)
            .await
            .inspect_err(|e| log_throttled(e, "register"))?;
    }
    // Cheap early answer for the common case; the index below is what guarantees it.
    if find_by_username(&auth.db, &username).await?.is_some() {
        return Err(AuthError::UsernameTaken);
    }
    let password_hash = auth.hasher.hash(&password).await?;
    let account = user::ActiveModel {
        id: Set(Uuid::new_v4()),
        username: Set(username.as_str().to_owned()),
        username_canonical: Set(username.canonical().to_owned()),
        password_hash: Set(password_hash),
        created_at: Set(now),
        updated_at: Set(now),
        disabled_at: Set(None),
    };
    match account.insert(&auth.db).await {
        Ok(user) => {
            tracing::info!(event = "register", user_id = %user.id, "account created");
            Ok(Identity::from(&user))
        }
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(AuthError::UsernameTaken)
        }
        Err(e) => Err(e.into()),
    }
}

/// A sign-in attempt as it arrived.
pub struct LoginAttempt {
    /// As typed: not parsed, so a name that breaks the rules is just an unknown name.
    pub username: String,
    pub password: Password,
    /// The device cookie the browser sent, if any.
    pub device_cookie: Option<String>,
}

/// A successful sign-in: the session, and the device to remember in a cookie.
#[derive(Debug)]
pub struct SignedIn {
    pub session: IssuedSession,
    pub device: Option<Device>,
}

/// What a right password leads to.
#[derive(Debug)]
pub enum LoginOutcome {
    SignedIn(SignedIn),
    /// 2FA is on: no session yet. The token names the challenge that `complete_second_factor`
    /// finishes (single use, five minutes, at most five wrong codes).
    SecondFactorRequired {
        challenge: String,
    },
}

/// Checks a username and password and starts a session, or a second-factor challenge when
/// 2FA is on. Unknown users and wrong passwords take the same path, the same time and the
/// same error.
pub async fn login(
    auth: &Auth,
    attempt: LoginAttempt,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<LoginOutcome, AuthError> {
    // A name that breaks the rules cannot exist; treat it as unknown rather than as a 400,
    // so a login form cannot be used to probe the rules per field.
    let account = match Username::parse(attempt.username.clone()) {
        Ok(name) => find_by_username(&auth.db, &name).await?,
        Err(_) => None,
    };
    let device = trusted_device(
        auth,
        attempt.device_cookie.as_deref(),
        account.as_ref(),
        now,
    );
    let checks = limits(
        &auth.policy.throttle,
        &attempt.username,
        device.as_ref(),
        client.ip,
    );
    let reservation = throttle::reserve(&auth.db, checks, now)
        .await
        .inspect_err(|e| log_throttled(e, "login"))?;
    let verdict =
        check_password(auth, &reservation, &attempt.password, account.as_ref(), now).await?;
    let (account, needs_rehash) = match (account, verdict) {
        (Some(account), Verdict::Match { needs_rehash }) => (account, needs_rehash),
        (account, _) => {
            if let Some(account) = &account {
                record_event(&auth.db, account.id, Kind::SignInFailed, client, None, now).await?;
            }
            count_login("failed");
            tracing::info!(event = "login_failed", user_id = ?account.map(|u| u.id), ip = ?client.ip, "login failed");
            return Err(AuthError::InvalidCredentials);
        }
    };
    if account.disabled_at.is_some() {
        release_now(auth, &reservation, now).await?;
        tracing::info!(event = "login_refused", user_id = %account.id, "login refused: the account is disabled");
        return Err(AuthError::AccountDisabled);
    }
    if needs_rehash {
        upgrade_hash(auth, &account, &attempt.password, now).await;
    }
    let txn = storage::begin_write(&auth.db).await?;
    throttle::release(&txn, &reservation, now).await?;
    if second_factor::enabled_factor(&txn, account.id)
        .await?
        .is_some()
    {
        let challenge = challenges::create(
            &txn,
            challenges::Kind::SecondFactor,
            Some(account.id),
            None,
            now,
        )
        .await?;
        txn.commit().await?;
        count_login("second_factor_required");
        tracing::info!(event = "login_second_factor", user_id = %account.id, "password accepted; waiting for the second factor");
        return Ok(LoginOutcome::SecondFactorRequired { challenge });
    }
    let session = sessions::start(auth, &txn, &Identity::from(&account), client, now).await?;
    txn.commit().await?;
    count_login("succeeded");
    tracing::info!(event = "login", user_id = %account.id, session_id = %session.session_id, ip = ?client.ip, "login succeeded");
    Ok(LoginOutcome::SignedIn(SignedIn {
        session,
        device: remember(auth, device, account.id, now),
    }))
}

/// Finishes a sign-in that waits for its second factor. Wrong codes count against the same
/// limits as wrong passwords, and the fifth ends the challenge.
pub async fn complete_second_factor(
    auth: &Auth,
    challenge_token: &str,
    code: Code,
    device_cookie: Option<&str>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedIn, AuthError> {
    let challenge = challenges::find(
        &auth.db,
        challenge_token,
        challenges::Kind::SecondFactor,
        now,
    )
    .await?
    .ok_or(AuthError::MfaChallengeExpired)?;
    let account = match challenge.user_id {
        Some(user_id) => user::Entity::find_by_id(user_id).one(&auth.db).await?,
        None => None,
    }
    .ok_or(AuthError::MfaChallengeExpired)?;
    let device = trusted_device(auth, device_cookie, Some(&account), now);
    let checks = limits(
        &auth.policy.throttle,
        &account.username_canonical,
        device.as_ref(),
        client.ip,
    );
    let reservation = throttle::reserve(&auth.db, checks, now)
        .await
        .inspect_err(|e| log_throttled(e, "second_factor"))?;
    let factor = second_factor::enabled_factor(&auth.db, account.id)
        .await?
        .ok_or(AuthError::MfaChallengeExpired)?;
    let Some(proof) = second_factor::check(auth, &factor, &account, &code, now).await? else {
        challenges::record_failure(&auth.db, &challenge).await?;
        record_event(
            &auth.db,
            account.id,
            Kind::SecondFactorFailed,
            client,
            None,
            now,
        )
        .await?;
        count_login("second_factor_failed");
        tracing::info!(event = "second_factor_failed", user_id = %account.id, ip = ?client.ip, "wrong second factor at sign-in");
        return Err(AuthError::InvalidMfaCode);
    };
    let txn = storage::begin_write(&auth.db).await?;
    if !challenges::consume(&txn, &challenge).await? {
        return Err(AuthError::MfaChallengeExpired);
    }
    if !second_factor::claim(&txn, account.id, &proof, now).await? {
        return Err(AuthError::InvalidMfaCode);
    }
    throttle::release(&txn, &reservation, now).await?;
    let session = sessions::start(auth, &txn, &Identity::from(&account), client, now).await?;
    let used = match proof {
        second_factor::Proof::TotpStep(_) => Kind::SecondFactorUsed,
        second_factor::Proof::RecoveryCode(_) => Kind::RecoveryCodeUsed,
    };
    record_event(
        &txn,
        account.id,
        used,
        client,
        Some(session.session_id),
        now,
    )
    .await?;
    txn.commit().await?;
    count_login("succeeded");
    tracing::info!(event = "login", method = "second_factor", user_id = %account.id, session_id = %session.session_id, ip = ?client.ip, "login succeeded");
    Ok(SignedIn {
        session,
        device: remember(auth, device, account.id, now),
    })
}

/// `latchkey_logins_total{outcome}`; throttled attempts are `latchkey_throttled_total`.
pub(crate) fn count_login(outcome: &'static str) {
    metrics::counter!("latchkey_logins_total", "outcome" => outcome).increment(1);
}

/// The device cookie to set after a sign-in: the same device, trusted for longer, or a new one.
fn remember(
    auth: &Auth,
    known: Option<Device>,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Option<Device> {
    auth.policy.throttle.device_trust.map(|trust| {
        let expires_at = now + sessions::duration(trust);
        match known {
            Some(known) => Device {
                expires_at,
                ..known
            },
            None => Device::new(user_id, expires_at),
        }
    })
}

async fn record_event(
    conn: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    kind: Kind,
    client: &ClientInfo,
    session_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    activity::record(
        conn,
        Event {
            user_id,
            kind,
            client: Some(client),
            session_id,
        },
        now,
    )
    .await
}

/// Re-checks the password of a signed-in user before a sensitive change, under the same
/// limits as a login. A wrong password is `WrongPassword` and counts as a failure; on success
/// the reservation is handed back for the caller to release with its change.
pub async fn recheck_password(
    auth: &Auth,
    user_id: Uuid,
    password: &Password,
    device_cookie: Option<&str>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(user::Model, Reservation), AuthError> {
    let account = user::Entity::find_by_id(user_id)
        .one(&auth.db)
        .await?
        .ok_or(AuthError::Unauthenticated)?;
    let device = trusted_device(auth, device_cookie, Some(&account), now);
    let checks = limits(
        &auth.policy.throttle,
        &account.username_canonical,
        device.as_ref(),
        client.ip,
    );
    let reservation = throttle::reserve(&auth.db, checks, now)
        .await
        .inspect_err(|e| log_throttled(e, "password_check"))?;
    match check_password(auth, &reservation, password, Some(&account), now).await? {
        Verdict::Match { .. } => Ok((account, reservation)),
        Verdict::Mismatch => {
            tracing::info!(event = "password_check_failed", user_id = %account.id, ip = ?client.ip, "wrong current password");
            Err(AuthError::WrongPassword)
        }
    }
}

/// Verifies under a reservation. If the check never happened (the hash queue is full, or an
/// error), the attempt was not a failure and is given back.
async fn check_password(
    auth: &Auth,
    reservation: &Reservation,
    password: &Password,
    account: Option<&user::Model>,
    now: DateTime<Utc>,
) -> Result<Verdict, AuthError> {
    let stored = account.map(|a| a.password_hash.as_str());
    match auth.hasher.verify(password, stored).await {
        Ok(verdict) => Ok(verdict),
        Err(e) => {
            release_now(auth, reservation, now).await?;
            Err(e)
        }
    }
}

async fn release_now(
    auth: &Auth,
    reservation: &Reservation,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    if reservation.is_empty() {
        return Ok(());
    }
    let txn = storage::begin_write(&auth.db).await?;
    throttle::release(&txn, reservation, now).await?;
    txn.commit().await?;
    Ok(())
}

/// The device cookie's device, if it is valid and was issued for this very account.
fn trusted_device(
    auth: &Auth,
    cookie: Option<&str>,
    account: Option<&user::Model>,
    now: DateTime<Utc>,
) -> Option<Device> {
    auth.policy.throttle.device_trust?;
    let device = Device::verify(cookie?, &auth.secrets, now)?;
    (account?.id == device.user_id).then_some(device)
}

/// Which buckets an attempt counts against. A known device is judged by its own count alone:
/// that is what keeps a victim's own browser usable while strangers have locked the name.
/// Anyone else counts against the name and against their address.
fn limits(
    policy: &ThrottlePolicy,
    typed_username: &str,
    device: Option<&Device>,
    ip: Option<IpAddr>,
) -> Vec<(Key, Rule)> {
    if let Some(device) = device {
        return policy
            .device
            .map(|rule| (Key::device(&device.id), rule))
            .into_iter()
            .collect();
    }
    let by_name = policy
        .username
        .map(|rule| (Key::username(typed_username), rule));
    let by_address = policy
        .address
        .zip(ip)
        .map(|(rule, ip)| (Key::login_address(ip), rule));
    by_name.into_iter().chain(by_address).collect()
}

fn log_throttled(error: &AuthError, action: &'static str) {
    if let AuthError::TooManyAttempts { retry_after } = error {
        metrics::counter!("latchkey_throttled_total", "action" => action).increment(1);
        tracing::warn!(
            event = "throttled",
            security = true,
            action,
            retry_after_s = retry_after.as_secs(),
            "refused: too many attempts"
        );
    }
}

pub(crate) async fn find_by_username(
    db: &DatabaseConnection,
    username: &Username,
) -> Result<Option<user::Model>, AuthError> {
    Ok(user::Entity::find()
        .filter(user::Column::UsernameCanonical.eq(username.canonical()))
        .one(db)
        .await?)
}

/// Re-hashes with the configured parameters after they were raised. Failure is logged and
/// does not fail the login: the old hash keeps working until the next attempt.
async fn upgrade_hash(auth: &Auth, account: &user::Model, password: &Password, now: DateTime<Utc>) {
    let result = async {
        let hash = auth.hasher.hash(password).await?;
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(hash))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(account.id))
            .exec(&auth.db)
            .await?;
        Ok::<_, AuthError>(())
    }
    .await;
    match result {
        Ok(()) => {
            tracing::info!(event = "password_rehashed", user_id = %account.id, "password hash upgraded")
        }
        Err(e) => {
            tracing::warn!(event = "password_rehash_failed", user_id = %account.id, error = %e, "password hash upgrade failed")
        }
    }
}

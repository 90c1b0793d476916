//! Accounts coming in: registration, and signing in with a password (then a second factor
//! when 2FA is on). Every credential goes through `attempt`: limits before the hash, the
//! account's standing confirmed in the transaction that starts the session.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, Condition, DatabaseConnection,
    EntityTrait as _, QueryFilter as _, SqlErr, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    Auth, AuthError, ClientInfo, Identity,
    activity::{self, Event, Kind},
    attempt::{self, Action, Attempt, Claimant},
    challenges,
    device::Remembered,
    password_hash::Verdict,
    second_factor::{self, Code, Proof},
    sessions::IssuedSession,
    standing::{self, Standing},
    throttle::Key,
};
use crate::{
    domain::{FieldError, Password, PasswordPolicy, Username},
    entity::user,
    storage,
    telemetry::Chain,
};

/// Parses registration input, reporting every invalid field at once. The password is judged
/// with the username as context (it must not contain it, and zxcvbn knows it); zxcvbn runs on
/// the hashing threads, bounded like a hash, never on the async executor.
pub async fn parse_registration(
    auth: &Auth,
    username: String,
    password: String,
) -> Result<(Username, Password), AuthError> {
    let username = Username::parse(username);
    let policy = auth.policy.passwords;
    let password = match &username {
        Ok(name) => {
            let name = name.clone();
            auth.hasher
                .off_executor(move || Password::parse_new(password, &name, policy))
                .await?
        }
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

/// Judges a new password for an existing account (a change, a reset) off the executor, with
/// its errors named `field`.
pub async fn judge_new_password(
    auth_hasher: &super::password_hash::Hasher,
    policy: PasswordPolicy,
    username: &str,
    raw: String,
    field: &'static str,
) -> Result<Password, AuthError> {
    let username = Username::parse(username.to_owned())
        .map_err(|e| AuthError::bug(format!("a stored username is invalid: {}", e.message)))?;
    auth_hasher
        .off_executor(move || Password::parse_new(raw, &username, policy))
        .await?
        .map_err(|e| AuthError::Validation(vec![e.for_field(field)]))
}

/// Creates an account. Unique indexes on the canonical name and on its confusable skeleton
/// decide races between concurrent registrations: exactly one insert wins, the others get
/// `UsernameTaken` (for a look-alike name too, so nothing tells which).
pub async fn register(
    auth: &Auth,
    username: Username,
    password: Password,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Identity, AuthError> {
    // Counted before the existence check: learning which names are taken costs a slot too.
    let rule = auth.policy.throttle.registration;
    attempt::count_address(
        auth,
        rule,
        Key::registration_address,
        client,
        Action::Register,
        now,
    )
    .await?;
    let skeleton = username.skeleton();
    // Cheap early answer for the common case; the indexes below are what guarantee it.
    let taken = user::Entity::find()
        .filter(
            Condition::any()
                .add(user::Column::UsernameCanonical.eq(username.canonical()))
                .add(user::Column::UsernameSkeleton.eq(skeleton.clone())),
        )
        .one(&auth.db)
        .await?;
    if taken.is_some() {
        return Err(AuthError::UsernameTaken);
    }
    let password_hash = auth.hasher.hash(&password).await?;
    let account = user::ActiveModel {
        id: Set(Uuid::new_v4()),
        username: Set(username.as_str().to_owned()),
        username_canonical: Set(username.canonical().to_owned()),
        username_skeleton: Set(Some(skeleton)),
        password_hash: Set(password_hash),
        created_at: Set(now),
        updated_at: Set(now),
        disabled_at: Set(None),
        credential_epoch: Set(0),
        email: Set(None),
        email_verified_at: Set(None),
        recovery_key_hash: Set(None),
        recovery_key_created_at: Set(None),
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
    /// The device token the browser (cookie) or client (body) sent, if any.
    pub device_token: Option<String>,
}

/// A successful sign-in: the session, and the device token to hand back.
#[derive(Debug)]
pub struct SignedIn {
    pub session: IssuedSession,
    pub device: Option<Remembered>,
}

/// What a right password leads to.
#[derive(Debug)]
pub enum LoginOutcome {
    SignedIn(SignedIn),
    /// 2FA is on: no session yet. The token names the challenge that `complete_second_factor`
    /// finishes (single use, five minutes, at most five answers checked).
    SecondFactorRequired {
        challenge: String,
    },
}

/// Checks a username and password and starts a session, or a second-factor challenge when
/// 2FA is on. Unknown users and wrong passwords take the same path, the same time and the
/// same error.
pub async fn login(
    auth: &Auth,
    login: LoginAttempt,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<LoginOutcome, AuthError> {
    let attempt = Attempt::begin(
        auth,
        Claimant::Name(&login.username),
        login.device_token.as_deref(),
        client,
        Action::SignIn,
        now,
    )
    .await?;
    let verdict = attempt.verify_password(auth, &login.password, now).await?;
    let (account, needs_rehash) = match (attempt.account.clone(), verdict) {
        (Some(account), Verdict::Match { needs_rehash }) => (account, needs_rehash),
        _ => {
            attempt.failed(auth, Some(Kind::SignInFailed), client, now);
            return Err(AuthError::InvalidCredentials);
        }
    };
    if account.disabled_at.is_some() {
        attempt.passed_now(&auth.db, now).await?;
        tracing::info!(event = "login_refused", user_id = %account.id, "login refused: the account is disabled");
        return Err(AuthError::AccountDisabled);
    }
    if needs_rehash {
        upgrade_hash(auth, &account, &login.password).await;
    }
    let standing = Standing::of(&account);
    let txn = storage::begin_write(&auth.db).await?;
    // A password change, reset or disable that committed during the hash wins.
    standing::confirm(&txn, standing, AuthError::InvalidCredentials).await?;
    if second_factor::enabled_factor(&txn, account.id)
        .await?
        .is_some()
    {
        attempt.passed(&txn, now).await?;
        let challenge = challenges::create(
            &txn,
            challenges::Kind::SecondFactor,
            Some(standing),
            None,
            now,
        )
        .await?;
        txn.commit().await?;
        attempt::count_login("second_factor_required");
        tracing::info!(event = "login_second_factor", user_id = %account.id, "password accepted; waiting for the second factor");
        return Ok(LoginOutcome::SecondFactorRequired { challenge });
    }
    let signed_in = attempt
        .sign_in(auth, &txn, &account, Kind::SignedIn, "pwd", client, now)
        .await?;
    txn.commit().await?;
    attempt::count_login("succeeded");
    tracing::info!(event = "login", user_id = %account.id, session_id = %signed_in.session.session_id, ip = ?client.ip, "login succeeded");
    Ok(LoginOutcome::SignedIn(signed_in))
}

/// Finishes a sign-in that waits for its second factor. Each answer takes one of the
/// challenge's five turns before it is checked, and counts against the same limits as a
/// password; the challenge dies with its turns, and with any change of the account's standing.
pub async fn complete_second_factor(
    auth: &Auth,
    challenge_token: &str,
    code: Code,
    device_token: Option<&str>,
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
    let standing = challenges::standing_of(&challenge).ok_or(AuthError::MfaChallengeExpired)?;
    let account = user::Entity::find_by_id(standing.user_id)
        .one(&auth.db)
        .await?
        .ok_or(AuthError::MfaChallengeExpired)?;
    let attempt = Attempt::begin(
        auth,
        Claimant::Account(Box::new(account.clone())),
        device_token,
        client,
        Action::SecondFactor,
        now,
    )
    .await?;
    if !challenges::take_turn(&auth.db, &challenge, now).await? {
        // Nothing was checked: not a failure.
        attempt.passed_now(&auth.db, now).await?;
        return Err(AuthError::MfaChallengeExpired);
    }
    let proof = match second_factor::enabled_factor(&auth.db, account.id).await? {
        Some(factor) => second_factor::check(auth, &factor, &account, &code, now).await?,
        None => None,
    };
    let Some(proof) = proof else {
        challenges::end_if_spent(&auth.db, &challenge).await?;
        attempt.failed(auth, Some(Kind::SecondFactorFailed), client, now);
        return Err(AuthError::InvalidMfaCode);
    };
    let txn = storage::begin_write(&auth.db).await?;
    standing::confirm(&txn, standing, AuthError::MfaChallengeExpired).await?;
    if !challenges::consume(&txn, &challenge).await? {
        return Err(AuthError::MfaChallengeExpired);
    }
    if !second_factor::claim(&txn, account.id, &proof, now).await? {
        return Err(AuthError::InvalidMfaCode);
    }
    let signed_in = attempt
        .sign_in(
            auth,
            &txn,
            &account,
            Kind::SignedIn,
            "pwd otp mfa",
            client,
            now,
        )
        .await?;
    let used = match proof {
        Proof::TotpStep(_) => Kind::SecondFactorUsed,
        Proof::RecoveryCode(_) => Kind::RecoveryCodeUsed,
    };
    activity::record(
        &txn,
        Event {
            user_id: account.id,
            kind: used,
            client: Some(client),
            session_id: Some(signed_in.session.session_id),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    attempt::count_login("succeeded");
    tracing::info!(event = "login", method = "second_factor", user_id = %account.id, session_id = %signed_in.session.session_id, ip = ?client.ip, "login succeeded");
    Ok(signed_in)
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

/// Re-hashes with the configured parameters after they were raised. Written only if the hash
/// that was verified is still the stored one: a password set meanwhile (by its owner or an
/// operator) is never overwritten with the old one. Failure is logged and does not fail the
/// sign-in: the old hash keeps working until the next attempt.
async fn upgrade_hash(auth: &Auth, account: &user::Model, password: &Password) {
    let result = async {
        let hash = auth.hasher.hash(password).await?;
        let written = user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(hash))
            .filter(user::Column::Id.eq(account.id))
            .filter(user::Column::PasswordHash.eq(account.password_hash.clone()))
            .exec(&auth.db)
            .await?
            .rows_affected;
        Ok::<_, AuthError>(written == 1)
    }
    .await;
    match result {
        Ok(true) => {
            tracing::info!(event = "password_rehashed", user_id = %account.id, "password hash upgraded")
        }
        Ok(false) => {
            tracing::info!(event = "password_rehash_skipped", user_id = %account.id, "the password changed during the re-hash; kept the new one")
        }
        Err(e) => {
            tracing::warn!(event = "password_rehash_failed", user_id = %account.id, error = %Chain(&e), "password hash upgrade failed")
        }
    }
}

//! Second factors: an authenticator app (TOTP, RFC 6238: SHA-1, 6 digits, 30 s, ±1 step),
//! recovery codes, and the step-up check that sensitive changes need.
//!
//! A code is accepted once: the last accepted time step is stored and only a later step is
//! accepted, claimed with a conditional update so two concurrent uses of one code cannot both
//! succeed (totp-rs leaves this to the caller, RFC 6238 §5.2). Recovery codes are stored under a
//! keyed hash (HMAC-SHA256 with a key derived from `JWT_SECRET`, bound to the user), so a
//! database dump alone cannot reverse their 50 bits; each works once, claimed the same way.

use chrono::{DateTime, Utc};
use hmac::Mac as _;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _,
    sea_query::{Expr, ExprTrait as _},
};
use sha2::{Digest as _, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};
use uuid::Uuid;

use super::{
    Auth, AuthError, ClientInfo,
    activity::{self, Event, Kind},
    attempt::{Action, Attempt, Claimant},
    notices::{self, Notice},
    password_hash::Verdict,
    secrets::random_bytes,
    sessions::{self, Authenticated},
    standing::{self, Standing},
};
use crate::{
    domain::Password,
    entity::{passkey, recovery_code, totp_factor, user},
    storage,
};

const STEP: u64 = 30;
const SECRET_BYTES: usize = 20;
const RECOVERY_CODES: usize = 10;
/// Crockford's base32 alphabet: no I, L, O or U to misread.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A second factor as a person types it.
#[derive(Clone)]
pub enum Code {
    /// Six digits from the authenticator app.
    Totp(String),
    /// One of the recovery codes.
    Recovery(String),
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Totp(_) => "Code::Totp([redacted])",
            Self::Recovery(_) => "Code::Recovery([redacted])",
        })
    }
}

/// A checked code, to be claimed in the transaction of the change it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    TotpStep(i64),
    RecoveryCode(String),
}

/// What the account page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub totp_enabled: bool,
    pub recovery_codes_remaining: u64,
    pub passkeys: u64,
}

pub async fn status(db: &DatabaseConnection, user_id: Uuid) -> Result<Status, AuthError> {
    let totp_enabled = enabled_factor(db, user_id).await?.is_some();
    let recovery_codes_remaining = recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .count(db)
        .await?;
    let passkeys = passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .count(db)
        .await?;
    Ok(Status {
        totp_enabled,
        recovery_codes_remaining,
        passkeys,
    })
}

/// The user's confirmed authenticator-app factor, if 2FA is on.
pub async fn enabled_factor(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Option<totp_factor::Model>, AuthError> {
    Ok(totp_factor::Entity::find_by_id(user_id)
        .filter(totp_factor::Column::ConfirmedAt.is_not_null())
        .one(conn)
        .await?)
}

/// A new enrolment: the secret to type in, and the `otpauth://` URI to scan.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret: String,
    pub otpauth_uri: String,
}

/// Starts (or restarts) enrolling an authenticator app, after checking the password.
pub async fn start_totp(
    auth: &Auth,
    caller: &Authenticated,
    password: &Password,
    device_token: Option<&str>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Enrolment, AuthError> {
    let answer = StepUpAnswer {
        password: password.clone(),
        code: None,
        device_token: device_token.map(str::to_owned),
    };
    let step_up = judge(auth, caller, &answer, client, Asks::PasswordOnly, now).await?;
    let txn = storage::begin_write(&auth.db).await?;
    step_up.apply(&txn, now).await?;
    if enabled_factor(&txn, caller.user.id).await?.is_some() {
        return Err(AuthError::MfaAlreadyEnabled);
    }
    let secret = random_bytes::<SECRET_BYTES>()?.to_vec();
    let sealed = auth.secrets.seal(&secret, caller.user.id.as_bytes())?;
    totp_factor::Entity::delete_by_id(caller.user.id)
        .exec(&txn)
        .await?;
    totp_factor::Entity::insert(totp_factor::ActiveModel {
        user_id: Set(caller.user.id),
        secret: Set(sealed),
        confirmed_at: Set(None),
        last_used_step: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    let totp = totp(
        &auth.policy.mfa_issuer,
        &caller.user.username,
        secret.clone(),
    )?;
    Ok(Enrolment {
        secret: Secret::from(secret).to_base32(),
        otpauth_uri: totp
            .to_url()
            .map_err(|e| AuthError::internal("an otpauth URI", e))?,
    })
}

/// Confirms a pending enrolment with a first code; turns 2FA on and returns fresh recovery
/// codes, shown once. Each code counts against the sign-in limits like a password would, so a
/// stolen session cannot guess its way into enrolling its own authenticator.
pub async fn confirm_totp(
    auth: &Auth,
    caller: &Authenticated,
    code: &str,
    device_token: Option<&str>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AuthError> {
    let pending = totp_factor::Entity::find_by_id(caller.user.id)
        .filter(totp_factor::Column::ConfirmedAt.is_null())
        .one(&auth.db)
        .await?
        .ok_or(AuthError::MfaNotEnabled)?;
    let account = user::Entity::find_by_id(caller.user.id)
        .one(&auth.db)
        .await?
        .ok_or(AuthError::Unauthenticated)?;
    let attempt = Attempt::begin(
        auth,
        Claimant::Account(Box::new(account)),
        device_token,
        client,
        Action::ConfirmFactor,
        now,
    )
    .await?;
    let Some(step) = check_totp(auth, &pending, &caller.user.username, code, now)? else {
        attempt.failed(auth, Some(Kind::SecondFactorFailed), client, now);
        return Err(AuthError::WrongEnrolmentCode);
    };
    let standing = attempt.standing().ok_or(AuthError::Unauthenticated)?;
    let txn = storage::begin_write(&auth.db).await?;
    standing::confirm(&txn, standing, AuthError::Unauthenticated).await?;
    attempt.passed(&txn, now).await?;
    let confirmed = totp_factor::Entity::update_many()
        .col_expr(totp_factor::Column::ConfirmedAt, Expr::value(Some(now)))
        .col_expr(totp_factor::Column::LastUsedStep, Expr::value(Some(step)))
        .filter(totp_factor::Column::UserId.eq(caller.user.id))
        .filter(totp_factor::Column::ConfirmedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if confirmed != 1 {
        return Err(AuthError::MfaNotEnabled);
    }
    let codes = replace_codes(auth, &txn, caller.user.id, now).await?;
    record(&txn, caller, Kind::SecondFactorAdded, client, now).await?;
    notices::tell_owner(
        auth.post(),
        &txn,
        caller.user.id,
        Notice::SecondFactorOn,
        Some(client),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "mfa_enabled", user_id = %caller.user.id, "authenticator app turned on");
    Ok(codes)
}

/// Turns 2FA off (the factor and its recovery codes), after a step-up.
pub async fn disable_totp(
    auth: &Auth,
    caller: &Authenticated,
    answer: &StepUpAnswer,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let step_up = step_up(auth, caller, answer, client, now).await?;
    if step_up.proof.is_none() {
        return Err(AuthError::MfaNotEnabled);
    }
    let txn = storage::begin_write(&auth.db).await?;
    step_up.apply(&txn, now).await?;
    totp_factor::Entity::delete_by_id(caller.user.id)
        .exec(&txn)
        .await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(caller.user.id))
        .exec(&txn)
        .await?;
    record(&txn, caller, Kind::SecondFactorRemoved, client, now).await?;
    notices::tell_owner(
        auth.post(),
        &txn,
        caller.user.id,
        Notice::SecondFactorOff,
        Some(client),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "mfa_disabled", user_id = %caller.user.id, "authenticator app turned off");
    Ok(())
}

/// Replaces every recovery code with ten new ones, after a step-up.
pub async fn replace_recovery_codes(
    auth: &Auth,
    caller: &Authenticated,
    answer: &StepUpAnswer,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AuthError> {
    let step_up = step_up(auth, caller, answer, client, now).await?;
    if step_up.proof.is_none() {
        return Err(AuthError::MfaNotEnabled);
    }
    let txn = storage::begin_write(&auth.db).await?;
    step_up.apply(&txn, now).await?;
    let codes = replace_codes(auth, &txn, caller.user.id, now).await?;
    record(&txn, caller, Kind::RecoveryCodesReplaced, client, now).await?;
    notices::tell_owner(
        auth.post(),
        &txn,
        caller.user.id,
        Notice::RecoveryCodesReplaced,
        Some(client),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(codes)
}

/// What a person presents to confirm a sensitive change: the password, the second factor when
/// 2FA is on, and their device token (a step-up from a trusted device is throttled like a
/// sign-in from it). No `Debug`: it holds the password and the code.
pub struct StepUpAnswer {
    pub password: Password,
    pub code: Option<Code>,
    pub device_token: Option<String>,
}

/// A sensitive change's proof of presence, judged: the password now, and the second factor
/// when 2FA is on. It holds the standing it was judged under, re-checked by `apply`.
#[derive(Debug)]
pub struct StepUp {
    standing: Standing,
    session_id: Uuid,
    /// The trusted device the answer came from, if any: a change that ends device trust
    /// keeps this one.
    pub device: Option<Uuid>,
    pub proof: Option<Proof>,
}

impl StepUp {
    /// First thing in the change's transaction: the account is as it was when the answer was
    /// judged (not disabled, its password not changed meanwhile), the caller's session is still
    /// live, and the code is claimed (one used meanwhile by a concurrent request fails the
    /// change).
    pub async fn apply(
        &self,
        txn: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        standing::confirm(txn, self.standing, AuthError::WrongPassword).await?;
        if !sessions::is_live(txn, self.session_id, now).await? {
            return Err(AuthError::Unauthenticated);
        }
        if let Some(proof) = &self.proof
            && !claim(txn, self.standing.user_id, proof, now).await?
        {
            return Err(AuthError::WrongSecondFactor);
        }
        Ok(())
    }

    /// The standing the answer was judged under.
    pub fn standing(&self) -> Standing {
        self.standing
    }
}

/// Checks the password and, when 2FA is on, the second factor, under the sign-in limits. A
/// right answer is given back at once: whatever the change does next (a 409, say), a right
/// password never counts as a failure.
pub async fn step_up(
    auth: &Auth,
    caller: &Authenticated,
    answer: &StepUpAnswer,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<StepUp, AuthError> {
    judge(auth, caller, answer, client, Asks::Everything, now).await
}

/// What a step-up asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asks {
    /// The password, and the second factor when 2FA is on.
    Everything,
    /// The password alone, whether or not 2FA is on: starting an enrolment, which a code could
    /// not protect more (the factor it adds is not on yet).
    PasswordOnly,
}

async fn judge(
    auth: &Auth,
    caller: &Authenticated,
    answer: &StepUpAnswer,
    client: &ClientInfo,
    asks: Asks,
    now: DateTime<Utc>,
) -> Result<StepUp, AuthError> {
    let account = user::Entity::find_by_id(caller.user.id)
        .one(&auth.db)
        .await?
        .ok_or(AuthError::Unauthenticated)?;
    let attempt = Attempt::begin(
        auth,
        Claimant::Account(Box::new(account.clone())),
        answer.device_token.as_deref(),
        client,
        Action::StepUp,
        now,
    )
    .await?;
    if attempt.verify_password(auth, &answer.password, now).await? == Verdict::Mismatch {
        attempt.failed(auth, None, client, now);
        return Err(AuthError::WrongPassword);
    }
    let factor = match asks {
        Asks::Everything => enabled_factor(&auth.db, account.id).await?,
        Asks::PasswordOnly => None,
    };
    let proof = match (factor, &answer.code) {
        (None, _) => None,
        (Some(_), None) => {
            // The password was right: only the missing code stops the change.
            attempt.passed_now(&auth.db, now).await?;
            return Err(AuthError::SecondFactorRequired);
        }
        (Some(factor), Some(code)) => match check(auth, &factor, &account, code, now).await? {
            Some(proof) => Some(proof),
            None => {
                attempt.failed(auth, Some(Kind::SecondFactorFailed), client, now);
                return Err(AuthError::WrongSecondFactor);
            }
        },
    };
    let device = attempt.device.as_ref().map(|d| d.id());
    attempt.passed_now(&auth.db, now).await?;
    Ok(StepUp {
        standing: Standing::of(&account),
        session_id: caller.session_id,
        device,
        proof,
    })
}

/// Checks a code against the user's factor, without claiming it; `None` when it is wrong (or
/// already used).
pub async fn check(
    auth: &Auth,
    factor: &totp_factor::Model,
    account: &user::Model,
    code: &Code,
    now: DateTime<Utc>,
) -> Result<Option<Proof>, AuthError> {
    match code {
        Code::Totp(code) => Ok(check_totp(auth, factor, &account.username, code, now)?
            .filter(|step| factor.last_used_step.is_none_or(|last| *step > last))
            .map(Proof::TotpStep)),
        Code::Recovery(code) => {
            let keyed = recovery_hash(auth, account.id, code);
            // Codes issued before keyed hashing are plain SHA-256 until they are replaced.
            let legacy = legacy_recovery_hash(code);
            let unused = recovery_code::Entity::find()
                .filter(recovery_code::Column::UserId.eq(account.id))
                .filter(recovery_code::Column::CodeHash.is_in([keyed, legacy]))
                .filter(recovery_code::Column::UsedAt.is_null())
                .one(&auth.db)
                .await?;
            Ok(unused.map(|row| Proof::RecoveryCode(row.code_hash)))
        }
    }
}

/// Marks a checked code used; `false` when a concurrent request used it first.
pub async fn claim(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    proof: &Proof,
    now: DateTime<Utc>,
) -> Result<bool, AuthError> {
    let claimed = match proof {
        Proof::TotpStep(step) => {
            totp_factor::Entity::update_many()
                .col_expr(totp_factor::Column::LastUsedStep, Expr::value(Some(*step)))
                .filter(totp_factor::Column::UserId.eq(user_id))
                .filter(
                    totp_factor::Column::LastUsedStep
                        .is_null()
                        .or(totp_factor::Column::LastUsedStep.lt(*step)),
                )
                .exec(txn)
                .await?
                .rows_affected
        }
        Proof::RecoveryCode(hash) => {
            recovery_code::Entity::update_many()
                .col_expr(recovery_code::Column::UsedAt, Expr::value(Some(now)))
                .filter(recovery_code::Column::UserId.eq(user_id))
                .filter(recovery_code::Column::CodeHash.eq(hash.clone()))
                .filter(recovery_code::Column::UsedAt.is_null())
                .exec(txn)
                .await?
                .rows_affected
        }
    };
    Ok(claimed == 1)
}

/// The time step a TOTP code matches at `now` (±1 step of skew), if any.
fn check_totp(
    auth: &Auth,
    factor: &totp_factor::Model,
    username: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, AuthError> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let secret = auth
        .secrets
        .open(&factor.secret, factor.user_id.as_bytes())
        .ok_or_else(|| AuthError::bug("a TOTP secret cannot be opened"))?;
    let totp = totp(&auth.policy.mfa_issuer, username, secret)?;
    let Ok(time) = u64::try_from(now.timestamp()) else {
        return Ok(None);
    };
    Ok(totp
        .check(&code, time)
        .and_then(|step| i64::try_from(step).ok()))
}

fn totp(issuer: &str, username: &str, secret: Vec<u8>) -> Result<Totp, AuthError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP)
        .with_secret(secret)
        .with_account_name(username)
        .with_issuer(Some(issuer))
        .build()
        .map_err(|e| AuthError::internal("a TOTP generator", e))
}

/// Ten fresh recovery codes replace any old ones; returns them (never stored in clear).
async fn replace_codes(
    auth: &Auth,
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AuthError> {
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    let codes = (0..RECOVERY_CODES)
        .map(|_| new_recovery_code())
        .collect::<Result<Vec<_>, _>>()?;
    recovery_code::Entity::insert_many(codes.iter().map(|code| recovery_code::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        code_hash: Set(recovery_hash(auth, user_id, code)),
        used_at: Set(None),
        created_at: Set(now),
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(codes)
}

/// `xxxxx-xxxxx`: 50 random bits, easy to read aloud and type.
fn new_recovery_code() -> Result<String, AuthError> {
    let chars: String = random_bytes::<10>()?
        .iter()
        .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b % 32)]))
        .collect();
    Ok(format!("{}-{}", &chars[..5], &chars[5..]))
}

/// What a typed code means: case, spaces and dashes do not matter, nor do O/0 and I/L/1.
fn normalised(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect()
}

/// The stored form: HMAC-SHA256 keyed by a key derived from `JWT_SECRET`, over the user id and
/// the normalised code. Without the key, a dump gives nothing to guess against.
fn recovery_hash(auth: &Auth, user_id: Uuid, code: &str) -> String {
    let mut mac = auth.secrets.recovery_code_mac();
    mac.update(user_id.as_bytes());
    mac.update(normalised(code).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// How codes issued before keyed hashing were stored.
fn legacy_recovery_hash(code: &str) -> String {
    hex::encode(Sha256::digest(normalised(code).as_bytes()))
}

async fn record(
    conn: &impl ConnectionTrait,
    caller: &Authenticated,
    kind: Kind,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    activity::record(
        conn,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_random_readable_and_forgiving_to_type() {
        let a = new_recovery_code().unwrap();
        let b = new_recovery_code().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 11);
        assert!(
            a.chars()
                .all(|c| c == '-' || RECOVERY_ALPHABET.contains(&(c as u8)))
        );
        assert_eq!(normalised("ab0c1-defgh"), normalised(" AB0C1 DEFGH "));
        assert_eq!(normalised("abOcL-defgh"), normalised("ab0c1defgh"));
        assert_ne!(normalised("ab0c1-defgh"), normalised("ab0c1-defgj"));
    }

    #[test]
    fn codes_never_show_in_debug_output() {
        assert!(!format!("{:?}", Code::Totp("123456".into())).contains("123456"));
    }
}

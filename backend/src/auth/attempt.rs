//! The one pipeline every credential is judged by, whatever it is — a password, an
//! authenticator code, a passkey, and next a recovery proof or an OAuth code:
//!
//! 1. **begin**: find the account, recognise the device, pick the limits the attempt counts
//!    against and reserve it there, atomically, before any expensive check;
//! 2. the caller checks the credential (`verify_password`, or its own check);
//! 3. **passed**: give the reservation back (a right credential never counts as a failure),
//!    inside the transaction that acts on it, after `standing::confirm`; or **failed**: keep the
//!    reservation (that is the failure counted) and record the event.
//!
//! A new kind of proof is a new `Action` here, not a new copy of these steps.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{
    Auth, AuthError, ClientInfo, Identity,
    activity::{self, Event, Kind},
    credentials::{SignedIn, find_by_username},
    device::{self, Recognised},
    notices::{self, Notice},
    password_hash::Verdict,
    sessions,
    standing::Standing,
    throttle::{self, Key, Reservation, Rule, ThrottlePolicy},
};
use crate::{
    domain::{Password, Username},
    entity::user,
    storage,
    telemetry::Chain,
};

/// What is being attempted: names the attempt in logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A password sign-in.
    SignIn,
    /// The code that finishes a sign-in with 2FA on.
    SecondFactor,
    /// A passkey sign-in.
    Passkey,
    /// Re-entering the password (and code) before a sensitive change.
    StepUp,
    /// The first code that turns an authenticator app on.
    ConfirmFactor,
    /// A new account (limited per address, not a credential).
    Register,
    /// A proof that resets a forgotten password (a token, a recovery key, a recovery code).
    Recovery,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "login",
            Self::SecondFactor => "second_factor",
            Self::Passkey => "passkey",
            Self::StepUp => "password_check",
            Self::ConfirmFactor => "confirm_factor",
            Self::Register => "register",
            Self::Recovery => "recovery",
        }
    }

    /// The `outcome` label of `latchkey_logins_total` for a failure, for the sign-in actions.
    fn failed_outcome(self) -> Option<&'static str> {
        match self {
            Self::SignIn => Some("failed"),
            Self::SecondFactor => Some("second_factor_failed"),
            Self::Passkey => Some("passkey_failed"),
            Self::StepUp | Self::ConfirmFactor | Self::Register | Self::Recovery => None,
        }
    }
}

/// Who an attempt claims to be.
pub enum Claimant<'a> {
    /// A username as typed at sign-in. It may not exist, and nothing may tell.
    Name(&'a str),
    /// An account already known: a step-up, or a sign-in's second step.
    Account(Box<user::Model>),
    /// Nobody yet (a passkey names its account only once verified): only the address counts.
    Unnamed,
    /// A username presented with a proof too long to guess (a 130-bit recovery key): the
    /// account is found, but only the address counts, so that strangers spending the name's
    /// budget cannot lock its owner out of their own key.
    NameWithUnguessableProof(&'a str),
}

/// An attempt in flight, its reservation held. Dropping it without `passed` keeps the
/// reservation: an attempt that went wrong in an unforeseen way counts as a failure, never as
/// a free try.
#[derive(Debug)]
pub struct Attempt {
    /// The account it is about, when known (and found).
    pub account: Option<user::Model>,
    /// The device it came from, when the account trusts it.
    pub device: Option<Recognised>,
    reservation: Reservation,
    action: Action,
}

impl Attempt {
    /// Finds the account and the device, and reserves the attempt against its limits; a
    /// limit reached is `TooManyAttempts`, before anything expensive ran.
    pub async fn begin(
        auth: &Auth,
        claimant: Claimant<'_>,
        device_token: Option<&str>,
        client: &ClientInfo,
        action: Action,
        now: DateTime<Utc>,
    ) -> Result<Self, AuthError> {
        let (account, counted_name) = match claimant {
            Claimant::Name(typed) => (find_typed(auth, typed).await?, Some(typed.to_owned())),
            Claimant::NameWithUnguessableProof(typed) => (find_typed(auth, typed).await?, None),
            Claimant::Account(account) => {
                let name = account.username_canonical.clone();
                (Some(*account), Some(name))
            }
            Claimant::Unnamed => (None, None),
        };
        let device = device::recognise(&auth.db, device_token, account.as_ref(), now).await?;
        let checks = limits(
            &auth.policy.throttle,
            counted_name.as_deref(),
            device.as_ref(),
            client.ip,
        );
        let reservation = throttle::reserve(&auth.db, checks, now)
            .await
            .inspect_err(|e| refused(e, action))?;
        Ok(Self {
            account,
            device,
            reservation,
            action,
        })
    }

    /// The standing the credential is judged under (see `standing`).
    pub fn standing(&self) -> Option<Standing> {
        self.account.as_ref().map(Standing::of)
    }

    /// Verifies `password` against the account's hash, or against a dummy hash for an unknown
    /// name (the same work, the same answer). A check that could not run (the hash queue is
    /// full, an error) is not a failure: the attempt is given back.
    pub async fn verify_password(
        &self,
        auth: &Auth,
        password: &Password,
        now: DateTime<Utc>,
    ) -> Result<Verdict, AuthError> {
        let stored = self.account.as_ref().map(|a| a.password_hash.as_str());
        match auth.hasher.verify(password, stored).await {
            Ok(verdict) => Ok(verdict),
            Err(e) => {
                give_back(&auth.db, &self.reservation, now).await?;
                Err(e)
            }
        }
    }

    /// The credential was right: the reservation is given back inside `txn`, so the release
    /// and what the credential let in commit together.
    pub async fn passed(
        self,
        txn: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        throttle::release(txn, &self.reservation, now).await
    }

    /// The end of every sign-in, inside the transaction that confirmed the account's standing:
    /// the attempt is given back, the session starts (recorded as `kind`) and the device the
    /// attempt came from is trusted (again, or for the first time).
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_in(
        self,
        auth: &Auth,
        txn: &impl ConnectionTrait,
        account: &user::Model,
        kind: Kind,
        amr: &str,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<SignedIn, AuthError> {
        let device = self.device.clone();
        self.passed(txn, now).await?;
        let session =
            sessions::start_as(auth, txn, &Identity::from(account), client, kind, amr, now).await?;
        if device.is_none() && auth.policy.throttle.device_trust.is_some() {
            notices::tell_owner(
                auth.post(),
                txn,
                account.id,
                Notice::NewDevice,
                Some(client),
                now,
            )
            .await?;
        }
        let device = device::remember(
            txn,
            device.as_ref(),
            Standing::of(account),
            client,
            auth.policy.throttle.device_trust,
            now,
        )
        .await?;
        Ok(SignedIn { session, device })
    }

    /// The credential was right, but what follows may still fail for other reasons (a
    /// change refused with 409, a disabled account): the reservation is given back at once.
    pub async fn passed_now(
        self,
        db: &DatabaseConnection,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        give_back(db, &self.reservation, now).await
    }

    /// The credential was wrong. The reservation stays: that is the failure counted. The
    /// event (`kind`) is recorded off the response path, so a failure for an existing name
    /// answers exactly as fast as one for an unknown name, which records nothing.
    pub fn failed(self, auth: &Auth, kind: Option<Kind>, client: &ClientInfo, now: DateTime<Utc>) {
        if let Some(outcome) = self.action.failed_outcome() {
            count_login(outcome);
        }
        let user_id = self.account.as_ref().map(|a| a.id);
        tracing::info!(
            event = "credential_failed",
            action = self.action.as_str(),
            user_id = ?user_id,
            ip = ?client.ip,
            "wrong credential"
        );
        if let (Some(kind), Some(user_id)) = (kind, user_id) {
            let db = auth.db.clone();
            let client = client.clone();
            auth.background.spawn(async move {
                let event = Event {
                    user_id,
                    kind,
                    client: Some(&client),
                    session_id: None,
                };
                if let Err(e) = activity::record(&db, event, now).await {
                    tracing::warn!(error = %Chain(&e), "recording a failed attempt");
                }
            });
        }
    }
}

async fn give_back(
    db: &DatabaseConnection,
    reservation: &Reservation,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    if reservation.is_empty() {
        return Ok(());
    }
    let txn = storage::begin_write(db).await?;
    throttle::release(&txn, reservation, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Which buckets an attempt counts against. A trusted device is judged by its own count
/// instead of the name's (that is what keeps an owner's own device usable while strangers
/// have locked the name); everything counts against its address, so a pile of device tokens
/// cannot buy more guesses than one address gets.
fn limits(
    policy: &ThrottlePolicy,
    name: Option<&str>,
    device: Option<&Recognised>,
    ip: Option<IpAddr>,
) -> Vec<(Key, Rule)> {
    let by_device_or_name = match device {
        Some(device) => policy.device.map(|rule| (Key::device(&device.id()), rule)),
        None => name
            .zip(policy.username)
            .map(|(name, rule)| (Key::username(name), rule)),
    };
    let by_address = policy
        .address
        .zip(ip)
        .map(|(rule, ip)| (Key::login_address(ip), rule));
    by_device_or_name.into_iter().chain(by_address).collect()
}

/// Counts one `action` from the client's address against `rule` (a rate on something anyone may
/// do, such as registering: not a credential, so nothing is given back); a rate reached is
/// `TooManyAttempts`.
pub(crate) async fn count_address(
    auth: &Auth,
    rule: Option<Rule>,
    key: fn(IpAddr) -> Key,
    client: &ClientInfo,
    action: Action,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    if let (Some(rule), Some(ip)) = (rule, client.ip) {
        throttle::reserve(&auth.db, vec![(key(ip), rule)], now)
            .await
            .inspect_err(|e| refused(e, action))?;
    }
    Ok(())
}

/// `latchkey_logins_total{outcome}`; throttled attempts are `latchkey_throttled_total`.
pub(crate) fn count_login(outcome: &'static str) {
    metrics::counter!("latchkey_logins_total", "outcome" => outcome).increment(1);
}

/// Counts an attempt refused by a limit (`latchkey_throttled_total{action}`); logged in
/// summaries, so a flood of 429s does not write a line each.
pub(crate) fn refused(error: &AuthError, action: Action) {
    use crate::telemetry::refusals::{self, Refusal};
    if let AuthError::TooManyAttempts { .. } = error {
        refusals::refused(
            Refusal::TooManyAttempts {
                action: action.as_str(),
            },
            None,
        );
    }
}

/// The account a typed name names. A name that breaks the rules cannot exist: it is just an
/// unknown name, so a sign-in form cannot be used to probe the rules field by field.
async fn find_typed(auth: &Auth, typed: &str) -> Result<Option<user::Model>, AuthError> {
    match Username::parse(typed.to_owned()) {
        Ok(name) => find_by_username(&auth.db, &name).await,
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::auth::throttle::ThrottleSettings;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy::from_settings(&ThrottleSettings {
            login_failures: 5,
            ip_failures: 50,
            register_per_ip: 20,
            passkey_start_per_ip: 100,
            device_trust: Duration::from_secs(86_400),
        })
    }

    #[test]
    fn an_attempt_counts_against_the_name_and_the_address() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let keys: Vec<Key> = limits(&policy(), Some("Alice"), None, Some(ip))
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        assert_eq!(keys, [Key::username("alice"), Key::login_address(ip)]);
        let unnamed: Vec<Key> = limits(&policy(), None, None, Some(ip))
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        assert_eq!(unnamed, [Key::login_address(ip)]);
    }
}

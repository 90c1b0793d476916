//! Brute-force limits, kept in the database so that every instance shares one budget and a
//! restart forgets nothing (NIST SP 800-63B-4 §3.2.2, OWASP ASVS V6.1/V6.3).
//!
//! An attempt is *reserved* before any hashing, atomically, in one transaction that locks the
//! rows it counts: 40 guesses sent at once meet the same limit as 40 sent one after another. A
//! successful attempt *releases* its reservation; a failed one keeps it, and that is the failure
//! being counted.
//!
//! Each bucket is one row holding two instants, so rows stay small and need no clean-up to be
//! correct: `level_until` encodes a count that decays with time (each event pushes it one
//! `step` further into the future; the count at `now` is how many steps remain), and
//! `locked_until` is the end of the current lock. A row whose instants have both passed means
//! nothing any more and is purged in the background.

use std::{net::IpAddr, time::Duration};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection, EntityTrait as _,
    QueryFilter as _,
    sea_query::{Expr, OnConflict},
};
use sha2::{Digest as _, Sha256};

use super::AuthError;
use crate::{entity::throttle_bucket, storage};

/// The first lock after the free failures; each further failure doubles it.
const FIRST_DELAY: Duration = Duration::from_secs(1);
/// The longest a single lock lasts.
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// How long one failure of a name or device is remembered. With `MAX_DELAY` this bounds a
/// persistent guesser to about one guess per 15 minutes, ~100 a day (NIST's ceiling).
const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);
const IP_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Concurrent requests take their `now` at different moments and reach the bucket in another
/// order, so one may see a count a few milliseconds "fresher" than its own clock. Counts
/// forgive this much, so a later request with an earlier `now` is not counted twice.
const SKEW: chrono::Duration = chrono::Duration::seconds(1);
const REGISTER_WINDOW: Duration = Duration::from_secs(60 * 60);

/// Brute-force limits as configured. A limit of 0 turns that rule off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failures per username (or per known device) before delays start
    /// (`LOGIN_THROTTLE_FAILURES`).
    pub login_failures: u32,
    /// Failed logins per client address in 15 minutes (`LOGIN_THROTTLE_IP_FAILURES`).
    pub ip_failures: u32,
    /// Registrations per client address in an hour (`REGISTER_LIMIT_PER_IP`).
    pub register_per_ip: u32,
    /// Passkey sign-in ceremonies started per client address in 15 minutes
    /// (`PASSKEY_START_LIMIT_PER_IP`).
    pub passkey_start_per_ip: u32,
    /// How long a successful login's device cookie is trusted; zero disables device cookies
    /// (`DEVICE_COOKIE_DAYS`).
    pub device_trust: Duration,
}

/// How one bucket counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `free` failures, then locks of 1 s, 2 s, 4 s … up to 15 minutes. Failures are forgotten
    /// one at a time, `FAILURE_MEMORY` apart, so the delay decays instead of resetting.
    Backoff { free: u32 },
    /// At most `limit` events in any `window`, refilled continuously (a token bucket).
    Rate { limit: u32, window: Duration },
}

/// The limits in force, from the configuration; `None` turns a rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub username: Option<Rule>,
    pub device: Option<Rule>,
    pub address: Option<Rule>,
    pub registration: Option<Rule>,
    /// Passkey sign-in ceremonies started per address (each stores a row, unauthenticated).
    pub passkey_start: Option<Rule>,
    /// How long a device is trusted after a sign-in; `None` trusts none.
    pub device_trust: Option<Duration>,
}

impl ThrottlePolicy {
    pub fn from_settings(settings: &ThrottleSettings) -> Self {
        let backoff = (settings.login_failures > 0).then_some(Rule::Backoff {
            free: settings.login_failures,
        });
        let rate = |limit: u32, window| (limit > 0).then_some(Rule::Rate { limit, window });
        Self {
            username: backoff,
            device: backoff,
            address: rate(settings.ip_failures, IP_WINDOW),
            registration: rate(settings.register_per_ip, REGISTER_WINDOW),
            passkey_start: rate(settings.passkey_start_per_ip, IP_WINDOW),
            device_trust: (!settings.device_trust.is_zero()).then_some(settings.device_trust),
        }
    }

    /// No limits at all (tools and tests that are not about throttling).
    pub fn off() -> Self {
        Self {
            username: None,
            device: None,
            address: None,
            registration: None,
            passkey_start: None,
            device_trust: None,
        }
    }
}

/// The state of one bucket at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub level_until: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Bucket {
    pub fn empty(now: DateTime<Utc>) -> Self {
        Self {
            level_until: now,
            locked_until: None,
        }
    }

    /// When the row stops meaning anything and may be deleted.
    fn expires_at(&self) -> DateTime<Utc> {
        self.locked_until
            .map_or(self.level_until, |locked| locked.max(self.level_until))
    }
}

impl Rule {
    /// How far one event pushes `level_until`.
    fn step(self) -> chrono::Duration {
        let step = match self {
            Self::Backoff { .. } => FAILURE_MEMORY,
            Self::Rate { limit, window } => window / limit.max(1),
        };
        chrono::Duration::from_std(step).unwrap_or(chrono::Duration::MAX)
    }

    /// Events still counted at `now`.
    pub fn count(self, bucket: &Bucket, now: DateTime<Utc>) -> u32 {
        let remaining = (bucket.level_until - now - SKEW).num_milliseconds();
        if remaining <= 0 {
            return 0;
        }
        let step = self.step().num_milliseconds().max(1);
        // Both are positive: a ceiling division.
        u32::try_from((remaining + step - 1) / step).unwrap_or(u32::MAX)
    }

    /// Counts one more attempt, or says how long to wait when the limit is reached.
    pub fn reserve(self, bucket: &Bucket, now: DateTime<Utc>) -> Result<Bucket, Duration> {
        if let Some(until) = bucket.locked_until.filter(|until| *until > now) {
            return Err(to_std(until - now));
        }
        let count = self.count(bucket, now);
        if let Self::Rate { limit, .. } = self
            && count >= limit
        {
            // The next slot opens when the count decays below the limit.
            let opens =
                bucket.level_until - SKEW - self.step() * i32::try_from(limit - 1).unwrap_or(0);
            return Err(to_std(opens - now).max(Duration::from_secs(1)));
        }
        let level_until = bucket.level_until.max(now) + self.step();
        let next = Bucket {
            level_until,
            locked_until: None,
        };
        Ok(Bucket {
            locked_until: self.lock_for(self.count(&next, now), now),
            ..next
        })
    }

    /// Gives back one reserved attempt: it succeeded, so it is not a failure.
    pub fn release(self, bucket: &Bucket, now: DateTime<Utc>) -> Bucket {
        let level_until = (bucket.level_until - self.step()).max(now);
        let released = Bucket {
            level_until,
            locked_until: bucket.locked_until,
        };
        // A lock that this very attempt set (it reached the limit) goes with it; one set by
        // earlier failures stays.
        let count = self.count(&released, now);
        Bucket {
            locked_until: released
                .locked_until
                .filter(|_| self.lock_for(count, now).is_some()),
            ..released
        }
    }

    fn lock_for(self, count: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Backoff { free } if count >= free => {
                let doublings = (count - free).min(20);
                let delay = FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY);
                chrono::Duration::from_std(delay).ok().map(|d| now + d)
            }
            _ => None,
        }
    }
}

fn to_std(d: chrono::Duration) -> Duration {
    d.to_std().unwrap_or(Duration::ZERO)
}

/// What a bucket counts. Values are fixed-size digests or short address strings, so a flood of
/// random names makes rows of bounded size (and the per-address rule bounds how many).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key(String);

impl Key {
    /// Failed logins for a username as typed, lowercased, whether or not the account exists:
    /// throttling must not tell which names are registered.
    pub fn username(typed: &str) -> Self {
        let canonical: String = typed.chars().take(64).collect::<String>().to_lowercase();
        Self(format!("user:{}", digest(&canonical)))
    }

    /// Failed logins from one client address (an IPv6 client by its /64: one subscriber).
    pub fn login_address(ip: IpAddr) -> Self {
        Self(format!("ip:{}", network_of(ip)))
    }

    /// Registrations from one client address.
    pub fn registration_address(ip: IpAddr) -> Self {
        Self(format!("register:{}", network_of(ip)))
    }

    /// Failed logins on one trusted device (see `auth::device`).
    pub fn device(device_id: &uuid::Uuid) -> Self {
        Self(format!("device:{}", device_id.simple()))
    }

    /// Requests for a password reset link from one client address.
    pub fn forgot_address(ip: IpAddr) -> Self {
        Self(format!("forgot:{}", network_of(ip)))
    }

    /// Reset links mailed to one account.
    pub fn mailed_links(user_id: &uuid::Uuid) -> Self {
        Self(format!("mailed:{}", user_id.simple()))
    }

    /// Passkey sign-in ceremonies started from one client address.
    pub fn passkey_start_address(ip: IpAddr) -> Self {
        Self(format!("passkey:{}", network_of(ip)))
    }

    /// Failed client authentications and code exchanges of one OAuth client.
    pub fn oauth_client(client_id: &str) -> Self {
        Self(format!("client:{}", digest(client_id)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn digest(value: &str) -> String {
    hex::encode(&Sha256::digest(value.as_bytes())[..16])
}

fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let prefix = u128::from(v6) & (u128::MAX << 64);
                format!("{}/64", std::net::Ipv6Addr::from(prefix))
            }
        },
    }
}

/// Attempts counted in advance, to be released if they succeed.
#[derive(Debug, Default, Clone)]
pub struct Reservation {
    held: Vec<(Key, Rule)>,
}

impl Reservation {
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

/// Counts one attempt against every `(key, rule)` pair, all or nothing: if any bucket is at its
/// limit nothing is counted and the longest wait is returned as `TooManyAttempts`.
pub async fn reserve(
    db: &DatabaseConnection,
    mut checks: Vec<(Key, Rule)>,
    now: DateTime<Utc>,
) -> Result<Reservation, AuthError> {
    if checks.is_empty() {
        return Ok(Reservation::default());
    }
    // Rows are always locked in key order, so two reservations cannot deadlock.
    checks.sort_by(|a, b| a.0.cmp(&b.0));
    checks.dedup_by(|a, b| a.0 == b.0);
    let txn = storage::begin_write(db).await?;
    let buckets = lock_buckets(&txn, &checks, now).await?;
    let mut updated = Vec::with_capacity(checks.len());
    let mut wait: Option<Duration> = None;
    for ((key, rule), bucket) in checks.iter().zip(&buckets) {
        match rule.reserve(bucket, now) {
            Ok(next) => updated.push((key, next)),
            Err(retry_after) => wait = Some(wait.map_or(retry_after, |w| w.max(retry_after))),
        }
    }
    if let Some(retry_after) = wait {
        // Dropping the transaction rolls back the rows it inserted.
        return Err(AuthError::TooManyAttempts { retry_after });
    }
    store(&txn, updated).await?;
    txn.commit().await?;
    Ok(Reservation { held: checks })
}

/// Gives back a reservation after the attempt succeeded, inside the caller's transaction (so
/// the release and the session it let in commit together).
pub async fn release(
    txn: &impl ConnectionTrait,
    reservation: &Reservation,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    if reservation.is_empty() {
        return Ok(());
    }
    let buckets = lock_buckets(txn, &reservation.held, now).await?;
    let released = reservation
        .held
        .iter()
        .zip(&buckets)
        .map(|((key, rule), bucket)| (key, rule.release(bucket, now)));
    store(txn, released).await
}

/// Forgets every bucket of these keys (an operator's `users unlock`, or a deleted account).
pub async fn clear(db: &impl ConnectionTrait, keys: &[Key]) -> Result<u64, AuthError> {
    let deleted = throttle_bucket::Entity::delete_many()
        .filter(throttle_bucket::Column::Key.is_in(keys.iter().map(|k| k.0.clone())))
        .exec(db)
        .await?
        .rows_affected;
    Ok(deleted)
}

/// What a bucket holds against its key at `now`, for an operator's "why is this locked?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    /// Failures still counted.
    pub failures: u32,
    /// Until when every attempt is refused, if it is locked now.
    pub locked_until: Option<DateTime<Utc>>,
    /// When the last counted failure is forgotten.
    pub clears_at: DateTime<Utc>,
}

/// The state of `key`'s bucket under `rule` at `now`; `None` when it counts nothing (or the
/// rule is off). Reads only: nothing is counted.
pub async fn state(
    db: &impl ConnectionTrait,
    key: &Key,
    rule: Option<Rule>,
    now: DateTime<Utc>,
) -> Result<Option<State>, AuthError> {
    let Some(rule) = rule else {
        return Ok(None);
    };
    let Some(row) = throttle_bucket::Entity::find_by_id(key.0.clone())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let bucket = Bucket {
        level_until: row.level_until,
        locked_until: row.locked_until,
    };
    let failures = rule.count(&bucket, now);
    let locked_until = bucket.locked_until.filter(|until| *until > now);
    if failures == 0 && locked_until.is_none() {
        return Ok(None);
    }
    Ok(Some(State {
        failures,
        locked_until,
        clears_at: bucket.level_until.max(now),
    }))
}

/// Buckets that no longer count anything at `now` (both their instants have passed).
pub fn expired(now: DateTime<Utc>) -> Condition {
    Condition::all().add(throttle_bucket::Column::ExpiresAt.lt(now))
}

/// The buckets for `checks`, in the same order, each row locked (created empty if missing), in
/// one statement: an upsert whose no-op update takes the row lock on PostgreSQL (SQLite's
/// IMMEDIATE transaction already holds the database's), returning every row.
async fn lock_buckets(
    txn: &impl ConnectionTrait,
    checks: &[(Key, Rule)],
    now: DateTime<Utc>,
) -> Result<Vec<Bucket>, AuthError> {
    let empty = Bucket::empty(now);
    let rows = checks.iter().map(|(key, _)| row(key, &empty));
    // A concurrent first attempt on another instance may insert the same key: on PostgreSQL
    // this waits for it, then updates (and locks) its row instead.
    let found = throttle_bucket::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(throttle_bucket::Column::Key)
                .value(
                    throttle_bucket::Column::LevelUntil,
                    Expr::col((throttle_bucket::Entity, throttle_bucket::Column::LevelUntil)),
                )
                .to_owned(),
        )
        .exec_with_returning(txn)
        .await?;
    Ok(checks
        .iter()
        .map(|(key, _)| {
            found
                .iter()
                .find(|row| row.key == key.0)
                .map_or(empty, |row| Bucket {
                    level_until: row.level_until,
                    locked_until: row.locked_until,
                })
        })
        .collect())
}

/// Writes every bucket's new state in one statement.
async fn store(
    txn: &impl ConnectionTrait,
    buckets: impl IntoIterator<Item = (&Key, Bucket)>,
) -> Result<(), AuthError> {
    throttle_bucket::Entity::insert_many(
        buckets.into_iter().map(|(key, bucket)| row(key, &bucket)),
    )
    .on_conflict(
        OnConflict::column(throttle_bucket::Column::Key)
            .update_columns([
                throttle_bucket::Column::LevelUntil,
                throttle_bucket::Column::LockedUntil,
                throttle_bucket::Column::ExpiresAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

fn row(key: &Key, bucket: &Bucket) -> throttle_bucket::ActiveModel {
    throttle_bucket::ActiveModel {
        key: Set(key.0.clone()),
        level_until: Set(bucket.level_until),
        locked_until: Set(bucket.locked_until),
        expires_at: Set(bucket.expires_at()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    /// Applies `n` reservations at `now`, as parallel requests would, keeping only successes.
    fn reserve_n(rule: Rule, bucket: &mut Bucket, n: u32, now: DateTime<Utc>) -> u32 {
        let mut accepted = 0;
        for _ in 0..n {
            if let Ok(next) = rule.reserve(bucket, now) {
                *bucket = next;
                accepted += 1;
            }
        }
        accepted
    }

    #[test]
    fn forty_parallel_guesses_get_only_the_free_attempts() {
        let rule = Rule::Backoff { free: 5 };
        let mut bucket = Bucket::empty(at(0));
        assert_eq!(reserve_n(rule, &mut bucket, 40, at(0)), 5);
        assert_eq!(rule.reserve(&bucket, at(0)), Err(Duration::from_secs(1)));
    }

    #[test]
    fn locks_double_with_each_further_failure_up_to_fifteen_minutes() {
        let rule = Rule::Backoff { free: 2 };
        let mut bucket = Bucket::empty(at(0));
        reserve_n(rule, &mut bucket, 2, at(0));
        assert_eq!(rule.reserve(&bucket, at(0)), Err(Duration::from_secs(1)));
        bucket = rule.reserve(&bucket, at(1)).unwrap();
        assert_eq!(rule.reserve(&bucket, at(1)), Err(Duration::from_secs(2)));
        bucket = rule.reserve(&bucket, at(3)).unwrap();
        assert_eq!(rule.reserve(&bucket, at(3)), Err(Duration::from_secs(4)));
        // A guesser who tries again the moment each lock ends reaches the cap and stays there.
        let mut t = 3;
        for _ in 0..40 {
            let unlocked = bucket
                .locked_until
                .map_or(t, |u| u.timestamp() - 1_800_000_000);
            t = t.max(unlocked);
            bucket = rule.reserve(&bucket, at(t)).unwrap();
        }
        assert_eq!(rule.reserve(&bucket, at(t)), Err(MAX_DELAY));
    }

    #[test]
    fn the_count_decays_one_failure_at_a_time_instead_of_resetting() {
        let rule = Rule::Backoff { free: 3 };
        let mut bucket = Bucket::empty(at(0));
        reserve_n(rule, &mut bucket, 3, at(0));
        // After the first 1 s lock the count is still 3: the next failure locks for 2 s.
        bucket = rule.reserve(&bucket, at(2)).unwrap();
        assert_eq!(rule.count(&bucket, at(2)), 4);
        assert_eq!(rule.reserve(&bucket, at(2)), Err(Duration::from_secs(2)));
        // One failure is forgotten per 15 minutes.
        assert_eq!(rule.count(&bucket, at(15 * 60 + 2)), 3);
        assert_eq!(rule.count(&bucket, at(4 * 15 * 60 + 2)), 0);
    }

    #[test]
    fn a_success_gives_its_attempt_back_and_lifts_the_lock_it_set() {
        let rule = Rule::Backoff { free: 3 };
        let mut bucket = Bucket::empty(at(0));
        reserve_n(rule, &mut bucket, 2, at(0));
        let reserved = rule.reserve(&bucket, at(0)).unwrap();
        assert!(reserved.locked_until.is_some());
        let released = rule.release(&reserved, at(0));
        assert_eq!(rule.count(&released, at(0)), 2);
        assert_eq!(released.locked_until, None);
        assert!(rule.reserve(&released, at(0)).is_ok());
    }

    #[test]
    fn a_rate_allows_its_limit_then_refills_continuously() {
        let rule = Rule::Rate {
            limit: 4,
            window: Duration::from_secs(60),
        };
        let mut bucket = Bucket::empty(at(0));
        assert_eq!(reserve_n(rule, &mut bucket, 10, at(0)), 4);
        let wait = rule.reserve(&bucket, at(0)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(14));
        assert!(rule.reserve(&bucket, at(13)).is_err());
        assert!(rule.reserve(&bucket, at(14)).is_ok());
        assert_eq!(rule.count(&bucket, at(60)), 0);
    }

    #[test]
    fn a_request_whose_clock_lags_a_little_is_not_counted_twice() {
        let rule = Rule::Rate {
            limit: 3,
            window: Duration::from_secs(3600),
        };
        let mut bucket = Bucket::empty(at(0));
        // Two requests took `now` at t=0.5; one that took it at t=0 arrives after them.
        let later = at(0) + chrono::Duration::milliseconds(500);
        bucket = rule.reserve(&bucket, later).unwrap();
        bucket = rule.reserve(&bucket, later).unwrap();
        assert!(rule.reserve(&bucket, at(0)).is_ok(), "the third of three");
    }

    #[test]
    fn keys_never_hold_the_name_and_group_ipv6_by_subscriber() {
        let key = Key::username("Alice");
        assert_eq!(key, Key::username("alice"));
        assert!(!key.as_str().contains("alice"));
        assert_eq!(key.as_str().len(), "user:".len() + 32);
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(Key::login_address(a), Key::login_address(b));
        assert_ne!(Key::login_address(a), Key::login_address(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(
            Key::login_address(mapped),
            Key::login_address("192.0.2.7".parse().unwrap())
        );
    }
}

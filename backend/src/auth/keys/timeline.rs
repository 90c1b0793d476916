//! The keys' timeline: what each key is at an instant (next, current, retired, expired,
//! revoked) and when the next one is due, computed alike by every instance from the same rows.

use chrono::{DateTime, Utc};

use super::{JwtAlgorithm, KeyPolicy};
use crate::{auth::sessions::duration, entity::signing_key};

/// Where a key is in its life at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published; starts signing at its `activates_at`.
    Next,
    /// Signs new tokens.
    Current,
    /// Replaced at `signed_until`; verifies until `verifies_until`, published until
    /// `published_until`.
    Retired {
        signed_until: DateTime<Utc>,
        verifies_until: DateTime<Utc>,
        published_until: DateTime<Utc>,
    },
    /// Over: neither verifies nor is published.
    Expired,
    /// Retired by hand: nothing it signed is accepted.
    Revoked,
}

/// Which line a key belongs to: RSA keys sign ID tokens, every other kind access tokens. Each
/// line has its own timeline.
pub fn is_id_token_line(key: &signing_key::Model) -> bool {
    key.algorithm == JwtAlgorithm::Rs256.as_str()
}

/// What the timeline says of every key at `now` (pure: computed alike by every instance).
/// Keys take over from each other in order of activation, within their line.
pub fn states(
    rows: &[signing_key::Model],
    policy: &KeyPolicy,
    now: DateTime<Utc>,
) -> Vec<(String, KeyState)> {
    let mut live: Vec<&signing_key::Model> =
        rows.iter().filter(|k| k.revoked_at.is_none()).collect();
    live.sort_by_key(|k| (k.activates_at, k.created_at));
    let state_of = |key: &signing_key::Model| {
        if key.revoked_at.is_some() {
            return KeyState::Revoked;
        }
        if key.activates_at > now {
            return KeyState::Next;
        }
        let line: Vec<&&signing_key::Model> = live
            .iter()
            .filter(|k| is_id_token_line(k) == is_id_token_line(key))
            .collect();
        let position = line.iter().position(|k| k.kid == key.kid);
        let successor = position.and_then(|i| line.get(i + 1));
        match successor.filter(|next| next.activates_at <= now) {
            None => KeyState::Current,
            Some(next) => {
                let signed_until = next.activates_at;
                let verifies_until = signed_until + duration(policy.access_ttl);
                let published_until = verifies_until + duration(policy.jwks_max_age);
                if published_until <= now {
                    KeyState::Expired
                } else {
                    KeyState::Retired {
                        signed_until,
                        verifies_until,
                        published_until,
                    }
                }
            }
        }
    };
    rows.iter()
        .map(|key| (key.kid.clone(), state_of(key)))
        .collect()
}

/// When a new access-token key should start signing, if one is due now.
pub(super) fn due_activation(
    rows: &[signing_key::Model],
    policy: &KeyPolicy,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let access: Vec<signing_key::Model> = rows
        .iter()
        .filter(|k| !is_id_token_line(k))
        .cloned()
        .collect();
    due_in_line(&access, policy, policy.algorithm, now)
}

/// When a new ID-token (RSA) key should start signing, if one is due now: on the access keys'
/// rotation schedule.
pub(super) fn due_id_token_activation(
    rows: &[signing_key::Model],
    policy: &KeyPolicy,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if !policy.id_tokens {
        return None;
    }
    let line: Vec<signing_key::Model> = rows
        .iter()
        .filter(|k| is_id_token_line(k))
        .cloned()
        .collect();
    due_in_line(&line, policy, JwtAlgorithm::Rs256, now)
}

fn due_in_line(
    rows: &[signing_key::Model],
    policy: &KeyPolicy,
    algorithm: JwtAlgorithm,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let states = states(rows, policy, now);
    let current = rows.iter().find(|k| {
        states
            .iter()
            .any(|(kid, s)| *kid == k.kid && *s == KeyState::Current)
    });
    let pending = rows.iter().any(|k| {
        states
            .iter()
            .any(|(kid, s)| *kid == k.kid && *s == KeyState::Next)
            && k.algorithm == algorithm.as_str()
    });
    let lead = duration(policy.lead());
    match current {
        // Nothing can sign: a key is needed at once.
        None if !pending => Some(now),
        None => None,
        Some(_) if pending => None,
        Some(current) if current.algorithm != algorithm.as_str() => Some(now + lead),
        Some(current) => {
            let period = duration(policy.rotation?);
            (current.activates_at + period <= now + lead)
                .then(|| (now + lead).max(current.activates_at + period))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::Duration as ChronoDuration;

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn policy() -> KeyPolicy {
        KeyPolicy {
            algorithm: JwtAlgorithm::EdDsa,
            audience: "latchkey".into(),
            access_ttl: Duration::from_secs(900),
            jwks_max_age: Duration::from_secs(300),
            rotation: Some(Duration::from_secs(30 * 86_400)),
            id_tokens: true,
        }
    }

    fn key(kid: &str, activates: i64) -> signing_key::Model {
        signing_key::Model {
            kid: kid.into(),
            algorithm: "EdDSA".into(),
            public_jwk: None,
            private_key: String::new(),
            created_at: at(activates - 360),
            activates_at: at(activates),
            revoked_at: None,
        }
    }

    fn state_of(rows: &[signing_key::Model], kid: &str, now: i64) -> KeyState {
        states(rows, &policy(), at(now))
            .into_iter()
            .find(|(k, _)| k == kid)
            .unwrap()
            .1
    }

    #[test]
    fn a_new_key_is_next_then_current_and_the_old_one_lingers_as_promised() {
        let rows = [key("old", 0), key("new", 1000)];
        assert_eq!(state_of(&rows, "old", 999), KeyState::Current);
        assert_eq!(state_of(&rows, "new", 999), KeyState::Next);
        assert_eq!(state_of(&rows, "new", 1000), KeyState::Current);
        // The old key signed until 1000: its tokens live 900 s more, its JWKS entry 300 s more.
        assert_eq!(
            state_of(&rows, "old", 1000),
            KeyState::Retired {
                signed_until: at(1000),
                verifies_until: at(1900),
                published_until: at(2200),
            }
        );
        assert_eq!(state_of(&rows, "old", 2200), KeyState::Expired);
    }

    #[test]
    fn a_revoked_key_is_over_at_once() {
        let mut rows = [key("old", 0), key("new", 1000)];
        rows[1].revoked_at = Some(at(1500));
        assert_eq!(state_of(&rows, "new", 1500), KeyState::Revoked);
        assert_eq!(state_of(&rows, "old", 1500), KeyState::Current);
    }

    #[test]
    fn rotation_is_due_a_lead_time_before_the_period_ends() {
        let p = policy();
        let period = 30 * 86_400;
        let lead = p.lead().as_secs() as i64;
        let rows = [key("k", 0)];
        assert_eq!(due_activation(&rows, &p, at(period - lead - 1)), None);
        assert_eq!(
            due_activation(&rows, &p, at(period - lead)),
            Some(at(period))
        );
        // Once the next key is waiting, nothing more is due.
        let rows = [key("k", 0), key("n", period)];
        assert_eq!(due_activation(&rows, &p, at(period - 10)), None);
        assert_eq!(
            due_activation(&[], &p, at(5)),
            Some(at(5)),
            "no key at all: at once"
        );
    }

    #[test]
    fn a_change_of_algorithm_publishes_a_key_of_the_new_one() {
        let mut p = policy();
        p.algorithm = JwtAlgorithm::Es256;
        let rows = [key("k", 0)];
        assert_eq!(
            due_activation(&rows, &p, at(10)),
            Some(at(10) + ChronoDuration::from_std(p.lead()).unwrap())
        );
    }
}

//! Device cookies (OWASP Credential Stuffing and Authentication cheat sheets): after a successful
//! login the browser gets a long-lived, signed token naming a device id and the account it
//! signed in to. A later login that presents it for that same account is judged by that
//! device's own failure count instead of the username's, so a stranger who keeps guessing a
//! victim's password locks out only devices that never signed in, never the victim's own.
//!
//! The token is `base64url(device id ‖ user id ‖ expiry ‖ HMAC-SHA256[..16])`, keyed by a key
//! derived from `JWT_SECRET`. It is not a session: it grants nothing but a separate throttle.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::Mac as _;
use uuid::Uuid;

use super::secrets::Secrets;

const MAC_LEN: usize = 16;
const PAYLOAD_LEN: usize = 16 + 16 + 8;

/// A device that signed in to `user_id` before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    pub id: Uuid,
    pub user_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

impl Device {
    /// A device seen for the first time.
    pub fn new(user_id: Uuid, expires_at: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::new_v4(),
            user_id,
            expires_at,
        }
    }

    /// The cookie value.
    pub fn sign(&self, secrets: &Secrets) -> String {
        let mut bytes = payload(self).to_vec();
        bytes.extend_from_slice(&mac(secrets, &bytes));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The device a cookie names, if it is ours, intact and not expired.
    pub fn verify(raw: &str, secrets: &Secrets, now: DateTime<Utc>) -> Option<Self> {
        if raw.len() > 128 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        if bytes.len() != PAYLOAD_LEN + MAC_LEN {
            return None;
        }
        let (payload, tag) = bytes.split_at(PAYLOAD_LEN);
        let mut check = secrets.device_mac();
        check.update(payload);
        check.verify_truncated_left(tag).ok()?;
        let id = Uuid::from_slice(&payload[..16]).ok()?;
        let user_id = Uuid::from_slice(&payload[16..32]).ok()?;
        let expires_at =
            DateTime::from_timestamp(i64::from_be_bytes(payload[32..40].try_into().ok()?), 0)?;
        (expires_at > now).then_some(Self {
            id,
            user_id,
            expires_at,
        })
    }
}

fn payload(device: &Device) -> [u8; PAYLOAD_LEN] {
    let mut bytes = [0u8; PAYLOAD_LEN];
    bytes[..16].copy_from_slice(device.id.as_bytes());
    bytes[16..32].copy_from_slice(device.user_id.as_bytes());
    bytes[32..].copy_from_slice(&device.expires_at.timestamp().to_be_bytes());
    bytes
}

fn mac(secrets: &Secrets, payload: &[u8]) -> [u8; MAC_LEN] {
    let mut mac = secrets.device_mac();
    mac.update(payload);
    let full = mac.finalize().into_bytes();
    let mut truncated = [0u8; MAC_LEN];
    truncated.copy_from_slice(&full[..MAC_LEN]);
    truncated
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::config::Secret;

    fn secrets(s: &str) -> Secrets {
        Secrets::derive(&Secret::new(s.repeat(32))).unwrap()
    }

    #[test]
    fn a_signed_device_verifies_until_it_expires() {
        let (s, now) = (secrets("a"), Utc::now());
        let device = Device::new(Uuid::new_v4(), now + Duration::days(30));
        let cookie = device.sign(&s);
        let back = Device::verify(&cookie, &s, now).unwrap();
        assert_eq!((back.id, back.user_id), (device.id, device.user_id));
        assert!(Device::verify(&cookie, &s, now + Duration::days(31)).is_none());
    }

    #[test]
    fn a_forged_or_foreign_cookie_is_ignored() {
        let (s, now) = (secrets("a"), Utc::now());
        let cookie = Device::new(Uuid::new_v4(), now + Duration::days(30)).sign(&s);
        assert!(Device::verify(&cookie, &secrets("b"), now).is_none());
        let mut bytes = URL_SAFE_NO_PAD.decode(&cookie).unwrap();
        bytes[20] ^= 1; // another user id
        assert!(Device::verify(&URL_SAFE_NO_PAD.encode(bytes), &s, now).is_none());
        assert!(Device::verify("", &s, now).is_none());
        assert!(Device::verify(&"A".repeat(500), &s, now).is_none());
    }
}

//! Keys derived from `JWT_SECRET`, one per purpose (HKDF-SHA256, RFC 5869), and sealing of
//! secrets at rest with XChaCha20-Poly1305.
//!
//! `JWT_SECRET` itself is never used as a key: each purpose gets its own derived key, so a key
//! that leaks through one use cannot be replayed in another. It does not sign access tokens
//! (the signing keys live in the database, sealed with the key derived here).

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chacha20poly1305::{
    KeyInit as _, XChaCha20Poly1305, XNonce,
    aead::{Aead as _, Payload},
};
use hkdf::Hkdf;
use hmac::Hmac;
use sha2::Sha256;

use super::AuthError;

/// Bumping a purpose's version rotates that derived key (everything it protects becomes invalid).
const SALT: &[u8] = b"latchkey";
const REFRESH_SUCCESSOR: &[u8] = b"latchkey/refresh-successor/v1";
const SEALING: &[u8] = b"latchkey/sealing/v1";
const RECOVERY_CODES: &[u8] = b"latchkey/recovery-codes/v1";

const NONCE_LEN: usize = 24;

/// A string that never shows up in `Debug` output or logs (`JWT_SECRET`).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

pub struct Secrets {
    successor_mac: Hmac<Sha256>,
    recovery_code_mac: Hmac<Sha256>,
    sealing: XChaCha20Poly1305,
}

impl Secrets {
    pub fn derive(secret: &Secret) -> Result<Self, AuthError> {
        let hkdf = Hkdf::<Sha256>::new(Some(SALT), secret.expose().as_bytes());
        let key = |info: &[u8]| -> Result<[u8; 32], AuthError> {
            let mut okm = [0u8; 32];
            hkdf.expand(info, &mut okm)
                .map_err(|e| AuthError::internal("deriving a key (HKDF)", e))?;
            Ok(okm)
        };
        let mac = |info: &[u8]| {
            Hmac::<Sha256>::new_from_slice(&key(info)?)
                .map_err(|e| AuthError::internal("an HMAC key", e))
        };
        Ok(Self {
            successor_mac: mac(REFRESH_SUCCESSOR)?,
            recovery_code_mac: mac(RECOVERY_CODES)?,
            sealing: XChaCha20Poly1305::new(&key(SEALING)?.into()),
        })
    }

    /// HMAC-SHA256 keyed for deriving refresh-token successors (see `tokens::successor`).
    pub fn successor_mac(&self) -> Hmac<Sha256> {
        self.successor_mac.clone()
    }

    /// HMAC-SHA256 keyed for storing recovery codes (see `second_factor`).
    pub fn recovery_code_mac(&self) -> Hmac<Sha256> {
        self.recovery_code_mac.clone()
    }

    /// Encrypts `plaintext` for storage: `base64url(nonce || ciphertext || tag)`. `context`
    /// (e.g. a key id or a user id) is authenticated, so a sealed value copied into another
    /// row does not open there.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<String, AuthError> {
        let nonce = random_bytes::<NONCE_LEN>()?;
        let sealed = self
            .sealing
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|e| AuthError::internal("sealing a secret", e))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// The plaintext of `sealed`, or `None` when it was not sealed by this secret for `context`.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.sealing
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .ok()
    }
}

/// `N` bytes from the operating system's random number generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::internal("OS randomness", e))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use hmac::Mac as _;

    use super::*;

    fn secrets(s: &str) -> Secrets {
        Secrets::derive(&Secret::new(s.repeat(32))).unwrap()
    }

    #[test]
    fn sealed_values_open_only_with_the_same_secret_and_context() {
        let a = secrets("a");
        let sealed = a.seal(b"private key", b"kid-1").unwrap();
        assert!(!sealed.contains("private"));
        assert_eq!(a.open(&sealed, b"kid-1").unwrap(), b"private key");
        assert!(a.open(&sealed, b"kid-2").is_none());
        assert!(secrets("b").open(&sealed, b"kid-1").is_none());
        assert!(a.open("not base64 !", b"kid-1").is_none());
        assert!(a.open("", b"kid-1").is_none());
    }

    #[test]
    fn two_seals_of_one_value_differ() {
        let a = secrets("a");
        assert_ne!(a.seal(b"x", b"c").unwrap(), a.seal(b"x", b"c").unwrap());
    }

    #[test]
    fn each_purpose_has_its_own_key() {
        let a = secrets("a");
        let one = a.successor_mac().chain_update(b"m").finalize().into_bytes();
        let two = a
            .recovery_code_mac()
            .chain_update(b"m")
            .finalize()
            .into_bytes();
        assert_ne!(one, two);
    }
}

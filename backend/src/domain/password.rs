use std::fmt;

use super::FieldError;

/// A password of 12–128 characters (Unicode scalar values), compared exactly as received.
///
/// No composition rules (NIST SP 800-63B); the upper bound is checked before any hashing so a
/// huge password cannot cost a hash. `Debug` never shows the value.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: String) -> Result<Self, FieldError> {
        let len = raw.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(FieldError {
                field: "password",
                message: "Password must be 12 to 128 characters long.".to_owned(),
            });
        }
        Ok(Self(raw))
    }

    /// Accepts whatever a login form sent, up to the maximum length: a password that is too
    /// short to be valid simply fails verification, like any other wrong password.
    pub fn parse_for_login(raw: String) -> Result<Self, FieldError> {
        if raw.chars().count() > Self::MAX_LEN {
            return Err(FieldError {
                field: "password",
                message: "Password must be at most 128 characters long.".to_owned(),
            });
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(Password::parse("é".repeat(12)).is_ok());
        assert!(Password::parse("🔑".repeat(11)).is_err());
        assert!(Password::parse("a".repeat(128)).is_ok());
        assert!(Password::parse("a".repeat(129)).is_err());
    }

    #[test]
    fn debug_never_shows_the_value() {
        let password = Password::parse("correct horse battery".into()).unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn login_only_caps_the_length() {
        assert!(Password::parse_for_login("short".into()).is_ok());
        assert!(Password::parse_for_login("a".repeat(129)).is_err());
    }
}

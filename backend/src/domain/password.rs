use std::fmt;

use super::{FieldError, Username};

/// A password of 12–128 characters (Unicode scalar values), compared exactly as received.
///
/// No composition rules (NIST SP 800-63B-4 §3.1.1.2); the upper bound is checked before any
/// hashing so a huge password cannot cost a hash. `Debug` never shows the value.
#[derive(Clone)]
pub struct Password(String);

/// What a new password must achieve beyond its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// The zxcvbn score (0–4) a new password must reach: 3 means "safely unguessable: moderate
    /// protection from an offline slow-hash scenario" (about 10^10 guesses).
    pub min_score: u8,
}

impl Password {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 128;

    /// Checks only the length: for passwords being verified, not chosen.
    pub fn parse(raw: String) -> Result<Self, FieldError> {
        let len = raw.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(FieldError::new(
                "password",
                "Password must be 12 to 128 characters long.",
            ));
        }
        Ok(Self(raw))
    }

    /// A password being chosen for `username`: the right length, not containing the username,
    /// and not guessable by zxcvbn's estimate with the username as a known input (NIST SP
    /// 800-63B-4 §3.1.1.2 blocklist, OWASP ASVS V6.2.4). The error says why in plain words.
    pub fn parse_new(
        raw: String,
        username: &Username,
        policy: PasswordPolicy,
    ) -> Result<Self, FieldError> {
        let password = Self::parse(raw)?;
        if password
            .0
            .to_lowercase()
            .contains(&username.canonical().to_lowercase())
        {
            return Err(FieldError::new(
                "password",
                "Password must not contain your username.",
            ));
        }
        let estimate = zxcvbn::zxcvbn(&password.0, &[username.as_str()]);
        if u8::from(estimate.score()) < policy.min_score {
            return Err(FieldError::new("password", weakness_message(&estimate)));
        }
        Ok(password)
    }

    /// Accepts whatever a login form sent, up to the maximum length: a password that is too
    /// short to be valid simply fails verification, like any other wrong password.
    pub fn parse_for_login(raw: String) -> Result<Self, FieldError> {
        if raw.chars().count() > Self::MAX_LEN {
            return Err(FieldError::new(
                "password",
                "Password must be at most 128 characters long.",
            ));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// "This password is too easy to guess." plus zxcvbn's warning and advice, when it has some.
fn weakness_message(estimate: &zxcvbn::Entropy) -> String {
    let mut message = String::from("This password is too easy to guess.");
    match estimate.feedback() {
        Some(feedback) => {
            if let Some(warning) = feedback.warning() {
                message.push(' ');
                message.push_str(&warning.to_string());
            }
            for suggestion in feedback.suggestions() {
                message.push(' ');
                message.push_str(&suggestion.to_string());
            }
        }
        None => message.push_str(" Add another word or two; uncommon words are better."),
    }
    message
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: PasswordPolicy = PasswordPolicy { min_score: 3 };

    fn alice() -> Username {
        Username::parse("alice".into()).unwrap()
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(Password::parse("é".repeat(12)).is_ok());
        assert!(Password::parse("🔑".repeat(11)).is_err());
        assert!(Password::parse("a".repeat(128)).is_ok());
        assert!(Password::parse("a".repeat(129)).is_err());
    }

    #[test]
    fn guessable_passwords_are_refused_with_a_reason() {
        for weak in [
            "123456789012",
            "passwordpassword",
            "qwertyuiopasdf",
            "aaaaaaaaaaaa",
        ] {
            let error = Password::parse_new(weak.into(), &alice(), POLICY).unwrap_err();
            assert_eq!(error.field, "password");
            assert!(
                error
                    .message
                    .starts_with("This password is too easy to guess."),
                "{weak}: {}",
                error.message
            );
        }
    }

    #[test]
    fn a_password_containing_the_username_is_refused() {
        let error =
            Password::parse_new("xXAlice-rules-2026-forever".into(), &alice(), POLICY).unwrap_err();
        assert_eq!(error.message, "Password must not contain your username.");
    }

    #[test]
    fn a_long_uncommon_passphrase_is_accepted() {
        assert!(
            Password::parse_new("correct horse battery staple".into(), &alice(), POLICY).is_ok()
        );
        assert!(
            Password::parse_new(
                "123456789012".into(),
                &alice(),
                PasswordPolicy { min_score: 0 }
            )
            .is_ok(),
            "a score of 0 checks only length and the username"
        );
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

use super::FieldError;

/// A username: 3–32 characters of `A–Z a–z 0–9 _ . -`, starting with a letter or digit.
///
/// Keeps the name as typed for display, and a lowercase canonical form that decides uniqueness
/// and lookup, so `Alice` and `alice` are the same account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    display: String,
    canonical: String,
}

impl Username {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 32;
    /// The same rule as `parse`, in the ECMAScript/Rust-compatible form published in the spec.
    pub const PATTERN: &'static str = "^[A-Za-z0-9][A-Za-z0-9_.-]*$";

    pub fn parse(raw: String) -> Result<Self, FieldError> {
        let error = |message: &str| FieldError {
            field: "username",
            message: message.to_owned(),
        };
        let len = raw.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(error("Username must be 3 to 32 characters long."));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(error(
                "Username may contain only letters A–Z, digits, '_', '.' and '-'.",
            ));
        }
        if !raw.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(error("Username must start with a letter or a digit."));
        }
        let canonical = raw.to_ascii_lowercase();
        Ok(Self {
            display: raw,
            canonical,
        })
    }

    /// The name as the user typed it.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The lowercase form used for uniqueness and lookup.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The confusable skeleton (Unicode TS #39): two names with the same one look alike
    /// (`Ian`, `lan`), and only the first may be registered. Defined once, beside the
    /// migration that filled it for existing accounts.
    pub fn skeleton(&self) -> String {
        migration::usernames::skeleton(&self.display)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_display_form_and_lowercases_the_canonical_one() {
        let name = Username::parse("Alice.B-2_x".into()).unwrap();
        assert_eq!(name.as_str(), "Alice.B-2_x");
        assert_eq!(name.canonical(), "alice.b-2_x");
    }

    #[test]
    fn rejects_names_outside_the_rules() {
        for bad in [
            "ab",
            "",
            &"a".repeat(33),
            "_alice",
            ".alice",
            "-alice",
            "al ice",
            "alïce",
            "ａｌｉｃｅ",
            "bob\u{200b}",
            "admin\0x",
        ] {
            assert!(
                Username::parse(bad.to_string()).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn accepts_names_at_the_length_limits() {
        assert!(Username::parse("abc".into()).is_ok());
        assert!(Username::parse("a".repeat(32)).is_ok());
        assert!(Username::parse("1st".into()).is_ok());
    }
}

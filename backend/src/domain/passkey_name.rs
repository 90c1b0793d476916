use super::FieldError;

/// What a person calls one of their passkeys ("Work laptop"): 1–64 characters after trimming,
/// with no control characters (a NUL would not even store on PostgreSQL) and no bidirectional
/// or other invisible formatting characters, which could make a name display as another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyName(String);

impl PasskeyName {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let error = |message: &str| FieldError::new("name", message);
        let name = raw.trim();
        if name.is_empty() {
            return Err(error("Give the passkey a name."));
        }
        if name.chars().count() > Self::MAX_LEN {
            return Err(error("A passkey name is at most 64 characters long."));
        }
        if name.chars().any(is_invisible_or_control) {
            return Err(error(
                "A passkey name cannot contain control or invisible formatting characters.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// A name made from a device description, cut and cleaned to fit the rules.
    pub fn suggested(description: &str) -> Self {
        let cleaned: String = description
            .chars()
            .filter(|c| !is_invisible_or_control(*c))
            .take(Self::MAX_LEN)
            .collect();
        Self::parse(&cleaned).unwrap_or_else(|_| Self("Passkey".to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Controls (Cc), and the format characters that reorder or hide text: bidi embeddings,
/// overrides and isolates, marks, zero-width characters, the BOM and soft hyphen.
fn is_invisible_or_control(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            PasskeyName::parse("  Work laptop ").unwrap().as_str(),
            "Work laptop"
        );
        assert!(PasskeyName::parse("   ").is_err());
        assert!(PasskeyName::parse(&"é".repeat(64)).is_ok());
        assert!(PasskeyName::parse(&"é".repeat(65)).is_err());
        assert!(PasskeyName::parse("Clé de sécurité 🔑").is_ok());
    }

    #[test]
    fn control_and_bidi_characters_are_refused() {
        for bad in [
            "a\0b",
            "tab\there",
            "line\nbreak",
            "abc\u{202E}gpj.exe",
            "x\u{2066}y",
            "zero\u{200B}width",
            "\u{FEFF}bom",
        ] {
            assert!(PasskeyName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_suggestion_always_fits_the_rules() {
        assert_eq!(
            PasskeyName::suggested("Chrome 131 on macOS").as_str(),
            "Chrome 131 on macOS"
        );
        assert_eq!(PasskeyName::suggested("\u{202E}").as_str(), "Passkey");
        assert_eq!(PasskeyName::suggested(&"x".repeat(100)).as_str().len(), 64);
    }
}

use super::FieldError;

/// An email address as a person typed it, trimmed: `local@domain`, at most 254 characters,
/// checked with lettre's address parser (the same one that will send to it). Letter case is
/// kept (the local part may be case-sensitive); nothing else is rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let address = raw.trim();
        let error = |message: &str| FieldError::new("email", message);
        if address.is_empty() {
            return Err(error("Enter an email address."));
        }
        if address.chars().count() > Self::MAX_LEN {
            return Err(error("An email address is at most 254 characters long."));
        }
        let parsed: Result<lettre::Address, _> = address.parse();
        match parsed {
            Ok(parsed) if parsed.domain().contains('.') || parsed.domain() == "localhost" => {
                Ok(Self(address.to_owned()))
            }
            _ => Err(error("Enter an email address like name@example.com.")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_checked() {
        assert_eq!(
            EmailAddress::parse("  Alice@Example.com ")
                .unwrap()
                .as_str(),
            "Alice@Example.com"
        );
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "a b@example.com",
            "alice@example",
            "al\0ice@example.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).is_err());
    }
}

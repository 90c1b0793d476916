//! Text fields on the wire: a JSON string whose schema publishes the rules of its kind of
//! field (`Text<R>`), and those rules. The domain types judge the values.

use std::{borrow::Cow, marker::PhantomData};

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type},
};
use serde_json::Value;

use crate::domain::{Password, Username};

/// The constraints published in the spec for one kind of text field.
pub trait TextRules: Send + Sync + 'static {
    const MIN_LENGTH: Option<usize> = None;
    const MAX_LENGTH: Option<usize> = None;
    const PATTERN: Option<&'static str> = None;
    const FORMAT: Option<&'static str> = None;
    const EXAMPLE: &'static str;
    /// Whether parsing itself refuses a value outside the lengths (a `malformed_request`), for
    /// opaque values that have no domain type to judge them with a friendlier message.
    const ENFORCE_LENGTH: bool = false;
}

/// A JSON string whose schema carries `R`'s constraints.
///
/// Parsing accepts any string (and only strings): the rules themselves are enforced by the
/// domain types, which report every invalid field at once as `validation_failed`, instead of
/// failing on the first one with a framework message.
pub struct Text<R: TextRules>(String, PhantomData<R>);

impl<R: TextRules> Text<R> {
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<R: TextRules> Type for Text<R> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: R::MIN_LENGTH,
            max_length: R::MAX_LENGTH,
            pattern: R::PATTERN.map(str::to_owned),
            format: R::FORMAT,
            example: Some(Value::String(R::EXAMPLE.to_owned())),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl<R: TextRules> ParseFromJSON for Text<R> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) => {
                let len = s.chars().count();
                let fits = R::MIN_LENGTH.is_none_or(|min| len >= min)
                    && R::MAX_LENGTH.is_none_or(|max| len <= max);
                if R::ENFORCE_LENGTH && !fits {
                    return Err(ParseError::custom("length out of range"));
                }
                Ok(Self(s, PhantomData))
            }
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::expected_input()),
        }
    }
}

impl<R: TextRules> ToJSON for Text<R> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

pub struct NewUsername;

impl TextRules for NewUsername {
    const MIN_LENGTH: Option<usize> = Some(Username::MIN_LEN);
    const MAX_LENGTH: Option<usize> = Some(Username::MAX_LEN);
    const PATTERN: Option<&'static str> = Some(Username::PATTERN);
    const EXAMPLE: &'static str = "alice";
}

pub struct NewPassword;

impl TextRules for NewPassword {
    const MIN_LENGTH: Option<usize> = Some(Password::MIN_LEN);
    const MAX_LENGTH: Option<usize> = Some(Password::MAX_LEN);
    const FORMAT: Option<&'static str> = Some("password");
    const EXAMPLE: &'static str = "correct horse battery staple";
}

pub struct AnyUsername;

impl TextRules for AnyUsername {
    const EXAMPLE: &'static str = "alice";
}

pub struct LoginPassword;

impl TextRules for LoginPassword {
    const MAX_LENGTH: Option<usize> = Some(Password::MAX_LEN);
    const FORMAT: Option<&'static str> = Some("password");
    const EXAMPLE: &'static str = "correct horse battery staple";
}

pub struct OneTimeCode;

impl TextRules for OneTimeCode {
    const MAX_LENGTH: Option<usize> = Some(16);
    const EXAMPLE: &'static str = "123456";
    const ENFORCE_LENGTH: bool = true;
}

pub struct RecoveryCodeText;

impl TextRules for RecoveryCodeText {
    const MAX_LENGTH: Option<usize> = Some(32);
    const EXAMPLE: &'static str = "7hq2k-m9xvp";
    const ENFORCE_LENGTH: bool = true;
}

pub struct DeviceTokenText;

impl TextRules for DeviceTokenText {
    const MAX_LENGTH: Option<usize> = Some(128);
    const EXAMPLE: &'static str = "Qm9vdHN0cmFwcGVkIGRldmljZSB0b2tlbiBleGFtcGxl";
    const ENFORCE_LENGTH: bool = true;
}

pub struct RefreshTokenText;

impl TextRules for RefreshTokenText {
    const MAX_LENGTH: Option<usize> = Some(128);
    const EXAMPLE: &'static str = "kX9c2s0qVt7n3mB5wL1yZ8rQ4uE6aJhGfDpSoNiTcYv";
    const ENFORCE_LENGTH: bool = true;
}

pub struct OpaqueToken;

impl TextRules for OpaqueToken {
    const MAX_LENGTH: Option<usize> = Some(64);
    const EXAMPLE: &'static str = "kX9c2s0qVt7n3mB5wL1yZ8rQ4uE6aJhGfDpSoNiTcYv";
    const ENFORCE_LENGTH: bool = true;
}

pub struct PasskeyNameText;

impl TextRules for PasskeyNameText {
    const MIN_LENGTH: Option<usize> = Some(1);
    const MAX_LENGTH: Option<usize> = Some(crate::domain::PasskeyName::MAX_LEN);
    const EXAMPLE: &'static str = "Work laptop";
}

pub struct EmailText;

impl TextRules for EmailText {
    const MAX_LENGTH: Option<usize> = Some(crate::domain::EmailAddress::MAX_LEN);
    const FORMAT: Option<&'static str> = Some("email");
    const EXAMPLE: &'static str = "alice@example.com";
}

/// A token from a mailed or printed link (the part after `#token=`).
pub struct LinkTokenText;

impl TextRules for LinkTokenText {
    const MAX_LENGTH: Option<usize> = Some(64);
    const EXAMPLE: &'static str = "Jq0c1nWm3l9xv8Tb2Yk4RzF7hUe5sAaPdGiLoXyNtCw";
    const ENFORCE_LENGTH: bool = true;
}

pub struct RecoveryKeyText;

impl TextRules for RecoveryKeyText {
    const MAX_LENGTH: Option<usize> = Some(64);
    const EXAMPLE: &'static str = "7HQ2-KM9X-VP4R-T8NB-3CWD-YF6J-ZE";
    const ENFORCE_LENGTH: bool = true;
}

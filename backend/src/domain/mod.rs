//! Inputs as typed values: a `Username` or `Password` exists only if it passed the rules, so
//! nothing past the API edge re-checks them.

mod email;
mod passkey_name;
mod password;
mod user_agent;
mod username;

pub use email::EmailAddress;
pub use passkey_name::PasskeyName;
pub use password::{Password, PasswordPolicy};
pub use user_agent::describe_device;
pub use username::Username;

/// Why one field of a request was rejected; `message` is safe to show a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }

    /// The same complaint about a differently named request field (`new_password`).
    pub fn for_field(self, field: &'static str) -> Self {
        Self { field, ..self }
    }
}

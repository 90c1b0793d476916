//! Inputs as typed values: a `Username` or `Password` exists only if it passed the rules, so
//! nothing past the API edge re-checks them.

mod password;
mod username;

pub use password::Password;
pub use username::Username;

/// Why one field of a request was rejected; `message` is safe to show a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

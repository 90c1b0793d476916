//! Reading variables: a value or its default, and the error that names the variable.

use std::{cell::RefCell, collections::HashMap};

/// Why startup stopped: always names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

/// The variables to read, and the names asked for: the README test holds them against the
/// documented ones.
pub(super) struct Vars<'a> {
    values: &'a HashMap<String, String>,
    asked: RefCell<Vec<&'static str>>,
}

impl<'a> Vars<'a> {
    pub(super) fn new(values: &'a HashMap<String, String>) -> Self {
        Self {
            values,
            asked: RefCell::default(),
        }
    }

    /// Every name asked for so far, in order.
    #[cfg(test)]
    pub(super) fn asked(&self) -> Vec<&'static str> {
        self.asked.borrow().clone()
    }

    /// The parsed value of `name`, or `default` when it is unset or empty. A value that is set
    /// but parses to nothing (`CORS_ORIGINS=","`) is the parser's to refuse.
    pub(super) fn or<T>(
        &self,
        name: &'static str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => parse(raw).map_err(|reason| ConfigError {
                variable: name,
                reason,
            }),
        }
    }

    pub(super) fn required<T>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Err(ConfigError {
                variable: name,
                reason: "is required but not set; generate one with `openssl rand -hex 32`"
                    .to_owned(),
            }),
            Some(raw) => parse(raw).map_err(|reason| ConfigError {
                variable: name,
                reason,
            }),
        }
    }

    fn get(&self, name: &'static str) -> Option<&'a str> {
        self.asked.borrow_mut().push(name);
        self.values
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

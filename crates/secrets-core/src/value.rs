//! The redacting, zeroizing holder of one secret value.

use std::fmt;

use zeroize::Zeroize;

/// What `Debug` and `Display` print instead of a secret value.
pub const REDACTED: &str = "[REDACTED]";

/// One secret value. Its text is only reachable through [`SecretValue::expose`];
/// `Debug` and `Display` print `[REDACTED]`, and the memory is overwritten
/// with zeros when the value is dropped.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps `value`, taking ownership of its buffer without copying it.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret text. Call this only where the value is needed, never to
    /// format it into a message.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length of the value in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the value is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Zeroize for SecretValue {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for SecretValue {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl From<String> for SecretValue {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for SecretValue {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let value = SecretValue::new("hunter2");
        assert_eq!(format!("{value:?}"), REDACTED);
        assert_eq!(format!("{value}"), REDACTED);
        assert_eq!(format!("{value:#?}"), REDACTED);
        assert_eq!(value.expose(), "hunter2");
    }

    #[test]
    fn zeroize_clears_the_text() {
        let mut value = SecretValue::new("hunter2");
        value.zeroize();
        assert!(value.is_empty());
    }
}

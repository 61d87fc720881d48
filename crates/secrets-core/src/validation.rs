//! How thoroughly secret references are checked before a stack runs.

use std::fmt;
use std::str::FromStr;

/// Environment variable that sets the validation level.
pub const VALIDATION_LEVEL_ENV: &str = "KEYSTACK_SECRET_VALIDATION_LEVEL";
/// ZenML's variable, read when [`VALIDATION_LEVEL_ENV`] is unset.
pub const ZENML_VALIDATION_LEVEL_ENV: &str = "ZENML_SECRET_VALIDATION_LEVEL";

/// How thoroughly references are validated before a stack runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ValidationLevel {
    /// No validation at all; nothing is asked of the secrets manager.
    None,
    /// Every referenced secret exists (one listing, no values read).
    SecretExists,
    /// Every referenced secret exists and has the referenced key (the default).
    #[default]
    SecretAndKeyExists,
}

/// An unknown validation level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{variable}={given} is not a validation level; use one of NONE, SECRET_EXISTS, SECRET_AND_KEY_EXISTS"
)]
pub struct ValidationLevelError {
    variable: &'static str,
    given: String,
}

impl ValidationLevel {
    /// The spelling users write (`SECRET_AND_KEY_EXISTS`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::SecretExists => "SECRET_EXISTS",
            Self::SecretAndKeyExists => "SECRET_AND_KEY_EXISTS",
        }
    }

    /// Reads the level from the process environment.
    pub fn from_env() -> Result<Self, ValidationLevelError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the level through `lookup`: [`VALIDATION_LEVEL_ENV`] first, then
    /// [`ZENML_VALIDATION_LEVEL_ENV`], else the default. A variable set to the
    /// empty string counts as unset.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ValidationLevelError> {
        for variable in [VALIDATION_LEVEL_ENV, ZENML_VALIDATION_LEVEL_ENV] {
            if let Some(value) = lookup(variable).filter(|v| !v.trim().is_empty()) {
                return value.parse().map_err(|ValidationLevelError { given, .. }| {
                    ValidationLevelError { variable, given }
                });
            }
        }
        Ok(Self::default())
    }
}

impl fmt::Display for ValidationLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ValidationLevel {
    type Err = ValidationLevelError;

    /// Case-insensitive; surrounding whitespace is ignored.
    fn from_str(s: &str) -> Result<Self, ValidationLevelError> {
        let trimmed = s.trim();
        [Self::None, Self::SecretExists, Self::SecretAndKeyExists]
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| ValidationLevelError {
                variable: VALIDATION_LEVEL_ENV,
                given: format!("{:?}", trimmed.chars().take(64).collect::<String>()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn level(vars: &[(&str, &str)]) -> Result<ValidationLevel, ValidationLevelError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ValidationLevel::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn default_is_secret_and_key_exists() {
        assert_eq!(level(&[]).unwrap(), ValidationLevel::SecretAndKeyExists);
        assert_eq!(
            level(&[(VALIDATION_LEVEL_ENV, "")]).unwrap(),
            ValidationLevel::SecretAndKeyExists
        );
    }

    #[test]
    fn keystack_variable_wins_over_zenml() {
        assert_eq!(
            level(&[
                (VALIDATION_LEVEL_ENV, "none"),
                (ZENML_VALIDATION_LEVEL_ENV, "SECRET_EXISTS")
            ])
            .unwrap(),
            ValidationLevel::None
        );
        assert_eq!(
            level(&[(ZENML_VALIDATION_LEVEL_ENV, "Secret_Exists")]).unwrap(),
            ValidationLevel::SecretExists
        );
    }

    #[test]
    fn unknown_values_list_the_allowed_ones() {
        let err = level(&[(ZENML_VALIDATION_LEVEL_ENV, "strict")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ZENML_SECRET_VALIDATION_LEVEL=\"strict\" is not a validation level; \
             use one of NONE, SECRET_EXISTS, SECRET_AND_KEY_EXISTS"
        );
    }

    #[test]
    fn display_round_trips() {
        for level in [
            ValidationLevel::None,
            ValidationLevel::SecretExists,
            ValidationLevel::SecretAndKeyExists,
        ] {
            assert_eq!(level.to_string().parse::<ValidationLevel>().unwrap(), level);
        }
    }
}

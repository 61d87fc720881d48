//! Secret schemas, as ZenML had them: `arbitrary` accepts any keys, the typed
//! schemas require and allow a known set.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::{SecretKey, SecretValue};

/// The shape a secret's keys must have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SecretSchema {
    /// Any keys (ZenML's `arbitrary`, the default).
    #[default]
    Arbitrary,
    /// AWS credentials: `aws_access_key_id`, `aws_secret_access_key`, optional `aws_session_token`.
    Aws,
    /// GCP credentials: `token`.
    Gcp,
    /// Azure credentials: any of `account_name`, `account_key`, `sas_token`,
    /// `connection_string`, `client_id`, `client_secret`, `tenant_id`.
    Azure,
    /// `username` and `password`.
    BasicAuth,
}

/// Why a set of keys does not fit a schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The schema name is not one of the known schemas.
    #[error("unknown secret schema \"{given}\"; known schemas are: {}", SecretSchema::ALL_NAMES.join(", "))]
    Unknown {
        /// The name that was given, escaped and shortened.
        given: String,
    },
    /// A secret needs at least one key-value pair.
    #[error("a secret needs at least one key-value pair")]
    NoKeys,
    /// Keys the schema requires are missing.
    #[error(
        "schema '{schema}' requires the key(s) {}; add them",
        join_keys(missing)
    )]
    MissingKeys {
        /// The schema.
        schema: SecretSchema,
        /// The missing keys.
        missing: Vec<String>,
    },
    /// Keys the schema does not allow were given.
    #[error(
        "schema '{schema}' does not allow the key(s) {}; it allows {}",
        join_keys(unknown),
        join_keys(allowed)
    )]
    UnknownKeys {
        /// The schema.
        schema: SecretSchema,
        /// The keys that are not allowed.
        unknown: Vec<String>,
        /// Every key the schema allows.
        allowed: Vec<String>,
    },
}

fn join_keys(keys: &[impl AsRef<str>]) -> String {
    keys.iter()
        .map(|k| format!("'{}'", k.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl SecretSchema {
    /// Every schema, in the order help text lists them.
    pub const ALL: [SecretSchema; 5] = [
        Self::Arbitrary,
        Self::Aws,
        Self::Gcp,
        Self::Azure,
        Self::BasicAuth,
    ];

    /// The names of every schema, as users type them.
    pub const ALL_NAMES: [&'static str; 5] = ["arbitrary", "aws", "gcp", "azure", "basic_auth"];

    /// The name users type (`basic_auth`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Arbitrary => "arbitrary",
            Self::Aws => "aws",
            Self::Gcp => "gcp",
            Self::Azure => "azure",
            Self::BasicAuth => "basic_auth",
        }
    }

    /// Keys that must be present.
    pub fn required_keys(self) -> &'static [&'static str] {
        match self {
            Self::Arbitrary | Self::Azure => &[],
            Self::Aws => &["aws_access_key_id", "aws_secret_access_key"],
            Self::Gcp => &["token"],
            Self::BasicAuth => &["username", "password"],
        }
    }

    /// Keys that may be present; `None` means any key.
    pub fn allowed_keys(self) -> Option<&'static [&'static str]> {
        match self {
            Self::Arbitrary => None,
            Self::Aws => Some(&[
                "aws_access_key_id",
                "aws_secret_access_key",
                "aws_session_token",
            ]),
            Self::Gcp => Some(&["token"]),
            Self::Azure => Some(&[
                "account_name",
                "account_key",
                "sas_token",
                "connection_string",
                "client_id",
                "client_secret",
                "tenant_id",
            ]),
            Self::BasicAuth => Some(&["username", "password"]),
        }
    }

    /// Checks that `values` has at least one key, every required key and no
    /// key the schema does not allow.
    pub fn validate(self, values: &BTreeMap<SecretKey, SecretValue>) -> Result<(), SchemaError> {
        if values.is_empty() {
            return Err(SchemaError::NoKeys);
        }
        let missing: Vec<String> = self
            .required_keys()
            .iter()
            .filter(|k| !values.contains_key(**k))
            .map(|k| (*k).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(SchemaError::MissingKeys {
                schema: self,
                missing,
            });
        }
        if let Some(allowed) = self.allowed_keys() {
            let unknown: Vec<String> = values
                .keys()
                .filter(|k| !allowed.contains(&k.as_str()))
                .map(|k| k.to_string())
                .collect();
            if !unknown.is_empty() {
                return Err(SchemaError::UnknownKeys {
                    schema: self,
                    unknown,
                    allowed: allowed.iter().map(|k| (*k).to_owned()).collect(),
                });
            }
        }
        Ok(())
    }
}

impl fmt::Display for SecretSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SecretSchema {
    type Err = SchemaError;

    fn from_str(s: &str) -> Result<Self, SchemaError> {
        Self::ALL
            .into_iter()
            .find(|schema| schema.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| SchemaError::Unknown {
                given: s.chars().take(64).flat_map(char::escape_debug).collect(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(keys: &[&str]) -> BTreeMap<SecretKey, SecretValue> {
        keys.iter()
            .map(|k| (SecretKey::new(*k).unwrap(), SecretValue::new("v")))
            .collect()
    }

    #[test]
    fn names_round_trip() {
        for schema in SecretSchema::ALL {
            assert_eq!(schema.as_str().parse::<SecretSchema>().unwrap(), schema);
        }
        assert_eq!(
            "BASIC_AUTH".parse::<SecretSchema>().unwrap(),
            SecretSchema::BasicAuth
        );
        let err = "oauth".parse::<SecretSchema>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown secret schema \"oauth\"; known schemas are: arbitrary, aws, gcp, azure, basic_auth"
        );
    }

    #[test]
    fn arbitrary_takes_any_non_empty_set() {
        SecretSchema::Arbitrary
            .validate(&values(&["x", "y"]))
            .unwrap();
        assert_eq!(
            SecretSchema::Arbitrary.validate(&values(&[])),
            Err(SchemaError::NoKeys)
        );
    }

    #[test]
    fn typed_schemas_require_and_allow() {
        SecretSchema::Aws
            .validate(&values(&["aws_access_key_id", "aws_secret_access_key"]))
            .unwrap();
        SecretSchema::Aws
            .validate(&values(&[
                "aws_access_key_id",
                "aws_secret_access_key",
                "aws_session_token",
            ]))
            .unwrap();
        let err = SecretSchema::Aws
            .validate(&values(&["aws_access_key_id"]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "schema 'aws' requires the key(s) 'aws_secret_access_key'; add them"
        );
        let err = SecretSchema::BasicAuth
            .validate(&values(&["username", "password", "token"]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "schema 'basic_auth' does not allow the key(s) 'token'; it allows 'username', 'password'"
        );
        SecretSchema::Azure
            .validate(&values(&["sas_token"]))
            .unwrap();
        SecretSchema::Gcp.validate(&values(&["token"])).unwrap();
        assert!(SecretSchema::Gcp.validate(&values(&["key"])).is_err());
    }
}

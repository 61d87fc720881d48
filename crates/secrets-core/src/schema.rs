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
    /// ZenML's Seldon integration: S3 credentials for rclone (`seldon_s3`).
    SeldonS3,
    /// ZenML's Seldon integration: GCS credentials for rclone (`seldon_gs`).
    SeldonGs,
    /// ZenML's Seldon integration: Azure Blob credentials for rclone (`seldon_az`).
    SeldonAz,
    /// ZenML's KServe integration: S3 storage credentials (`kserve_s3`).
    KserveS3,
    /// ZenML's KServe integration: GCS storage credentials (`kserve_gs`).
    KserveGs,
    /// ZenML's KServe integration: Azure storage credentials (`kserve_az`).
    KserveAz,
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
    /// A key the schema fixes to one value holds another.
    #[error("schema '{schema}' fixes key '{key}' to '{value}'; leave it out or give '{value}'")]
    FixedValue {
        /// The schema.
        schema: SecretSchema,
        /// The key.
        key: String,
        /// The only value it may hold.
        value: &'static str,
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
    pub const ALL: [SecretSchema; 11] = [
        Self::Arbitrary,
        Self::Aws,
        Self::Gcp,
        Self::Azure,
        Self::BasicAuth,
        Self::SeldonS3,
        Self::SeldonGs,
        Self::SeldonAz,
        Self::KserveS3,
        Self::KserveGs,
        Self::KserveAz,
    ];

    /// The names of every schema, as users type them.
    pub const ALL_NAMES: [&'static str; 11] = [
        "arbitrary",
        "aws",
        "gcp",
        "azure",
        "basic_auth",
        "seldon_s3",
        "seldon_gs",
        "seldon_az",
        "kserve_s3",
        "kserve_gs",
        "kserve_az",
    ];

    /// The name users type (`basic_auth`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Arbitrary => "arbitrary",
            Self::Aws => "aws",
            Self::Gcp => "gcp",
            Self::Azure => "azure",
            Self::BasicAuth => "basic_auth",
            Self::SeldonS3 => "seldon_s3",
            Self::SeldonGs => "seldon_gs",
            Self::SeldonAz => "seldon_az",
            Self::KserveS3 => "kserve_s3",
            Self::KserveGs => "kserve_gs",
            Self::KserveAz => "kserve_az",
        }
    }

    /// Keys that must be present.
    pub fn required_keys(self) -> &'static [&'static str] {
        match self {
            Self::Arbitrary
            | Self::Azure
            | Self::SeldonS3
            | Self::SeldonGs
            | Self::SeldonAz
            | Self::KserveS3
            | Self::KserveGs
            | Self::KserveAz => &[],
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
            Self::SeldonS3 => Some(&[
                "rclone_config_s3_type",
                "rclone_config_s3_provider",
                "rclone_config_s3_env_auth",
                "rclone_config_s3_access_key_id",
                "rclone_config_s3_secret_access_key",
                "rclone_config_s3_session_token",
                "rclone_config_s3_region",
                "rclone_config_s3_endpoint",
            ]),
            Self::SeldonGs => Some(&[
                "rclone_config_gs_type",
                "rclone_config_gs_client_id",
                "rclone_config_gs_client_secret",
                "rclone_config_gs_project_number",
                "rclone_config_gs_service_account_credentials",
                "rclone_config_gs_anonymous",
                "rclone_config_gs_token",
                "rclone_config_gs_auth_url",
                "rclone_config_gs_token_url",
            ]),
            Self::SeldonAz => Some(&[
                "rclone_config_azureblob_type",
                "rclone_config_azureblob_account",
                "rclone_config_azureblob_key",
                "rclone_config_azureblob_sas_url",
                "rclone_config_azureblob_use_msi",
            ]),
            Self::KserveS3 => Some(&[
                "storage_type",
                "credentials",
                "service_account",
                "s3_endpoint",
                "s3_region",
                "s3_use_https",
                "s3_verify_ssl",
            ]),
            Self::KserveGs => Some(&["storage_type", "credentials", "service_account"]),
            Self::KserveAz => Some(&["storage_type", "credentials"]),
        }
    }

    /// The keys ZenML's schema gives a value when none is given, and that
    /// value, as ZenML stored it (`str()` of the Python default: booleans
    /// are `False`). [`SecretSchema::fill_defaults`] adds them.
    pub fn defaults(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::SeldonS3 => &[
                ("rclone_config_s3_type", "s3"),
                ("rclone_config_s3_provider", "aws"),
                ("rclone_config_s3_env_auth", "False"),
            ],
            Self::SeldonGs => &[
                ("rclone_config_gs_type", "google cloud storage"),
                ("rclone_config_gs_anonymous", "False"),
            ],
            Self::SeldonAz => &[
                ("rclone_config_azureblob_type", "azureblob"),
                ("rclone_config_azureblob_use_msi", "False"),
            ],
            Self::KserveS3 => &[("storage_type", "S3")],
            Self::KserveGs => &[("storage_type", "GCS")],
            Self::KserveAz => &[("storage_type", "Azure")],
            _ => &[],
        }
    }

    /// Keys that may hold only one value (ZenML's `Literal` fields).
    fn fixed(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::SeldonS3 => &[("rclone_config_s3_type", "s3")],
            Self::SeldonGs => &[("rclone_config_gs_type", "google cloud storage")],
            Self::SeldonAz => &[("rclone_config_azureblob_type", "azureblob")],
            Self::KserveS3 => &[("storage_type", "S3")],
            Self::KserveGs => &[("storage_type", "GCS")],
            Self::KserveAz => &[("storage_type", "Azure")],
            _ => &[],
        }
    }

    /// Adds the [`defaults`](SecretSchema::defaults) of keys `values` lacks,
    /// as ZenML did when a secret of this schema was registered.
    pub fn fill_defaults(self, values: &mut BTreeMap<SecretKey, SecretValue>) {
        for (key, value) in self.defaults() {
            let key = SecretKey::new(*key).expect("schema keys are valid keys");
            values
                .entry(key)
                .or_insert_with(|| SecretValue::new(*value));
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
        for (key, value) in self.fixed() {
            if values.get(*key).is_some_and(|v| v.expose() != *value) {
                return Err(SchemaError::FixedValue {
                    schema: self,
                    key: (*key).to_owned(),
                    value,
                });
            }
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
            "unknown secret schema \"oauth\"; known schemas are: arbitrary, aws, gcp, azure, basic_auth, \
             seldon_s3, seldon_gs, seldon_az, kserve_s3, kserve_gs, kserve_az"
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

    #[test]
    fn zenml_integration_schemas_fill_defaults_and_fix_literals() {
        let mut seldon = values(&["rclone_config_s3_access_key_id"]);
        SecretSchema::SeldonS3.fill_defaults(&mut seldon);
        assert_eq!(seldon["rclone_config_s3_type"].expose(), "s3");
        assert_eq!(seldon["rclone_config_s3_provider"].expose(), "aws");
        assert_eq!(seldon["rclone_config_s3_env_auth"].expose(), "False");
        assert_eq!(
            seldon["rclone_config_s3_access_key_id"].expose(),
            "v",
            "kept"
        );
        SecretSchema::SeldonS3.validate(&seldon).unwrap();
        let mut kserve = values(&["credentials"]);
        SecretSchema::KserveGs.fill_defaults(&mut kserve);
        SecretSchema::KserveGs.validate(&kserve).unwrap();
        let wrong = values(&["storage_type"]);
        assert_eq!(
            SecretSchema::KserveAz
                .validate(&wrong)
                .unwrap_err()
                .to_string(),
            "schema 'kserve_az' fixes key 'storage_type' to 'Azure'; leave it out or give 'Azure'"
        );
        assert!(
            SecretSchema::SeldonAz
                .validate(&values(&["other"]))
                .is_err()
        );
        for schema in SecretSchema::ALL {
            let allowed = schema.allowed_keys().unwrap_or(&[]);
            for (key, _) in schema.defaults() {
                assert!(
                    schema.allowed_keys().is_none() || allowed.contains(key),
                    "{schema} {key}"
                );
            }
        }
    }
}

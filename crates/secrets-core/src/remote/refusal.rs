//! What every remote backend refuses, or cannot read, with one wording and
//! one mapping onto the core error: a remote object Keystack did not create
//! (in this namespace), a stored payload that is not a Keystack secret, and
//! a secret too large for the service.

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use crate::{Error, SecretKey, SecretName, SecretValue};

/// A refusal of a remote backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// A remote object of that name exists but Keystack did not create it
    /// (in this namespace): Keystack neither reads, changes nor deletes it.
    #[error(
        "{object} exists in {place} but was not created by Keystack{scope}; Keystack leaves it alone{hint}"
    )]
    Foreign {
        /// The remote object, as the service names it.
        object: String,
        /// Where it is (the service, the vault).
        place: String,
        /// `" in this namespace"` where namespaces apply, else empty.
        scope: &'static str,
        /// What the user may do about it, starting with a space, or empty.
        hint: String,
    },
    /// In ZenML's layout, an object at a scoped name whose tags or labels
    /// do not put it in this manager's scope (ZenML would not read it).
    #[error(
        "{object} exists in {place} but its {tags} do not put it in this ZenML scope; Keystack leaves it alone"
    )]
    OutOfScope {
        /// The remote object, as the service names it.
        object: String,
        /// Where it is.
        place: String,
        /// `tags` or `labels`, as the service calls them.
        tags: &'static str,
    },
    /// The stored object cannot be read as a Keystack secret.
    #[error("secret '{name}' ({object}) cannot be read: {problem}")]
    Unreadable {
        /// The Keystack name.
        name: SecretName,
        /// The remote object, as the service names it.
        object: String,
        /// What is wrong.
        problem: String,
    },
    /// The secret is larger than the service stores.
    #[error("secret '{name}' is {len} bytes as JSON; {holder} holds at most {max}")]
    TooLarge {
        /// The Keystack name.
        name: SecretName,
        /// Its size as JSON.
        len: usize,
        /// What holds one secret there (`an Azure Key Vault secret`).
        holder: &'static str,
        /// The service's limit, in bytes.
        max: usize,
    },
}

impl Refusal {
    /// The core error of backend `backend`: `PermissionDenied` for a foreign
    /// object, `Corrupt` for an unreadable one, `Backend` for one too large.
    pub fn into_error(self, backend: &'static str) -> Error {
        let message = self.to_string();
        match self {
            Self::Foreign { .. } | Self::OutOfScope { .. } => Error::PermissionDenied {
                backend,
                message,
                source: None,
            },
            Self::Unreadable { .. } => Error::Corrupt {
                backend,
                message,
                source: None,
            },
            Self::TooLarge { .. } => Error::Backend {
                backend,
                source: Box::new(self),
            },
        }
    }
}

/// The payload of secret `name` as JSON ([`super::payload::to_json`]),
/// refused before anything is sent if it is over `max` bytes.
pub fn payload_within(
    name: &SecretName,
    values: &BTreeMap<SecretKey, SecretValue>,
    holder: &'static str,
    max: usize,
) -> Result<Zeroizing<String>, Refusal> {
    super::payload::to_json_within(values, max).map_err(|len| Refusal::TooLarge {
        name: name.clone(),
        len,
        holder,
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_onto_the_core_errors_with_one_wording() {
        let name = SecretName::new("db").unwrap();
        let foreign = Refusal::Foreign {
            object: "keystack-db".into(),
            place: "vault x".into(),
            scope: " in this namespace",
            hint: String::new(),
        };
        assert_eq!(
            foreign.to_string(),
            "keystack-db exists in vault x but was not created by Keystack in this namespace; Keystack leaves it alone"
        );
        assert!(matches!(
            foreign.into_error("t"),
            Error::PermissionDenied { backend: "t", .. }
        ));
        let unreadable = Refusal::Unreadable {
            name: name.clone(),
            object: "o".into(),
            problem: "not JSON".into(),
        };
        assert!(matches!(unreadable.into_error("t"), Error::Corrupt { .. }));
        let values = [(
            SecretKey::new("k").unwrap(),
            SecretValue::new("x".repeat(100)),
        )]
        .into();
        let err = payload_within(&name, &values, "a test secret", 10).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("secret 'db' is 108 bytes as JSON; a test secret holds at most 10"),
            "{err}"
        );
        assert!(!err.to_string().contains("xxx"), "no value in the message");
        assert!(matches!(err.into_error("t"), Error::Backend { .. }));
    }
}

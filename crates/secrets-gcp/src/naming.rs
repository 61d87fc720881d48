//! Keystack names to GCP secret IDs (`[A-Za-z0-9_-]{1,255}`), reversibly.
//!
//! - no namespace: `keystack-<name>`;
//! - namespace `ns` of `n` characters: `keystack<n>-<ns>-<name>`.
//!
//! The length makes the split unambiguous even though namespaces and names
//! may both contain `-` (`a` + `b-c` and `a-b` + `c` give `keystack1-a-b-c`
//! and `keystack3-a-b-c`). Names are at most 100 characters and namespaces
//! 63, so IDs stay well under 255.

use keystack_secrets_core::SecretName;
use keystack_secrets_core::remote::naming::{join_id, split_id};

const PREFIX: &str = "keystack";

/// The secret ID of `name` in `namespace`.
pub(crate) fn secret_id(namespace: Option<&str>, name: &SecretName) -> String {
    join_id(PREFIX, namespace, name.as_str())
}

/// The namespace and name a secret ID stands for; `None` if it is not a
/// Keystack ID.
pub(crate) fn decode(id: &str) -> Option<(Option<&str>, SecretName)> {
    let (ns, name) = split_id(PREFIX, id)?;
    Some((ns, SecretName::new(name).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name(s: &str) -> SecretName {
        SecretName::new(s).unwrap()
    }

    #[test]
    fn ids_read_well_and_decode() {
        assert_eq!(secret_id(None, &name("db")), "keystack-db");
        assert_eq!(secret_id(Some("prod"), &name("db")), "keystack4-prod-db");
        assert_eq!(decode("keystack-db"), Some((None, name("db"))));
        assert_eq!(
            decode("keystack4-prod-db"),
            Some((Some("prod"), name("db")))
        );
        for foreign in [
            "db",
            "keystack",
            "keystack-",
            "keystack4-pro",
            "keystack04-prod-db",
            "keystack0--db",
            "keystackx-a-b",
            "other-db",
        ] {
            assert_eq!(decode(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn dashes_in_namespaces_and_names_do_not_collide() {
        let a = secret_id(Some("a"), &name("b-c"));
        let b = secret_id(Some("a-b"), &name("c"));
        assert_ne!(a, b);
        assert_eq!(decode(&a), Some((Some("a"), name("b-c"))));
        assert_eq!(decode(&b), Some((Some("a-b"), name("c"))));
        assert_ne!(
            secret_id(None, &name("1-a-b")),
            secret_id(Some("a"), &name("b"))
        );
    }

    proptest! {
        #[test]
        fn every_id_is_valid_and_decodes_back(
            ns in proptest::option::of("[a-z0-9][a-z0-9_-]{0,62}"),
            n in "[A-Za-z0-9][A-Za-z0-9_-]{0,99}",
        ) {
            let id = secret_id(ns.as_deref(), &name(&n));
            prop_assert!(id.len() <= 255);
            prop_assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
            prop_assert_eq!(decode(&id), Some((ns.as_deref(), name(&n))));
        }

        #[test]
        fn distinct_pairs_give_distinct_ids(
            a in (proptest::option::of("[a-z0-9-]{1,5}"), "[a-z0-9-]{0,5}"),
            b in (proptest::option::of("[a-z0-9-]{1,5}"), "[a-z0-9-]{0,5}"),
        ) {
            let n1 = format!("x{}", a.1);
            let n2 = format!("x{}", b.1);
            let ns1 = a.0.map(|s| format!("n{s}"));
            let ns2 = b.0.map(|s| format!("n{s}"));
            prop_assume!((&ns1, &n1) != (&ns2, &n2));
            prop_assert_ne!(secret_id(ns1.as_deref(), &name(&n1)), secret_id(ns2.as_deref(), &name(&n2)));
        }
    }
}

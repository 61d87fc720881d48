//! Keystack names to Key Vault secret names, reversibly.
//!
//! Key Vault allows `[0-9a-zA-Z-]{1,127}` and compares names without
//! regard to case, while Keystack names also hold `_` and differ by case.
//! Each name is therefore written in lowercase letters, digits and `-`,
//! with `-` as an escape: `--` is `-`, `-0` is `_`, `-x` is `X`. So
//! `db_password` is `db-0password`, `a-b` is `a--b`, `MyDB` is `-my-d-b`,
//! and no two Keystack names give names Key Vault would take for one.
//!
//! - no namespace: `keystack-<name>`;
//! - namespace `ns` (written as `n` characters): `keystack<n>-<ns>-<name>`.
//!
//! The length makes the split unambiguous, as for GCP. A name whose mapped
//! form is longer than 127 characters is refused with
//! [`AzureError::NameTooLong`](crate::AzureError::NameTooLong).

use keystack_secrets_core::SecretName;
use keystack_secrets_core::remote::naming::{join_id, split_id};

const PREFIX: &str = "keystack";

/// The longest secret name Key Vault accepts.
pub(crate) const MAX_LEN: usize = 127;

/// `text` in the Key Vault alphabet (see the module documentation).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '-' => out.push_str("--"),
            '_' => out.push_str("-0"),
            c if c.is_ascii_uppercase() => {
                out.push('-');
                out.push(c.to_ascii_lowercase());
            }
            c => out.push(c),
        }
    }
    out
}

/// The text an [`escape`]d string stands for; `None` if it is not one.
fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '-' => match chars.next()? {
                '-' => out.push('-'),
                '0' => out.push('_'),
                c if c.is_ascii_lowercase() => out.push(c.to_ascii_uppercase()),
                _ => return None,
            },
            c if c.is_ascii_lowercase() || c.is_ascii_digit() => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

/// The Key Vault name of `name` in `namespace` (possibly longer than
/// [`MAX_LEN`]; the caller refuses those).
pub(crate) fn secret_name(namespace: Option<&str>, name: &SecretName) -> String {
    join_id(
        PREFIX,
        namespace.map(escape).as_deref(),
        &escape(name.as_str()),
    )
}

/// The namespace and name a Key Vault name stands for; `None` if it is not
/// one Keystack writes.
pub(crate) fn decode(id: &str) -> Option<(Option<String>, SecretName)> {
    let (ns, name) = split_id(PREFIX, id)?;
    let ns = match ns {
        Some(ns) => Some(unescape(ns)?),
        None => None,
    };
    Some((ns, SecretName::new(unescape(name)?).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name(s: &str) -> SecretName {
        SecretName::new(s).unwrap()
    }

    #[test]
    fn names_read_well_and_decode() {
        assert_eq!(secret_name(None, &name("db")), "keystack-db");
        assert_eq!(
            secret_name(None, &name("db_password")),
            "keystack-db-0password"
        );
        assert_eq!(secret_name(None, &name("a-b")), "keystack-a--b");
        assert_eq!(secret_name(None, &name("MyDB")), "keystack--my-d-b");
        assert_eq!(secret_name(Some("prod"), &name("db")), "keystack4-prod-db");
        assert_eq!(
            secret_name(Some("ml-prod"), &name("db")),
            "keystack8-ml--prod-db"
        );
        assert_eq!(
            decode("keystack-db-0password"),
            Some((None, name("db_password")))
        );
        assert_eq!(
            decode("keystack8-ml--prod-db"),
            Some((Some("ml-prod".into()), name("db")))
        );
        for foreign in [
            "db",
            "keystack",
            "keystack-",
            "Keystack-db",
            "keystack-DB",
            "keystack-db-",
            "keystack-a-1",
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
    fn underscores_dashes_and_case_stay_apart() {
        let ids: Vec<String> = ["a_b", "a-b", "A-b", "a-B", "A_B", "ab"]
            .into_iter()
            .map(|n| secret_name(None, &name(n)).to_ascii_lowercase())
            .collect();
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        let a = secret_name(Some("a"), &name("b-c"));
        let b = secret_name(Some("a-b"), &name("c"));
        assert_ne!(a, b);
        assert_eq!(decode(&b), Some((Some("a-b".into()), name("c"))));
    }

    proptest! {
        #[test]
        fn every_name_is_in_the_alphabet_and_decodes_back(
            ns in proptest::option::of("[a-z0-9][a-z0-9_-]{0,23}"),
            n in "[A-Za-z0-9][A-Za-z0-9_-]{0,99}",
        ) {
            let id = secret_name(ns.as_deref(), &name(&n));
            prop_assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            prop_assert_eq!(decode(&id), Some((ns, name(&n))));
        }

        #[test]
        fn distinct_pairs_differ_even_ignoring_case(
            a in (proptest::option::of("[a-z0-9_-]{1,4}"), "[A-Za-z0-9_-]{0,5}"),
            b in (proptest::option::of("[a-z0-9_-]{1,4}"), "[A-Za-z0-9_-]{0,5}"),
        ) {
            let (n1, n2) = (format!("x{}", a.1), format!("x{}", b.1));
            let ns1 = a.0.map(|s| format!("n{s}"));
            let ns2 = b.0.map(|s| format!("n{s}"));
            prop_assume!((&ns1, &n1) != (&ns2, &n2));
            prop_assert_ne!(
                secret_name(ns1.as_deref(), &name(&n1)).to_ascii_lowercase(),
                secret_name(ns2.as_deref(), &name(&n2)).to_ascii_lowercase()
            );
        }
    }
}

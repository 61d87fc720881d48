//! The mark that says a remote secret is Keystack's (feature `remote`).
//!
//! Every cloud backend keeps three key-values beside a secret (tags, labels
//! or custom metadata): managed = `true`, the namespace (left out when
//! there is none: some services refuse empty values), and the schema. A
//! secret without the mark for this namespace is foreign: never read,
//! changed or deleted.

use std::collections::HashMap;

use crate::SecretSchema;

/// The names of the three marks in one backend's key-values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkKeys {
    /// Says the secret is Keystack's (value `true`).
    pub managed: &'static str,
    /// The namespace of the manager that wrote it.
    pub namespace: &'static str,
    /// Its schema ([`SecretSchema::as_str`]).
    pub schema: &'static str,
}

impl MarkKeys {
    /// `keystack-managed`, `keystack-namespace`, `keystack-schema`: names
    /// every service accepts as a label or tag key.
    pub const DASHED: Self = Self {
        managed: "keystack-managed",
        namespace: "keystack-namespace",
        schema: "keystack-schema",
    };

    /// The marks of a secret of `schema` written in `namespace` (`""` for none).
    pub fn marks(&self, namespace: &str, schema: SecretSchema) -> Vec<(&'static str, String)> {
        [
            (self.managed, "true"),
            (self.namespace, namespace),
            (self.schema, schema.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.to_owned()))
        .collect()
    }

    /// [`MarkKeys::marks`] as a map, as most clients take them.
    pub fn map(&self, namespace: &str, schema: SecretSchema) -> HashMap<String, String> {
        self.marks(namespace, schema)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    }

    /// Whether the key-values `get` reads mark a secret of `namespace`.
    pub fn is_marked<'a>(&self, namespace: &str, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        get(self.managed) == Some("true") && get(self.namespace).unwrap_or("") == namespace
    }

    /// [`MarkKeys::is_marked`] over a map (none: not marked).
    pub fn is_marked_map(&self, namespace: &str, map: Option<&HashMap<String, String>>) -> bool {
        self.is_marked(namespace, |k| map?.get(k).map(String::as_str))
    }

    /// The schema the marks name (`arbitrary` where there is none); `None`
    /// if it names no known schema.
    pub fn schema<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> Option<SecretSchema> {
        get(self.schema).map_or(Some(SecretSchema::Arbitrary), |s| s.parse().ok())
    }

    /// [`MarkKeys::schema`] over a map.
    pub fn schema_in_map(&self, map: Option<&HashMap<String, String>>) -> Option<SecretSchema> {
        self.schema(|k| map?.get(k).map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_round_trip_and_other_namespaces_are_foreign() {
        let keys = MarkKeys::DASHED;
        let prod = keys.map("prod", SecretSchema::BasicAuth);
        assert!(keys.is_marked_map("prod", Some(&prod)));
        assert!(!keys.is_marked_map("", Some(&prod)));
        assert!(!keys.is_marked_map("dev", Some(&prod)));
        assert_eq!(
            keys.schema_in_map(Some(&prod)),
            Some(SecretSchema::BasicAuth)
        );
        let bare = keys.map("", SecretSchema::Arbitrary);
        assert!(
            !bare.contains_key("keystack-namespace"),
            "empty values are left out"
        );
        assert!(keys.is_marked_map("", Some(&bare)));
        assert!(!keys.is_marked_map("", None));
        assert_eq!(keys.schema_in_map(None), Some(SecretSchema::Arbitrary));
        let odd: HashMap<String, String> = [("keystack-schema".into(), "nope".into())].into();
        assert_eq!(keys.schema_in_map(Some(&odd)), None);
    }
}

//! A secret and a patch to one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::{SchemaError, SecretKey, SecretName, SecretSchema, SecretValue};

/// A named group of key-value pairs that fits its schema.
///
/// The fields are private so that every `Secret` in the program has at least
/// one key and satisfies its schema; backends rebuild stored secrets through
/// [`Secret::new`] too, so corrupt data cannot pass as a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    name: SecretName,
    schema: SecretSchema,
    values: BTreeMap<SecretKey, SecretValue>,
}

impl Secret {
    /// Builds a secret, checking `values` against `schema`.
    pub fn new(
        name: SecretName,
        schema: SecretSchema,
        values: BTreeMap<SecretKey, SecretValue>,
    ) -> Result<Self, SchemaError> {
        schema.validate(&values)?;
        Ok(Self {
            name,
            schema,
            values,
        })
    }

    /// Builds an `arbitrary` secret from pairs; handy in tests and examples.
    pub fn arbitrary<K, V>(
        name: SecretName,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, crate::Error>
    where
        K: AsRef<str>,
        V: Into<SecretValue>,
    {
        let mut values = BTreeMap::new();
        for (key, value) in pairs {
            values.insert(SecretKey::new(key.as_ref())?, value.into());
        }
        Secret::new(name.clone(), SecretSchema::Arbitrary, values)
            .map_err(|problem| crate::Error::InvalidSecret { name, problem })
    }

    /// The secret's name.
    pub fn name(&self) -> &SecretName {
        &self.name
    }

    /// The secret's schema.
    pub fn schema(&self) -> SecretSchema {
        self.schema
    }

    /// Every key-value pair, ordered by key.
    pub fn values(&self) -> &BTreeMap<SecretKey, SecretValue> {
        &self.values
    }

    /// The value of one key.
    pub fn get(&self, key: &str) -> Option<&SecretValue> {
        self.values.get(key)
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &SecretKey> {
        self.values.keys()
    }

    /// Takes the secret apart.
    pub fn into_parts(self) -> (SecretName, SecretSchema, BTreeMap<SecretKey, SecretValue>) {
        (self.name, self.schema, self.values)
    }

    /// Applies `patch` and checks the result against the schema. On error the
    /// secret is left as it was.
    pub fn apply(&mut self, patch: &SecretPatch) -> Result<(), crate::Error> {
        if let Some(key) = patch.remove.iter().find(|k| !self.values.contains_key(*k)) {
            return Err(crate::Error::KeyNotFound {
                name: self.name.clone(),
                key: key.clone(),
            });
        }
        let mut values = self.values.clone();
        for key in &patch.remove {
            values.remove(key);
        }
        for (key, value) in &patch.set {
            values.insert(key.clone(), value.clone());
        }
        self.schema
            .validate(&values)
            .map_err(|problem| crate::Error::InvalidSecret {
                name: self.name.clone(),
                problem,
            })?;
        self.values = values;
        Ok(())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys are shown, values are redacted by `SecretValue`'s own Debug.
        f.debug_struct("Secret")
            .field("name", &self.name)
            .field("schema", &self.schema)
            .field("values", &self.values)
            .finish()
    }
}

/// A change to one secret: keys to set (added or replaced) and keys to remove.
///
/// A key may not be both set and removed; removing a key the secret does not
/// have is an error, so a typo cannot pass silently.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretPatch {
    set: BTreeMap<SecretKey, SecretValue>,
    remove: BTreeSet<SecretKey>,
}

impl SecretPatch {
    /// An empty patch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`, replacing any earlier `remove` of the same key.
    pub fn set(mut self, key: SecretKey, value: impl Into<SecretValue>) -> Self {
        self.remove.remove(&key);
        self.set.insert(key, value.into());
        self
    }

    /// Removes `key`, replacing any earlier `set` of the same key.
    pub fn remove(mut self, key: SecretKey) -> Self {
        self.set.remove(&key);
        self.remove.insert(key);
        self
    }

    /// Keys to set, with their new values.
    pub fn sets(&self) -> &BTreeMap<SecretKey, SecretValue> {
        &self.set
    }

    /// Keys to remove.
    pub fn removals(&self) -> &BTreeSet<SecretKey> {
        &self.remove
    }

    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }
}

impl fmt::Debug for SecretPatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretPatch")
            .field("set", &self.set)
            .field("remove", &self.remove)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn name(s: &str) -> SecretName {
        SecretName::new(s).unwrap()
    }

    fn key(s: &str) -> SecretKey {
        SecretKey::new(s).unwrap()
    }

    #[test]
    fn debug_shows_keys_but_never_values() {
        let secret = Secret::arbitrary(name("db"), [("password", "hunter2-leak")]).unwrap();
        let shown = format!("{secret:?} {secret:#?}");
        assert!(shown.contains("password"));
        assert!(!shown.contains("hunter2-leak"), "{shown}");
        let patch = SecretPatch::new().set(key("password"), "hunter2-leak");
        assert!(!format!("{patch:?}").contains("hunter2-leak"));
    }

    #[test]
    fn apply_sets_and_removes() {
        let mut secret = Secret::arbitrary(name("db"), [("a", "1"), ("b", "2")]).unwrap();
        secret
            .apply(
                &SecretPatch::new()
                    .set(key("a"), "10")
                    .set(key("c"), "3")
                    .remove(key("b")),
            )
            .unwrap();
        let pairs: Vec<_> = secret
            .values()
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()))
            .collect();
        assert_eq!(pairs, [("a", "10"), ("c", "3")]);
    }

    #[test]
    fn apply_is_all_or_nothing() {
        let mut secret = Secret::arbitrary(name("db"), [("a", "1")]).unwrap();
        let before = secret.clone();
        let err = secret
            .apply(&SecretPatch::new().set(key("b"), "2").remove(key("missing")))
            .unwrap_err();
        assert!(matches!(err, Error::KeyNotFound { .. }), "{err:?}");
        assert_eq!(secret, before);
        let err = secret
            .apply(&SecretPatch::new().remove(key("a")))
            .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidSecret {
                problem: SchemaError::NoKeys,
                ..
            }
        ));
        assert_eq!(secret, before);
    }

    #[test]
    fn later_patch_calls_win() {
        let patch = SecretPatch::new().set(key("a"), "1").remove(key("a"));
        assert!(patch.sets().is_empty());
        assert_eq!(patch.removals().len(), 1);
    }
}

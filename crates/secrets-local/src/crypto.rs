//! Encryption of one secret's key-values with XChaCha20-Poly1305.
//!
//! The plaintext is the JSON object of the key-values. The associated data
//! binds the ciphertext to the secret's name and schema, so a row copied onto
//! another name, or given another schema, fails to decrypt.

use std::collections::BTreeMap;
use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use keystack_secrets_core::{SecretKey, SecretName, SecretSchema, SecretValue};
use zeroize::Zeroizing;

use crate::LocalError;
use crate::key::StoreKey;

/// Nonce length of XChaCha20-Poly1305: long enough to draw at random.
pub(crate) const NONCE_LEN: usize = 24;

const CONTEXT: &[u8] = b"keystack/local/v1\0";
const KEY_CHECK_CONTEXT: &[u8] = b"keystack/local/v1\0key-check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"keystack store key check";

/// A sealed secret: random nonce and ciphertext (with its tag).
pub(crate) struct Sealed {
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) ciphertext: Vec<u8>,
}

/// The store's cipher. `Debug` shows nothing of the key.
pub(crate) struct Cipher(XChaCha20Poly1305);

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Cipher(XChaCha20-Poly1305, key {})",
            keystack_secrets_core::REDACTED
        )
    }
}

fn secret_aad(name: &SecretName, schema: SecretSchema) -> Vec<u8> {
    let mut aad = Vec::with_capacity(CONTEXT.len() + name.as_str().len() + 16);
    aad.extend_from_slice(CONTEXT);
    aad.extend_from_slice(name.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(schema.as_str().as_bytes());
    aad
}

impl Cipher {
    pub(crate) fn new(key: &StoreKey) -> Self {
        Self(XChaCha20Poly1305::new(Key::from_slice(key.bytes())))
    }

    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Sealed, LocalError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| LocalError::Random {
            message: e.to_string(),
        })?;
        let ciphertext = self
            .0
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            // Encryption fails only for plaintexts beyond 256 GiB.
            .map_err(|_| LocalError::Config("secret too large to encrypt".to_owned()))?;
        Ok(Sealed { nonce, ciphertext })
    }

    fn open(&self, nonce: &[u8], ciphertext: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if nonce.len() != NONCE_LEN {
            return None;
        }
        self.0
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }

    /// Encrypts the key-values of secret `name`.
    pub(crate) fn seal_values(
        &self,
        name: &SecretName,
        schema: SecretSchema,
        values: &BTreeMap<SecretKey, SecretValue>,
    ) -> Result<Sealed, LocalError> {
        // Upper bound of the JSON size (every byte escaped as \u00XX), so the
        // buffer is never reallocated and no unzeroed copy is left behind.
        let capacity = 2 + values
            .iter()
            .map(|(k, v)| 6 * (k.as_str().len() + v.len()) + 6)
            .sum::<usize>();
        let mut json = Zeroizing::new(Vec::with_capacity(capacity));
        let plain: BTreeMap<&str, &str> = values
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()))
            .collect();
        serde_json::to_writer(&mut *json, &plain)
            .map_err(|e| LocalError::Config(format!("could not encode secret '{name}': {e}")))?;
        self.seal(&json, &secret_aad(name, schema))
    }

    /// Decrypts the key-values of secret `name`; `None` if the row was
    /// altered, moved from another name, or sealed under another key.
    pub(crate) fn open_values(
        &self,
        name: &SecretName,
        schema: SecretSchema,
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> Option<BTreeMap<SecretKey, SecretValue>> {
        let json = self.open(nonce, ciphertext, &secret_aad(name, schema))?;
        let raw: BTreeMap<String, String> = serde_json::from_slice(&json).ok()?;
        let mut values = BTreeMap::new();
        for (key, value) in raw {
            let value = SecretValue::new(value);
            values.insert(SecretKey::new(key).ok()?, value);
        }
        Some(values)
    }

    /// A token that proves, without revealing anything, which key sealed it.
    pub(crate) fn key_check(&self) -> Result<Sealed, LocalError> {
        self.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_CONTEXT)
    }

    /// Whether `sealed` was made by [`Cipher::key_check`] under this key.
    pub(crate) fn verify_key_check(&self, nonce: &[u8], ciphertext: &[u8]) -> bool {
        self.open(nonce, ciphertext, KEY_CHECK_CONTEXT)
            .is_some_and(|plain| plain.as_slice() == KEY_CHECK_PLAINTEXT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<SecretKey, SecretValue> {
        pairs
            .iter()
            .map(|(k, v)| (SecretKey::new(*k).unwrap(), SecretValue::new(*v)))
            .collect()
    }

    #[test]
    fn round_trip_and_binding() {
        let cipher = Cipher::new(&StoreKey::generate().unwrap());
        let a = SecretName::new("a").unwrap();
        let b = SecretName::new("b").unwrap();
        let v = values(&[("password", "hunter2"), ("quote", "\"\\\n\u{1}")]);
        let sealed = cipher.seal_values(&a, SecretSchema::Arbitrary, &v).unwrap();
        assert!(!sealed.ciphertext.windows(7).any(|w| w == b"hunter2"));
        let opened = cipher
            .open_values(
                &a,
                SecretSchema::Arbitrary,
                &sealed.nonce,
                &sealed.ciphertext,
            )
            .unwrap();
        assert_eq!(opened, v);
        // Moved to another name, or relabelled with another schema: refused.
        assert!(
            cipher
                .open_values(
                    &b,
                    SecretSchema::Arbitrary,
                    &sealed.nonce,
                    &sealed.ciphertext
                )
                .is_none()
        );
        assert!(
            cipher
                .open_values(
                    &a,
                    SecretSchema::BasicAuth,
                    &sealed.nonce,
                    &sealed.ciphertext
                )
                .is_none()
        );
        // Another key: refused.
        let other = Cipher::new(&StoreKey::generate().unwrap());
        assert!(
            other
                .open_values(
                    &a,
                    SecretSchema::Arbitrary,
                    &sealed.nonce,
                    &sealed.ciphertext
                )
                .is_none()
        );
        // A flipped bit: refused.
        let mut tampered = sealed.ciphertext.clone();
        tampered[0] ^= 1;
        assert!(
            cipher
                .open_values(&a, SecretSchema::Arbitrary, &sealed.nonce, &tampered)
                .is_none()
        );
    }

    #[test]
    fn key_check_tells_keys_apart() {
        let cipher = Cipher::new(&StoreKey::generate().unwrap());
        let check = cipher.key_check().unwrap();
        assert!(cipher.verify_key_check(&check.nonce, &check.ciphertext));
        let other = Cipher::new(&StoreKey::generate().unwrap());
        assert!(!other.verify_key_check(&check.nonce, &check.ciphertext));
    }

    #[test]
    fn nonces_are_fresh() {
        let cipher = Cipher::new(&StoreKey::generate().unwrap());
        let n = SecretName::new("a").unwrap();
        let v = values(&[("k", "v")]);
        let first = cipher.seal_values(&n, SecretSchema::Arbitrary, &v).unwrap();
        let second = cipher.seal_values(&n, SecretSchema::Arbitrary, &v).unwrap();
        assert_ne!(first.nonce, second.nonce);
        assert_ne!(first.ciphertext, second.ciphertext);
    }
}

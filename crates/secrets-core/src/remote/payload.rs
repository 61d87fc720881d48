//! The JSON object of a secret's key-values: how the cloud backends store a
//! secret's values in one remote payload (feature `remote`).

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use crate::{SecretKey, SecretValue};

/// The key-values as a JSON object of strings, wiped from memory when dropped.
pub fn to_json(values: &BTreeMap<SecretKey, SecretValue>) -> Zeroizing<String> {
    let plain: BTreeMap<&str, &str> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose()))
        .collect();
    Zeroizing::new(serde_json::to_string(&plain).expect("a map of strings always serializes"))
}

/// [`to_json`], refused with its length in bytes if that is over `limit`
/// (a service's largest payload), before anything is sent.
pub fn to_json_within(
    values: &BTreeMap<SecretKey, SecretValue>,
    limit: usize,
) -> Result<Zeroizing<String>, usize> {
    let payload = to_json(values);
    if payload.len() > limit {
        return Err(payload.len());
    }
    Ok(payload)
}

/// Why a payload is not a Keystack secret's key-values. Never quotes the
/// payload: it holds secret values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// Not a JSON object whose values are all strings.
    #[error("it is not a JSON object of strings")]
    NotAnObjectOfStrings,
    /// A key is not a valid Keystack key.
    #[error("it holds a key Keystack cannot use")]
    BadKey,
}

/// Reads a payload written by [`to_json`] (or by another tool, as long as it
/// is a JSON object of strings).
pub fn from_json(payload: &[u8]) -> Result<BTreeMap<SecretKey, SecretValue>, PayloadError> {
    let raw: BTreeMap<String, String> =
        serde_json::from_slice(payload).map_err(|_| PayloadError::NotAnObjectOfStrings)?;
    raw.into_iter()
        .map(|(k, v)| {
            let key = SecretKey::new(k).map_err(|_| PayloadError::BadKey)?;
            Ok((key, SecretValue::new(v)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_shapes_without_quoting_them() {
        let values: BTreeMap<SecretKey, SecretValue> = [
            (SecretKey::new("user").unwrap(), "ana".into()),
            (
                SecretKey::new("pässwort").unwrap(),
                "a \"quoted\" value".into(),
            ),
        ]
        .into();
        let json = to_json(&values);
        assert_eq!(from_json(json.as_bytes()).unwrap(), values);
        for bad in [&b"[1]"[..], b"{\"k\": 1}", b"not json", b"{\"k\": \"v\""] {
            assert_eq!(from_json(bad), Err(PayloadError::NotAnObjectOfStrings));
        }
        assert_eq!(
            from_json(b"{\"has space\": \"secret-v\"}"),
            Err(PayloadError::BadKey)
        );
        assert!(!PayloadError::BadKey.to_string().contains("secret-v"));
        assert_eq!(to_json_within(&values, json.len()).unwrap(), json);
        assert_eq!(to_json_within(&values, json.len() - 1), Err(json.len()));
    }
}

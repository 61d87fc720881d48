//! The file of ZenML's local secrets manager (ZenML 0.30–0.37,
//! `<local stores>/<component uuid>/secrets.yaml`): one mapping per secret
//! name, each value base64-encoded UTF-8, and the schema under
//! `zenml_schema_name` (not encoded). Read by
//! `keystack secrets-manager secret import`.

use std::collections::BTreeMap;

use base64::Engine as _;
use keystack_secrets_core::{Secret, SecretKey, SecretName, SecretSchema, SecretValue};
use zeroize::Zeroizing;

/// The key ZenML keeps a secret's schema under.
pub const SCHEMA_KEY: &str = "zenml_schema_name";

/// Every secret of the file, or every problem in it (by secret and key,
/// never a value).
pub fn parse_local_secrets(text: &str) -> Result<Vec<Secret>, Vec<String>> {
    let file: BTreeMap<String, BTreeMap<String, String>> =
        match keystack_stack::yaml::parse(text, std::path::Path::new("-")) {
            Ok(file) => file,
            Err(e) => {
                return Err(vec![format!(
                    "it is not a ZenML local secrets file (a mapping of secret names to \
                     mappings of base64 values): {e}"
                )]);
            }
        };
    let mut secrets = Vec::new();
    let mut problems = Vec::new();
    for (name, entries) in file {
        let parsed_name = match SecretName::new(&name) {
            Ok(n) => n,
            Err(e) => {
                problems.push(format!("secret '{name}': {e}"));
                continue;
            }
        };
        let schema = match entries.get(SCHEMA_KEY) {
            None => {
                problems.push(format!("secret '{name}': no {SCHEMA_KEY}"));
                continue;
            }
            Some(schema) => match schema.parse::<SecretSchema>() {
                Ok(s) => s,
                Err(e) => {
                    problems.push(format!("secret '{name}': {e}"));
                    continue;
                }
            },
        };
        let mut values = BTreeMap::new();
        let mut bad = false;
        for (key, encoded) in entries.iter().filter(|(k, _)| *k != SCHEMA_KEY) {
            let parsed_key = match SecretKey::new(key) {
                Ok(k) => k,
                Err(e) => {
                    problems.push(format!("secret '{name}': {e}"));
                    bad = true;
                    continue;
                }
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map(Zeroizing::new)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok());
            match decoded {
                Some(text) => {
                    values.insert(parsed_key, SecretValue::new(text));
                }
                None => {
                    problems.push(format!(
                        "secret '{name}': the value of key '{key}' is not base64 of UTF-8 text"
                    ));
                    bad = true;
                }
            }
        }
        if bad {
            continue;
        }
        match Secret::new(parsed_name, schema, values) {
            Ok(secret) => secrets.push(secret),
            Err(e) => problems.push(format!("secret '{name}': {e}")),
        }
    }
    if problems.is_empty() {
        Ok(secrets)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by ZenML 0.35.1's local secrets manager itself.
    const ZENML_0_35_1: &str =
        include_str!("../../stack/tests/data/zenml/local-secrets-0.35.1.yaml");

    #[test]
    fn reads_what_zenml_0_35_1_wrote() {
        let secrets = parse_local_secrets(ZENML_0_35_1).unwrap();
        assert!(!secrets.is_empty());
        for secret in &secrets {
            assert_eq!(secret.schema(), SecretSchema::Arbitrary);
            assert_eq!(secret.get("a").unwrap().expose(), "1");
            assert_eq!(secret.get("b").unwrap().expose(), "2");
        }
    }

    #[test]
    fn reports_every_bad_entry_without_values() {
        let text = "good:\n  k: dmFsdWU=\n  zenml_schema_name: arbitrary\n\
                    nobase:\n  k: 'not base64!'\n  zenml_schema_name: arbitrary\n\
                    noschema:\n  k: dmFsdWU=\n\
                    oddschema:\n  k: dmFsdWU=\n  zenml_schema_name: mystery\n\
                    awsless:\n  aws_access_key_id: QUtJQQ==\n  zenml_schema_name: aws\n\
                    'bad key':\n  k: dmFsdWU=\n  zenml_schema_name: arbitrary\n";
        let problems = parse_local_secrets(text).unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:#?}");
        let all = problems.join("\n");
        for expected in [
            "secret 'nobase': the value of key 'k' is not base64",
            "secret 'noschema': no zenml_schema_name",
            "secret 'oddschema'",
            "secret 'awsless'",
            "bad key",
        ] {
            assert!(all.contains(expected), "{expected}\n{all}");
        }
        assert!(!all.contains("dmFsdWU") && !all.contains("QUtJQQ"));
    }
}

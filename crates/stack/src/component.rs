//! Components as they are stored, one YAML file each: attributes, their
//! checks against the flavor, and the references they hold.

use std::collections::BTreeMap;
use std::fmt;

use keystack_secrets_core::{ReferenceError, SecretName, SecretReference, Template};
use serde::{Deserialize, Serialize};

use crate::flavor::{AttributeType, Catalog, ComponentType, Flavor};
use crate::{StackError, did_you_mean};

/// An attribute value as written in YAML: text, a number or a boolean.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttributeValue {
    /// `true` / `false`.
    Boolean(bool),
    /// A whole number.
    Integer(i64),
    /// Text, possibly holding secret references.
    Text(String),
}

impl AttributeValue {
    /// The value as text.
    pub fn as_text(&self) -> String {
        match self {
            Self::Boolean(b) => b.to_string(),
            Self::Integer(i) => i.to_string(),
            Self::Text(t) => t.clone(),
        }
    }
}

impl fmt::Debug for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A plain value in a sensitive attribute is a credential; show text
        // values only as their length.
        match self {
            Self::Boolean(b) => write!(f, "{b}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Text(t) => write!(f, "Text({} bytes)", t.len()),
        }
    }
}

/// A configured stack component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Its type.
    #[serde(rename = "type")]
    pub component_type: ComponentType,
    /// Its name, unique among components of its type.
    pub name: String,
    /// Its flavor.
    pub flavor: String,
    /// Its attributes, by name.
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeValue>,
}

/// A warning that does not stop anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning(pub String);

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reference found in an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundReference {
    /// The component's type.
    pub component_type: ComponentType,
    /// The component's name.
    pub component: String,
    /// The attribute holding the reference.
    pub attribute: String,
    /// The reference.
    pub reference: SecretReference,
}

/// Checks a stack, component or flavor name (same grammar as secret names).
pub fn check_name(what: &'static str, name: &str) -> Result<(), StackError> {
    SecretName::validate(name).map_err(|e| StackError::InvalidName {
        what,
        problem: e.problem().to_string(),
        shown: name.chars().take(64).flat_map(char::escape_debug).collect(),
    })
}

impl Component {
    /// Checks the component against its flavor: known attributes (with a
    /// did-you-mean), required ones present, typed values well-formed and
    /// references well-formed. Returns warnings for sensitive attributes
    /// given plain values.
    pub fn check(&self, catalog: &Catalog) -> Result<Vec<Warning>, StackError> {
        check_name("component name", &self.name)?;
        let flavor = catalog.get(self.component_type, &self.flavor)?;
        let mut warnings = Vec::new();
        for (name, value) in &self.attributes {
            let Some(spec) = flavor.attribute(name) else {
                return Err(StackError::UnknownAttribute {
                    component_type: self.component_type,
                    flavor: self.flavor.clone(),
                    attribute: name.clone(),
                    hint: did_you_mean(name, flavor.attributes.iter().map(|a| a.name.as_str())),
                    known: flavor
                        .attributes
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            let text = value.as_text();
            let template =
                Template::parse(&text).map_err(|source| self.reference_error(name, source))?;
            if template.has_references() {
                if self.component_type == ComponentType::SecretsManager {
                    return Err(StackError::ReferenceInSecretsManager {
                        component: self.name.clone(),
                        attribute: name.clone(),
                    });
                }
                if spec.kind != AttributeType::String {
                    return Err(self.bad_value(
                        name,
                        "a literal value; references are only allowed in text attributes",
                    ));
                }
                continue;
            }
            match spec.kind {
                AttributeType::Integer if text.parse::<i64>().is_err() => {
                    return Err(self.bad_value(name, "a whole number"));
                }
                AttributeType::Boolean if !matches!(text.as_str(), "true" | "false") => {
                    return Err(self.bad_value(name, "true or false"));
                }
                _ => {}
            }
            if spec.sensitive {
                warnings.push(Warning(format!(
                    "attribute '{name}' of {} '{}' is sensitive but holds a plain value; \
                     store it in a secret and write {{{{secret_name.key}}}} instead",
                    self.component_type, self.name
                )));
            }
        }
        for spec in flavor.attributes.iter().filter(|a| a.required) {
            if !self.attributes.contains_key(&spec.name) {
                return Err(StackError::MissingAttribute {
                    component_type: self.component_type,
                    component: self.name.clone(),
                    attribute: spec.name.clone(),
                });
            }
        }
        Ok(warnings)
    }

    fn reference_error(&self, attribute: &str, source: ReferenceError) -> StackError {
        StackError::Reference {
            component_type: self.component_type,
            component: self.name.clone(),
            attribute: attribute.to_owned(),
            source,
        }
    }

    fn bad_value(&self, attribute: &str, expected: &'static str) -> StackError {
        StackError::BadAttributeValue {
            component_type: self.component_type,
            component: self.name.clone(),
            attribute: attribute.to_owned(),
            expected,
        }
    }

    /// Every reference in the component's text attributes, in attribute order.
    pub fn references(&self) -> Result<Vec<FoundReference>, StackError> {
        let mut found = Vec::new();
        for (name, value) in &self.attributes {
            let AttributeValue::Text(text) = value else {
                continue;
            };
            let template =
                Template::parse(text).map_err(|source| self.reference_error(name, source))?;
            for reference in template.references() {
                found.push(FoundReference {
                    component_type: self.component_type,
                    component: self.name.clone(),
                    attribute: name.clone(),
                    reference: reference.clone(),
                });
            }
        }
        Ok(found)
    }

    /// The component's flavor in `catalog`.
    pub fn flavor<'c>(&self, catalog: &'c Catalog) -> Result<&'c Flavor, StackError> {
        catalog.get(self.component_type, &self.flavor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mlflow(attributes: &[(&str, &str)]) -> Component {
        Component {
            component_type: ComponentType::ExperimentTracker,
            name: "mlflow".into(),
            flavor: "mlflow".into(),
            attributes: attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), AttributeValue::Text((*v).to_owned())))
                .collect(),
        }
    }

    #[test]
    fn unknown_attributes_get_a_did_you_mean() {
        let err = mlflow(&[("tracking_usernme", "x")])
            .check(&Catalog::builtin())
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean 'tracking_username'"), "{err}");
    }

    #[test]
    fn sensitive_plain_values_warn_and_references_do_not() {
        let catalog = Catalog::builtin();
        let warnings = mlflow(&[("tracking_password", "abc123")])
            .check(&catalog)
            .unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].0.contains("sensitive"));
        assert!(!warnings[0].0.contains("abc123"));
        let warnings = mlflow(&[("tracking_password", "{{mlflow_secret.password}}")])
            .check(&catalog)
            .unwrap();
        assert!(warnings.is_empty());
    }

    #[test]
    fn references_are_found_whole_and_embedded() {
        let c = mlflow(&[
            ("tracking_uri", "https://{{db.user}}:{{db.password}}@mlflow"),
            ("tracking_username", "{{mlflow_secret.username}}"),
        ]);
        let refs: Vec<String> = c
            .references()
            .unwrap()
            .iter()
            .map(|r| r.reference.to_string())
            .collect();
        assert_eq!(
            refs,
            [
                "{{db.user}}",
                "{{db.password}}",
                "{{mlflow_secret.username}}"
            ]
        );
    }

    #[test]
    fn secrets_manager_attributes_cannot_reference_secrets() {
        let c = Component {
            component_type: ComponentType::SecretsManager,
            name: "aws".into(),
            flavor: "aws".into(),
            attributes: [(
                "region_name".to_owned(),
                AttributeValue::Text("{{cfg.region}}".into()),
            )]
            .into(),
        };
        let err = c.check(&Catalog::builtin()).unwrap_err().to_string();
        assert!(err.contains("cannot need itself"), "{err}");
    }

    #[test]
    fn typed_attributes_and_required_ones_are_checked() {
        let catalog = Catalog::builtin();
        let mut c = mlflow(&[("tracking_insecure_tls", "maybe")]);
        assert!(
            c.check(&catalog)
                .unwrap_err()
                .to_string()
                .contains("true or false")
        );
        c.attributes.insert(
            "tracking_insecure_tls".into(),
            AttributeValue::Boolean(true),
        );
        c.check(&catalog).unwrap();
        let wandb = Component {
            component_type: ComponentType::ExperimentTracker,
            name: "w".into(),
            flavor: "wandb".into(),
            attributes: BTreeMap::new(),
        };
        assert!(
            wandb
                .check(&catalog)
                .unwrap_err()
                .to_string()
                .contains("api_key")
        );
    }

    #[test]
    fn debug_of_attribute_values_hides_text() {
        let c = mlflow(&[("tracking_password", "plain-s3cret")]);
        assert!(!format!("{c:?}").contains("plain-s3cret"));
    }
}

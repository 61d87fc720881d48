//! Stacks exported by ZenML (`zenml stack export`, versions 0.30–0.37):
//! `stack_name`, `components` by type (each with `type`, `flavor`, `name`
//! and `configuration`), `zenml_version`. Keystack's flavors and attributes
//! carry ZenML's names, so a configuration key maps onto the attribute of
//! the same name; what cannot be mapped — a component type, flavor or key
//! Keystack does not know, a value that is a list or mapping — is reported
//! all at once, by component and key, and nothing is imported.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::StackError;
use crate::component::{AttributeValue, Component};
use crate::flavor::{Catalog, ComponentType};
use crate::stack::{Stack, StackExport};

/// A file written by `zenml stack export`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZenmlStackExport {
    /// The stack's name.
    pub stack_name: String,
    /// Its components, by component type.
    #[serde(default)]
    pub components: BTreeMap<String, ZenmlComponent>,
    /// The ZenML version that wrote it.
    #[serde(default)]
    pub zenml_version: Option<String>,
}

/// One component of a [`ZenmlStackExport`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZenmlComponent {
    /// Its configuration, ZenML's keys.
    #[serde(default)]
    pub configuration: BTreeMap<String, Option<ConfigValue>>,
    /// Its flavor.
    pub flavor: String,
    /// Its name.
    pub name: String,
    /// Its component type.
    #[serde(rename = "type")]
    pub component_type: String,
}

/// A value of a ZenML configuration.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ConfigValue {
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Integer(i64),
    /// A number with a fraction.
    Float(f64),
    /// Text.
    Text(String),
    /// A list (Keystack attributes hold one value).
    List(Vec<IgnoredAny>),
    /// A mapping (Keystack attributes hold one value).
    Mapping(BTreeMap<String, IgnoredAny>),
}

/// Whether `text` (a YAML file) is a ZenML export rather than Keystack's:
/// it has ZenML's `stack_name` at the top.
pub fn is_zenml_export(text: &str) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        stack_name: Option<IgnoredAny>,
    }
    crate::yaml::parse::<Probe>(text, Path::new("-")).is_ok_and(|p| p.stack_name.is_some())
}

impl ZenmlStackExport {
    /// The stack and components in Keystack's terms, or every problem
    /// found (`file` names the export in the message).
    pub fn to_keystack(&self, catalog: &Catalog, file: &Path) -> Result<StackExport, StackError> {
        let mut problems = Vec::new();
        let mut stack = Stack {
            name: self.stack_name.clone(),
            components: BTreeMap::new(),
        };
        let mut components = Vec::new();
        for (key, zenml) in &self.components {
            let component_type = match zenml.component_type.parse::<ComponentType>() {
                Ok(t) => t,
                Err(_) => {
                    problems.push(format!(
                        "{} '{}': Keystack has no component type '{}' (it has: {})",
                        zenml.component_type,
                        zenml.name,
                        zenml.component_type,
                        ComponentType::ALL.map(|t| t.as_str()).join(", ")
                    ));
                    continue;
                }
            };
            if key.replace('-', "_") != component_type.as_str() {
                problems.push(format!(
                    "{component_type} '{}' is listed under '{key}'",
                    zenml.name
                ));
            }
            let flavor = match catalog.get(component_type, &zenml.flavor) {
                Ok(flavor) => flavor,
                Err(e) => {
                    problems.push(format!("{component_type} '{}': {e}", zenml.name));
                    continue;
                }
            };
            let mut attributes = BTreeMap::new();
            for (name, value) in &zenml.configuration {
                let Some(value) = value else {
                    // ZenML writes unset options as null.
                    continue;
                };
                if !flavor.attributes.iter().any(|a| a.name == *name) {
                    problems.push(format!(
                        "{component_type} '{}' (flavor {}): configuration key '{name}' has no Keystack \
                         attribute (it has: {})",
                        zenml.name,
                        zenml.flavor,
                        flavor
                            .attributes
                            .iter()
                            .map(|a| a.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    continue;
                }
                let value = match value {
                    ConfigValue::Bool(b) => AttributeValue::Boolean(*b),
                    ConfigValue::Integer(i) => AttributeValue::Integer(*i),
                    ConfigValue::Float(f) => AttributeValue::Text(f.to_string()),
                    ConfigValue::Text(t) => AttributeValue::Text(t.clone()),
                    ConfigValue::List(_) | ConfigValue::Mapping(_) => {
                        problems.push(format!(
                            "{component_type} '{}': configuration key '{name}' holds a {}, and a \
                             Keystack attribute holds one value",
                            zenml.name,
                            if matches!(value, ConfigValue::List(_)) {
                                "list"
                            } else {
                                "mapping"
                            }
                        ));
                        continue;
                    }
                };
                attributes.insert(name.clone(), value);
            }
            if component_type == ComponentType::SecretsManager
                && flavor.attributes.iter().any(|a| a.name == "layout")
            {
                // A cloud secrets manager of ZenML's holds its secrets in
                // ZenML's layout: Keystack reads them where they are.
                attributes
                    .entry("layout".to_owned())
                    .or_insert_with(|| AttributeValue::Text("zenml".to_owned()));
                let scope = match attributes.get("scope") {
                    Some(AttributeValue::Text(scope)) => scope.as_str(),
                    _ => "component",
                };
                if scope == "component" && !attributes.contains_key("component_id") {
                    problems.push(format!(
                        "secrets_manager '{}' (flavor {}) has ZenML's component scope, whose \
                         secrets are found by the component's UUID: add `component_id: <UUID>` to \
                         its configuration in the file (the ID `zenml secrets-manager describe {}` \
                         shows)",
                        zenml.name, zenml.flavor, zenml.name
                    ));
                }
            }
            stack.components.insert(component_type, zenml.name.clone());
            components.push(Component {
                component_type,
                name: zenml.name.clone(),
                flavor: zenml.flavor.clone(),
                attributes,
            });
        }
        if !problems.is_empty() {
            return Err(StackError::ZenmlImport {
                file: file.to_owned(),
                version: self.zenml_version.clone().unwrap_or_else(|| "?".to_owned()),
                problems,
            });
        }
        Ok(StackExport { stack, components })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by ZenML 0.35.1 itself (`zenml stack export sm_stack`).
    const ZENML_0_35_1: &str = include_str!("../tests/data/zenml/stack-export-0.35.1.yaml");

    #[test]
    fn reads_what_zenml_0_35_1_exported() {
        assert!(is_zenml_export(ZENML_0_35_1));
        let export: ZenmlStackExport =
            crate::yaml::parse(ZENML_0_35_1, Path::new("x.yaml")).unwrap();
        let ours = export
            .to_keystack(&Catalog::builtin(), Path::new("x.yaml"))
            .unwrap();
        assert_eq!(ours.stack.name, "sm_stack");
        assert_eq!(
            ours.stack.components.get(&ComponentType::SecretsManager),
            Some(&"local_sm".to_owned())
        );
        assert_eq!(ours.components.len(), 3);
        assert!(!is_zenml_export("stack:\n  name: s\ncomponents: []\n"));
    }

    #[test]
    fn maps_configuration_keys_and_reports_every_problem() {
        let text = "stack_name: ml\nzenml_version: 0.35.1\ncomponents:\n\
            \x20 experiment_tracker:\n    type: experiment_tracker\n    flavor: mlflow\n    name: mlflow\n\
            \x20   configuration:\n      tracking_uri: http://mlflow:5000\n      tracking_password: '{{mlflow.password}}'\n\
            \x20     tracking_insecure_tls: true\n      tracking_token: null\n      no_such_key: 1\n\
            \x20 secrets_manager:\n    type: secrets_manager\n    flavor: aws\n    name: aws_sm\n\
            \x20   configuration:\n      region_name: eu-west-1\n      scope: component\n\
            \x20 annotator:\n    type: annotator\n    flavor: label_studio\n    name: ls\n    configuration: {}\n\
            \x20 orchestrator:\n    type: orchestrator\n    flavor: kubeflow\n    name: kf\n\
            \x20   configuration:\n      kubernetes_context: ctx\n      synchronous: [1, 2]\n";
        let export: ZenmlStackExport = crate::yaml::parse(text, Path::new("x.yaml")).unwrap();
        let err = export
            .to_keystack(&Catalog::builtin(), Path::new("x.yaml"))
            .unwrap_err()
            .to_string();
        for expected in [
            "experiment_tracker 'mlflow' (flavor mlflow): configuration key 'no_such_key'",
            "secrets_manager 'aws_sm' (flavor aws) has ZenML's component scope",
            "Keystack has no component type 'annotator'",
            "orchestrator 'kf': configuration key 'synchronous' holds a list",
            "4 problem(s)",
        ] {
            assert!(err.contains(expected), "{expected}\n{err}");
        }
        assert!(
            !err.contains("key 'tracking_token'"),
            "null options are skipped"
        );
    }
}

//! `stack import`: the rules that decide whether an exported stack can be
//! added to a project, checked before anything is written.

use std::path::Path;

use crate::{Project, StackError, StackExport, Warning};

impl Project {
    /// Adds the stack of `export` and those of its components the project
    /// does not have, after checking everything first: every component fits
    /// its flavor; a component that exists already is identical (else it is
    /// a conflict to rename or remove); every component the stack lists is
    /// in `export` or in the project; the stack name is free. `source` names
    /// the file in messages. Nothing is written unless every check passes.
    /// Returns the warnings of the components written.
    pub fn import(&self, export: &StackExport, source: &Path) -> Result<Vec<Warning>, StackError> {
        for component in &export.components {
            component.check(self.catalog())?;
            if let Ok(existing) = self.component(component.component_type, &component.name)
                && existing != *component
            {
                return Err(StackError::ImportConflict {
                    message: format!(
                        "{} '{}' already exists with another configuration; rename it in {} or remove the existing one",
                        component.component_type,
                        component.name,
                        source.display()
                    ),
                });
            }
        }
        for (t, n) in &export.stack.components {
            if !export
                .components
                .iter()
                .any(|c| c.component_type == *t && c.name == *n)
                && self.component(*t, n).is_err()
            {
                return Err(StackError::ImportConflict {
                    message: format!(
                        "{} lists {t} '{n}' but does not include it",
                        source.display()
                    ),
                });
            }
        }
        if self.stack(&export.stack.name).is_ok() {
            return Err(StackError::StackExists {
                name: export.stack.name.clone(),
            });
        }
        let mut warnings = Vec::new();
        for component in &export.components {
            if self
                .component(component.component_type, &component.name)
                .is_err()
            {
                warnings.extend(self.save_component(component, true)?);
            }
        }
        self.save_stack(&export.stack, true)?;
        Ok(warnings)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{AttributeValue, Component, ComponentType, Stack};

    fn project() -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data").into_os_string();
        let env = move |name: &str| (name == "KEYSTACK_DATA_DIR").then(|| data.clone());
        let project = Project::init(dir.path(), &env).unwrap();
        (dir, project)
    }

    fn tracker(uri: &str) -> Component {
        Component {
            component_type: ComponentType::ExperimentTracker,
            name: "mlflow".into(),
            flavor: "mlflow".into(),
            attributes: [(
                "tracking_uri".to_owned(),
                AttributeValue::Text(uri.to_owned()),
            )]
            .into(),
        }
    }

    fn export(name: &str, components: Vec<Component>) -> StackExport {
        let mut listed: BTreeMap<ComponentType, String> = components
            .iter()
            .map(|c| (c.component_type, c.name.clone()))
            .collect();
        listed.insert(ComponentType::Orchestrator, "default".into());
        StackExport {
            stack: Stack {
                name: name.to_owned(),
                components: listed,
            },
            components,
        }
    }

    #[test]
    fn imports_the_stack_and_its_new_components() {
        let (_dir, project) = project();
        let file = Path::new("s.yaml");
        project
            .import(&export("s", vec![tracker("http://a")]), file)
            .unwrap();
        assert_eq!(
            project
                .component(ComponentType::ExperimentTracker, "mlflow")
                .unwrap(),
            tracker("http://a")
        );
        assert!(project.stack("s").is_ok());
        // An identical component is reused, not a conflict.
        project
            .import(&export("t", vec![tracker("http://a")]), file)
            .unwrap();
    }

    #[test]
    fn a_component_with_another_configuration_is_a_conflict_and_nothing_is_written() {
        let (_dir, project) = project();
        let file = Path::new("s.yaml");
        project
            .import(&export("s", vec![tracker("http://a")]), file)
            .unwrap();
        let err = project
            .import(&export("t", vec![tracker("http://b")]), file)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("experiment_tracker 'mlflow' already exists with another configuration; rename it in s.yaml"),
            "{err}"
        );
        assert!(project.stack("t").is_err(), "no stack written");
    }

    #[test]
    fn a_listed_component_missing_everywhere_and_a_taken_name_are_refused() {
        let (_dir, project) = project();
        let file = Path::new("s.yaml");
        let mut missing = export("s", vec![]);
        missing
            .stack
            .components
            .insert(ComponentType::Alerter, "slack".into());
        let err = project.import(&missing, file).unwrap_err();
        assert_eq!(
            err.to_string(),
            "s.yaml lists alerter 'slack' but does not include it"
        );
        let err = project
            .import(&export("default", vec![tracker("http://a")]), file)
            .unwrap_err();
        assert!(matches!(err, StackError::StackExists { .. }), "{err}");
        assert!(
            project
                .component(ComponentType::ExperimentTracker, "mlflow")
                .is_err(),
            "nothing written when the stack name is taken"
        );
    }
}

//! The secrets-manager backends a program was built with, keyed by flavor:
//! each backend crate's [`BackendFactory`], registered by the binary (or by
//! the code running a step).

use std::collections::BTreeMap;
use std::sync::Arc;

use keystack_secrets_core::{BackendConfig, BackendFactory, SecretsManager};

use crate::{Component, ComponentType, Project, StackError};

/// The secrets-manager backends available, keyed by flavor.
#[derive(Debug, Clone, Default)]
pub struct BackendRegistry {
    factories: BTreeMap<&'static str, Arc<dyn BackendFactory>>,
}

impl BackendRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the factory for its flavor.
    pub fn with(mut self, factory: impl BackendFactory) -> Self {
        self.factories.insert(factory.flavor(), Arc::new(factory));
        self
    }

    /// The factories, by flavor.
    pub fn factories(&self) -> impl Iterator<Item = &dyn BackendFactory> {
        self.factories.values().map(|f| f.as_ref())
    }

    /// Checks the settings of the secrets manager `component` describes as
    /// they are written ([`BackendFactory::check_settings`]): for a
    /// register or update, before anything is saved. A flavor this binary
    /// has no backend for is not checked here.
    pub fn check_settings(
        &self,
        component: &Component,
        project: &Project,
    ) -> Result<(), StackError> {
        let Some(factory) = self.factories.get(component.flavor.as_str()) else {
            return Ok(());
        };
        let nothing = |_: &str| None;
        let config = BackendConfig {
            component: &component.name,
            settings: component
                .attributes
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_text()))
                .collect(),
            base_dir: project.root(),
            data_dir: project.root(),
            env: &nothing,
        };
        Ok(factory.check_settings(&config)?)
    }

    /// Builds the secrets manager `component` describes: its attributes are
    /// the backend's settings, relative paths are taken from the project
    /// folder, and fallbacks come from this process's environment.
    pub fn build(
        &self,
        component: &Component,
        project: &Project,
    ) -> Result<Arc<dyn SecretsManager>, StackError> {
        component.check(project.catalog())?;
        let factory = self
            .factories
            .get(component.flavor.as_str())
            .ok_or_else(|| StackError::BackendUnavailable {
                flavor: component.flavor.clone(),
                available: self
                    .factories
                    .keys()
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let env = |name: &str| std::env::var(name).ok();
        let data_dir =
            project.component_data_dir(ComponentType::SecretsManager, &component.name)?;
        let config = BackendConfig {
            component: &component.name,
            settings: component
                .attributes
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_text()))
                .collect(),
            base_dir: project.root(),
            data_dir: &data_dir,
            env: &env,
        };
        Ok(factory.build(&config)?)
    }
}

//! `StepContext`, `Stack`, `SecretsManager` and `Component`: what code
//! running on a stack sees of it, found exactly as the command line finds
//! it (`keystack_stack::StepContext`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use keystack_secrets_core::{
    SecretKey, SecretName, SecretPatch, SecretSchema, SecretValue, SecretsManager, ValidationLevel,
};
use keystack_stack::concurrency::concurrency_from_env;
use keystack_stack::{ComponentType, StackError, StepContext};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{secrets_error, stack_error};
use crate::mask;
use crate::runtime::block_on;
use crate::secret::PySecret;

/// The context and the secrets manager built from it, made again in a
/// forked child (a client's connections and the local store's database
/// handle belong to the process that opened them).
#[derive(Debug)]
pub(crate) struct Shared {
    context: StepContext,
    manager: Mutex<Option<(u32, Arc<dyn SecretsManager>)>>,
}

impl Shared {
    fn from_env() -> PyResult<Arc<Self>> {
        let context = StepContext::from_env(crate::registry()).map_err(stack_error)?;
        Ok(Arc::new(Self {
            context,
            manager: Mutex::new(None),
        }))
    }

    fn manager(&self) -> PyResult<Arc<dyn SecretsManager>> {
        let pid = std::process::id();
        let mut slot = self.manager.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((owner, manager)) = slot.as_ref()
            && *owner == pid
        {
            return Ok(Arc::clone(manager));
        }
        let manager = self
            .context
            .stack()
            .secrets_manager()
            .map_err(stack_error)?;
        *slot = Some((pid, Arc::clone(&manager)));
        Ok(manager)
    }

    fn has_secrets_manager(&self) -> bool {
        self.context
            .stack()
            .loaded()
            .component(ComponentType::SecretsManager)
            .is_some()
    }
}

fn concurrency() -> PyResult<usize> {
    concurrency_from_env().map_err(stack_error)
}

/// What a step sees of the stack it runs on.
///
/// ``StepContext.from_env()`` finds the project from the current directory
/// and the stack from ``KEYSTACK_STACK`` (which ``keystack run`` sets), else
/// the project's active stack — exactly as the command line does.
#[pyclass(module = "keystack", name = "StepContext", frozen)]
#[derive(Debug)]
pub(crate) struct PyStepContext {
    shared: Arc<Shared>,
}

#[pymethods]
impl PyStepContext {
    /// The context of this process.
    #[staticmethod]
    fn from_env(py: Python<'_>) -> PyResult<Self> {
        let shared = py.detach(Shared::from_env)?;
        Ok(Self { shared })
    }

    /// The stack the step runs on.
    #[getter]
    fn stack(&self) -> PyStack {
        PyStack {
            shared: Arc::clone(&self.shared),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "StepContext(project='{}', stack='{}')",
            self.shared.context.project().root().display(),
            self.shared.context.stack().name()
        )
    }
}

/// The stack of a :class:`StepContext`.
#[pyclass(module = "keystack", name = "Stack", frozen)]
#[derive(Debug)]
pub(crate) struct PyStack {
    shared: Arc<Shared>,
}

impl PyStack {
    pub(crate) fn of_env(py: Python<'_>) -> PyResult<Self> {
        Ok(Self {
            shared: py.detach(Shared::from_env)?,
        })
    }

    /// The stack's secrets manager; `NoSecretsManager` if it has none.
    pub(crate) fn manager(&self) -> PyResult<Arc<dyn SecretsManager>> {
        self.shared.manager()
    }

    /// The stack's secrets manager, or `None` if it has none.
    pub(crate) fn manager_if_any(&self) -> PyResult<Option<Arc<dyn SecretsManager>>> {
        if self.shared.has_secrets_manager() {
            self.shared.manager().map(Some)
        } else {
            Ok(None)
        }
    }
}

#[pymethods]
impl PyStack {
    /// The stack's name.
    #[getter]
    fn name(&self) -> String {
        self.shared.context.stack().name().to_owned()
    }

    /// The stack's secrets manager; raises ``NotFound`` if it has none.
    #[getter]
    fn secrets_manager(&self) -> PyResult<PySecretsManager> {
        if !self.shared.has_secrets_manager() {
            return Err(stack_error(StackError::NoSecretsManager {
                stack: self.name(),
            }));
        }
        Ok(PySecretsManager {
            shared: Arc::clone(&self.shared),
        })
    }

    /// Each component's configuration as written (references unresolved).
    #[getter]
    fn components(&self) -> Vec<PyComponent> {
        self.shared
            .context
            .stack()
            .loaded()
            .components
            .iter()
            .map(|c| PyComponent {
                component_type: c.component_type.to_string(),
                name: c.name.clone(),
                flavor: c.flavor.clone(),
                attributes: c
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), SecretValue::new(v.as_text())))
                    .collect(),
                resolved: false,
            })
            .collect()
    }

    /// Each component with every reference replaced by its value; each
    /// distinct secret is fetched once, concurrently.
    fn resolve(&self, py: Python<'_>) -> PyResult<Vec<PyComponent>> {
        let manager = self.manager_if_any()?;
        let concurrency = concurrency()?;
        let loaded = self.shared.context.stack().loaded();
        let resolved = block_on(
            py,
            keystack_stack::resolve(loaded, manager.as_deref(), concurrency),
        )?
        .map_err(stack_error)?;
        mask::remember(resolved.secret_values.iter().map(SecretValue::expose));
        Ok(resolved
            .components
            .into_iter()
            .map(|c| PyComponent {
                component_type: c.component_type.to_string(),
                name: c.name,
                flavor: c.flavor,
                attributes: c.attributes,
                resolved: true,
            })
            .collect())
    }

    /// Validates the stack as ``keystack stack validate`` does, at ``level``
    /// (``NONE``, ``SECRET_EXISTS``, ``SECRET_AND_KEY_EXISTS``; default:
    /// ``KEYSTACK_SECRET_VALIDATION_LEVEL``, else ``SECRET_AND_KEY_EXISTS``).
    /// Raises ``ValidationFailed`` with every problem.
    #[pyo3(signature = (level=None))]
    fn validate(&self, py: Python<'_>, level: Option<&str>) -> PyResult<()> {
        let level = match level {
            Some(level) => level.parse::<ValidationLevel>(),
            None => ValidationLevel::from_env(),
        }
        .map_err(|e| crate::errors::invalid_input(e.to_string()))?;
        let loaded = self.shared.context.stack().loaded();
        let catalog = self.shared.context.project().catalog();
        let needed = keystack_stack::validation::needs_secrets_manager(loaded, catalog);
        let manager = if level != ValidationLevel::None && needed {
            self.manager_if_any()?
        } else {
            None
        };
        let concurrency = concurrency()?;
        let validated = block_on(
            py,
            keystack_stack::validate(loaded, catalog, manager.as_deref(), level, concurrency),
        )?
        .map_err(stack_error)?;
        for secret in validated.fetched().values() {
            mask::remember(secret.values().values().map(SecretValue::expose));
        }
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("Stack(name='{}')", self.name())
    }
}

/// The secrets manager of a stack.
#[pyclass(module = "keystack", name = "SecretsManager", frozen)]
#[derive(Debug)]
pub(crate) struct PySecretsManager {
    shared: Arc<Shared>,
}

fn secret_name(name: &str) -> PyResult<SecretName> {
    SecretName::new(name).map_err(|e| secrets_error(e.into()))
}

fn values(content: HashMap<String, String>) -> PyResult<BTreeMap<SecretKey, SecretValue>> {
    content
        .into_iter()
        .map(|(k, v)| {
            let key = SecretKey::new(k).map_err(|e| secrets_error(e.into()))?;
            Ok((key, SecretValue::new(v)))
        })
        .collect()
}

#[pymethods]
impl PySecretsManager {
    /// Reads a secret; raises ``SecretNotFound`` (a ``KeyError``) if there
    /// is none.
    fn get_secret(&self, py: Python<'_>, name: &str) -> PyResult<PySecret> {
        let name = secret_name(name)?;
        let manager = self.shared.manager()?;
        let secret =
            block_on(py, async move { manager.get_secret(&name).await })?.map_err(secrets_error)?;
        Ok(PySecret::new(secret))
    }

    /// Stores a new secret with ``content`` (a ``dict[str, str]``) and
    /// ``schema`` (default ``arbitrary``); raises ``SecretExists`` if the
    /// name is taken.
    #[pyo3(signature = (name, content, schema=None))]
    fn register_secret(
        &self,
        py: Python<'_>,
        name: &str,
        content: HashMap<String, String>,
        schema: Option<&str>,
    ) -> PyResult<PySecret> {
        let name = secret_name(name)?;
        let schema = match schema {
            Some(schema) => schema
                .parse::<SecretSchema>()
                .map_err(|e| crate::errors::invalid_input(e.to_string()))?,
            None => SecretSchema::Arbitrary,
        };
        let mut values = values(content)?;
        mask::remember(values.values().map(SecretValue::expose));
        // As ZenML did: the schema's defaults for keys not given.
        if !values.is_empty() {
            schema.fill_defaults(&mut values);
        }
        let secret = keystack_secrets_core::Secret::new(name, schema, values)
            .map_err(|e| crate::errors::invalid_input(e.to_string()))?;
        let manager = self.shared.manager()?;
        let stored = secret.clone();
        block_on(py, async move { manager.register_secret(&stored).await })?
            .map_err(secrets_error)?;
        Ok(PySecret::new(secret))
    }

    /// Sets the keys of ``set`` and removes those of ``remove`` in one
    /// update; returns the secret as stored.
    #[pyo3(signature = (name, set=None, remove=None))]
    fn update_secret(
        &self,
        py: Python<'_>,
        name: &str,
        set: Option<HashMap<String, String>>,
        remove: Option<Vec<String>>,
    ) -> PyResult<PySecret> {
        let name = secret_name(name)?;
        let mut patch = SecretPatch::new();
        for (key, value) in values(set.unwrap_or_default())? {
            mask::remember([value.expose()]);
            patch = patch.set(key, value);
        }
        for key in remove.unwrap_or_default() {
            patch = patch.remove(SecretKey::new(key).map_err(|e| secrets_error(e.into()))?);
        }
        let manager = self.shared.manager()?;
        let secret = block_on(
            py,
            async move { manager.update_secret(&name, &patch).await },
        )?
        .map_err(secrets_error)?;
        Ok(PySecret::new(secret))
    }

    /// The names of every secret of this manager, sorted.
    fn list_secret_names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let manager = self.shared.manager()?;
        let names = block_on(py, async move { manager.list_secret_names().await })?
            .map_err(secrets_error)?;
        Ok(names.into_iter().map(|n| n.to_string()).collect())
    }

    /// Deletes a secret; raises ``SecretNotFound`` if there is none.
    fn delete_secret(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let name = secret_name(name)?;
        let manager = self.shared.manager()?;
        block_on(py, async move { manager.delete_secret(&name).await })?.map_err(secrets_error)
    }

    fn __repr__(&self) -> String {
        let loaded = self.shared.context.stack().loaded();
        match loaded.component(ComponentType::SecretsManager) {
            Some(c) => format!("SecretsManager(name='{}', flavor='{}')", c.name, c.flavor),
            None => "SecretsManager()".to_owned(),
        }
    }
}

/// One component of a stack: its type, name, flavor and attributes
/// (``dict[str, str]``), as written (``Stack.components``) or resolved
/// (``Stack.resolve()``). ``repr()`` and ``str()`` name the attributes,
/// never their values.
#[pyclass(module = "keystack", name = "Component", frozen)]
pub(crate) struct PyComponent {
    component_type: String,
    name: String,
    flavor: String,
    attributes: BTreeMap<String, SecretValue>,
    resolved: bool,
}

impl std::fmt::Debug for PyComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl PyComponent {
    fn describe(&self) -> String {
        let names: Vec<String> = self.attributes.keys().map(|k| format!("'{k}'")).collect();
        format!(
            "Component(type='{}', name='{}', flavor='{}', {}attributes=[{}])",
            self.component_type,
            self.name,
            self.flavor,
            if self.resolved { "resolved " } else { "" },
            names.join(", ")
        )
    }
}

#[pymethods]
impl PyComponent {
    /// The component's type (``secrets_manager``, ``experiment_tracker``, …).
    #[getter]
    fn r#type(&self) -> &str {
        &self.component_type
    }

    /// Its name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// Its flavor.
    #[getter]
    fn flavor(&self) -> &str {
        &self.flavor
    }

    /// Whether the attributes are resolved (``Stack.resolve()``).
    #[getter]
    fn resolved(&self) -> bool {
        self.resolved
    }

    /// Its attributes, as a new ``dict[str, str]``.
    #[getter]
    fn attributes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (key, value) in &self.attributes {
            dict.set_item(key, value.expose())?;
        }
        Ok(dict)
    }

    /// One attribute, or ``default``.
    #[pyo3(signature = (attribute, default=None))]
    fn get(&self, attribute: &str, default: Option<String>) -> Option<String> {
        self.attributes
            .get(attribute)
            .map(|v| v.expose().to_owned())
            .or(default)
    }

    fn __repr__(&self) -> String {
        self.describe()
    }

    fn __str__(&self) -> String {
        self.describe()
    }
}

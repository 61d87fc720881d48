//! `keystack.Secret`: a secret as a step sees it.

use std::collections::BTreeMap;

use keystack_secrets_core::{Secret, SecretValue};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::mask;

/// A secret: its name, schema and key-values.
///
/// ``content`` is a ``dict[str, str]`` of every key and value, as in ZenML's
/// guide; ``get(key)`` gives one value. ``repr()`` and ``str()`` show the
/// name, schema and keys, never a value.
#[pyclass(module = "keystack", name = "Secret", frozen)]
pub(crate) struct PySecret {
    name: String,
    schema: String,
    values: BTreeMap<String, SecretValue>,
}

impl std::fmt::Debug for PySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl PySecret {
    /// The secret, its values remembered for the logging filter.
    pub(crate) fn new(secret: Secret) -> Self {
        let (name, schema, values) = secret.into_parts();
        mask::remember(values.values().map(SecretValue::expose));
        Self {
            name: name.to_string(),
            schema: schema.as_str().to_owned(),
            values: values
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect(),
        }
    }

    fn describe(&self) -> String {
        let keys: Vec<String> = self.values.keys().map(|k| format!("'{k}'")).collect();
        format!(
            "Secret(name='{}', schema='{}', keys=[{}])",
            self.name,
            self.schema,
            keys.join(", ")
        )
    }
}

#[pymethods]
impl PySecret {
    /// The secret's name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// Its schema (``arbitrary``, ``aws``, ``gcp``, ``azure``, ``basic_auth``).
    #[getter]
    fn schema(&self) -> &str {
        &self.schema
    }

    /// Every key and its value, as a new ``dict``.
    #[getter]
    fn content<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (key, value) in &self.values {
            dict.set_item(key, value.expose())?;
        }
        Ok(dict)
    }

    /// The keys, sorted.
    fn keys(&self) -> Vec<String> {
        self.values.keys().cloned().collect()
    }

    /// The value of ``key``, or ``default`` if the secret has no such key.
    #[pyo3(signature = (key, default=None))]
    fn get(&self, key: &str, default: Option<String>) -> Option<String> {
        self.values
            .get(key)
            .map(|v| v.expose().to_owned())
            .or(default)
    }

    fn __getitem__(&self, key: &str) -> PyResult<String> {
        match self.values.get(key) {
            Some(value) => Ok(value.expose().to_owned()),
            None => Err(crate::errors::secrets_error(
                keystack_secrets_core::Error::KeyNotFound {
                    name: keystack_secrets_core::SecretName::new(&self.name)
                        .map_err(|e| crate::errors::keystack_error(e.to_string()))?,
                    key: keystack_secrets_core::SecretKey::new(key)
                        .map_err(|e| crate::errors::secrets_error(e.into()))?,
                },
            )),
        }
    }

    fn __contains__(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    fn __len__(&self) -> usize {
        self.values.len()
    }

    fn __repr__(&self) -> String {
        self.describe()
    }

    fn __str__(&self) -> String {
        self.describe()
    }
}

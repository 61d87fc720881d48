//! `keystack.resolve(obj)`: every `{{name.key}}` in a string, or in the
//! strings of a dict/list/tuple tree, replaced by its value from the active
//! stack's secrets manager. Each distinct secret is fetched once, in one
//! batch read (`SecretsManager::get_secrets`: 20 per request on AWS,
//! concurrent gets elsewhere).

use std::collections::{BTreeMap, BTreeSet};

use keystack_secrets_core::{Secret, SecretName, SecretValue, Template};
use keystack_stack::concurrency::concurrency_from_env;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use crate::context::PyStack;
use crate::errors::{secrets_error, stack_error};
use crate::mask;
use crate::runtime::block_on;

/// The names every string of `obj` refers to.
fn collect(obj: &Bound<'_, PyAny>, names: &mut BTreeSet<SecretName>) -> PyResult<()> {
    if let Ok(text) = obj.cast::<PyString>() {
        let text = text.to_cow()?;
        let template = Template::parse(&text).map_err(|e| secrets_error(e.into()))?;
        names.extend(template.references().map(|r| r.name.clone()));
    } else if let Ok(dict) = obj.cast::<PyDict>() {
        for value in dict.values() {
            collect(&value, names)?;
        }
    } else if let Ok(list) = obj.cast::<PyList>() {
        for item in list.iter() {
            collect(&item, names)?;
        }
    } else if let Ok(tuple) = obj.cast::<PyTuple>() {
        for item in tuple.iter() {
            collect(&item, names)?;
        }
    }
    Ok(())
}

/// `obj` with its strings rendered from `secrets` (a new tree; anything
/// that is not a str, dict, list or tuple is kept as it is).
fn render<'py>(
    obj: &Bound<'py, PyAny>,
    secrets: &BTreeMap<SecretName, Secret>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    if let Ok(text) = obj.cast::<PyString>() {
        let text = text.to_cow()?;
        let template = Template::parse(&text).map_err(|e| secrets_error(e.into()))?;
        if let Some(literal) = template.as_literal() {
            // No reference, perhaps an escaped `\{{`: the text it stands for.
            return Ok(PyString::new(py, &literal).into_any());
        }
        let value = template
            .render(|r| keystack_stack::resolve::value_of(secrets, r))
            .map_err(secrets_error)?;
        Ok(PyString::new(py, value.expose()).into_any())
    } else if let Ok(dict) = obj.cast::<PyDict>() {
        let out = PyDict::new(py);
        for (key, value) in dict.iter() {
            out.set_item(key, render(&value, secrets)?)?;
        }
        Ok(out.into_any())
    } else if let Ok(list) = obj.cast::<PyList>() {
        let items = list
            .iter()
            .map(|item| render(&item, secrets))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyList::new(py, items)?.into_any())
    } else if let Ok(tuple) = obj.cast::<PyTuple>() {
        let items = tuple
            .iter()
            .map(|item| render(&item, secrets))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyTuple::new(py, items)?.into_any())
    } else {
        Ok(obj.clone())
    }
}

/// Resolves every ``{{name.key}}`` in ``obj`` — a ``str``, or a tree of
/// ``dict``, ``list`` and ``tuple`` whose strings may hold references —
/// through the active stack's secrets manager, and returns a new object of
/// the same shape (dict keys and non-string leaves are kept as they are).
/// Each distinct secret is fetched once, concurrently. ``{{{{`` is a
/// literal ``{{``. Raises ``SecretNotFound`` for a missing secret or key;
/// an object without references needs no project.
#[pyfunction]
pub(crate) fn resolve<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let mut names = BTreeSet::new();
    collect(obj, &mut names)?;
    if names.is_empty() {
        return render(obj, &BTreeMap::new());
    }
    // Errs with the CLI's message if the stack has no secrets manager.
    let manager = PyStack::of_env(py)?.manager()?;
    let concurrency = concurrency_from_env().map_err(stack_error)?;
    let secrets = block_on(
        py,
        keystack_stack::fetch::fetch_named(names.iter().collect(), manager.as_ref(), concurrency),
    )?
    .map_err(stack_error)?;
    for secret in secrets.values() {
        mask::remember(secret.values().values().map(SecretValue::expose));
    }
    render(obj, &secrets)
}

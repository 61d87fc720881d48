//! Keystack's errors as Python exceptions (`keystack/_errors.py` defines
//! the classes): the class from the error's kind, the message the command
//! line prints (with its causes), never a value.

use keystack_secrets_core::{Error as SecretsError, with_causes};
use keystack_stack::StackError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// An instance of `keystack._errors.<class>(message, **extra)`, raised.
fn raise(class: &str, message: String, extra: Option<Py<PyDict>>) -> PyErr {
    Python::attach(|py| {
        let made = py
            .import("keystack._errors")
            .and_then(|module| module.getattr(class))
            .and_then(|class| class.call((message,), extra.as_ref().map(|d| d.bind(py))));
        match made {
            Ok(instance) => PyErr::from_value(instance),
            Err(err) => err,
        }
    })
}

/// A `KeystackError` with this message.
pub(crate) fn keystack_error(message: String) -> PyErr {
    raise("KeystackError", message, None)
}

/// An `InvalidInput` (also a `ValueError`) with this message.
pub(crate) fn invalid_input(message: String) -> PyErr {
    raise("InvalidInput", message, None)
}

/// The exception of an error of the secrets layer.
pub(crate) fn secrets_error(err: SecretsError) -> PyErr {
    let message = with_causes(&err);
    let class = match err {
        SecretsError::NotFound { .. } | SecretsError::KeyNotFound { .. } => "SecretNotFound",
        SecretsError::AlreadyExists { .. } => "SecretExists",
        SecretsError::InvalidName(_) | SecretsError::InvalidReference(_) => "InvalidName",
        SecretsError::InvalidSecret { .. } | SecretsError::InvalidConfig { .. } => "InvalidInput",
        SecretsError::PermissionDenied { .. } | SecretsError::Unauthenticated { .. } => {
            "PermissionDenied"
        }
        SecretsError::Unavailable { .. } => "Unavailable",
        _ => "KeystackError",
    };
    raise(class, message, None)
}

/// The exception of an error of the stack layer.
pub(crate) fn stack_error(err: StackError) -> PyErr {
    match err {
        StackError::Secrets(inner) => secrets_error(inner),
        StackError::Validation(report) => {
            let message = report.to_string();
            let problems = Python::attach(|py| -> PyResult<Py<PyDict>> {
                let module = py.import("keystack._errors")?;
                let problem = module.getattr("Problem")?;
                let list = report
                    .problems
                    .iter()
                    .map(|p| {
                        problem.call1((
                            p.location.clone(),
                            p.component.as_ref().map(|(t, _)| t.to_string()),
                            p.component.as_ref().map(|(_, n)| n.clone()),
                            p.attribute.clone(),
                            p.message.clone(),
                        ))
                    })
                    .collect::<PyResult<Vec<_>>>()?;
                let extra = PyDict::new(py);
                extra.set_item("problems", list)?;
                Ok(extra.unbind())
            });
            match problems {
                Ok(extra) => raise("ValidationFailed", message, Some(extra)),
                Err(err) => err,
            }
        }
        StackError::InvalidName { .. } => raise("InvalidName", with_causes(&err), None),
        StackError::ComponentNotFound { .. }
        | StackError::StackNotFound { .. }
        | StackError::NoActiveStack
        | StackError::NoSecretsManager { .. } => raise("NotFound", with_causes(&err), None),
        StackError::Untrusted { .. } => raise("PermissionDenied", with_causes(&err), None),
        StackError::Io { .. } => raise("KeystackError", with_causes(&err), None),
        _ => raise("InvalidInput", with_causes(&err), None),
    }
}

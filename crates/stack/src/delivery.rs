//! What a command delivers beyond the stack's mapped attributes: templates
//! given on its command line (`run --env`, `--env-file`, `--file`,
//! `inject`), validated and resolved with the stack's references, in the
//! same calls; and the part of a stack a command is limited to (`run --only`).

use keystack_secrets_core::{ReferenceError, SecretReference, Template};

use crate::StackError;
use crate::flavor::{Catalog, ComponentType};
use crate::project::LoadedStack;

/// A template a command was given: its references are validated at the
/// stack's level and fetched with the stack's secrets, each once.
#[derive(Clone, PartialEq, Eq)]
pub struct TemplateInput {
    /// Where it came from, for messages: `--env DATABASE_URL`,
    /// `--env-file .env line 3`, `template.yaml`.
    pub origin: String,
    /// Its text, references and all.
    pub text: String,
}

impl std::fmt::Debug for TemplateInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The text holds references, but may hold literal credentials too.
        f.debug_struct("TemplateInput")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl TemplateInput {
    /// A template from `origin`, checked to parse (the error names the
    /// origin and the column).
    pub fn new(origin: impl Into<String>, text: impl Into<String>) -> Result<Self, StackError> {
        let input = Self {
            origin: origin.into(),
            text: text.into(),
        };
        input.parse()?;
        Ok(input)
    }

    /// Its parsed template.
    pub fn parse(&self) -> Result<Template<'_>, StackError> {
        Template::parse(&self.text).map_err(|source| self.error(source))
    }

    /// Its references.
    pub fn references(&self) -> Result<Vec<SecretReference>, StackError> {
        Ok(self.parse()?.references().cloned().collect())
    }

    /// Whether it refers to a secret.
    pub fn has_references(&self) -> bool {
        self.parse().is_ok_and(|t| t.has_references())
    }

    fn error(&self, source: ReferenceError) -> StackError {
        StackError::TemplateReference {
            origin: self.origin.clone(),
            source,
        }
    }
}

/// The stack limited to the components `selectors` name, each by type
/// (`experiment_tracker` or `experiment-tracker`) or by name; the secrets
/// manager stays, as the place secrets come from (its own attributes hold
/// no reference). `Err` names what matched nothing and what there is.
pub fn only(stack: &LoadedStack, selectors: &[String]) -> Result<LoadedStack, StackError> {
    let matches = |selector: &str, component: &crate::Component| {
        component.name == selector
            || selector.replace('-', "_") == component.component_type.as_str()
    };
    let unmatched: Vec<&String> = selectors
        .iter()
        .filter(|s| !stack.components.iter().any(|c| matches(s, c)))
        .collect();
    if !unmatched.is_empty() {
        return Err(StackError::NoSuchSelection {
            stack: stack.stack.name.clone(),
            unmatched: unmatched
                .iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", "),
            available: stack
                .components
                .iter()
                .map(|c| format!("{} '{}'", c.component_type, c.name))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let mut limited = stack.clone();
    limited.components.retain(|c| {
        c.component_type == ComponentType::SecretsManager || selectors.iter().any(|s| matches(s, c))
    });
    Ok(limited)
}

/// The attributes of the stack's components whose flavor delivers them as
/// a file (`as_file`): component, attribute, and the variable that gets
/// the file's path.
pub fn file_attributes<'s>(
    stack: &'s LoadedStack,
    catalog: &'s Catalog,
) -> impl Iterator<Item = (&'s crate::Component, &'s str, &'s str)> {
    stack.components.iter().flat_map(move |component| {
        component
            .flavor(catalog)
            .ok()
            .into_iter()
            .flat_map(|flavor| flavor.attributes.iter())
            .filter(|spec| spec.as_file && component.attributes.contains_key(&spec.name))
            .filter_map(move |spec| Some((component, spec.name.as_str(), spec.env.as_deref()?)))
    })
}

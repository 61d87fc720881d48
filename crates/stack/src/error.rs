//! Errors of the stack layer.

use std::path::PathBuf;

use keystack_secrets_core::ReferenceError;

use crate::flavor::ComponentType;
use crate::validation::ValidationReport;

/// Everything that can go wrong with stacks and components.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StackError {
    /// A file operation failed.
    #[error("could not {action} {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A YAML file does not parse or does not fit its format.
    #[error("{}: {message}", file.display())]
    Yaml {
        /// The file.
        file: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A YAML file breaks a rule beyond its syntax.
    #[error("{}: {message}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A project file that another user owns or may change.
    #[error(
        "refusing {}: it {problem}, and whoever can change a project decides what `keystack run` does with your secrets; {fix}",
        path.display()
    )]
    Untrusted {
        /// The file or folder.
        path: PathBuf,
        /// Its owner or mode, and why that matters.
        problem: String,
        /// The chmod/chown, or the trust list entry, that fixes it.
        fix: String,
    },
    /// A YAML file is over the size limit.
    #[error("{}: {len} bytes is over the {max}-byte limit for Keystack files", file.display())]
    TooLarge {
        /// The file.
        file: PathBuf,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A name breaks the grammar.
    #[error("invalid {what} \"{shown}\": {problem}")]
    InvalidName {
        /// Which name.
        what: &'static str,
        /// The name, escaped and shortened.
        shown: String,
        /// What is wrong.
        problem: String,
    },
    /// No such component type.
    #[error("unknown component type '{given}'{hint}")]
    UnknownComponentType {
        /// What was given.
        given: String,
        /// A did-you-mean, or empty.
        hint: String,
    },
    /// No such flavor.
    #[error("unknown {component_type} flavor '{flavor}'; known flavors: {known}")]
    UnknownFlavor {
        /// The component type.
        component_type: ComponentType,
        /// The flavor given.
        flavor: String,
        /// The flavors that exist.
        known: String,
    },
    /// An attribute the flavor does not have.
    #[error(
        "{component_type} flavor '{flavor}' has no attribute '{attribute}'{hint}; its attributes are: {known}"
    )]
    UnknownAttribute {
        /// The component type.
        component_type: ComponentType,
        /// The flavor.
        flavor: String,
        /// The unknown attribute.
        attribute: String,
        /// A did-you-mean, or empty.
        hint: String,
        /// The attributes that exist.
        known: String,
    },
    /// A required attribute is not set.
    #[error(
        "{component_type} '{component}' needs attribute '{attribute}'; set it with --{attribute}=VALUE"
    )]
    MissingAttribute {
        /// The component type.
        component_type: ComponentType,
        /// The component.
        component: String,
        /// The attribute.
        attribute: String,
    },
    /// A typed attribute holds a value of the wrong type.
    #[error("attribute '{attribute}' of {component_type} '{component}' must be {expected}")]
    BadAttributeValue {
        /// The component type.
        component_type: ComponentType,
        /// The component.
        component: String,
        /// The attribute.
        attribute: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A malformed reference in an attribute.
    #[error("attribute '{attribute}' of {component_type} '{component}': {source}")]
    Reference {
        /// The component type.
        component_type: ComponentType,
        /// The component.
        component: String,
        /// The attribute.
        attribute: String,
        /// The reference error (with its column).
        source: ReferenceError,
    },
    /// A secrets manager attribute refers to a secret.
    #[error(
        "attribute '{attribute}' of secrets manager '{component}' refers to a secret, but a secrets manager cannot need itself to start; give the value directly or through the backend's own environment variables"
    )]
    ReferenceInSecretsManager {
        /// The component.
        component: String,
        /// The attribute.
        attribute: String,
    },
    /// No such component.
    #[error("{component_type} '{name}' does not exist{hint}")]
    ComponentNotFound {
        /// The component type.
        component_type: ComponentType,
        /// The name.
        name: String,
        /// A did-you-mean, or empty.
        hint: String,
    },
    /// The component name is taken.
    #[error("{component_type} '{name}' already exists; update it, or remove it first")]
    ComponentExists {
        /// The component type.
        component_type: ComponentType,
        /// The name.
        name: String,
    },
    /// The component is part of stacks.
    #[error("{component_type} '{name}' is used by stack(s) {stacks}; remove it from them first")]
    ComponentInUse {
        /// The component type.
        component_type: ComponentType,
        /// The name.
        name: String,
        /// The stacks using it.
        stacks: String,
    },
    /// No such stack.
    #[error("stack '{name}' does not exist{hint}")]
    StackNotFound {
        /// The name.
        name: String,
        /// A did-you-mean, or empty.
        hint: String,
    },
    /// The stack name is taken.
    #[error("stack '{name}' already exists; update it, or delete it first")]
    StackExists {
        /// The name.
        name: String,
    },
    /// A stack export cannot be imported as it is (a component that exists
    /// with another configuration, a component the stack lists but the
    /// file lacks).
    #[error("{message}")]
    ImportConflict {
        /// What conflicts, and what to do.
        message: String,
    },
    /// A ZenML stack export holds what Keystack cannot map.
    #[error(
        "{} (ZenML {version}) cannot be imported; nothing was written. {} problem(s):\n  - {}",
        file.display(),
        problems.len(),
        problems.join("\n  - ")
    )]
    ZenmlImport {
        /// The export.
        file: std::path::PathBuf,
        /// The ZenML version that wrote it.
        version: String,
        /// Each component and key that cannot be mapped, and why.
        problems: Vec<String>,
    },
    /// The stack is active.
    #[error("stack '{name}' is the active stack; set another stack active first")]
    StackActive {
        /// The name.
        name: String,
    },
    /// No stack is active and none was named.
    #[error("no stack is active; run `keystack init`, or `keystack stack set NAME`")]
    NoActiveStack,
    /// The stack has no secrets manager but one is needed.
    #[error(
        "stack '{stack}' has no secrets manager; add one with `keystack stack update {stack} -x NAME`"
    )]
    NoSecretsManager {
        /// The stack.
        stack: String,
    },
    /// No backend is built in for a secrets manager flavor.
    #[error(
        "secrets manager flavor '{flavor}' is not built into this keystack (built in: {available})"
    )]
    BackendUnavailable {
        /// The flavor.
        flavor: String,
        /// The flavors that are.
        available: String,
    },
    /// An environment variable holds a value Keystack cannot use.
    #[error("{var}=\"{shown}\" is not valid: {problem}")]
    InvalidEnvironment {
        /// The variable.
        var: &'static str,
        /// Its value, escaped and shortened.
        shown: String,
        /// What is wrong and what is allowed.
        problem: String,
    },
    /// A template a command was given holds a malformed reference.
    #[error("{origin}: {source}")]
    TemplateReference {
        /// Where the template came from (`--env NAME`, a file).
        origin: String,
        /// What is wrong with its references.
        source: keystack_secrets_core::ReferenceError,
    },
    /// The stack cannot be exported as External Secrets manifests.
    #[error("stack '{stack}' cannot be exported for the External Secrets Operator: {message}")]
    ExternalSecrets {
        /// The stack.
        stack: String,
        /// Why, and what to do.
        message: String,
    },
    /// `--only` named something the stack does not have.
    #[error("stack '{stack}' has no component {unmatched} (by type or name); it has: {available}")]
    NoSuchSelection {
        /// The stack.
        stack: String,
        /// What matched nothing, quoted.
        unmatched: String,
        /// Its components.
        available: String,
    },
    /// Validation found problems.
    #[error("{0}")]
    Validation(ValidationReport),
    /// The secrets manager failed.
    #[error(transparent)]
    Secrets(#[from] keystack_secrets_core::Error),
}

impl StackError {
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }
}

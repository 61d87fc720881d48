//! Stacks as they are stored, one YAML file each, and the export format
//! that carries a stack with its components.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::component::Component;
use crate::flavor::ComponentType;

/// A stack: at most one component of each type, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stack {
    /// The stack's name.
    pub name: String,
    /// Component names, by type.
    #[serde(default)]
    pub components: BTreeMap<ComponentType, String>,
}

/// An exported stack: the stack and every component it uses, in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackExport {
    /// The stack.
    pub stack: Stack,
    /// Its components.
    pub components: Vec<Component>,
}

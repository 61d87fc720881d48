//! Component types and flavors. Flavors are data: a built-in catalog
//! (`flavors.yaml`) plus flavors users add from their own YAML files.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::StackError;
use crate::yaml;

/// The kinds of stack component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentType {
    /// Runs pipelines.
    Orchestrator,
    /// Stores artifacts.
    ArtifactStore,
    /// Keeps secrets.
    SecretsManager,
    /// Tracks experiments.
    ExperimentTracker,
    /// Holds container images.
    ContainerRegistry,
    /// Serves models.
    ModelDeployer,
    /// Runs single steps on special hardware.
    StepOperator,
    /// Sends alerts.
    Alerter,
}

impl ComponentType {
    /// Every component type, in display order.
    pub const ALL: [ComponentType; 8] = [
        Self::Orchestrator,
        Self::ArtifactStore,
        Self::SecretsManager,
        Self::ExperimentTracker,
        Self::ContainerRegistry,
        Self::ModelDeployer,
        Self::StepOperator,
        Self::Alerter,
    ];

    /// The name in files (`artifact_store`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Orchestrator => "orchestrator",
            Self::ArtifactStore => "artifact_store",
            Self::SecretsManager => "secrets_manager",
            Self::ExperimentTracker => "experiment_tracker",
            Self::ContainerRegistry => "container_registry",
            Self::ModelDeployer => "model_deployer",
            Self::StepOperator => "step_operator",
            Self::Alerter => "alerter",
        }
    }

    /// The name on the command line (`artifact-store`).
    pub fn cli_name(self) -> &'static str {
        match self {
            Self::Orchestrator => "orchestrator",
            Self::ArtifactStore => "artifact-store",
            Self::SecretsManager => "secrets-manager",
            Self::ExperimentTracker => "experiment-tracker",
            Self::ContainerRegistry => "container-registry",
            Self::ModelDeployer => "model-deployer",
            Self::StepOperator => "step-operator",
            Self::Alerter => "alerter",
        }
    }
}

impl fmt::Display for ComponentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ComponentType {
    type Err = StackError;

    /// Accepts both `artifact_store` and `artifact-store`.
    fn from_str(s: &str) -> Result<Self, StackError> {
        let normalized = s.replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == normalized)
            .ok_or_else(|| StackError::UnknownComponentType {
                given: s.to_owned(),
                hint: crate::did_you_mean(s, Self::ALL.iter().map(|t| t.as_str())),
            })
    }
}

/// The type of an attribute's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    /// Any text; may hold secret references.
    #[default]
    String,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
}

/// One attribute a flavor accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeSpec {
    /// The attribute's name (ZenML's).
    pub name: String,
    /// The type of its value.
    #[serde(rename = "type", default)]
    pub kind: AttributeType,
    /// Whether a component must set it.
    #[serde(default)]
    pub required: bool,
    /// The value used when it is not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether it holds a credential, and so should be a secret reference.
    #[serde(default)]
    pub sensitive: bool,
    /// The environment variable it becomes when a command runs on the stack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// Whether its value is the name of a secret (ZenML's
    /// `authentication_secret`) rather than a reference: validation checks
    /// that the secret exists, at `SECRET_EXISTS` and above.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub names_secret: bool,
    /// Whether a command run on the stack gets it as a file: its value is
    /// written to a private file, and `env` is set to the file's path (a
    /// service account key → `GOOGLE_APPLICATION_CREDENTIALS`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub as_file: bool,
}

/// A flavor: one implementation of a component type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flavor {
    /// The component type it implements.
    #[serde(rename = "type")]
    pub component_type: ComponentType,
    /// The flavor's name.
    pub name: String,
    /// Whether it works on this machine only.
    #[serde(default)]
    pub local: bool,
    /// One line about it.
    #[serde(default)]
    pub description: String,
    /// The attributes it accepts.
    #[serde(default)]
    pub attributes: Vec<AttributeSpec>,
}

impl Flavor {
    /// The spec of one attribute.
    pub fn attribute(&self, name: &str) -> Option<&AttributeSpec> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    flavors: Vec<Flavor>,
}

/// Every known flavor, keyed by component type and name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    flavors: BTreeMap<(ComponentType, String), Flavor>,
}

const BUILTIN: &str = include_str!("../flavors.yaml");

impl Catalog {
    /// The built-in flavors.
    pub fn builtin() -> Self {
        let mut catalog = Self::default();
        catalog
            .add_yaml(BUILTIN, Path::new("<built-in flavors.yaml>"))
            .expect("the built-in catalog is valid; a unit test checks it");
        catalog
    }

    /// Adds the flavors of a user's YAML file (same format as the built-in
    /// catalog). A user flavor replaces a built-in one of the same type and name.
    pub fn add_yaml(&mut self, text: &str, file: &Path) -> Result<(), StackError> {
        let parsed: CatalogFile = yaml::parse(text, file)?;
        for flavor in parsed.flavors {
            let mut seen = std::collections::BTreeSet::new();
            for attribute in &flavor.attributes {
                if let Some(var) = &attribute.env
                    && let Err(problem) = check_env_name(var)
                {
                    return Err(StackError::Invalid {
                        file: file.to_owned(),
                        message: format!(
                            "flavor {}/{}: attribute '{}' maps to the environment variable \"{}\", {problem}",
                            flavor.component_type,
                            flavor.name,
                            attribute.name,
                            var.chars()
                                .take(64)
                                .flat_map(char::escape_debug)
                                .collect::<String>()
                        ),
                    });
                }
                if attribute.as_file && attribute.env.is_none() {
                    return Err(StackError::Invalid {
                        file: file.to_owned(),
                        message: format!(
                            "flavor {}/{}: attribute '{}' is delivered as a file (as_file) but names \
                             no variable for its path; add env: VARIABLE",
                            flavor.component_type, flavor.name, attribute.name
                        ),
                    });
                }
                if !seen.insert(attribute.name.as_str()) {
                    return Err(StackError::Invalid {
                        file: file.to_owned(),
                        message: format!(
                            "flavor {}/{} lists attribute '{}' twice",
                            flavor.component_type, flavor.name, attribute.name
                        ),
                    });
                }
            }
            self.flavors
                .insert((flavor.component_type, flavor.name.clone()), flavor);
        }
        Ok(())
    }

    /// One flavor.
    pub fn get(&self, component_type: ComponentType, name: &str) -> Result<&Flavor, StackError> {
        self.flavors
            .get(&(component_type, name.to_owned()))
            .ok_or_else(|| StackError::UnknownFlavor {
                component_type,
                flavor: name.to_owned(),
                known: self.names(component_type).join(", "),
            })
    }

    /// Flavors of one component type.
    pub fn of_type(&self, component_type: ComponentType) -> impl Iterator<Item = &Flavor> {
        self.flavors
            .values()
            .filter(move |f| f.component_type == component_type)
    }

    fn names(&self, component_type: ComponentType) -> Vec<&str> {
        self.of_type(component_type)
            .map(|f| f.name.as_str())
            .collect()
    }
}

/// Variables no flavor may set: rather than pass the command a value, they
/// change which code it loads or runs (the dynamic loader, the search path,
/// interpreters' and shells' startup and module paths). See docs/security.md.
const HIJACKING: &[&str] = &[
    "PATH",
    "IFS",
    "ENV",
    "BASH_ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "PROMPT_COMMAND",
    "CDPATH",
    "GLOBIGNORE",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONINSPECT",
    "PYTHONUSERBASE",
    "PYTHONEXECUTABLE",
    "PERL5LIB",
    "PERL5OPT",
    "PERLLIB",
    "RUBYLIB",
    "RUBYOPT",
    "NODE_OPTIONS",
    "NODE_PATH",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "CLASSPATH",
    "GCONV_PATH",
    "GIT_EXEC_PATH",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "EDITOR",
    "VISUAL",
    "PAGER",
];

/// Prefixes of variables no flavor may set: the dynamic loaders' own.
const HIJACKING_PREFIXES: &[&str] = &["LD_", "DYLD_"];

/// Checks the name of a variable a flavor attribute maps to: a POSIX name
/// (`[A-Za-z_][A-Za-z0-9_]*`) that does not change what the command loads
/// or runs. The error says what is wrong, after "maps to … ,".
pub fn check_env_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let posix = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !posix {
        return Err(
            "which is not a variable name: use letters, digits and '_', not starting with a digit"
                .to_owned(),
        );
    }
    let upper = name.to_ascii_uppercase();
    if HIJACKING.contains(&upper.as_str())
        || HIJACKING_PREFIXES.iter().any(|p| upper.starts_with(p))
    {
        return Err(format!(
            "which changes what the command loads or runs instead of passing it a value, \
             so Keystack does not set it from a secret; if you mean it, set it yourself \
             (`keystack run -- env {name}=… COMMAND`)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names_must_be_names_that_do_not_hijack_the_command() {
        for good in ["MLFLOW_TRACKING_URI", "_X", "a1", "KEYSTACK_LOCAL_KEY"] {
            assert_eq!(check_env_name(good), Ok(()), "{good}");
        }
        for bad in ["", "1X", "A-B", "LD_PRELOAD=/evil.so", "A\nB", "A B", "é"] {
            assert!(
                check_env_name(bad)
                    .unwrap_err()
                    .contains("not a variable name"),
                "{bad:?}"
            );
        }
        for hijack in [
            "LD_PRELOAD",
            "ld_library_path",
            "DYLD_INSERT_LIBRARIES",
            "PATH",
            "PYTHONPATH",
            "BASH_ENV",
            "NODE_OPTIONS",
        ] {
            assert!(
                check_env_name(hijack)
                    .unwrap_err()
                    .contains("changes what the command loads or runs"),
                "{hijack}"
            );
        }
        let mut catalog = Catalog::builtin();
        let err = catalog
            .add_yaml(
                "flavors:\n  - type: experiment_tracker\n    name: evil\n    attributes:\n      - {name: x, env: \"LD_PRELOAD=/evil.so\"}\n",
                Path::new("evil.yaml"),
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("evil.yaml")
                && err.contains("experiment_tracker/evil")
                && err.contains("attribute 'x'"),
            "{err}"
        );
        assert!(
            catalog
                .get(ComponentType::ExperimentTracker, "evil")
                .is_err(),
            "nothing added"
        );
    }

    #[test]
    fn builtin_catalog_covers_the_required_flavors() {
        let catalog = Catalog::builtin();
        let expect = [
            (
                "orchestrator",
                &[
                    "local",
                    "local_docker",
                    "kubernetes",
                    "kubeflow",
                    "airflow",
                    "vertex",
                    "sagemaker",
                ][..],
            ),
            ("artifact_store", &["local", "s3", "gcp", "azure"]),
            (
                "secrets_manager",
                &["local", "aws", "gcp", "azure", "vault"],
            ),
            ("experiment_tracker", &["mlflow", "wandb"]),
            (
                "container_registry",
                &["default", "dockerhub", "aws", "gcp", "azure"],
            ),
            ("model_deployer", &["mlflow", "seldon"]),
            ("step_operator", &["sagemaker", "vertex"]),
            ("alerter", &["slack"]),
        ];
        for (kind, names) in expect {
            let kind: ComponentType = kind.parse().unwrap();
            for name in names {
                catalog.get(kind, name).unwrap();
            }
        }
        let orchestrator = |n| catalog.get(ComponentType::Orchestrator, n).unwrap().local;
        assert!(orchestrator("local") && orchestrator("local_docker"));
        assert!(
            !orchestrator("kubernetes") && !orchestrator("sagemaker") && !orchestrator("vertex")
        );
        let mlflow = catalog
            .get(ComponentType::ExperimentTracker, "mlflow")
            .unwrap();
        let user = mlflow.attribute("tracking_username").unwrap();
        assert!(user.sensitive);
        assert_eq!(user.env.as_deref(), Some("MLFLOW_TRACKING_USERNAME"));
        assert_eq!(
            mlflow.attribute("tracking_uri").unwrap().env.as_deref(),
            Some("MLFLOW_TRACKING_URI")
        );
        let aws = catalog.get(ComponentType::SecretsManager, "aws").unwrap();
        assert!(aws.attribute("region_name").unwrap().required);
    }

    #[test]
    fn user_flavors_extend_the_catalog() {
        let mut catalog = Catalog::builtin();
        let yaml = "flavors:\n  - type: experiment_tracker\n    name: neptune\n    attributes:\n      - {name: api_token, sensitive: true, env: NEPTUNE_API_TOKEN}\n";
        catalog.add_yaml(yaml, Path::new("mine.yaml")).unwrap();
        let neptune = catalog
            .get(ComponentType::ExperimentTracker, "neptune")
            .unwrap();
        assert!(neptune.attribute("api_token").unwrap().sensitive);

        let bad = "flavors:\n  - type: experiment_tracker\n    name: x\n    atributes: []\n";
        let err = catalog
            .add_yaml(bad, Path::new("bad.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.yaml"), "{err}");
        assert!(err.contains("atributes"), "{err}");
    }

    #[test]
    fn unknown_flavor_and_type_list_what_exists() {
        let catalog = Catalog::builtin();
        let err = catalog
            .get(ComponentType::Alerter, "discord")
            .unwrap_err()
            .to_string();
        assert!(err.contains("slack"), "{err}");
        let err = "experiment_traker"
            .parse::<ComponentType>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean 'experiment_tracker'"), "{err}");
        assert_eq!(
            "artifact-store".parse::<ComponentType>().unwrap(),
            ComponentType::ArtifactStore
        );
    }
}

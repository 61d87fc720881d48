//! Raw command-line arguments (clap). The commands check them into typed
//! values (names, keys, levels) before calling the libraries.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keystack: secrets for ML stacks.
#[derive(Debug, Parser)]
#[command(
    name = "keystack",
    version,
    about = "Manage the secrets of an ML stack",
    after_help = "Exit codes: 0 ok, 1 failure, 2 bad usage or input, 3 not found, 4 validation failed, \
                  5 already exists, 6 store locked, unreadable or wrong key. `keystack run` passes its command's code through."
)]
pub(crate) struct Cli {
    /// Log what keystack does to standard error: the project, the stack,
    /// every call to the secrets manager with its outcome and time (names
    /// and keys, never values). Also KEYSTACK_VERBOSE=1.
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a .keystack project here with a default local stack.
    Init,
    /// Secrets managers, and the secrets in the active stack's manager.
    #[command(name = "secrets-manager")]
    SecretsManager(SecretsManagerArgs),
    /// Orchestrators.
    Orchestrator(ComponentArgs),
    /// Artifact stores.
    #[command(name = "artifact-store")]
    ArtifactStore(ComponentArgs),
    /// Experiment trackers.
    #[command(name = "experiment-tracker")]
    ExperimentTracker(ComponentArgs),
    /// Container registries.
    #[command(name = "container-registry")]
    ContainerRegistry(ComponentArgs),
    /// Model deployers.
    #[command(name = "model-deployer")]
    ModelDeployer(ComponentArgs),
    /// Step operators.
    #[command(name = "step-operator")]
    StepOperator(ComponentArgs),
    /// Alerters.
    Alerter(ComponentArgs),
    /// Stacks.
    Stack(StackArgs),
    /// Validate and resolve a stack, then run a command with its environment.
    Run(RunArgs),
    /// Render a text file's secret references through the active stack.
    Inject(InjectArgs),
    /// Print a shell completion script.
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub(crate) struct SecretsManagerArgs {
    #[command(subcommand)]
    pub(crate) command: SecretsManagerCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SecretsManagerCommand {
    /// Secrets in the active stack's secrets manager.
    Secret(SecretArgs),
    /// Move secrets from the store every project shared before each local
    /// secrets manager had its own (<data dir>/local) into the active stack's
    /// secrets manager.
    AdoptSharedStore {
        /// The secrets to move (default: all of them).
        names: Vec<String>,
        /// Copy them, leaving them in the shared store for other projects.
        #[arg(long)]
        keep: bool,
        /// Say what would be moved, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    #[command(flatten)]
    Component(ComponentCommand),
}

#[derive(Debug, Args)]
pub(crate) struct ComponentArgs {
    #[command(subcommand)]
    pub(crate) command: ComponentCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ComponentCommand {
    /// Register a component: NAME --flavor=F [--ATTRIBUTE=VALUE ...].
    Register {
        /// The component's name.
        name: String,
        /// The flavor (see `flavor list`).
        #[arg(short, long)]
        flavor: Option<String>,
        /// Attributes, as --ATTRIBUTE=VALUE.
        #[arg(
            value_name = "--ATTRIBUTE=VALUE",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        attributes: Vec<String>,
    },
    /// List components.
    List {
        #[command(flatten)]
        output: OutputArg,
    },
    /// Show one component (default: the active stack's).
    Describe {
        /// The component's name (default: the one in the active stack).
        name: Option<String>,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Change attributes: NAME [--ATTRIBUTE=VALUE ...] [--remove-attribute A].
    Update {
        /// The component's name.
        name: String,
        /// Attributes to unset.
        #[arg(long = "remove-attribute", value_name = "ATTRIBUTE")]
        remove: Vec<String>,
        /// Attributes, as --ATTRIBUTE=VALUE.
        #[arg(
            value_name = "--ATTRIBUTE=VALUE",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        attributes: Vec<String>,
    },
    /// Remove a component no stack uses.
    #[command(alias = "delete")]
    Remove {
        /// The component's name.
        name: String,
    },
    /// Flavors of this component type.
    Flavor {
        #[command(subcommand)]
        command: FlavorCommand,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum FlavorCommand {
    /// List flavors and their attributes.
    List {
        #[command(flatten)]
        output: OutputArg,
    },
}

#[derive(Debug, Args)]
pub(crate) struct SecretArgs {
    #[command(subcommand)]
    pub(crate) command: SecretCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SecretCommand {
    /// Register a secret: NAME --KEY=VALUE ... (VALUE "@path" reads a file,
    /// "@-" reads stdin, "@@x" is the literal "@x").
    Register {
        /// The secret's name.
        name: String,
        /// Ask for keys and values (values are not echoed).
        #[arg(short, long)]
        interactive: bool,
        /// The secret's schema: arbitrary, aws, gcp, azure, basic_auth,
        /// seldon_s3, seldon_gs, seldon_az, kserve_s3, kserve_gs, kserve_az.
        #[arg(short, long, default_value = "arbitrary")]
        schema: String,
        /// Take every KEY=VALUE of this .env file as a key (`-` reads
        /// standard input).
        #[arg(long, value_name = "FILE")]
        from_dotenv: Option<String>,
        /// Key-value pairs, as --KEY=VALUE.
        #[arg(
            value_name = "--KEY=VALUE",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        pairs: Vec<String>,
    },
    /// Show a secret's keys and values.
    Get {
        /// The secret's name.
        name: String,
        /// Print only this key's value.
        #[arg(short, long)]
        key: Option<String>,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = SecretFormat::Table)]
        output: SecretFormat,
    },
    /// List secret names.
    List {
        #[command(flatten)]
        output: OutputArg,
    },
    /// Set (add or replace) and remove keys of a secret.
    Update {
        /// The secret's name.
        name: String,
        /// Ask for keys and values (values are not echoed).
        #[arg(short, long)]
        interactive: bool,
        /// Keys to remove.
        #[arg(long = "remove-key", value_name = "KEY")]
        remove: Vec<String>,
        /// Key-value pairs to set, as --KEY=VALUE.
        #[arg(
            value_name = "--KEY=VALUE",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        pairs: Vec<String>,
    },
    /// Import the secrets of a ZenML local secrets manager's file
    /// (secrets.yaml) into this secrets manager.
    Import {
        /// ZenML's secrets.yaml.
        file: std::path::PathBuf,
        /// The secrets to import (default: all of them).
        names: Vec<String>,
        /// Say what would be imported and skipped, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Copy secrets into another secrets manager (one a stack need not use).
    Copy(CopyArgs),
    /// Copy secrets into another secrets manager, read every copy back and
    /// compare it key by key; with --delete-source, then delete the source.
    Migrate {
        #[command(flatten)]
        copy: CopyArgs,
        /// Delete each secret from this secrets manager once its copy
        /// verified.
        #[arg(long)]
        delete_source: bool,
    },
    /// Give a secret another name (written under the new name, then
    /// deleted under the old one).
    Rename {
        /// The secret's name.
        name: String,
        /// Its new name.
        #[arg(required_unless_present = "new_name_option")]
        new_name: Option<String>,
        /// Its new name, as ZenML's `--new-name` / `-n`.
        #[arg(short = 'n', long = "new-name", conflicts_with = "new_name")]
        new_name_option: Option<String>,
    },
    /// Delete a secret.
    Delete {
        /// The secret's name.
        name: String,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
    /// Delete every secret of the secrets manager (ZenML: `cleanup`).
    #[command(name = "delete-all", alias = "cleanup")]
    DeleteAll {
        /// Do not ask for confirmation.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct StackArgs {
    #[command(subcommand)]
    pub(crate) command: StackCommand,
}

/// The components of a stack, with ZenML's short flags.
#[derive(Debug, Args, Default)]
pub(crate) struct StackComponents {
    /// Orchestrator.
    #[arg(short = 'o', long)]
    pub(crate) orchestrator: Option<String>,
    /// Artifact store.
    #[arg(short = 'a', long = "artifact-store")]
    pub(crate) artifact_store: Option<String>,
    /// Secrets manager.
    #[arg(short = 'x', long = "secrets-manager")]
    pub(crate) secrets_manager: Option<String>,
    /// Experiment tracker.
    #[arg(short = 'e', long = "experiment-tracker")]
    pub(crate) experiment_tracker: Option<String>,
    /// Container registry.
    #[arg(short = 'c', long = "container-registry")]
    pub(crate) container_registry: Option<String>,
    /// Model deployer.
    #[arg(short = 'd', long = "model-deployer")]
    pub(crate) model_deployer: Option<String>,
    /// Step operator.
    #[arg(short = 's', long = "step-operator")]
    pub(crate) step_operator: Option<String>,
    /// Alerter (also -al).
    #[arg(long)]
    pub(crate) alerter: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum StackCommand {
    /// Register a stack from components.
    Register {
        /// The stack's name.
        name: String,
        #[command(flatten)]
        components: StackComponents,
        /// Make it the active stack.
        #[arg(long)]
        set: bool,
    },
    /// List stacks.
    List {
        #[command(flatten)]
        output: OutputArg,
    },
    /// Show a stack (the active one by default).
    Describe {
        /// The stack's name.
        name: Option<String>,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Make a stack the active one.
    Set {
        /// The stack's name.
        name: String,
    },
    /// Replace components of a stack.
    Update {
        /// The stack's name.
        name: String,
        #[command(flatten)]
        components: StackComponents,
        /// Component types to take out of the stack (e.g. experiment-tracker).
        #[arg(long = "remove", value_name = "TYPE")]
        remove: Vec<String>,
    },
    /// Delete a stack (not its components).
    Delete {
        /// The stack's name.
        name: String,
        /// Accepted as ZenML's `-y`; deleting a stack asks nothing.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
    /// Check a stack's components and secret references.
    Validate {
        /// The stack's name (default: the active stack).
        name: Option<String>,
        /// Override KEYSTACK_SECRET_VALIDATION_LEVEL.
        #[arg(long)]
        level: Option<String>,
    },
    /// Write a stack and its components to one YAML file.
    Export {
        /// The stack's name.
        name: String,
        /// The file to write (default: NAME.yaml; `-`: standard output).
        file: Option<std::path::PathBuf>,
        /// `keystack` (the stack and its components, for `stack import`), or
        /// `external-secrets` (External Secrets Operator manifests: a
        /// SecretStore and an ExternalSecret per component with references).
        #[arg(long, value_enum, default_value_t = ExportFormat::Keystack)]
        format: ExportFormat,
    },
    /// Register a stack and its components from an exported file.
    Import {
        /// The file to read.
        file: std::path::PathBuf,
        /// Register the stack under this name instead.
        #[arg(long)]
        name: Option<String>,
    },
    /// Ask for every missing secret and key the stack refers to, and register them.
    #[command(name = "register-secrets")]
    RegisterSecrets {
        /// The stack's name (default: the active stack).
        name: Option<String>,
        /// Leave secrets that already exist alone, even when keys are missing.
        #[arg(long)]
        skip_existing: bool,
    },
}

/// What `secret copy` and `secret migrate` move where.
#[derive(Debug, Args)]
pub(crate) struct CopyArgs {
    /// The secrets-manager component to copy into.
    #[arg(long, value_name = "SECRETS_MANAGER")]
    pub(crate) to: String,
    /// The secrets to copy.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub(crate) names: Vec<String>,
    /// Copy every secret of this secrets manager.
    #[arg(long)]
    pub(crate) all: bool,
    /// Say what would be copied, and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The stack to run on (default: the active stack).
    #[arg(long)]
    pub(crate) stack: Option<String>,
    /// Do not print which project and stack the command runs on.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Show secret values in the command's output instead of masking them.
    #[arg(long)]
    pub(crate) no_masking: bool,
    /// Also set NAME to TEMPLATE rendered through the stack (repeatable), e.g.
    /// 'DATABASE_URL=postgres://{{db.user}}:{{db.password}}@db:5432/ml'.
    #[arg(long = "env", value_name = "NAME=TEMPLATE")]
    pub(crate) env: Vec<String>,
    /// Also set the variables of a dotenv file, whose values may hold
    /// references (repeatable; `--env` wins over it).
    #[arg(long = "env-file", value_name = "FILE")]
    pub(crate) env_file: Vec<std::path::PathBuf>,
    /// Write TEMPLATE rendered into a private file (0600, in a 0700 folder,
    /// removed when the command ends) and set NAME to its path (repeatable).
    #[arg(long = "file", value_name = "NAME=TEMPLATE")]
    pub(crate) file: Vec<String>,
    /// Only these components (by type or name; repeatable or comma-separated):
    /// nothing else is validated, fetched or given to the command.
    #[arg(long, value_delimiter = ',', value_name = "COMPONENT")]
    pub(crate) only: Vec<String>,
    /// Print a `::add-mask::` line for each secret value before the command
    /// runs, so that the CI runner masks them in its log (on under GitHub
    /// Actions, where GITHUB_ACTIONS=true).
    #[arg(long)]
    pub(crate) ci_mask: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub(crate) command: Vec<std::ffi::OsString>,
}

/// What `stack export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// Keystack's own format, which `stack import` reads.
    Keystack,
    /// External Secrets Operator manifests for Kubernetes.
    ExternalSecrets,
}

#[derive(Debug, Args)]
pub(crate) struct InjectArgs {
    /// The template: any text file whose `{{secret.key}}` references are
    /// rendered (`-` for standard input).
    #[arg(short = 'i', long = "in", value_name = "TEMPLATE")]
    pub(crate) input: std::path::PathBuf,
    /// Write here (mode 0600) instead of standard output.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub(crate) output: Option<std::path::PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub(crate) force: bool,
    /// The stack whose secrets manager the secrets come from (default: the active stack).
    #[arg(long)]
    pub(crate) stack: Option<String>,
}

#[derive(Debug, Args, Clone, Copy)]
pub(crate) struct OutputArg {
    /// Output format.
    #[arg(short, long = "output", value_enum, default_value_t = Format::Table)]
    pub(crate) output: Format,
}

/// How data is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for people.
    Table,
    /// JSON for scripts.
    Json,
    /// YAML for scripts.
    Yaml,
}

/// How a secret is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SecretFormat {
    /// Aligned columns for people.
    Table,
    /// JSON object of the key-values.
    Json,
    /// YAML mapping of the key-values.
    Yaml,
    /// KEY='VALUE' lines for `eval` in a POSIX shell (keys must be
    /// variable names).
    Env,
    /// A `.env` file that python-dotenv and a POSIX shell read back alike.
    Dotenv,
}

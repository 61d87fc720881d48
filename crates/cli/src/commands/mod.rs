//! The commands, one module per family. Each checks its input, calls the
//! libraries and prints; what they share is in [`crate::context`].

mod components;
mod copy;
mod init;
mod run;
mod secrets;
#[cfg(feature = "local")]
mod shared_store;
mod stacks;

use keystack_stack::ComponentType;

use crate::args::{Cli, Command, ComponentCommand, SecretsManagerCommand};
use crate::context::project;
use crate::error::CliError;

/// Runs the command; the result is the process exit code.
pub(crate) async fn dispatch(cli: Cli) -> Result<u8, CliError> {
    let component = |t: ComponentType, c: ComponentCommand| (t, c);
    let (component_type, command) = match cli.command {
        Command::Init => return init::init(),
        Command::Completion { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "keystack", &mut std::io::stdout());
            return Ok(0);
        }
        Command::SecretsManager(args) => match args.command {
            SecretsManagerCommand::Secret(secret) => {
                return secrets::secret_command(secret.command).await;
            }
            SecretsManagerCommand::AdoptSharedStore {
                names,
                keep,
                dry_run,
            } => {
                #[cfg(feature = "local")]
                return shared_store::adopt(&project()?, &names, keep, dry_run).await;
                #[cfg(not(feature = "local"))]
                {
                    let _ = (names, keep, dry_run);
                    return Err(CliError::usage(
                        "this keystack was built without the local backend".to_owned(),
                    ));
                }
            }
            SecretsManagerCommand::Component(c) => component(ComponentType::SecretsManager, c),
        },
        Command::Orchestrator(a) => component(ComponentType::Orchestrator, a.command),
        Command::ArtifactStore(a) => component(ComponentType::ArtifactStore, a.command),
        Command::ExperimentTracker(a) => component(ComponentType::ExperimentTracker, a.command),
        Command::ContainerRegistry(a) => component(ComponentType::ContainerRegistry, a.command),
        Command::ModelDeployer(a) => component(ComponentType::ModelDeployer, a.command),
        Command::StepOperator(a) => component(ComponentType::StepOperator, a.command),
        Command::Alerter(a) => component(ComponentType::Alerter, a.command),
        Command::Stack(args) => return stacks::stack_command(args.command).await,
        Command::Run(args) => return run::run(&project()?, args).await,
        Command::Inject(args) => return run::inject(&project()?, args).await,
    };
    components::component_command(&project()?, component_type, command).await
}

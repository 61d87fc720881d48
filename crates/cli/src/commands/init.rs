//! `keystack init`.

use keystack_stack::Project;

use crate::context::{cwd, env, status};
use crate::error::CliError;

pub(super) fn init() -> Result<u8, CliError> {
    let dir = cwd()?;
    let project = Project::init(&dir, &env)?;
    status(&format!(
        "Initialized a Keystack project in {} with the active stack 'default' \
         (local orchestrator, artifact store and secrets manager).",
        project.root().display()
    ));
    Ok(0)
}

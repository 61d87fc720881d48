//! Where components and stacks live: a project folder (`.keystack/`, found
//! by walking up from the current directory) or, outside any project, the
//! user's config directory. One YAML file per component and per stack.
//!
//! ```text
//! .keystack/
//!   id                                the project's id: 32 hex digits, made by `init`
//!   config.yaml                       active_stack: default
//!   components/<type>/<name>.yaml
//!   stacks/<name>.yaml
//!   flavors/*.yaml                    user flavors (optional)
//! ```

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::flavor::{Catalog, ComponentType};
use crate::trust::{self, Trust};
use crate::{AttributeValue, Component, Stack, check_name};
use crate::{StackError, did_you_mean, yaml};

/// The project folder's name.
pub const PROJECT_DIR: &str = ".keystack";
/// Overrides the config directory used outside a project.
pub const CONFIG_DIR_ENV: &str = "KEYSTACK_CONFIG_DIR";
/// Overrides the data directory (default home of the local secrets store).
pub const DATA_DIR_ENV: &str = "KEYSTACK_DATA_DIR";
/// Names the stack to use instead of the active one.
pub const STACK_ENV: &str = "KEYSTACK_STACK";
/// The file in the project folder holding the project's id.
pub const ID_FILE: &str = "id";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    active_stack: Option<String>,
}

/// A stack with its components loaded.
#[derive(Debug, Clone)]
pub struct LoadedStack {
    /// The stack.
    pub stack: Stack,
    /// Its components, in component-type order.
    pub components: Vec<Component>,
}

impl LoadedStack {
    /// The component of one type, if the stack has one.
    pub fn component(&self, component_type: ComponentType) -> Option<&Component> {
        self.components
            .iter()
            .find(|c| c.component_type == component_type)
    }
}

/// The place components and stacks are kept.
#[derive(Debug, Clone)]
pub struct Project {
    root: PathBuf,
    data_dir: PathBuf,
    catalog: Catalog,
    /// The user's trust list; `None` once it covers this project.
    trust: Option<Trust>,
}

/// The user's config directory: `KEYSTACK_CONFIG_DIR`, else
/// `$XDG_CONFIG_HOME/keystack`, else `~/.config/keystack`.
pub fn user_config_dir(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    env_dir(env, CONFIG_DIR_ENV)
        .or_else(|| env_dir(env, "XDG_CONFIG_HOME").map(|d| d.join("keystack")))
        .or_else(|| home(env).map(|h| h.join(".config/keystack")))
}

fn home(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    env("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

fn env_dir(env: &dyn Fn(&str) -> Option<OsString>, name: &str) -> Option<PathBuf> {
    env(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

impl Project {
    /// Finds the project for `cwd`: the nearest `.keystack/` at or above it,
    /// else the user's config directory (`KEYSTACK_CONFIG_DIR`, else
    /// `$XDG_CONFIG_HOME/keystack`, else `~/.config/keystack`).
    pub fn discover(
        cwd: &Path,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Self, StackError> {
        let root = cwd
            .ancestors()
            .map(|dir| dir.join(PROJECT_DIR))
            .find(|candidate| candidate.is_dir())
            .or_else(|| user_config_dir(env))
            .ok_or_else(|| StackError::Invalid {
                file: cwd.to_owned(),
                message: format!(
                    "no {PROJECT_DIR} folder here or above, and no home directory; run `keystack init` or set {CONFIG_DIR_ENV}"
                ),
            })?;
        Self::open(root, env)
    }

    /// Opens the project kept in `root`, loading user flavors from `root/flavors/`.
    ///
    /// The folder, and every file read from it later, must be the user's
    /// own (or root's) and not writable by group or others, unless the
    /// user's trust list names the project (see [`crate::trust`]).
    pub fn open(root: PathBuf, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Self, StackError> {
        let data_dir = env_dir(env, DATA_DIR_ENV)
            .or_else(|| env_dir(env, "XDG_DATA_HOME").map(|d| d.join("keystack")))
            .or_else(|| home(env).map(|h| h.join(".local/share/keystack")))
            .unwrap_or_else(|| root.join("data"));
        let trust = Trust::load(user_config_dir(env))?;
        let mut project = Self {
            trust: (!trust.covers(&root)).then_some(trust),
            root,
            data_dir,
            catalog: Catalog::builtin(),
        };
        project.check(&project.root)?;
        for file in project.yaml_files(&project.root.join("flavors"))? {
            let text = project.read(&file)?;
            project.catalog.add_yaml(&text, &file)?;
        }
        Ok(project)
    }

    /// Refuses `path` if another user may have put it there or changed it.
    fn check(&self, path: &Path) -> Result<(), StackError> {
        match &self.trust {
            Some(trust) => trust::check(path, trust),
            None => Ok(()),
        }
    }

    /// Reads a file of the project, once it is checked.
    fn read(&self, path: &Path) -> Result<String, StackError> {
        self.check(path)?;
        yaml::read_file(path)
    }

    /// The `.yaml` files of a folder of the project, sorted.
    fn yaml_files(&self, dir: &Path) -> Result<Vec<PathBuf>, StackError> {
        self.check(dir)?;
        yaml_files(dir)
    }

    /// Creates `dir/.keystack` with a `default` stack (local orchestrator,
    /// artifact store and secrets manager), made active. Fails if it exists.
    pub fn init(dir: &Path, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Self, StackError> {
        let root = dir.join(PROJECT_DIR);
        if root.exists() {
            return Err(StackError::Invalid {
                file: root,
                message: "a Keystack project is already initialized here".to_owned(),
            });
        }
        create_private_dir_all(&root).map_err(|e| StackError::io("create", &root, e))?;
        let project = Self::open(root, env)?;
        project.id()?;
        let mut stack = Stack {
            name: "default".to_owned(),
            components: BTreeMap::new(),
        };
        for (component_type, flavor) in [
            (ComponentType::Orchestrator, "local"),
            (ComponentType::ArtifactStore, "local"),
            (ComponentType::SecretsManager, "local"),
        ] {
            project.save_component(
                &Component {
                    component_type,
                    name: "default".to_owned(),
                    flavor: flavor.to_owned(),
                    attributes: BTreeMap::<String, AttributeValue>::new(),
                },
                true,
            )?;
            stack
                .components
                .insert(component_type, "default".to_owned());
        }
        project.save_stack(&stack, true)?;
        project.set_active_stack("default")?;
        Ok(project)
    }

    /// The folder holding the project's files.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The data directory of this user (`KEYSTACK_DATA_DIR`, else
    /// `$XDG_DATA_HOME/keystack`, else `~/.local/share/keystack`), shared by
    /// every project: each keeps its data in a folder of its own under it,
    /// see [`Project::component_data_dir`].
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The project's id, which keys its data on this machine: 32 hex digits
    /// kept in `.keystack/id`. `init` makes it; a project made by an earlier
    /// Keystack gets one the first time it is asked for. Two processes
    /// asking at once agree on one (the file is created exclusively).
    pub fn id(&self) -> Result<String, StackError> {
        let path = self.root.join(ID_FILE);
        if let Some(id) = self.read_id(&path)? {
            return Ok(id);
        }
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|e| StackError::Invalid {
            file: path.clone(),
            message: format!("no randomness for a project id: {e}"),
        })?;
        let id: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let (tmp, mut file) =
            create_temporary(&self.root, ID_FILE).map_err(|e| StackError::io("write", &path, e))?;
        let written = file
            .write_all(format!("{id}\n").as_bytes())
            .and_then(|()| file.sync_all())
            // A link, unlike a rename, fails if another process made the id first.
            .and_then(|()| fs::hard_link(&tmp, &path));
        let _ = fs::remove_file(&tmp);
        match written {
            Ok(()) => Ok(id),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => self
                .read_id(&path)?
                .ok_or_else(|| StackError::io("read", &path, e)),
            Err(e) => Err(StackError::io("write", &path, e)),
        }
    }

    fn read_id(&self, path: &Path) -> Result<Option<String>, StackError> {
        if fs::symlink_metadata(path).is_err() {
            return Ok(None);
        }
        let text = self.read(path)?;
        let id = text.trim_end_matches('\n');
        if id.len() == 32
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Some(id.to_owned()))
        } else {
            Err(StackError::Invalid {
                file: path.to_owned(),
                message:
                    "is not a project id (32 lowercase hex digits); restore it from a backup, \
                          or delete it to give the project a new id (and new, empty local stores)"
                        .to_owned(),
            })
        }
    }

    /// The folder where a component of this project keeps data on this
    /// machine (the default store of a `local` secrets manager):
    /// `<data dir>/projects/<project id>/<type>/<name>`. No other component,
    /// of this project or another, is given the same folder.
    pub fn component_data_dir(
        &self,
        component_type: ComponentType,
        name: &str,
    ) -> Result<PathBuf, StackError> {
        Ok(self
            .data_dir
            .join("projects")
            .join(self.id()?)
            .join(component_type.as_str())
            .join(name))
    }

    /// The flavor catalog, built-in plus the project's own.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn component_path(&self, component_type: ComponentType, name: &str) -> PathBuf {
        self.root
            .join("components")
            .join(component_type.as_str())
            .join(format!("{name}.yaml"))
    }

    fn stack_path(&self, name: &str) -> PathBuf {
        self.root.join("stacks").join(format!("{name}.yaml"))
    }

    /// Every component of one type, sorted by name.
    pub fn components(&self, component_type: ComponentType) -> Result<Vec<Component>, StackError> {
        let dir = self.root.join("components").join(component_type.as_str());
        self.yaml_files(&dir)?
            .into_iter()
            .map(|file| self.read_component(&file, component_type))
            .collect()
    }

    fn read_component(
        &self,
        file: &Path,
        component_type: ComponentType,
    ) -> Result<Component, StackError> {
        let component: Component = yaml::parse(&self.read(file)?, file)?;
        let expected = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if component.component_type != component_type || component.name != expected {
            return Err(StackError::Invalid {
                file: file.to_owned(),
                message: format!(
                    "the file describes {} '{}' but its place says {component_type} '{expected}'",
                    component.component_type, component.name
                ),
            });
        }
        Ok(component)
    }

    /// One component.
    pub fn component(
        &self,
        component_type: ComponentType,
        name: &str,
    ) -> Result<Component, StackError> {
        let file = self.component_path(component_type, name);
        if check_name("component name", name).is_err() || !file.is_file() {
            let names: Vec<String> = self
                .components(component_type)?
                .into_iter()
                .map(|c| c.name)
                .collect();
            return Err(StackError::ComponentNotFound {
                component_type,
                name: name.to_owned(),
                hint: did_you_mean(name, names.iter().map(String::as_str)),
            });
        }
        self.read_component(&file, component_type)
    }

    /// Checks `component` against its flavor and writes it atomically.
    /// `create` refuses an existing name; otherwise the component must exist.
    pub fn save_component(
        &self,
        component: &Component,
        create: bool,
    ) -> Result<Vec<crate::Warning>, StackError> {
        let warnings = component.check(&self.catalog)?;
        let path = self.component_path(component.component_type, &component.name);
        match (create, path.exists()) {
            (true, true) => {
                return Err(StackError::ComponentExists {
                    component_type: component.component_type,
                    name: component.name.clone(),
                });
            }
            (false, false) => {
                self.component(component.component_type, &component.name)?;
            }
            _ => {}
        }
        write_atomic(&path, &yaml::to_string(component))?;
        Ok(warnings)
    }

    /// Removes a component that no stack uses.
    pub fn remove_component(
        &self,
        component_type: ComponentType,
        name: &str,
    ) -> Result<(), StackError> {
        self.component(component_type, name)?;
        let users: Vec<String> = self
            .stacks()?
            .into_iter()
            .filter(|s| s.components.get(&component_type).is_some_and(|n| n == name))
            .map(|s| s.name)
            .collect();
        if !users.is_empty() {
            return Err(StackError::ComponentInUse {
                component_type,
                name: name.to_owned(),
                stacks: users.join(", "),
            });
        }
        let path = self.component_path(component_type, name);
        fs::remove_file(&path).map_err(|e| StackError::io("remove", &path, e))
    }

    /// Every stack, sorted by name.
    pub fn stacks(&self) -> Result<Vec<Stack>, StackError> {
        self.yaml_files(&self.root.join("stacks"))?
            .into_iter()
            .map(|file| yaml::parse(&self.read(&file)?, &file))
            .collect()
    }

    /// One stack.
    pub fn stack(&self, name: &str) -> Result<Stack, StackError> {
        let file = self.stack_path(name);
        if check_name("stack name", name).is_err() || !file.is_file() {
            let names: Vec<String> = self.stacks()?.into_iter().map(|s| s.name).collect();
            return Err(StackError::StackNotFound {
                name: name.to_owned(),
                hint: did_you_mean(name, names.iter().map(String::as_str)),
            });
        }
        yaml::parse(&self.read(&file)?, &file)
    }

    /// Checks that every component of `stack` exists and writes it atomically.
    pub fn save_stack(&self, stack: &Stack, create: bool) -> Result<(), StackError> {
        check_name("stack name", &stack.name)?;
        for (component_type, name) in &stack.components {
            self.component(*component_type, name)?;
        }
        let path = self.stack_path(&stack.name);
        match (create, path.exists()) {
            (true, true) => {
                return Err(StackError::StackExists {
                    name: stack.name.clone(),
                });
            }
            (false, false) => {
                self.stack(&stack.name)?;
            }
            _ => {}
        }
        write_atomic(&path, &yaml::to_string(stack))
    }

    /// Deletes a stack that is not active.
    pub fn delete_stack(&self, name: &str) -> Result<(), StackError> {
        self.stack(name)?;
        if self.active_stack_name()?.as_deref() == Some(name) {
            return Err(StackError::StackActive {
                name: name.to_owned(),
            });
        }
        let path = self.stack_path(name);
        fs::remove_file(&path).map_err(|e| StackError::io("remove", &path, e))
    }

    fn config(&self) -> Result<ProjectConfig, StackError> {
        let file = self.root.join("config.yaml");
        if !file.is_file() {
            return Ok(ProjectConfig::default());
        }
        yaml::parse(&self.read(&file)?, &file)
    }

    /// The active stack's name, if one is set.
    pub fn active_stack_name(&self) -> Result<Option<String>, StackError> {
        Ok(self.config()?.active_stack)
    }

    /// Makes `name` the active stack.
    pub fn set_active_stack(&self, name: &str) -> Result<(), StackError> {
        self.stack(name)?;
        let mut config = self.config()?;
        config.active_stack = Some(name.to_owned());
        write_atomic(&self.root.join("config.yaml"), &yaml::to_string(&config))
    }

    /// The stack to use: `name` if given, else the active one.
    pub fn select_stack(&self, name: Option<&str>) -> Result<LoadedStack, StackError> {
        let name = match name {
            Some(name) => name.to_owned(),
            None => self.active_stack_name()?.ok_or(StackError::NoActiveStack)?,
        };
        self.load_stack(&name)
    }

    /// A stack with its components.
    pub fn load_stack(&self, name: &str) -> Result<LoadedStack, StackError> {
        let stack = self.stack(name)?;
        let components = stack
            .components
            .iter()
            .map(|(t, n)| self.component(*t, n))
            .collect::<Result<_, _>>()?;
        Ok(LoadedStack { stack, components })
    }
}

/// The `.yaml` files directly in `dir`, sorted; none if `dir` does not exist.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, StackError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StackError::io("list", dir, e)),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Creates `dir` and its missing parents readable by the owner only (0700
/// on Unix); folders that exist are left as they are.
pub fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes `text` to `path` through a temporary file and a rename, so a
/// reader sees the old file or the new one, never half of one. New folders
/// are 0700 and the file 0600: Keystack's files are the owner's alone.
///
/// The temporary file is created exclusively (`O_CREAT | O_EXCL`: never
/// through a symlink, never an existing file) under an unpredictable name in
/// the target's folder, so a file planted in a shared folder cannot redirect
/// the write; the rename replaces `path` itself, not what a symlink there
/// points to.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), StackError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir_all(dir).map_err(|e| StackError::io("create", dir, e))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let (tmp, mut file) =
        create_temporary(dir, name).map_err(|e| StackError::io("write", path, e))?;
    let result = (|| {
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|e| StackError::io("write", path, e))
}

/// A new file `.NAME.RANDOM.tmp` in `dir`, created exclusively (0600), with
/// a fresh random name on each of a few tries if one is taken.
fn create_temporary(dir: &Path, name: &str) -> std::io::Result<(PathBuf, fs::File)> {
    let mut last = None;
    for _ in 0..16 {
        let mut random = [0u8; 12];
        getrandom::fill(&mut random).map_err(|e| std::io::Error::other(e.to_string()))?;
        let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = dir.join(format!(".{name}.{suffix}.tmp"));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

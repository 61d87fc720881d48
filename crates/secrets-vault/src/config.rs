//! Configuration of the Vault / OpenBao backend: typed, with unknown keys
//! rejected, credentials never printed.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use keystack_secrets_core::{Error, SecretName};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::{FLAVOR, VaultSecretsManager};

/// How the backend logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A token: given, from `VAULT_TOKEN`/`BAO_TOKEN`, or from a token file.
    Token,
    /// AppRole: a role ID and a secret ID, exchanged for a token on first use.
    Approle,
}

impl FromStr for AuthMethod {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "token" => Ok(Self::Token),
            "approle" => Ok(Self::Approle),
            other => Err(invalid(format!(
                "auth_method must be token or approle, not {other:?}"
            ))),
        }
    }
}

/// Settings of the Vault backend, as in a secrets manager component's YAML.
/// No credential is a setting: tokens and secret IDs come from the
/// environment or from files.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// The server, e.g. `https://vault.example.com:8200`.
    pub url: String,
    /// Where the KV v2 engine is mounted (default `secret`).
    #[serde(default)]
    pub mount_point: Option<String>,
    /// The folder Keystack keeps its entries in (default `keystack`).
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Keeps this manager's secrets apart from other managers in the same
    /// mount: entries live under `<path_prefix>/<namespace>/`.
    #[serde(default)]
    pub namespace: Option<String>,
    /// A Vault Enterprise / OpenBao namespace (the `X-Vault-Namespace` header).
    #[serde(default)]
    pub vault_namespace: Option<String>,
    /// `token` (default) or `approle`.
    #[serde(default)]
    pub auth_method: Option<AuthMethod>,
    /// A file holding the token (default `~/.vault-token`, read when no
    /// token variable is set).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Where the AppRole auth method is mounted (default `approle`).
    #[serde(default)]
    pub approle_mount: Option<String>,
    /// The AppRole role ID (else `VAULT_ROLE_ID` / `BAO_ROLE_ID`).
    #[serde(default)]
    pub role_id: Option<String>,
    /// A file holding the AppRole secret ID (else `VAULT_SECRET_ID` / `BAO_SECRET_ID`).
    #[serde(default)]
    pub secret_id_file: Option<PathBuf>,
    /// Seconds before one request is abandoned (default 30).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    /// Attempts per call for transient failures, retries included (default 3).
    #[serde(default)]
    pub max_attempts: Option<u32>,
}

impl VaultConfig {
    pub(crate) fn mount(&self) -> &str {
        self.mount_point.as_deref().unwrap_or("secret")
    }

    /// The folder of this manager's entries, without a trailing `/`.
    pub(crate) fn folder(&self) -> String {
        let prefix = self.path_prefix.as_deref().unwrap_or("keystack");
        match &self.namespace {
            Some(ns) => format!("{prefix}/{ns}"),
            None => prefix.to_owned(),
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.unwrap_or(30))
    }

    pub(crate) fn max_attempts(&self) -> u32 {
        self.max_attempts.unwrap_or(3)
    }
}

/// The keys of [`VaultConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VaultConfigKey {
    /// [`VaultConfig::url`].
    Url,
    /// [`VaultConfig::mount_point`].
    MountPoint,
    /// [`VaultConfig::path_prefix`].
    PathPrefix,
    /// [`VaultConfig::namespace`].
    Namespace,
    /// [`VaultConfig::vault_namespace`].
    VaultNamespace,
    /// [`VaultConfig::auth_method`].
    AuthMethod,
    /// [`VaultConfig::token_file`].
    TokenFile,
    /// [`VaultConfig::approle_mount`].
    ApproleMount,
    /// [`VaultConfig::role_id`].
    RoleId,
    /// [`VaultConfig::secret_id_file`].
    SecretIdFile,
    /// [`VaultConfig::timeout_seconds`].
    TimeoutSeconds,
    /// [`VaultConfig::max_attempts`].
    MaxAttempts,
}

const KEYS: &str = "url, mount_point, path_prefix, namespace, vault_namespace, auth_method, \
                    token_file, approle_mount, role_id, secret_id_file, timeout_seconds, max_attempts";

pub(crate) fn invalid(message: String) -> Error {
    Error::InvalidConfig {
        backend: FLAVOR,
        message,
    }
}

impl FromStr for VaultConfigKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "url" => Self::Url,
            "mount_point" => Self::MountPoint,
            "path_prefix" => Self::PathPrefix,
            "namespace" => Self::Namespace,
            "vault_namespace" => Self::VaultNamespace,
            "auth_method" => Self::AuthMethod,
            "token_file" => Self::TokenFile,
            "approle_mount" => Self::ApproleMount,
            "role_id" => Self::RoleId,
            "secret_id_file" => Self::SecretIdFile,
            "timeout_seconds" => Self::TimeoutSeconds,
            "max_attempts" => Self::MaxAttempts,
            other => {
                return Err(invalid(format!(
                    "unknown setting {other:?}; known settings are {KEYS}"
                )));
            }
        })
    }
}

/// A credential; `Debug` never shows it, and it is wiped when dropped.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Credential(pub(crate) Zeroizing<String>);

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "<none>"
        } else {
            "******"
        })
    }
}

/// How the manager logs in, resolved at build time.
#[derive(Debug, Clone)]
pub(crate) enum Login {
    Token(Credential),
    Approle {
        mount: String,
        role_id: String,
        secret_id: Credential,
    },
}

/// Builds a [`VaultSecretsManager`].
#[derive(Debug, Clone, Default)]
pub struct VaultBuilder {
    url: Option<String>,
    mount_point: Option<String>,
    path_prefix: Option<String>,
    namespace: Option<String>,
    vault_namespace: Option<String>,
    auth_method: Option<AuthMethod>,
    token: Option<Credential>,
    token_file: Option<PathBuf>,
    approle_mount: Option<String>,
    role_id: Option<String>,
    secret_id: Option<Credential>,
    secret_id_file: Option<PathBuf>,
    timeout_seconds: Option<u64>,
    max_attempts: Option<u32>,
    home: Option<PathBuf>,
}

impl VaultBuilder {
    /// A builder with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder from the standard variables, `VAULT_` first, then the
    /// `BAO_` equivalents: `_ADDR`, `_TOKEN`, `_NAMESPACE`, `_ROLE_ID`,
    /// `_SECRET_ID`; `HOME` for `~/.vault-token`.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`VaultBuilder::from_env`] over any variable lookup.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |suffix: &str| {
            lookup(&format!("VAULT_{suffix}"))
                .filter(|v| !v.is_empty())
                .or_else(|| lookup(&format!("BAO_{suffix}")).filter(|v| !v.is_empty()))
        };
        Self {
            url: var("ADDR"),
            token: var("TOKEN").map(|t| Credential(Zeroizing::new(t))),
            vault_namespace: var("NAMESPACE"),
            role_id: var("ROLE_ID"),
            secret_id: var("SECRET_ID").map(|t| Credential(Zeroizing::new(t))),
            home: lookup("HOME").filter(|h| !h.is_empty()).map(PathBuf::from),
            ..Self::default()
        }
    }

    /// Sets the server.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Logs in with this token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Credential(Zeroizing::new(token.into())));
        self.auth_method = Some(AuthMethod::Token);
        self
    }

    /// Logs in with AppRole.
    pub fn with_approle(
        mut self,
        role_id: impl Into<String>,
        secret_id: impl Into<String>,
    ) -> Self {
        self.role_id = Some(role_id.into());
        self.secret_id = Some(Credential(Zeroizing::new(secret_id.into())));
        self.auth_method = Some(AuthMethod::Approle);
        self
    }

    /// Sets the KV v2 mount.
    pub fn with_mount_point(mut self, mount: impl Into<String>) -> Self {
        self.mount_point = Some(mount.into());
        self
    }

    /// Sets the folder Keystack keeps its entries in.
    pub fn with_path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Sets the Keystack namespace.
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Sets the attempts per call.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout_seconds = Some(timeout.as_secs().max(1));
        self
    }

    /// Sets one setting from text, as written in a component.
    pub fn with_config(mut self, key: VaultConfigKey, value: &str) -> Result<Self, Error> {
        let number = |what: &str| invalid(format!("{what} must be a whole number, not {value:?}"));
        let text = Some(value.to_owned());
        match key {
            VaultConfigKey::Url => self.url = text,
            VaultConfigKey::MountPoint => self.mount_point = text,
            VaultConfigKey::PathPrefix => self.path_prefix = text,
            VaultConfigKey::Namespace => self.namespace = text,
            VaultConfigKey::VaultNamespace => self.vault_namespace = text,
            VaultConfigKey::AuthMethod => self.auth_method = Some(value.parse()?),
            VaultConfigKey::TokenFile => self.token_file = Some(value.into()),
            VaultConfigKey::ApproleMount => self.approle_mount = text,
            VaultConfigKey::RoleId => self.role_id = text,
            VaultConfigKey::SecretIdFile => self.secret_id_file = Some(value.into()),
            VaultConfigKey::TimeoutSeconds => {
                self.timeout_seconds = Some(value.parse().map_err(|_| number("timeout_seconds"))?)
            }
            VaultConfigKey::MaxAttempts => {
                self.max_attempts = Some(value.parse().map_err(|_| number("max_attempts"))?)
            }
        }
        Ok(self)
    }

    /// Checks the settings, reads the credential files, and makes the
    /// manager. Nothing is sent to the server until the first call.
    pub fn build(self) -> Result<VaultSecretsManager, Error> {
        let url = self.url.filter(|u| !u.is_empty()).ok_or_else(|| {
            invalid("set url (or VAULT_ADDR), e.g. https://vault.example.com:8200".into())
        })?;
        let parsed =
            url::Url::parse(&url).map_err(|e| invalid(format!("url {url:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(invalid(format!(
                "url {url:?} must be http:// or https:// with a host"
            )));
        }
        for (what, value) in [
            ("mount_point", &self.mount_point),
            ("path_prefix", &self.path_prefix),
            ("approle_mount", &self.approle_mount),
        ] {
            if let Some(path) = value {
                check_path(what, path)?;
            }
        }
        if let Some(ns) = &self.namespace {
            SecretName::validate(ns).map_err(|e| invalid(format!("namespace: {}", e.problem())))?;
        }
        if let Some(ns) = &self.vault_namespace {
            check_path("vault_namespace", ns.trim_end_matches('/'))?;
        }
        if self.max_attempts == Some(0) {
            return Err(invalid("max_attempts must be at least 1".into()));
        }
        if self.timeout_seconds == Some(0) {
            return Err(invalid("timeout_seconds must be at least 1".into()));
        }
        let method = self.auth_method.unwrap_or(AuthMethod::Token);
        let login = match method {
            AuthMethod::Token => {
                let token = match self.token {
                    Some(token) => token,
                    None => {
                        let file = self
                            .token_file
                            .clone()
                            .or_else(|| self.home.as_ref().map(|h| h.join(".vault-token")))
                            .filter(|f| self.token_file.is_some() || f.exists())
                            .ok_or_else(|| {
                                invalid(
                                    "no Vault token: set VAULT_TOKEN (or BAO_TOKEN), set token_file, \
                                     log in with `vault login` / `bao login` (which writes ~/.vault-token), \
                                     or use auth_method approle"
                                        .into(),
                                )
                            })?;
                        read_credential(&file, "token_file")?
                    }
                };
                Login::Token(token)
            }
            AuthMethod::Approle => {
                let role_id = self
                    .role_id
                    .clone()
                    .filter(|r| !r.is_empty())
                    .ok_or_else(|| {
                        invalid("auth_method approle needs role_id (or VAULT_ROLE_ID)".into())
                    })?;
                let secret_id = match (&self.secret_id_file, self.secret_id) {
                    (Some(file), _) => read_credential(file, "secret_id_file")?,
                    (None, Some(id)) => id,
                    (None, None) => {
                        return Err(invalid(
                            "auth_method approle needs a secret ID: set secret_id_file or VAULT_SECRET_ID"
                                .into(),
                        ));
                    }
                };
                Login::Approle {
                    mount: self
                        .approle_mount
                        .clone()
                        .unwrap_or_else(|| "approle".into()),
                    role_id,
                    secret_id,
                }
            }
        };
        let config = VaultConfig {
            url,
            mount_point: self.mount_point,
            path_prefix: self.path_prefix,
            namespace: self.namespace,
            vault_namespace: self.vault_namespace,
            auth_method: Some(method),
            token_file: self.token_file,
            approle_mount: self.approle_mount,
            role_id: self.role_id,
            secret_id_file: self.secret_id_file,
            timeout_seconds: self.timeout_seconds,
            max_attempts: self.max_attempts,
        };
        Ok(VaultSecretsManager::new(config, login))
    }
}

/// A mount or folder path: `/`-separated segments of letters, digits, `_`,
/// `-`, `.`, none empty, `.` or `..`.
fn check_path(what: &str, path: &str) -> Result<(), Error> {
    let bad = path.is_empty()
        || path.split('/').any(|segment| {
            segment.is_empty()
                || segment == "."
                || segment == ".."
                || !segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        });
    if bad {
        let shown: String = path.chars().take(64).flat_map(char::escape_debug).collect();
        return Err(invalid(format!(
            "{what} \"{shown}\" must be folder names of letters, digits, '_', '-' and '.' separated by '/', \
             with no empty, '.' or '..' part"
        )));
    }
    Ok(())
}

/// Reads a token or secret ID from a file; the first line, trimmed.
fn read_credential(file: &std::path::Path, what: &str) -> Result<Credential, Error> {
    let text = Zeroizing::new(
        std::fs::read_to_string(file)
            .map_err(|e| invalid(format!("cannot read {what} {}: {e}", file.display())))?,
    );
    let value = text.lines().next().unwrap_or_default().trim();
    if value.is_empty() {
        return Err(invalid(format!("{what} {} is empty", file.display())));
    }
    Ok(Credential(Zeroizing::new(value.to_owned())))
}

//! Configuration of the Vault / OpenBao backend: typed, with unknown keys
//! rejected, credentials never printed.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use keystack_secrets_core::remote::zenml::{Layout, LayoutSettings, Scope};
use keystack_secrets_core::remote::{DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_SECONDS};
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
            other => Err(Error::invalid_config(
                FLAVOR,
                format!("auth_method must be token or approle, not {other:?}"),
            )),
        }
    }
}

keystack_secrets_core::settings! {
    backend = FLAVOR;
    /// Settings of the Vault backend, as in a secrets manager component's YAML.
    /// No credential is a setting: tokens and secret IDs come from the
    /// environment or from files.
    pub struct VaultConfig;
    /// The keys of [`VaultConfig`].
    pub enum VaultConfigKey;
    builder = VaultBuilder;
    {
        /// The server, e.g. `https://vault.example.com:8200`.
        Url url: String, required("e.g. https://vault.example.com:8200"),
            env("VAULT_ADDR", "BAO_ADDR"), setter(with_url);
        /// Where the KV v2 engine is mounted.
        MountPoint mount_point: String = "secret", setter(with_mount_point);
        /// The folder Keystack keeps its entries in.
        PathPrefix path_prefix: String = "keystack", setter(with_path_prefix);
        /// Keeps this manager's secrets apart from other managers in the same
        /// mount: entries live under `<path_prefix>/<namespace>/`. With
        /// `layout: zenml`, ZenML's namespace.
        Namespace namespace: String, setter(with_namespace);
        /// How entries are named and held: `keystack`, or `zenml` for the
        /// secrets ZenML's Vault secrets manager wrote (`zenml/<scope>/…`).
        Layout layout: Layout = Layout::Keystack, setter(with_layout);
        /// ZenML's scope, with `layout: zenml`: none, global, component, namespace.
        Scope scope: Scope = Scope::Component, setter(with_scope);
        /// The UUID of the ZenML secrets manager, with `layout: zenml` (scope component).
        ComponentId component_id: String, setter(with_component_id);
        /// A Vault Enterprise / OpenBao namespace (the `X-Vault-Namespace` header).
        VaultNamespace vault_namespace: String, env("VAULT_NAMESPACE", "BAO_NAMESPACE");
        /// `token` or `approle`.
        AuthMethod auth_method: AuthMethod = AuthMethod::Token;
        /// A file holding the token (default `~/.vault-token`, read when no
        /// token variable is set).
        TokenFile token_file: PathBuf;
        /// Where the AppRole auth method is mounted.
        ApproleMount approle_mount: String = "approle";
        /// The AppRole role ID (else `VAULT_ROLE_ID` / `BAO_ROLE_ID`).
        RoleId role_id: String, env("VAULT_ROLE_ID", "BAO_ROLE_ID");
        /// A file holding the AppRole secret ID (else `VAULT_SECRET_ID` / `BAO_SECRET_ID`).
        SecretIdFile secret_id_file: PathBuf;
        /// Seconds before one request is abandoned.
        TimeoutSeconds timeout_seconds: u64 = DEFAULT_TIMEOUT_SECONDS, min(1);
        /// Attempts per call for transient failures, retries included.
        MaxAttempts max_attempts: u32 = DEFAULT_MAX_ATTEMPTS, min(1), setter(with_max_attempts);
    }
}

impl keystack_secrets_core::settings::SettingValue for AuthMethod {
    const KIND: keystack_secrets_core::settings::SettingKind =
        keystack_secrets_core::settings::SettingKind::Text;

    fn parse_setting(_: &str, text: &str) -> Result<Self, String> {
        text.parse().map_err(|e: Error| match e {
            Error::InvalidConfig { message, .. } => message,
            other => other.to_string(),
        })
    }

    fn to_setting_text(&self) -> String {
        match self {
            Self::Token => "token",
            Self::Approle => "approle",
        }
        .to_owned()
    }
}

impl VaultConfig {
    pub(crate) fn mount(&self) -> String {
        self.mount_point()
    }

    /// The server, once [`VaultBuilder::build`] checked it is set.
    pub(crate) fn url(&self) -> &str {
        self.url.as_deref().unwrap_or_default()
    }

    /// The folder of this manager's entries, without a trailing `/`.
    pub(crate) fn folder(&self) -> String {
        let prefix = self.path_prefix();
        match &self.namespace {
            Some(ns) => format!("{prefix}/{ns}"),
            None => prefix.to_owned(),
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds())
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
            keystack_secrets_core::REDACTED
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
    config: VaultConfig,
    token: Option<Credential>,
    secret_id: Option<Credential>,
    home: Option<PathBuf>,
    /// The component's name.
    component: String,
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
            config: VaultConfig::from_lookup(&lookup),
            token: var("TOKEN").map(|t| Credential(Zeroizing::new(t))),
            secret_id: var("SECRET_ID").map(|t| Credential(Zeroizing::new(t))),
            home: lookup("HOME").filter(|h| !h.is_empty()).map(PathBuf::from),
            component: String::new(),
        }
    }

    /// The component's name (kept for ZenML's layout, which Vault stores
    /// no metadata of).
    pub fn with_component_name(mut self, name: &str) -> Self {
        self.component = name.to_owned();
        self
    }

    /// Logs in with this token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Credential(Zeroizing::new(token.into())));
        self.config.auth_method = Some(AuthMethod::Token);
        self
    }

    /// Logs in with AppRole.
    pub fn with_approle(
        mut self,
        role_id: impl Into<String>,
        secret_id: impl Into<String>,
    ) -> Self {
        self.config.role_id = Some(role_id.into());
        self.secret_id = Some(Credential(Zeroizing::new(secret_id.into())));
        self.config.auth_method = Some(AuthMethod::Approle);
        self
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout_seconds = Some(timeout.as_secs().max(1));
        self
    }

    /// Checks the settings, reads the credential files, and makes the
    /// manager. Nothing is sent to the server until the first call.
    pub fn build(self) -> Result<VaultSecretsManager, Error> {
        let config = self.config;
        config.check_required()?;
        let url = config.url().to_owned();
        let parsed = url::Url::parse(&url)
            .map_err(|e| Error::invalid_config(FLAVOR, format!("url {url:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::invalid_config(
                FLAVOR,
                format!("url {url:?} must be http:// or https:// with a host"),
            ));
        }
        for (what, value) in [
            ("mount_point", &config.mount_point),
            ("path_prefix", &config.path_prefix),
            ("approle_mount", &config.approle_mount),
        ] {
            if let Some(path) = value {
                check_path(what, path)?;
            }
        }
        let zenml = LayoutSettings {
            layout: config.layout,
            scope: config.scope,
            namespace: config.namespace.as_deref(),
            component_id: config.component_id.as_deref(),
        }
        .zenml(FLAVOR, &self.component, zenml_segment, Ok(()))?;
        if let (None, Some(ns)) = (&zenml, &config.namespace) {
            SecretName::validate(ns).map_err(|e| {
                Error::invalid_config(FLAVOR, format!("namespace: {}", e.problem()))
            })?;
        }
        if let Some(ns) = &config.vault_namespace {
            check_path("vault_namespace", ns.trim_end_matches('/'))?;
        }
        config.check_bounds()?;
        let method = config.auth_method();
        let login = match method {
            AuthMethod::Token => {
                let token = match self.token {
                    Some(token) => token,
                    None => {
                        let file = config
                            .token_file
                            .clone()
                            .or_else(|| self.home.as_ref().map(|h| h.join(".vault-token")))
                            .filter(|f| config.token_file.is_some() || f.exists())
                            .ok_or_else(|| {
                                Error::invalid_config(
    FLAVOR,
                                    "no Vault token: set VAULT_TOKEN (or BAO_TOKEN), set token_file, \
                                     log in with `vault login` / `bao login` (which writes ~/.vault-token), \
                                     or use auth_method approle",
                                )
                            })?;
                        read_credential(&file, "token_file")?
                    }
                };
                Login::Token(token)
            }
            AuthMethod::Approle => {
                let role_id = config
                    .role_id
                    .clone()
                    .filter(|r| !r.is_empty())
                    .ok_or_else(|| {
                        Error::invalid_config(
                            FLAVOR,
                            "auth_method approle needs role_id (or VAULT_ROLE_ID)",
                        )
                    })?;
                let secret_id = match (&config.secret_id_file, self.secret_id) {
                    (Some(file), _) => read_credential(file, "secret_id_file")?,
                    (None, Some(id)) => id,
                    (None, None) => {
                        return Err(Error::invalid_config(
                            FLAVOR,
                            "auth_method approle needs a secret ID: set secret_id_file or VAULT_SECRET_ID",
                        ));
                    }
                };
                Login::Approle {
                    mount: config.approle_mount(),
                    role_id,
                    secret_id,
                }
            }
        };
        let config = VaultConfig {
            auth_method: Some(method),
            ..config
        };
        Ok(VaultSecretsManager::new(config, login, zenml))
    }
}

keystack_secrets_core::backend_factory!(
    /// Builds Vault managers from components: the component's settings over the
    /// standard variables (`VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_NAMESPACE`, …,
    /// then `BAO_…`); relative credential files are taken from the project folder.
    VaultFactory,
    FLAVOR,
    VaultConfig,
    VaultBuilder,
    component(with_component_name)
);

/// ZenML's rule for a Vault secret name or namespace (one path segment).
fn zenml_segment(segment: &str) -> Result<(), String> {
    if !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        Ok(())
    } else {
        Err(
            "ZenML's Vault paths allow only letters, digits, '_', '-' and '.' in a segment"
                .to_owned(),
        )
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
        return Err(Error::invalid_config(
            FLAVOR,
            format!(
                "{what} \"{shown}\" must be folder names of letters, digits, '_', '-' and '.' separated by '/', \
             with no empty, '.' or '..' part"
            ),
        ));
    }
    Ok(())
}

/// Reads a token or secret ID from a file; the first line, trimmed.
fn read_credential(file: &std::path::Path, what: &str) -> Result<Credential, Error> {
    let cannot = |e: &dyn std::fmt::Display| {
        Error::invalid_config(
            FLAVOR,
            format!("cannot read {what} {}: {e}", file.display()),
        )
    };
    // A token or secret ID is a line; 64 KiB is far more than any.
    let bytes = Zeroizing::new(
        keystack_secrets_core::remote::read_file_within(file, 64 * 1024).map_err(|e| cannot(&e))?,
    );
    let text =
        Zeroizing::new(String::from_utf8(bytes.to_vec()).map_err(|_| cannot(&"it is not text"))?);
    let value = text.lines().next().unwrap_or_default().trim();
    if value.is_empty() {
        return Err(Error::invalid_config(
            FLAVOR,
            format!("{what} {} is empty", file.display()),
        ));
    }
    Ok(Credential(Zeroizing::new(value.to_owned())))
}

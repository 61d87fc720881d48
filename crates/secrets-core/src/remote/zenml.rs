//! ZenML's layout of secrets in a cloud service, as its secrets managers of
//! versions 0.30–0.37 wrote them (feature `remote`): the `layout: zenml`
//! setting of the aws, gcp, azure and vault backends.
//!
//! ZenML scoped a secret by a path: nothing (scope `none`, its legacy
//! layout), `zenml/global`, `zenml/component/<component uuid>` or
//! `zenml/namespace/<namespace>`, joined with the secret's name by `/`
//! (AWS, Vault) or `-` (GCP, Azure). Where the service has tags or labels,
//! a scoped secret carries its scope (`zenml_scope`, `zenml_secret_name`,
//! `zenml_namespace` or `zenml_component_uuid`) and a description
//! (`zenml_component_name`, `zenml_component_uuid`, `zenml_secret_schema`);
//! a secret is in a manager's scope when every scope tag matches. The
//! payload is the JSON object of the key-values with one more entry,
//! `zenml_schema_name`, naming the schema. See
//! `zenml/secrets_managers/base_secrets_manager.py` and `utils.py`.

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use crate::settings::{IntoSetting, SettingKind, SettingValue};
use crate::{Error, SecretKey, SecretSchema, SecretValue};

/// The payload entry naming the schema.
pub const SCHEMA_ENTRY: &str = "zenml_schema_name";
/// First segment of every scoped path.
pub const SCOPE_PREFIX: &str = "zenml";
/// Tag: the scope (`global`, `component`, `namespace`).
pub const SCOPE_TAG: &str = "zenml_scope";
/// Tag: the ZenML secret's name.
pub const NAME_TAG: &str = "zenml_secret_name";
/// Tag: the namespace (scope `namespace`).
pub const NAMESPACE_TAG: &str = "zenml_namespace";
/// Tag: the secrets manager component's UUID.
pub const COMPONENT_UUID_TAG: &str = "zenml_component_uuid";
/// Tag: the secrets manager component's name.
pub const COMPONENT_NAME_TAG: &str = "zenml_component_name";
/// Tag: the schema.
pub const SCHEMA_TAG: &str = "zenml_secret_schema";

/// How a remote backend names and marks secrets (`layout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Layout {
    /// Keystack's own: `keystack` names, Keystack's marks.
    #[default]
    Keystack,
    /// ZenML's secrets managers' (see the [module](self)).
    Zenml,
}

impl Layout {
    /// The name as written in a component.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keystack => "keystack",
            Self::Zenml => "zenml",
        }
    }
}

impl SettingValue for Layout {
    const KIND: SettingKind = SettingKind::Text;

    fn parse_setting(name: &str, text: &str) -> Result<Self, String> {
        match text {
            "keystack" => Ok(Self::Keystack),
            "zenml" => Ok(Self::Zenml),
            other => Err(format!(
                "{name} \"{}\" is not one of keystack, zenml",
                other.escape_debug()
            )),
        }
    }

    fn to_setting_text(&self) -> String {
        self.as_str().to_owned()
    }
}

impl IntoSetting<Layout> for Layout {
    fn into_setting(self) -> Layout {
        self
    }
}

/// ZenML's secrets manager scope (`scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Scope {
    /// Unscoped: ZenML's legacy layout, bare names, no tags.
    None,
    /// Shared by every manager of the same account or vault with this scope.
    Global,
    /// This component's own (its UUID in the path): ZenML's default.
    #[default]
    Component,
    /// Shared by the managers with the same `namespace`.
    Namespace,
}

impl Scope {
    /// The name as ZenML writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Global => "global",
            Self::Component => "component",
            Self::Namespace => "namespace",
        }
    }
}

impl SettingValue for Scope {
    const KIND: SettingKind = SettingKind::Text;

    fn parse_setting(name: &str, text: &str) -> Result<Self, String> {
        match text {
            "none" => Ok(Self::None),
            "global" => Ok(Self::Global),
            "component" => Ok(Self::Component),
            "namespace" => Ok(Self::Namespace),
            other => Err(format!(
                "{name} \"{}\" is not one of none, global, component, namespace",
                other.escape_debug()
            )),
        }
    }

    fn to_setting_text(&self) -> String {
        self.as_str().to_owned()
    }
}

impl IntoSetting<Scope> for Scope {
    fn into_setting(self) -> Scope {
        self
    }
}

/// One manager's place in ZenML's layout: its scope and what the scope
/// needs (namespace, component UUID), and its component's name.
#[derive(Debug, Clone)]
pub struct ZenmlLayout {
    backend: &'static str,
    scope: Scope,
    /// The namespace (scope `namespace`) or component UUID (scope
    /// `component`) in the path; empty otherwise.
    qualifier: String,
    component_id: Option<String>,
    component_name: String,
    /// The backend's rule for a name or namespace in ZenML's layout.
    segment: SegmentRule,
}

/// A backend's rule for one name or namespace in ZenML's layout: `Err`
/// says what it allows.
pub type SegmentRule = fn(&str) -> Result<(), String>;

impl ZenmlLayout {
    /// The layout of a manager of `backend` with these settings, or what
    /// is missing: scope `namespace` needs `namespace`, scope `component`
    /// needs `component_id` (the UUID ZenML gave the component), and a
    /// namespace must fit `segment` (the backend's rule for one path
    /// segment: `Err` says what it allows).
    pub fn new(
        backend: &'static str,
        scope: Scope,
        namespace: Option<&str>,
        component_id: Option<&str>,
        component_name: &str,
        segment: SegmentRule,
    ) -> Result<Self, Error> {
        let invalid = |message: String| Error::invalid_config(backend, message);
        let component_id = component_id
            .map(|id| {
                normalize_uuid(id).ok_or_else(|| {
                    invalid(format!(
                        "component_id \"{}\" is not a UUID; give the ID ZenML shows for the \
                         secrets manager (`zenml secrets-manager describe`), e.g. \
                         2b2ca6f5-3b5c-4b4e-9d7a-1c2d3e4f5a6b",
                        id.escape_debug()
                    ))
                })
            })
            .transpose()?;
        let qualifier = match scope {
            Scope::Namespace => {
                let ns = namespace.filter(|n| !n.is_empty()).ok_or_else(|| {
                    invalid(
                        "layout zenml with scope namespace needs a namespace, as ZenML did; \
                         set namespace to the one the ZenML secrets manager had"
                            .to_owned(),
                    )
                })?;
                segment(ns).map_err(|allowed| {
                    invalid(format!("namespace \"{}\": {allowed}", ns.escape_debug()))
                })?;
                ns.to_owned()
            }
            Scope::Component => component_id.clone().ok_or_else(|| {
                invalid(
                    "layout zenml with scope component (ZenML's default) needs component_id: \
                     the UUID of the ZenML secrets manager whose secrets these are, as \
                     `zenml secrets-manager describe` shows it; or set scope to the one it had"
                        .to_owned(),
                )
            })?,
            Scope::None | Scope::Global => String::new(),
        };
        Ok(Self {
            backend,
            scope,
            qualifier,
            component_id,
            component_name: component_name.to_owned(),
            segment,
        })
    }

    /// The payload of `secret` in this layout ([`to_payload`]), or why it
    /// cannot be written: a name the backend's ZenML layout does not allow,
    /// a key ZenML reads as something else ([`check_keys`]), or a payload
    /// over `max` bytes (`holder`: what holds one secret there).
    pub fn payload(
        &self,
        secret: &crate::Secret,
        holder: &'static str,
        max: usize,
    ) -> Result<Zeroizing<String>, Error> {
        let name = secret.name();
        (self.segment)(name.as_str()).map_err(|allowed| {
            Error::invalid_config(
                self.backend,
                format!("secret name '{name}' does not fit ZenML's layout: {allowed}"),
            )
        })?;
        check_keys(secret.values().keys())
            .map_err(|m| Error::invalid_config(self.backend, format!("secret '{name}': {m}")))?;
        let payload = to_payload(secret.schema(), secret.values());
        if payload.len() > max {
            return Err(super::Refusal::TooLarge {
                name: name.clone(),
                len: payload.len(),
                holder,
                max,
            }
            .into_error(self.backend));
        }
        Ok(payload)
    }

    /// The scope.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// ZenML's scope path: none, or `zenml`, the scope, and the UUID or
    /// namespace.
    pub fn scope_path(&self) -> Vec<&str> {
        match self.scope {
            Scope::None => Vec::new(),
            Scope::Global => vec![SCOPE_PREFIX, self.scope.as_str()],
            Scope::Component | Scope::Namespace => {
                vec![SCOPE_PREFIX, self.scope.as_str(), &self.qualifier]
            }
        }
    }

    /// The scope path joined by `separator`, with a trailing one (empty
    /// without a scope).
    pub fn prefix(&self, separator: char) -> String {
        self.scope_path()
            .iter()
            .map(|s| format!("{s}{separator}"))
            .collect()
    }

    /// The service's name of secret `name`: [`ZenmlLayout::prefix`] and the name.
    pub fn scoped_name(&self, name: &str, separator: char) -> String {
        format!("{}{name}", self.prefix(separator))
    }

    /// The secret name in `full`, a service's name split by `separator`,
    /// if it is in this scope (exactly: ZenML's `_get_secret_name_from_path`).
    pub fn unscoped_name<'a>(&self, full: &'a str, separator: char) -> Option<&'a str> {
        let (path, name) = match full.rsplit_once(separator) {
            Some((path, name)) => (path.split(separator).collect::<Vec<_>>(), name),
            None => (Vec::new(), full),
        };
        (!name.is_empty() && path == self.scope_path()).then_some(name)
    }

    /// The tags that say a secret (named `name`, if given) is in this
    /// scope: ZenML's `_get_secret_scope_metadata`. None for scope `none`.
    pub fn scope_tags(&self, name: Option<&str>) -> Vec<(&'static str, String)> {
        if self.scope == Scope::None {
            return Vec::new();
        }
        let mut tags = vec![(SCOPE_TAG, self.scope.as_str().to_owned())];
        if let Some(name) = name {
            tags.push((NAME_TAG, name.to_owned()));
        }
        match self.scope {
            Scope::Namespace => tags.push((NAMESPACE_TAG, self.qualifier.clone())),
            Scope::Component => tags.push((COMPONENT_UUID_TAG, self.qualifier.clone())),
            _ => {}
        }
        tags
    }

    /// Every tag ZenML put on a secret it wrote: the scope tags, the
    /// component's name and UUID, the schema (`_get_secret_metadata`).
    /// None for scope `none`.
    pub fn secret_tags(&self, name: &str, schema: SecretSchema) -> Vec<(&'static str, String)> {
        if self.scope == Scope::None {
            return Vec::new();
        }
        let mut tags = self.scope_tags(Some(name));
        tags.retain(|(k, _)| *k != COMPONENT_UUID_TAG);
        tags.push((COMPONENT_NAME_TAG, self.component_name.clone()));
        if let Some(id) = &self.component_id {
            tags.push((COMPONENT_UUID_TAG, id.clone()));
        }
        tags.push((SCHEMA_TAG, schema.as_str().to_owned()));
        tags
    }

    /// Whether the tags `get` reads put a secret (named `name`, if given)
    /// in this scope: every scope tag present with its value.
    pub fn in_scope<'a>(&self, name: Option<&str>, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.scope_tags(name)
            .iter()
            .all(|(k, v)| get(k) == Some(v.as_str()))
    }
}

/// The settings of a backend that choose its layout, as a component gave
/// them (`layout`, `scope`, `namespace`, `component_id`).
#[derive(Debug, Clone, Copy)]
pub struct LayoutSettings<'a> {
    /// `layout` (default [`Layout::Keystack`]).
    pub layout: Option<Layout>,
    /// `scope` (default [`Scope::Component`]).
    pub scope: Option<Scope>,
    /// `namespace`.
    pub namespace: Option<&'a str>,
    /// `component_id`.
    pub component_id: Option<&'a str>,
}

impl LayoutSettings<'_> {
    /// ZenML's layout, if `layout: zenml` (`None` for Keystack's, where
    /// `scope` and `component_id` are refused: they would mean nothing).
    /// `segment` is the backend's rule for a name or namespace; `unscoped`
    /// says whether it reads ZenML's scope `none` (refused with `unscoped`'s
    /// reason otherwise).
    pub fn zenml(
        &self,
        backend: &'static str,
        component_name: &str,
        segment: SegmentRule,
        unscoped: Result<(), &str>,
    ) -> Result<Option<ZenmlLayout>, Error> {
        if self.layout.unwrap_or_default() != Layout::Zenml {
            only_with_zenml_layout(backend, self.scope.is_some(), self.component_id.is_some())?;
            return Ok(None);
        }
        let scope = self.scope.unwrap_or_default();
        if scope == Scope::None
            && let Err(reason) = unscoped
        {
            return Err(Error::invalid_config(backend, reason.to_owned()));
        }
        ZenmlLayout::new(
            backend,
            scope,
            self.namespace,
            self.component_id,
            component_name,
            segment,
        )
        .map(Some)
    }
}

/// Refuses `scope` and `component_id` outside `layout: zenml`, where they
/// would mean nothing.
fn only_with_zenml_layout(
    backend: &'static str,
    scope: bool,
    component_id: bool,
) -> Result<(), Error> {
    let given: Vec<&str> = [("scope", scope), ("component_id", component_id)]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
    if given.is_empty() {
        return Ok(());
    }
    Err(Error::invalid_config(
        backend,
        format!(
            "{} only apply with layout: zenml (ZenML's secrets); set layout: zenml, or leave {} out",
            given.join(" and "),
            if given.len() == 1 { "it" } else { "them" }
        ),
    ))
}

/// `id` as ZenML writes a UUID (`str(uuid)`: lowercase, hyphenated), if it
/// is one.
fn normalize_uuid(id: &str) -> Option<String> {
    let lower = id.trim().to_ascii_lowercase();
    let groups: Vec<&str> = lower.split('-').collect();
    let shape = [8, 4, 4, 4, 12];
    (groups.len() == 5
        && groups
            .iter()
            .zip(shape)
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit())))
    .then_some(lower)
}

/// Why a payload is not a secret in ZenML's layout. Never quotes the
/// payload: it holds secret values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZenmlPayloadError {
    /// Not a JSON object.
    #[error("it is not a JSON object")]
    NotAnObject,
    /// No `zenml_schema_name` entry.
    #[error("it has no {SCHEMA_ENTRY} entry, so ZenML did not write it")]
    NoSchema,
    /// The schema is one Keystack does not have.
    #[error("{SCHEMA_ENTRY} names schema \"{0}\", which Keystack does not have")]
    UnknownSchema(String),
    /// A value is a list or an object.
    #[error("the value of key '{0}' is not text")]
    NotText(String),
    /// A key is not a valid Keystack key.
    #[error("key \"{0}\" is not one Keystack can use")]
    BadKey(String),
}

/// The most bytes of key-values (as Keystack's JSON) a service holding at
/// most `max` bytes per secret takes in ZenML's layout: the payload also
/// holds `"zenml_schema_name": "<schema>"`.
pub fn max_values_bytes(max: usize) -> usize {
    let longest = SecretSchema::ALL_NAMES
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(0);
    max.saturating_sub(format!(",\"{SCHEMA_ENTRY}\":\"\"").len() + longest)
}

/// Keys ZenML gives a meaning of its own: the schema entry, and `name`
/// (ZenML passes the secret's name under it when it makes a secret).
pub const RESERVED_KEYS: [&str; 2] = [SCHEMA_ENTRY, "name"];

/// Why a secret cannot be written in ZenML's layout: a key ZenML would
/// read as something else.
pub fn check_keys<'a>(keys: impl IntoIterator<Item = &'a SecretKey>) -> Result<(), String> {
    let reserved: Vec<&str> = keys
        .into_iter()
        .map(SecretKey::as_str)
        .filter(|k| RESERVED_KEYS.contains(k))
        .collect();
    if reserved.is_empty() {
        return Ok(());
    }
    Err(format!(
        "ZenML's layout cannot hold key(s) {}: ZenML reads '{SCHEMA_ENTRY}' as the schema and \
         'name' as the secret's name; rename the key(s)",
        reserved
            .iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The payload ZenML writes: the key-values and `zenml_schema_name`
/// (`secret_to_dict`, then `json.dumps`).
pub fn to_payload(
    schema: SecretSchema,
    values: &BTreeMap<SecretKey, SecretValue>,
) -> Zeroizing<String> {
    let mut plain: BTreeMap<&str, &str> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose()))
        .collect();
    plain.insert(SCHEMA_ENTRY, schema.as_str());
    Zeroizing::new(serde_json::to_string(&plain).expect("a map of strings always serializes"))
}

/// The key-values of a secret as `to_payload` takes them, read from JSON.
pub type Contents = (SecretSchema, BTreeMap<SecretKey, SecretValue>);

/// Reads a payload as ZenML's `secret_from_dict` does: the schema from
/// `zenml_schema_name`; `null` (an optional field ZenML left unset) is no
/// value; numbers and `true`/`false` are their JSON text.
pub fn from_payload(payload: &[u8]) -> Result<Contents, ZenmlPayloadError> {
    let raw: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(payload).map_err(|_| ZenmlPayloadError::NotAnObject)?;
    let mut schema = None;
    let mut values = BTreeMap::new();
    for (key, value) in raw {
        let text = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s,
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(ZenmlPayloadError::NotText(shown_key(&key))),
        };
        if key == SCHEMA_ENTRY {
            schema = Some(
                text.parse::<SecretSchema>()
                    .map_err(|_| ZenmlPayloadError::UnknownSchema(shown_key(&text)))?,
            );
            continue;
        }
        let key =
            SecretKey::new(key.clone()).map_err(|_| ZenmlPayloadError::BadKey(shown_key(&key)))?;
        values.insert(key, SecretValue::new(text));
    }
    Ok((schema.ok_or(ZenmlPayloadError::NoSchema)?, values))
}

/// A key or schema name for a message: escaped and shortened.
fn shown_key(text: &str) -> String {
    let escaped: String = text.escape_debug().collect();
    match escaped.char_indices().nth(64) {
        Some((at, _)) => format!("{}…", &escaped[..at]),
        None => escaped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "2B2CA6F5-3b5c-4b4e-9d7a-1c2d3e4f5a6b";

    fn layout(scope: Scope, ns: Option<&str>) -> ZenmlLayout {
        ZenmlLayout::new("aws", scope, ns, Some(ID), "aws_sm", |_| Ok(())).unwrap()
    }

    #[test]
    fn paths_and_tags_are_zenmls() {
        let ns = layout(Scope::Namespace, Some("team"));
        assert_eq!(ns.scoped_name("db", '/'), "zenml/namespace/team/db");
        assert_eq!(ns.unscoped_name("zenml/namespace/team/db", '/'), Some("db"));
        assert_eq!(ns.unscoped_name("zenml/namespace/other/db", '/'), None);
        assert_eq!(ns.unscoped_name("zenml/namespace/team/x/db", '/'), None);
        assert_eq!(ns.unscoped_name("db", '/'), None);
        let tags = ns.secret_tags("db", SecretSchema::BasicAuth);
        let keys: Vec<&str> = tags.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                SCOPE_TAG,
                NAME_TAG,
                NAMESPACE_TAG,
                COMPONENT_NAME_TAG,
                COMPONENT_UUID_TAG,
                SCHEMA_TAG
            ]
        );
        let get = |k: &str| tags.iter().find(|(t, _)| *t == k).map(|(_, v)| v.as_str());
        assert!(ns.in_scope(Some("db"), get));
        assert!(ns.in_scope(None, get));
        assert!(!ns.in_scope(Some("other"), get));
        assert!(!layout(Scope::Global, None).in_scope(None, get));

        let component = layout(Scope::Component, None);
        assert_eq!(
            component.scoped_name("db", '-'),
            "zenml-component-2b2ca6f5-3b5c-4b4e-9d7a-1c2d3e4f5a6b-db"
        );
        assert_eq!(layout(Scope::Global, None).prefix('/'), "zenml/global/");
        let none = layout(Scope::None, None);
        assert_eq!(none.scoped_name("db", '/'), "db");
        assert_eq!(none.unscoped_name("db", '/'), Some("db"));
        assert_eq!(none.unscoped_name("keystack/db", '/'), None);
        assert!(none.secret_tags("db", SecretSchema::Arbitrary).is_empty());
    }

    #[test]
    fn settings_that_a_scope_needs_are_asked_for() {
        let err = ZenmlLayout::new("aws", Scope::Component, None, None, "c", |_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs component_id"), "{err}");
        let err = ZenmlLayout::new("aws", Scope::Namespace, None, None, "c", |_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs a namespace"), "{err}");
        let err = ZenmlLayout::new("aws", Scope::Global, None, Some("nope"), "c", |_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a UUID"), "{err}");
        let err = ZenmlLayout::new("gcp", Scope::Namespace, Some("A/b"), None, "c", |_| {
            Err("only lowercase".into())
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("namespace \"A/b\": only lowercase"), "{err}");
    }

    #[test]
    fn payloads_round_trip_as_zenml_reads_them() {
        let values: BTreeMap<SecretKey, SecretValue> = [
            (SecretKey::new("username").unwrap(), "ana".into()),
            (SecretKey::new("password").unwrap(), "line1\nline2".into()),
        ]
        .into();
        let json = to_payload(SecretSchema::BasicAuth, &values);
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed[SCHEMA_ENTRY], "basic_auth");
        assert_eq!(
            from_payload(json.as_bytes()).unwrap(),
            (SecretSchema::BasicAuth, values.clone())
        );
        let (schema, v) = from_payload(
            br#"{"aws_access_key_id": "A", "aws_secret_access_key": "s", "aws_session_token": null, "zenml_schema_name": "aws", "n": 1}"#,
        )
        .unwrap();
        assert_eq!(schema, SecretSchema::Aws);
        assert_eq!(v.len(), 3, "null is no value; a number is its text");
        assert_eq!(
            from_payload(br#"{"a": "1"}"#),
            Err(ZenmlPayloadError::NoSchema)
        );
        assert_eq!(
            from_payload(br#"{"a": "s3cr3t", "zenml_schema_name": "mystery"}"#)
                .unwrap_err()
                .to_string(),
            "zenml_schema_name names schema \"mystery\", which Keystack does not have"
        );
        let err = from_payload(br#"{"a b": "s3cr3t", "zenml_schema_name": "arbitrary"}"#)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
        assert_eq!(from_payload(b"[]"), Err(ZenmlPayloadError::NotAnObject));
        let name = SecretKey::new("name").unwrap();
        assert!(check_keys([&name]).unwrap_err().contains("'name'"));
        assert!(check_keys(values.keys()).is_ok());
    }
}

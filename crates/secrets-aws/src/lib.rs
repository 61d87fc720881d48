//! Keystack's AWS Secrets Manager backend.
//!
//! One AWS secret per Keystack secret, named `keystack/<namespace>/<name>`
//! (or `keystack/<name>` without a namespace). Its `SecretString` is the JSON
//! object of the key-values; tags mark it as Keystack's
//! (`keystack:managed=true`) and record its namespace and schema. Listing and
//! `delete_all_secrets` only ever see secrets carrying those tags in the
//! manager's own namespace.
//!
//! With `layout: zenml`, secrets are named, tagged and held as ZenML's AWS
//! secrets manager of versions 0.30–0.37 did (see
//! [`keystack_secrets_core::remote::zenml`]): `zenml/<scope>/…/<name>`,
//! its `zenml_*` tags, and a JSON `SecretString` with `zenml_schema_name`.

mod config;
mod error;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};
use futures::{StreamExt, TryStreamExt};
use keystack_secrets_core::remote::Refusal;
use keystack_secrets_core::remote::mark::MarkKeys;
use keystack_secrets_core::remote::payload::{from_json, to_json};
use keystack_secrets_core::remote::zenml::{self, Scope, ZenmlLayout};
use keystack_secrets_core::{
    Capabilities, Error, ManagerInfo, Result, Secret, SecretKey, SecretName, SecretPatch,
    SecretSchema, SecretValue, SecretsManager, get_each,
};
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

pub use aws_sdk_secretsmanager::config::{Credentials, ProvideCredentials};
pub use config::{AwsBuilder, AwsConfig, AwsConfigKey, AwsFactory};
pub use error::AwsError;

use error::sdk_error;

/// The flavor name of this backend.
pub const FLAVOR: &str = "aws";
/// Tag that marks a secret as created by Keystack.
pub const MANAGED_TAG: &str = "keystack:managed";
/// Tag holding the secret's namespace (left out without one).
pub const NAMESPACE_TAG: &str = "keystack:namespace";
/// Tag holding the secret's schema.
pub const SCHEMA_TAG: &str = "keystack:schema";
/// The three tags that mark a secret as Keystack's.
const MARKS: MarkKeys = MarkKeys {
    managed: MANAGED_TAG,
    namespace: NAMESPACE_TAG,
    schema: SCHEMA_TAG,
};

/// The value of the tag `key`, if there is one.
fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(Tag::value)
}
/// First segment of every secret name Keystack creates.
pub const NAME_PREFIX: &str = "keystack/";
/// The largest `SecretString` AWS accepts, in bytes.
pub const MAX_SECRET_BYTES: usize = 65_536;

/// AWS Secrets Manager, as a Keystack secrets manager.
pub struct AwsSecretsManager {
    config: AwsConfig,
    credentials: Option<aws_sdk_secretsmanager::config::SharedCredentialsProvider>,
    client: OnceCell<Client>,
    /// Set once IAM refused a batch read: later batches are single reads.
    batch_refused: AtomicBool,
    /// ZenML's layout (`layout: zenml`) instead of Keystack's.
    zenml: Option<ZenmlLayout>,
}

impl fmt::Debug for AwsSecretsManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSecretsManager")
            .field("config", &self.config)
            .field(
                "credentials",
                &self
                    .credentials
                    .as_ref()
                    .map(|_| keystack_secrets_core::REDACTED),
            )
            .finish_non_exhaustive()
    }
}

/// A managed secret found by a listing.
struct Listed {
    aws_name: String,
    name: SecretName,
    /// From the listing's tags; `None` if they name no known schema (or,
    /// in ZenML's layout, where the payload names it).
    schema: Option<SecretSchema>,
}

/// The most secrets one `BatchGetSecretValue` request may name.
pub const BATCH_SIZE: usize = 20;

impl AwsSecretsManager {
    pub(crate) fn new(
        config: AwsConfig,
        credentials: Option<aws_sdk_secretsmanager::config::SharedCredentialsProvider>,
        zenml: Option<ZenmlLayout>,
    ) -> Self {
        Self {
            config,
            credentials,
            client: OnceCell::new(),
            batch_refused: AtomicBool::new(false),
            zenml,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AwsConfig {
        &self.config
    }

    /// The SDK client, built on first use (loading the credential chain is async).
    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                Client::new(&config::sdk_config(&self.config, self.credentials.clone()).await)
            })
            .await
    }

    /// `keystack/[namespace/]`, or ZenML's scope path (`zenml/global/`, …;
    /// empty for its scope `none`).
    pub fn prefix(&self) -> String {
        if let Some(layout) = &self.zenml {
            return layout.prefix('/');
        }
        match &self.config.namespace {
            Some(ns) => format!("{NAME_PREFIX}{ns}/"),
            None => NAME_PREFIX.to_owned(),
        }
    }

    /// The AWS name of a Keystack secret.
    pub fn aws_name(&self, name: &SecretName) -> String {
        format!("{}{name}", self.prefix())
    }

    fn namespace(&self) -> &str {
        self.config.namespace.as_deref().unwrap_or("")
    }

    fn endpoint(&self) -> String {
        self.config.endpoint_url.clone().unwrap_or_else(|| {
            format!(
                "https://secretsmanager.{}.amazonaws.com",
                self.config.region_name.as_deref().unwrap_or_default()
            )
        })
    }

    /// Whether `tags` say the secret is Keystack's, in this namespace; in
    /// ZenML's layout, that it is in this scope (named `name`, if given).
    /// ZenML's unscoped secrets have no tags at all.
    fn is_ours(&self, name: Option<&SecretName>, tags: &[Tag]) -> bool {
        match &self.zenml {
            Some(layout) if layout.scope() == Scope::None => {
                tag(tags, zenml::SCOPE_TAG).is_none() && tag(tags, MANAGED_TAG).is_none()
            }
            Some(layout) => layout.in_scope(name.map(SecretName::as_str), |key| tag(tags, key)),
            None => MARKS.is_marked(self.namespace(), |key| tag(tags, key)),
        }
    }

    /// The listing's filters: Keystack's mark and name prefix, or ZenML's
    /// (`_list_secrets`: a tag-key and a tag-value filter per scope tag and
    /// the scope's prefix; without a scope, none).
    fn filters(&self) -> Vec<Filter> {
        let filter = |key: FilterNameStringType, value: &str| {
            Filter::builder().key(key).values(value).build()
        };
        let Some(layout) = &self.zenml else {
            return vec![
                filter(FilterNameStringType::TagKey, MANAGED_TAG),
                filter(FilterNameStringType::Name, &self.prefix()),
            ];
        };
        if layout.scope() == Scope::None {
            // ZenML filtered with `tag-key: !zenml_scope`; servers differ
            // on what `!` means for tag keys (moto inverts it), so unscoped
            // secrets are found by their tags here, in `is_ours`.
            return Vec::new();
        }
        let mut filters: Vec<Filter> = layout
            .scope_tags(None)
            .iter()
            .flat_map(|(k, v)| {
                [
                    filter(FilterNameStringType::TagKey, k),
                    filter(FilterNameStringType::TagValue, v),
                ]
            })
            .collect();
        filters.push(filter(FilterNameStringType::Name, &self.prefix()));
        filters
    }

    /// The Keystack name of a listed AWS name, if it is in this namespace
    /// or scope.
    fn listed_name(&self, aws_name: &str) -> Option<SecretName> {
        match &self.zenml {
            Some(layout) => layout
                .unscoped_name(aws_name, '/')
                .and_then(|n| SecretName::new(n).ok()),
            // A name under our prefix that is not a valid Keystack name
            // (another namespace's `ns/x`, say) is not ours.
            None => aws_name
                .strip_prefix(&self.prefix())
                .and_then(|n| SecretName::new(n).ok()),
        }
    }

    /// Every managed secret of this namespace, following `NextToken`.
    async fn list_managed(&self) -> Result<Vec<Listed>> {
        let filters = self.filters();
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client()
                .await
                .list_secrets()
                .set_filters((!filters.is_empty()).then(|| filters.to_vec()))
                .max_results(self.config.page_size())
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| sdk_error(e, self, "list secrets", None))?;
            for entry in page.secret_list() {
                if entry.deleted_date().is_some() || !self.is_ours(None, entry.tags()) {
                    continue;
                }
                let Some(aws_name) = entry.name() else {
                    continue;
                };
                let Some(name) = self.listed_name(aws_name) else {
                    continue;
                };
                if self.zenml.is_some() && !self.is_ours(Some(&name), entry.tags()) {
                    continue;
                }
                found.push(Listed {
                    aws_name: aws_name.to_owned(),
                    schema: match self.zenml {
                        Some(_) => None,
                        None => MARKS.schema(|key| tag(entry.tags(), key)),
                    },
                    name,
                });
            }
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => return Ok(found),
            }
        }
    }

    /// Describes a secret and checks that it is ours and not being deleted;
    /// gives the schema its tags name (`None` in ZenML's layout: the
    /// payload names it).
    async fn describe_managed(&self, name: &SecretName) -> Result<Option<SecretSchema>> {
        let described = self
            .client()
            .await
            .describe_secret()
            .secret_id(self.aws_name(name))
            .send()
            .await
            .map_err(|e| sdk_error(e, self, "describe", Some(name)))?;
        if described.deleted_date().is_some() {
            return Err(AwsError::ScheduledForDeletion {
                name: name.clone(),
                aws_name: self.aws_name(name),
            }
            .into());
        }
        if !self.is_ours(Some(name), described.tags()) {
            return Err(match &self.zenml {
                Some(_) => Refusal::OutOfScope {
                    object: format!("secret '{name}' ({})", self.aws_name(name)),
                    place: "AWS".to_owned(),
                    tags: "tags",
                },
                None => Refusal::Foreign {
                    object: format!("secret '{name}' ({})", self.aws_name(name)),
                    place: "AWS".to_owned(),
                    scope: " in this namespace",
                    hint: String::new(),
                },
            }
            .into_error(FLAVOR));
        }
        if self.zenml.is_some() {
            return Ok(None);
        }
        MARKS
            .schema(|key| tag(described.tags(), key))
            .map(Some)
            .ok_or_else(|| {
                Refusal::Unreadable {
                    name: name.clone(),
                    object: self.aws_name(name),
                    problem: format!("its {SCHEMA_TAG} tag names no known schema"),
                }
                .into_error(FLAVOR)
            })
    }

    async fn read_text(&self, name: &SecretName) -> Result<Zeroizing<String>> {
        let output = self
            .client()
            .await
            .get_secret_value()
            .secret_id(self.aws_name(name))
            .send()
            .await
            .map_err(|e| sdk_error(e, self, "read", Some(name)))?;
        Ok(Zeroizing::new(
            output.secret_string().unwrap_or_default().to_owned(),
        ))
    }

    /// The values of up to [`BATCH_SIZE`] secrets in one
    /// `BatchGetSecretValue` request, by AWS name; a secret AWS reports an
    /// error for is absent (its single read then says what is wrong).
    async fn batch_values(
        &self,
        aws_names: Vec<String>,
    ) -> Result<BTreeMap<String, Zeroizing<String>>> {
        let asked = aws_names.len();
        let output = self
            .client()
            .await
            .batch_get_secret_value()
            .set_secret_id_list(Some(aws_names))
            .send()
            .await
            .map_err(|e| sdk_error(e, self, "read secrets in a batch", None))?;
        keystack_secrets_core::progress::advance(asked);
        Ok(output
            .secret_values()
            .iter()
            .filter_map(|entry| {
                Some((
                    entry.name()?.to_owned(),
                    Zeroizing::new(entry.secret_string()?.to_owned()),
                ))
            })
            .collect())
    }

    /// [`SecretsManager::get_secrets`] in `1 + ceil(n / 20)` requests: one
    /// listing gives the ownership tags and schemas of every managed secret
    /// of the namespace (100 per page), then `BatchGetSecretValue` reads
    /// the values of those asked for, 20 per request. A name the listing
    /// does not show as ours (missing, foreign, scheduled for deletion), or
    /// whose value the batch did not return, is read alone, so that its
    /// error is the same as `get_secret`'s.
    async fn get_batched(
        &self,
        names: &[SecretName],
        concurrency: usize,
    ) -> Result<Vec<Result<Secret>>> {
        let listed: BTreeMap<SecretName, Listed> = self
            .list_managed()
            .await?
            .into_iter()
            .map(|l| (l.name.clone(), l))
            .collect();
        let mut wanted: Vec<String> = names
            .iter()
            .filter_map(|n| listed.get(n).map(|l| l.aws_name.clone()))
            .collect();
        wanted.sort();
        wanted.dedup();
        // Futures made before they are streamed: a stream mapping with a
        // closure over `self` trips the `Send` check of `async_trait`.
        let requests: Vec<_> = wanted
            .chunks(BATCH_SIZE)
            .map(|chunk| self.batch_values(chunk.to_vec()))
            .collect();
        let values: BTreeMap<String, Zeroizing<String>> = futures::stream::iter(requests)
            .buffer_unordered(concurrency.max(1))
            .try_fold(BTreeMap::new(), |mut all, some| async move {
                all.extend(some);
                Ok(all)
            })
            .await?;
        let each: Vec<_> = names
            .iter()
            .map(|name| {
                let found = listed
                    .get(name)
                    .filter(|l| l.schema.is_some() || self.zenml.is_some())
                    .and_then(|l| Some((l, l.schema, values.get(&l.aws_name)?)));
                // A name in a batch request was counted with its batch.
                let batched = listed.contains_key(name);
                async move {
                    match found {
                        Some((listed, schema, text)) => {
                            self.decode(name, &listed.aws_name, text, schema)
                        }
                        None => {
                            let alone = self.get_secret(name).await;
                            if !batched {
                                keystack_secrets_core::progress::advance(1);
                            }
                            alone
                        }
                    }
                }
            })
            .collect();
        Ok(futures::stream::iter(each)
            .buffered(concurrency.max(1))
            .collect()
            .await)
    }

    /// A secret from its `SecretString`: Keystack's JSON of the key-values
    /// with the schema its tags name, or ZenML's payload (which names it).
    fn decode(
        &self,
        name: &SecretName,
        aws_name: &str,
        text: &str,
        tag_schema: Option<SecretSchema>,
    ) -> Result<Secret> {
        let unreadable = |problem: String| {
            Refusal::Unreadable {
                name: name.clone(),
                object: aws_name.to_owned(),
                problem,
            }
            .into_error(FLAVOR)
        };
        let (schema, values) = match (&self.zenml, tag_schema) {
            (Some(_), _) => zenml::from_payload(text.as_bytes())
                .map_err(|e| unreadable(format!("its SecretString: {e}")))?,
            (None, Some(schema)) => (
                schema,
                from_json(text.as_bytes())
                    .map_err(|e| unreadable(format!("its SecretString: {e}")))?,
            ),
            (None, None) => {
                return Err(unreadable(format!(
                    "its {SCHEMA_TAG} tag names no known schema"
                )));
            }
        };
        self.secret(name, schema, values)
    }

    /// The `SecretString` of a secret: Keystack's JSON, or ZenML's payload.
    fn payload(&self, secret: &Secret) -> Result<Zeroizing<String>> {
        match &self.zenml {
            Some(layout) => layout.payload(secret, "an AWS secret", MAX_SECRET_BYTES),
            None => Ok(to_json(secret.values())),
        }
    }

    /// A secret read from AWS, checked against its schema.
    fn secret(
        &self,
        name: &SecretName,
        schema: SecretSchema,
        values: BTreeMap<SecretKey, SecretValue>,
    ) -> Result<Secret> {
        Secret::new(name.clone(), schema, values).map_err(|problem| {
            Refusal::Unreadable {
                name: name.clone(),
                object: self.aws_name(name),
                problem: format!("it does not fit its schema: {problem}"),
            }
            .into_error(FLAVOR)
        })
    }

    fn tags(&self, name: &SecretName, schema: SecretSchema) -> Vec<Tag> {
        let pairs = match &self.zenml {
            Some(layout) => layout.secret_tags(name.as_str(), schema),
            None => MARKS.marks(self.namespace(), schema),
        };
        pairs
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    }

    async fn delete_aws(&self, aws_name: &str, name: &SecretName) -> Result<()> {
        let request = self.client().await.delete_secret().secret_id(aws_name);
        let request = match self.config.recovery_window_days {
            Some(days) => request.recovery_window_in_days(i64::from(days)),
            None => request.force_delete_without_recovery(true),
        };
        request
            .send()
            .await
            .map_err(|e| sdk_error(e, self, "delete", Some(name)))?;
        Ok(())
    }
}

#[async_trait]
impl SecretsManager for AwsSecretsManager {
    fn info(&self) -> ManagerInfo {
        ManagerInfo {
            flavor: FLAVOR,
            is_local: false,
            location: format!(
                "AWS Secrets Manager, region {}, names {}*{}",
                self.config.region_name.as_deref().unwrap_or("(unset)"),
                self.prefix(),
                match &self.zenml {
                    Some(layout) => format!(" (ZenML's layout, scope {})", layout.scope().as_str()),
                    None => String::new(),
                }
            ),
            capabilities: Capabilities::new().with_max_secret_bytes(Some(match self.zenml {
                Some(_) => zenml::max_values_bytes(MAX_SECRET_BYTES),
                None => MAX_SECRET_BYTES,
            })),
        }
    }

    fn remote_name(&self, name: &SecretName) -> Option<String> {
        Some(self.aws_name(name))
    }

    async fn register_secret(&self, secret: &Secret) -> Result<()> {
        let text = self.payload(secret)?;
        let created = self
            .client()
            .await
            .create_secret()
            .name(self.aws_name(secret.name()))
            .secret_string(text.as_str())
            .set_tags(Some(self.tags(secret.name(), secret.schema())))
            .send()
            .await
            .map_err(|e| sdk_error(e, self, "create", Some(secret.name())));
        match created {
            Ok(_) => Ok(()),
            // Some endpoints report a name held by a secret awaiting deletion
            // as plainly existing; say which it is.
            Err(Error::AlreadyExists { name }) => match self.describe_managed(&name).await {
                Err(scheduled @ Error::Backend { .. }) => Err(scheduled),
                _ => Err(Error::AlreadyExists { name }),
            },
            Err(e) => Err(e),
        }
    }

    async fn get_secret(&self, name: &SecretName) -> Result<Secret> {
        // The values and the tags (schema, ownership) come from two calls;
        // they are made concurrently.
        let (schema, text) = futures::try_join!(self.describe_managed(name), self.read_text(name))?;
        self.decode(name, &self.aws_name(name), &text, schema)
    }

    /// One listing and one `BatchGetSecretValue` per 20 secrets (see
    /// `get_batched`); for one or two names, their single reads (two
    /// requests each, concurrent) cost no more. Where IAM refuses the
    /// listing or the batch read, single reads, with one warning naming
    /// the action to allow.
    async fn get_secrets(
        &self,
        names: &[SecretName],
        concurrency: usize,
    ) -> Result<Vec<Result<Secret>>> {
        if names.len() <= 2 || self.batch_refused.load(Ordering::Relaxed) {
            return Ok(get_each(self, names, concurrency).await);
        }
        match self.get_batched(names, concurrency).await {
            Err(Error::PermissionDenied { message, .. }) => {
                if !self.batch_refused.swap(true, Ordering::Relaxed) {
                    keystack_secrets_core::warning::warn(&format!(
                        "AWS refused a batch read ({message}); reading secrets one by one \
                         instead, two requests each. Allow secretsmanager:ListSecrets and \
                         secretsmanager:BatchGetSecretValue (with GetSecretValue on the secrets) \
                         for one request per 20 secrets."
                    ));
                }
                Ok(get_each(self, names, concurrency).await)
            }
            other => other,
        }
    }

    async fn list_secret_names(&self) -> Result<Vec<SecretName>> {
        let mut names: Vec<SecretName> = self
            .list_managed()
            .await?
            .into_iter()
            .map(|l| l.name)
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Read, patch, write back. AWS has no compare-and-swap on secret
    /// values, so concurrent updates of one secret: last writer wins.
    async fn update_secret(&self, name: &SecretName, patch: &SecretPatch) -> Result<Secret> {
        let mut secret = self.get_secret(name).await?;
        secret.apply(patch)?;
        let text = self.payload(&secret)?;
        self.client()
            .await
            .put_secret_value()
            .secret_id(self.aws_name(name))
            .secret_string(text.as_str())
            .send()
            .await
            .map_err(|e| sdk_error(e, self, "update", Some(name)))?;
        Ok(secret)
    }

    async fn delete_secret(&self, name: &SecretName) -> Result<()> {
        self.describe_managed(name).await?;
        self.delete_aws(&self.aws_name(name), name).await
    }

    async fn delete_all_secrets(&self) -> Result<usize> {
        let listed = self.list_managed().await?;
        let count = listed.len();
        futures::stream::iter(listed)
            .map(|l| async move { self.delete_aws(&l.aws_name, &l.name).await })
            .buffer_unordered(8)
            .inspect_ok(|_| keystack_secrets_core::progress::advance(1))
            .try_collect::<Vec<()>>()
            .await?;
        Ok(count)
    }
}

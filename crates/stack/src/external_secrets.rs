//! A stack as External Secrets Operator manifests (`keystack stack export
//! STACK --format external-secrets`): one `SecretStore` for the stack's
//! secrets manager (AWS, GCP, Azure or Vault), and one `ExternalSecret` per
//! component that holds references, whose Kubernetes Secret has a key per
//! environment variable the flavor maps — the variables `keystack run`
//! sets — so that a pod takes the same values with `envFrom`.
//!
//! Each reference becomes a `data` entry reading the secret's key from the
//! service (`remoteRef.key`: the service's name for the secret,
//! `remoteRef.property`: the key); the Secret's keys are rendered by the
//! operator's template engine (`engineVersion: v2`), so an attribute that
//! embeds references (`postgres://{{db.user}}:…`) keeps its text, and one
//! without references its value. The manifests are checked against the
//! operator's own CRD schemas (version `v1`) in the tests.

use std::collections::BTreeMap;

use keystack_secrets_core::reference::Segment;
use keystack_secrets_core::{SecretName, SecretReference, Template};
use serde::Serialize;

use crate::StackError;
use crate::component::{AttributeValue, Component};
use crate::flavor::{Catalog, ComponentType};
use crate::project::LoadedStack;

/// The API version the manifests use (the operator's `v1`, served since 0.16).
pub const API_VERSION: &str = "external-secrets.io/v1";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<S> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: S,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    labels: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
struct SecretStoreSpec {
    provider: Provider,
}

#[derive(Serialize)]
enum Provider {
    #[serde(rename = "aws")]
    Aws {
        service: &'static str,
        region: String,
    },
    #[serde(rename = "gcpsm")]
    Gcp {
        #[serde(rename = "projectID")]
        project_id: String,
    },
    #[serde(rename = "azurekv")]
    Azure {
        #[serde(rename = "vaultUrl")]
        vault_url: String,
        #[serde(rename = "authType")]
        auth_type: &'static str,
    },
    #[serde(rename = "vault")]
    Vault {
        server: String,
        path: String,
        version: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
        auth: VaultAuth,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VaultAuth {
    token_secret_ref: KeySelector,
}

#[derive(Serialize)]
struct KeySelector {
    name: String,
    key: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalSecretSpec {
    refresh_interval: &'static str,
    secret_store_ref: StoreRef,
    target: Target,
    data: Vec<Data>,
}

#[derive(Serialize)]
struct StoreRef {
    name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    name: String,
    creation_policy: &'static str,
    template: TargetTemplate,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TargetTemplate {
    engine_version: &'static str,
    data: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    secret_key: String,
    remote_ref: RemoteRef,
}

#[derive(Serialize)]
struct RemoteRef {
    key: String,
    property: String,
}

/// The manifests, as one YAML stream (documents separated by `---`), and
/// what was left out (attributes with references but no environment name),
/// for the caller to report. `remote_name` is the secrets manager's name
/// for a secret in its service ([`keystack_secrets_core::SecretsManager::remote_name`]).
pub fn manifests(
    stack: &LoadedStack,
    catalog: &Catalog,
    remote_name: &dyn Fn(&SecretName) -> Option<String>,
) -> Result<(String, Vec<String>), StackError> {
    let name = &stack.stack.name;
    let refuse = |message: String| StackError::ExternalSecrets {
        stack: name.clone(),
        message,
    };
    let sm = stack
        .component(ComponentType::SecretsManager)
        .ok_or_else(|| {
            refuse(format!(
                "it has no secrets manager; add one with `keystack stack update {name} -x NAME`"
            ))
        })?;
    let provider = provider(sm, catalog).map_err(refuse)?;
    let store = k8s_name(&format!("{name}-{}", sm.name));
    let labels = || {
        BTreeMap::from([
            ("app.kubernetes.io/managed-by", "keystack".to_owned()),
            ("keystack.dev/stack", k8s_name(name)),
        ])
    };
    let mut documents = vec![yaml(&Manifest {
        api_version: API_VERSION,
        kind: "SecretStore",
        metadata: Metadata {
            name: store.clone(),
            labels: labels(),
        },
        spec: SecretStoreSpec { provider },
    })];
    let mut left_out = Vec::new();
    for component in &stack.components {
        let references = component.references()?;
        if references.is_empty() {
            continue;
        }
        let flavor = component.flavor(catalog)?;
        let mut refs: Vec<SecretReference> = Vec::new();
        let mut template = BTreeMap::new();
        for spec in &flavor.attributes {
            let Some(var) = &spec.env else {
                if references.iter().any(|r| r.attribute == spec.name) {
                    left_out.push(format!(
                        "{} '{}' / attribute '{}': its flavor gives it no environment name",
                        component.component_type, component.name, spec.name
                    ));
                }
                continue;
            };
            let value = match (component.attributes.get(&spec.name), &spec.default) {
                (Some(value), _) => value.as_text(),
                (None, Some(default)) => default.clone(),
                (None, None) => continue,
            };
            if spec.as_file {
                left_out.push(format!(
                    "{} '{}' / attribute '{}': delivered as a file by `keystack run`; mount the \
                     Secret's key {var} as a volume instead of envFrom",
                    component.component_type, component.name, spec.name
                ));
            }
            template.insert(
                var.clone(),
                go_template(&value, &mut refs, component, &spec.name)?,
            );
        }
        let mut data = Vec::new();
        for (i, reference) in refs.iter().enumerate() {
            let key = remote_name(&reference.name).ok_or_else(|| {
                refuse(format!(
                    "its secrets manager '{}' has no name in a service for secret '{}'",
                    sm.name, reference.name
                ))
            })?;
            data.push(Data {
                secret_key: format!("ref{i}"),
                remote_ref: RemoteRef {
                    key,
                    // The operator reads a property as a gjson path: a `.`
                    // in a key is escaped to stay one key.
                    property: reference.key.as_str().replace('.', "\\."),
                },
            });
        }
        let target = k8s_name(&format!("{name}-{}", component.name));
        documents.push(yaml(&Manifest {
            api_version: API_VERSION,
            kind: "ExternalSecret",
            metadata: Metadata {
                name: target.clone(),
                labels: labels(),
            },
            spec: ExternalSecretSpec {
                refresh_interval: "1h",
                secret_store_ref: StoreRef {
                    name: store.clone(),
                    kind: "SecretStore",
                },
                target: Target {
                    name: target,
                    creation_policy: "Owner",
                    template: TargetTemplate {
                        engine_version: "v2",
                        data: template,
                    },
                },
                data,
            },
        }));
    }
    Ok((documents.join("---\n"), left_out))
}

/// The `SecretStore` provider of a secrets manager component, or why
/// there is none.
fn provider(sm: &Component, catalog: &Catalog) -> Result<Provider, String> {
    let text = |key: &str| sm.attributes.get(key).map(AttributeValue::as_text);
    let required = |key: &str| {
        text(key).ok_or_else(|| {
            format!(
                "secrets manager '{}' has no {key}, which the SecretStore needs",
                sm.name
            )
        })
    };
    Ok(match sm.flavor.as_str() {
        "aws" => Provider::Aws {
            service: "SecretsManager",
            region: required("region_name")?,
        },
        "gcp" => Provider::Gcp {
            project_id: required("project_id")?,
        },
        "azure" => Provider::Azure {
            vault_url: match (text("vault_url"), text("key_vault_name")) {
                (Some(url), _) => url,
                (None, Some(name)) => format!("https://{name}.vault.azure.net"),
                (None, None) => required("vault_url")?,
            },
            auth_type: "ManagedIdentity",
        },
        "vault" => Provider::Vault {
            server: required("url")?,
            path: text("mount_point").unwrap_or_else(|| "secret".to_owned()),
            version: "v2",
            namespace: text("vault_namespace"),
            auth: VaultAuth {
                token_secret_ref: KeySelector {
                    name: "vault-token".to_owned(),
                    key: "token",
                },
            },
        },
        flavor => {
            let local = sm.flavor(catalog).is_ok_and(|f| f.local);
            return Err(if local {
                format!(
                    "its secrets manager '{}' is {flavor}, this machine's store, which a cluster \
                     cannot read; put the secrets in a cloud secrets manager (aws, gcp, azure, \
                     vault), e.g. with `keystack secrets-manager secret copy --to NAME --all`",
                    sm.name
                )
            } else {
                format!(
                    "the External Secrets Operator has no provider for secrets manager flavor \
                     '{flavor}' here"
                )
            });
        }
    })
}

/// An attribute's text as a template of the operator's engine: literal
/// text as it is (escaped where it holds braces), each reference as the
/// `data` entry it becomes (`{{ .refN }}`, one per distinct reference).
fn go_template(
    text: &str,
    refs: &mut Vec<SecretReference>,
    component: &Component,
    attribute: &str,
) -> Result<String, StackError> {
    let template = Template::parse(text).map_err(|source| StackError::Reference {
        component_type: component.component_type,
        component: component.name.clone(),
        attribute: attribute.to_owned(),
        source,
    })?;
    let mut out = String::new();
    for segment in template.segments() {
        match segment {
            Segment::Text(literal) => {
                if literal.contains("{{") || literal.contains("}}") {
                    let quoted: String = literal
                        .chars()
                        .flat_map(|c| match c {
                            '"' => vec!['\\', '"'],
                            '\\' => vec!['\\', '\\'],
                            '\n' => vec!['\\', 'n'],
                            c => vec![c],
                        })
                        .collect();
                    out.push_str(&format!("{{{{ \"{quoted}\" }}}}"));
                } else {
                    out.push_str(literal);
                }
            }
            Segment::Reference { reference, .. } => {
                let index = match refs.iter().position(|r| r == reference) {
                    Some(i) => i,
                    None => {
                        refs.push(reference.clone());
                        refs.len() - 1
                    }
                };
                out.push_str(&format!("{{{{ .ref{index} }}}}"));
            }
        }
    }
    Ok(out)
}

/// A Kubernetes object name (RFC 1123): lowercase, `-` for `_`.
fn k8s_name(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

fn yaml<T: Serialize>(value: &T) -> String {
    crate::yaml::to_string(value)
}

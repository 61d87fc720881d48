//! GCP-specific behaviour: layout (read back with the Rust SDK and with
//! Google's Python client), versions, foreign secrets, errors, configuration.

use std::collections::HashMap;
use std::process::Command;

use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_secretmanager_v1::model;
use keystack_secrets_core::{
    Secret, SecretKey, SecretName, SecretPatch, SecretSchema, SecretsManager,
};
use keystack_secrets_gcp::{GcpBuilder, GcpConfigKey};

use super::{endpoint, fresh, manager};

fn name(s: &str) -> SecretName {
    SecretName::new(s).unwrap()
}

fn secret(n: &str, pairs: &[(&str, &str)]) -> Secret {
    Secret::arbitrary(name(n), pairs.iter().copied()).unwrap()
}

/// A plain SDK client on the emulator, to look behind Keystack's back.
async fn raw(endpoint: &str) -> SecretManagerService {
    SecretManagerService::builder()
        .with_endpoint(endpoint)
        .with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build())
        .build()
        .await
        .unwrap()
}

async fn raw_create(
    client: &SecretManagerService,
    project: &str,
    id: &str,
    labels: &[(&str, &str)],
) {
    client
        .create_secret()
        .set_parent(format!("projects/{project}"))
        .set_secret_id(id)
        .set_secret(
            model::Secret::new()
                .set_labels(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())))
                .set_replication(
                    model::Replication::new().set_automatic(model::replication::Automatic::new()),
                ),
        )
        .send()
        .await
        .unwrap();
    client
        .add_secret_version()
        .set_parent(format!("projects/{project}/secrets/{id}"))
        .set_payload(model::SecretPayload::new().set_data(br#"{"k":"foreign"}"#.to_vec()))
        .send()
        .await
        .unwrap();
}

async fn raw_exists(client: &SecretManagerService, project: &str, id: &str) -> bool {
    client
        .get_secret()
        .set_name(format!("projects/{project}/secrets/{id}"))
        .send()
        .await
        .is_ok()
}

async fn versions(
    client: &SecretManagerService,
    resource: &str,
) -> Vec<(String, model::secret_version::State)> {
    let mut versions: Vec<(String, model::secret_version::State)> = client
        .list_secret_versions()
        .set_parent(resource)
        .send()
        .await
        .unwrap()
        .versions
        .into_iter()
        .map(|v| (v.name.rsplit('/').next().unwrap().to_owned(), v.state))
        .collect();
    versions.sort_by_key(|(n, _)| n.parse::<u32>().unwrap());
    versions
}

#[tokio::test]
async fn a_secret_is_one_labelled_gcp_secret_with_a_json_payload() {
    let Some(endpoint) = endpoint() else { return };
    let project = format!("p{}", fresh());
    let m = manager(&endpoint, &project, Some("prod-1"));
    let s = Secret::new(
        name("db"),
        SecretSchema::BasicAuth,
        [
            (SecretKey::new("username").unwrap(), "admin".into()),
            (SecretKey::new("password").unwrap(), "pä ss".into()),
        ]
        .into(),
    )
    .unwrap();
    m.register_secret(&s).await.unwrap();

    let client = raw(&endpoint).await;
    let resource = format!("projects/{project}/secrets/keystack6-prod-1-db");
    let described = client
        .get_secret()
        .set_name(&resource)
        .send()
        .await
        .unwrap();
    assert_eq!(described.labels["keystack-managed"], "true");
    assert_eq!(described.labels["keystack-namespace"], "prod-1");
    assert_eq!(described.labels["keystack-schema"], "basic_auth");
    let payload = client
        .access_secret_version()
        .set_name(format!("{resource}/versions/latest"))
        .send()
        .await
        .unwrap()
        .payload
        .unwrap()
        .data;
    let values: HashMap<String, String> = serde_json::from_slice(&payload).unwrap();
    assert_eq!(values["username"], "admin");
    assert_eq!(values["password"], "pä ss");
}

#[tokio::test]
async fn an_update_adds_a_version_and_disables_the_older_ones() {
    let Some(endpoint) = endpoint() else { return };
    let project = format!("p{}", fresh());
    let client = raw(&endpoint).await;
    let set = |v: &str| SecretPatch::new().set(SecretKey::new("k").unwrap(), v.to_owned());
    use model::secret_version::State::{Destroyed, Disabled, Enabled};

    let m = manager(&endpoint, &project, None);
    m.register_secret(&secret("s", &[("k", "v1")]))
        .await
        .unwrap();
    m.update_secret(&name("s"), &set("v2")).await.unwrap();
    let resource = format!("projects/{project}/secrets/keystack-s");
    assert_eq!(
        versions(&client, &resource).await,
        [("1".to_owned(), Disabled), ("2".to_owned(), Enabled)]
    );
    assert_eq!(
        m.get_secret(&name("s"))
            .await
            .unwrap()
            .get("k")
            .unwrap()
            .expose(),
        "v2"
    );

    let keep2 = super::builder(&endpoint, &project, None)
        .with_keep_versions(2)
        .build()
        .unwrap();
    keep2.update_secret(&name("s"), &set("v3")).await.unwrap();
    keep2.update_secret(&name("s"), &set("v4")).await.unwrap();
    assert_eq!(
        versions(&client, &resource).await,
        [
            ("1".to_owned(), Disabled),
            ("2".to_owned(), Disabled),
            ("3".to_owned(), Enabled),
            ("4".to_owned(), Enabled)
        ]
    );

    let destroying = super::builder(&endpoint, &project, None)
        .with_destroy_old_versions(true)
        .build()
        .unwrap();
    destroying
        .update_secret(&name("s"), &set("v5"))
        .await
        .unwrap();
    assert_eq!(
        versions(&client, &resource).await,
        [
            ("1".to_owned(), Destroyed),
            ("2".to_owned(), Destroyed),
            ("3".to_owned(), Destroyed),
            ("4".to_owned(), Destroyed),
            ("5".to_owned(), Enabled)
        ]
    );
    assert_eq!(
        m.get_secret(&name("s"))
            .await
            .unwrap()
            .get("k")
            .unwrap()
            .expose(),
        "v5"
    );
}

#[tokio::test]
async fn foreign_and_other_namespace_secrets_are_never_touched() {
    let Some(endpoint) = endpoint() else { return };
    let project = format!("p{}", fresh());
    let client = raw(&endpoint).await;
    let m = manager(&endpoint, &project, Some("prod"));
    let neighbour = manager(&endpoint, &project, Some("dev"));
    let bare = manager(&endpoint, &project, None);
    m.register_secret(&secret("a", &[("k", "1")]))
        .await
        .unwrap();
    m.register_secret(&secret("b", &[("k", "2")]))
        .await
        .unwrap();
    neighbour
        .register_secret(&secret("a", &[("k", "theirs")]))
        .await
        .unwrap();
    bare.register_secret(&secret("a", &[("k", "bare")]))
        .await
        .unwrap();
    let foreign: [(&str, &[(&str, &str)]); 4] = [
        // Our ID, no labels.
        ("keystack4-prod-unlabelled", &[("team", "ml")]),
        // Our ID, labelled for another namespace.
        (
            "keystack4-prod-elsewhere",
            &[("keystack-managed", "true"), ("keystack-namespace", "dev")],
        ),
        // Labelled as ours, but not a Keystack ID.
        (
            "db-password",
            &[("keystack-managed", "true"), ("keystack-namespace", "prod")],
        ),
        // Nothing to do with Keystack.
        ("keystackish", &[]),
    ];
    for (id, labels) in &foreign {
        raw_create(&client, &project, id, labels).await;
    }

    assert_eq!(m.list_secret_names().await.unwrap(), [name("a"), name("b")]);
    for foreign in ["unlabelled", "elsewhere"] {
        keystack_secrets_core::conformance::foreign_secret_is_refused(&m, foreign).await;
    }

    assert_eq!(m.delete_all_secrets().await.unwrap(), 2);
    assert!(m.list_secret_names().await.unwrap().is_empty());
    for (id, _) in &foreign {
        assert!(raw_exists(&client, &project, id).await, "{id} was deleted");
    }
    assert_eq!(neighbour.list_secret_names().await.unwrap(), [name("a")]);
    assert_eq!(bare.list_secret_names().await.unwrap(), [name("a")]);
    assert_eq!(
        bare.get_secret(&name("a"))
            .await
            .unwrap()
            .get("k")
            .unwrap()
            .expose(),
        "bare"
    );
}

/// Runs Google's Python client (installed by xtask beside drongo) on a
/// script; returns its standard output.
fn python(endpoint: &str, script: &str, args: &[&str]) -> String {
    let python = std::env::var("KEYSTACK_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .expect(
            "KEYSTACK_TEST_PYTHON (the emulators' virtualenv python, set by `cargo xtask test`)",
        );
    let prelude = r#"
import json, sys
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager
client = secretmanager.SecretManagerServiceClient(
    transport="rest",
    client_options=ClientOptions(api_endpoint=sys.argv[1]),
    credentials=AnonymousCredentials(),
)
"#;
    let output = Command::new(python)
        .arg("-c")
        .arg(format!("{prelude}\n{script}"))
        .arg(endpoint)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn googles_python_client_reads_what_keystack_writes_and_the_other_way_round() {
    let Some(endpoint) = endpoint() else { return };
    let project = format!("p{}", fresh());
    let m = manager(&endpoint, &project, Some("ml"));
    m.register_secret(&secret("from-rust", &[("user", "ana"), ("token", "t0ken")]))
        .await
        .unwrap();
    m.update_secret(
        &name("from-rust"),
        &SecretPatch::new().set(SecretKey::new("token").unwrap(), "t1ken"),
    )
    .await
    .unwrap();

    let read = r#"
name = f"projects/{sys.argv[2]}/secrets/{sys.argv[3]}"
secret = client.get_secret(name=name)
payload = client.access_secret_version(name=f"{name}/versions/latest").payload.data
versions = sorted((v.name.rsplit("/", 1)[1], secretmanager.SecretVersion.State(v.state).name)
                  for v in client.list_secret_versions(parent=name))
print(json.dumps({"labels": dict(secret.labels), "values": json.loads(payload), "versions": versions}))
"#;
    let out = python(&endpoint, read, &[&project, "keystack2-ml-from-rust"]);
    let seen: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(seen["labels"]["keystack-managed"], "true");
    assert_eq!(seen["labels"]["keystack-namespace"], "ml");
    assert_eq!(seen["labels"]["keystack-schema"], "arbitrary");
    assert_eq!(
        seen["values"],
        serde_json::json!({"user": "ana", "token": "t1ken"})
    );
    assert_eq!(
        seen["versions"],
        serde_json::json!([["1", "DISABLED"], ["2", "ENABLED"]])
    );

    let write = r#"
parent = f"projects/{sys.argv[2]}"
secret = client.create_secret(parent=parent, secret_id=sys.argv[3], secret={
    "replication": {"automatic": {}},
    "labels": {"keystack-managed": "true", "keystack-namespace": "ml", "keystack-schema": "basic_auth"},
})
client.add_secret_version(parent=secret.name, payload={"data": json.dumps({"username": "bo", "password": "pw-from-python"}).encode()})
print(secret.name)
"#;
    python(&endpoint, write, &[&project, "keystack2-ml-from-python"]);
    let got = m.get_secret(&name("from-python")).await.unwrap();
    assert_eq!(got.schema(), SecretSchema::BasicAuth);
    assert_eq!(got.get("password").unwrap().expose(), "pw-from-python");
    assert_eq!(
        m.list_secret_names().await.unwrap(),
        [name("from-python"), name("from-rust")]
    );
}

#[test]
fn configuration_errors_say_what_to_do() {
    let err = |b: GcpBuilder| b.build().unwrap_err().to_string();
    assert!(
        err(GcpBuilder::from_lookup(|_| None)).contains("set project_id (or GOOGLE_CLOUD_PROJECT)")
    );
    assert!(err(GcpBuilder::new().with_project_id("My Project")).contains("not a project ID"));
    let e = err(GcpBuilder::new()
        .with_project_id("p")
        .with_endpoint("secretmanager.googleapis.com"));
    assert!(e.contains("http://") && e.contains("https://"), "{e}");
    for bad in ["Prod", "-x", "a.b", "", &"n".repeat(64)] {
        let e = err(GcpBuilder::new().with_project_id("p").with_namespace(bad));
        assert!(
            e.contains("namespace") && e.contains("label value"),
            "{bad:?}: {e}"
        );
    }
    assert!(
        err(GcpBuilder::new().with_project_id("p").with_keep_versions(0)).contains("keep_versions")
    );
    assert!(err(GcpBuilder::new().with_project_id("p").with_page_size(0)).contains("page_size"));
    let e = GcpBuilder::new()
        .with_config(GcpConfigKey::DestroyOldVersions, "yes")
        .unwrap_err()
        .to_string();
    assert!(e.contains("true or false"), "{e}");
    let e = "project".parse::<GcpConfigKey>().unwrap_err().to_string();
    assert!(
        e.contains("unknown setting") && e.contains("project_id"),
        "{e}"
    );
    let from_env =
        GcpBuilder::from_lookup(|v| (v == "CLOUDSDK_CORE_PROJECT").then(|| "ml-123".to_owned()))
            .build()
            .unwrap();
    assert_eq!(from_env.config().project_id.as_deref(), Some("ml-123"));
}

#[test]
fn debug_shows_the_project_not_more() {
    let m = GcpBuilder::new()
        .with_project_id("ml-123")
        .with_namespace("prod")
        .build()
        .unwrap();
    let shown = format!("{m:?}");
    assert!(
        shown.contains("ml-123") && shown.contains("secretmanager.googleapis.com"),
        "{shown}"
    );
}

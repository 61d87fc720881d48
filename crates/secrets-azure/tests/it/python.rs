//! Microsoft's Python client (azure-keyvault-secrets with azure-identity,
//! installed by xtask) against the test server: if the two disagree, the
//! server is wrong. Then the layout, both ways: what Keystack writes,
//! Microsoft's client reads, and the other way round.

use std::process::Command;

use keystack_secrets_core::{Secret, SecretName, SecretsManager};

use super::{fresh, manager, var, vault_url};

/// Runs `script` after a prelude that makes `client` (a `SecretClient` on
/// the test server, authenticated by `ClientSecretCredential` against the
/// server's token endpoint); returns its standard output.
fn python(url: &str, script: &str, args: &[&str]) -> String {
    let prelude = r#"
import json, os, sys
from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient
credential = ClientSecretCredential(
    os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"], os.environ["AZURE_CLIENT_SECRET"],
    authority=os.environ["AZURE_AUTHORITY_HOST"], disable_instance_discovery=True)
client = SecretClient(sys.argv[1], credential, verify_challenge_resource=False)
"#;
    let output = Command::new(var("KEYSTACK_TEST_PYTHON"))
        .arg("-c")
        .arg(format!("{prelude}\n{script}"))
        .arg(url)
        .args(args)
        .env("REQUESTS_CA_BUNDLE", var("KEYSTACK_TEST_AZURE_CA"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn name(s: &str) -> SecretName {
    SecretName::new(s).unwrap()
}

#[test]
fn microsofts_client_agrees_with_the_test_server() {
    let Some(url) = vault_url() else { return };
    let prefix = format!("fidelity-{}", fresh());
    let script = r#"
prefix = sys.argv[2]
one = prefix + "-one"
s = client.set_secret(one, "v1", tags={"team": "ml"}, content_type="text/plain")
assert s.value == "v1" and s.properties.tags == {"team": "ml"}, s
assert s.properties.content_type == "text/plain"
first = s.properties.version
s2 = client.set_secret(one, "v2")
assert s2.properties.version != first
assert client.get_secret(one).value == "v2"
assert client.get_secret(one, version=first).value == "v1"
versions = list(client.list_properties_of_secret_versions(one, max_page_size=1))
assert sorted(v.version for v in versions) == sorted([first, s2.properties.version]), versions
for i in range(7):
    client.set_secret("%s-bulk-%d" % (prefix, i), str(i))
pages = list(client.list_properties_of_secrets(max_page_size=3).by_page())
names = [p.name for page in pages for p in page if p.name.startswith(prefix)]
assert len(names) == 8 and len(set(names)) == 8, names
print("pages", len(pages))
client.update_secret_properties(one, enabled=False, tags={"team": "ds"})
try:
    client.get_secret(one)
    raise SystemExit("a disabled secret was read")
except Exception as e:
    assert getattr(e, "status_code", None) == 403, e
client.update_secret_properties(one, enabled=True)
poller = client.begin_delete_secret(one, _polling_interval=0.1)
deleted = poller.result()
poller.wait()
assert deleted.name == one and deleted.recovery_id.endswith("/deletedsecrets/" + one), deleted
got = client.get_deleted_secret(one)
assert got.name == one and got.scheduled_purge_date > got.deleted_date
assert one in [d.name for d in client.list_deleted_secrets()]
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
try:
    client.set_secret(one, "again")
    raise SystemExit("a deleted name was reused")
except ResourceExistsError as e:
    assert "deleted but recoverable" in str(e), e
client.begin_recover_deleted_secret(one, _polling_interval=0.1).wait()
assert client.get_secret(one).value == "v2"
client.begin_delete_secret(one, _polling_interval=0.1).wait()
client.purge_deleted_secret(one)
try:
    client.get_deleted_secret(one)
    raise SystemExit("a purged secret is still deleted")
except ResourceNotFoundError:
    pass
print("ok")
"#;
    let out = python(&url, script, &[&prefix]);
    assert!(out.contains("pages"), "{out}");
    assert!(out.trim_end().ends_with("ok"), "{out}");
}

#[tokio::test]
async fn microsofts_client_reads_what_keystack_writes_and_the_other_way_round() {
    let Some(url) = vault_url() else { return };
    let ns = fresh();
    let m = manager(&url, Some(&ns));
    m.register_secret(
        &Secret::arbitrary(name("From_Rust"), [("user", "ana"), ("token", "t0ken")]).unwrap(),
    )
    .await
    .unwrap();
    let id = format!("keystack{}-{ns}--from-0-rust", ns.len());
    let read = r#"
s = client.get_secret(sys.argv[2])
print(json.dumps({"value": json.loads(s.value), "content_type": s.properties.content_type, "tags": s.properties.tags}))
"#;
    let out: serde_json::Value = serde_json::from_str(&python(&url, read, &[&id])).unwrap();
    assert_eq!(
        out["value"],
        serde_json::json!({"user": "ana", "token": "t0ken"})
    );
    assert_eq!(out["content_type"], "application/json");
    assert_eq!(
        out["tags"],
        serde_json::json!({"keystack-managed": "true", "keystack-namespace": ns, "keystack-schema": "arbitrary"})
    );

    let write = r#"
client.set_secret(sys.argv[2], json.dumps({"user": "bo", "password": "pw-from-python"}),
    content_type="application/json",
    tags={"keystack-managed": "true", "keystack-namespace": sys.argv[3], "keystack-schema": "arbitrary"})
"#;
    let from_python = format!("keystack{}-{ns}-from--python", ns.len());
    python(&url, write, &[&from_python, &ns]);
    let got = m.get_secret(&name("from-python")).await.unwrap();
    assert_eq!(got.get("password").unwrap().expose(), "pw-from-python");
    assert_eq!(
        m.list_secret_names().await.unwrap(),
        [name("From_Rust"), name("from-python")]
    );
}

/// Writes a secret with Microsoft's client, as another tool would; returns its name.
pub(crate) fn set_raw(url: &str, id: &str, value: &str, tags: &[(&str, &str)]) -> String {
    let tags: serde_json::Map<String, serde_json::Value> = tags
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
        .collect();
    let tags = serde_json::Value::Object(tags).to_string();
    python(
        url,
        "client.set_secret(sys.argv[2], sys.argv[3], tags=json.loads(sys.argv[4]) or None)",
        &[id, value, &tags],
    );
    id.to_owned()
}

/// Whether a secret of that name is live, by Microsoft's client.
pub(crate) fn exists(url: &str, id: &str) -> bool {
    let out = python(
        url,
        r#"
from azure.core.exceptions import ResourceNotFoundError
try:
    client.get_secret(sys.argv[2]); print("yes")
except ResourceNotFoundError:
    print("no")
"#,
        &[id],
    );
    out.trim() == "yes"
}

/// Writes a foreign secret `id` and deletes it (soft), waiting until it is listed as deleted.
pub(crate) fn delete(url: &str, id: &str, _shown: &str) {
    python(
        url,
        r#"
client.set_secret(sys.argv[2], "{}")
client.begin_delete_secret(sys.argv[2], _polling_interval=0.1).wait()
"#,
        &[id],
    );
}

/// Enables or disables a secret's latest version, by Microsoft's client.
pub(crate) fn set_enabled(url: &str, id: &str, enabled: bool) {
    python(
        url,
        "client.update_secret_properties(sys.argv[2], enabled=(sys.argv[3] == 'true'))",
        &[id, if enabled { "true" } else { "false" }],
    );
}

/// Makes the test server on `port` fail the next `count` requests with `status`.
pub(crate) fn faults(port: u16, status: u16, count: u32) {
    let script = r#"
import ssl, urllib.request
ctx = ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])
body = json.dumps({"status": int(sys.argv[2]), "count": int(sys.argv[3])}).encode()
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_test/faults", data=body, method="POST"), context=ctx)
"#;
    python(
        &format!("https://127.0.0.1:{port}"),
        script,
        &[&status.to_string(), &count.to_string()],
    );
}

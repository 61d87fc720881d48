//! ZenML's cloud layouts (`layout: zenml`), in every emulator: secrets
//! written by ZenML's own code on each vendor's own Python client
//! (`zenml_layout.py`: boto3, google-cloud-secret-manager,
//! azure-keyvault-secrets, hvac) are listed, read, validated against,
//! injected, updated and deleted by Keystack; what Keystack writes in that
//! layout, ZenML's code reads back (schema, values, tags).

use std::process::Command;

use serde_json::{Value, json};

use crate::{Sandbox, emulator_var, secret_args};

const PEM: &str = "-----BEGIN KEY-----\nzl-line-one\nzl-line-two\n-----END KEY-----";

/// Runs ZenML's code of `backend` (`action` with `args`): its exit code,
/// its answer (JSON) and its standard error.
fn zenml(backend: &str, action: &str, args: &Value) -> (i32, Value, String) {
    let python = std::env::var("KEYSTACK_TEST_PYTHON").expect(
        "KEYSTACK_TEST_PYTHON (the emulators' virtualenv python, set by `cargo xtask test`)",
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/zenml_layout.py");
    let mut command = Command::new(python);
    command
        .arg(script)
        .args([backend, action, &args.to_string()]);
    if let Ok(ca) = std::env::var("KEYSTACK_TEST_AZURE_CA") {
        command.env("REQUESTS_CA_BUNDLE", ca);
    }
    let out = command.output().expect("python runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 3,
        "ZenML's {backend} {action} failed: {stderr}"
    );
    let answer = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (code, answer, stderr)
}

/// `config` with `more` merged in.
fn with(config: &Value, more: Value) -> Value {
    let mut merged = config.clone();
    for (k, v) in more.as_object().unwrap() {
        merged[k] = v.clone();
    }
    merged
}

/// One backend's walk. `register`: the flavor's settings after
/// `secrets-manager register zsm` (layout, scope and the rest); `config`:
/// the same manager as ZenML's code takes it; `elsewhere`: a manager of
/// another scope in the same account, whose secret Keystack must not see.
fn walk(backend: &str, register: &[&str], config: &Value, elsewhere: &Value) {
    let s = Sandbox::new();
    let secret = |name: &str, schema: &str, content: Value| json!({"secret": {"name": name, "schema": schema, "content": content}});
    // What an interrupted run left (scope none reuses one region or mount).
    zenml(backend, "delete_all", config);
    zenml(backend, "delete_all", elsewhere);
    // ZenML writes two secrets in the scope and one in another.
    let db = secret(
        "db",
        "basic_auth",
        json!({"username": "ana", "password": PEM}),
    );
    zenml(backend, "register", &with(config, db));
    zenml(
        backend,
        "register",
        &with(
            config,
            secret("api", "arbitrary", json!({"token": "zl-tok-1"})),
        ),
    );
    zenml(
        backend,
        "register",
        &with(
            elsewhere,
            secret("other", "arbitrary", json!({"token": "zl-other"})),
        ),
    );

    // At a scoped name but without ZenML's tags: not in the scope.
    let tagged = backend != "vault" && config["scope"] != "none";
    if tagged {
        zenml(
            backend,
            "plant",
            &with(
                config,
                secret("planted", "arbitrary", json!({"k": "zl-planted"})),
            ),
        );
        assert_eq!(
            zenml(backend, "get", &with(config, json!({"name": "planted"}))).0,
            3
        );
    }

    let mut args = vec!["secrets-manager", "register", "zsm"];
    args.extend(register);
    s.run(&args).ok();
    s.run(&["secrets-manager", "describe", "zsm"])
        .ok()
        .out_has("ZenML's layout");
    s.run(&[
        "experiment-tracker",
        "register",
        "mlflow",
        "--flavor=mlflow",
        "--tracking_uri=http://127.0.0.1:5000",
        "--tracking_username={{db.username}}",
        "--tracking_password={{db.password}}",
    ])
    .ok();
    s.run(&[
        "stack", "register", "z", "-o", "default", "-a", "default", "-x", "zsm", "-e", "mlflow",
        "--set",
    ])
    .ok();

    // Listed (only this scope's), read, validated against, injected.
    assert_eq!(
        s.run(&secret_args(&["list"])).ok().stdout,
        "NAME\napi\ndb\n"
    );
    let got: Value = serde_json::from_str(
        &s.run(&secret_args(&["get", "db", "-o", "json"]))
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(got, json!({"username": "ana", "password": PEM}));
    s.run(&["stack", "validate"]).ok();
    s.run(&[
        "run",
        "--no-masking",
        "--",
        "sh",
        "-c",
        "echo $MLFLOW_TRACKING_USERNAME",
    ])
    .ok()
    .out_has("ana");
    s.run(&secret_args(&["get", "other"])).fails(3);
    if tagged {
        let refused = s.run(&secret_args(&["get", "planted"]));
        assert_ne!(refused.code, 0);
        assert!(!refused.stderr.contains("zl-planted"), "{}", refused.stderr);
        refused.err_has("do not put it in this ZenML scope");
    }
    s.run(&[
        "experiment-tracker",
        "update",
        "mlflow",
        "--tracking_password={{other.token}}",
    ])
    .ok();
    s.run(&["stack", "validate"])
        .fails(4)
        .err_has("secret 'other', which does not exist");

    // Updated by Keystack, read by ZenML: schema kept, values new.
    s.run(&secret_args(&["update", "db", "--password=zl-new-pw"]))
        .ok();
    let (_, read, _) = zenml(backend, "get", &with(config, json!({"name": "db"})));
    assert_eq!(read["schema"], "basic_auth");
    assert_eq!(
        read["content"],
        json!({"username": "ana", "password": "zl-new-pw"})
    );

    // Registered by Keystack, read by ZenML.
    s.run(&secret_args(&[
        "register",
        "made",
        "--schema=aws",
        "--aws_access_key_id=AKIAZL",
        "--aws_secret_access_key=zl-sk",
    ]))
    .ok();
    let (_, read, _) = zenml(backend, "get", &with(config, json!({"name": "made"})));
    assert_eq!(read["schema"], "aws");
    assert_eq!(
        read["content"],
        json!({"aws_access_key_id": "AKIAZL", "aws_secret_access_key": "zl-sk"})
    );
    if let Some(tags) = read.get("tags").filter(|_| config["scope"] != "none") {
        // ZenML's tags or labels, as its `_get_secret_metadata` wrote them.
        assert_eq!(tags["zenml_scope"], config["scope"], "{tags}");
        assert_eq!(tags["zenml_secret_name"], "made", "{tags}");
        assert_eq!(tags["zenml_secret_schema"], "aws", "{tags}");
        assert_eq!(tags["zenml_component_name"], "zsm", "{tags}");
        if config["scope"] == "namespace" {
            assert_eq!(tags["zenml_namespace"], config["namespace"], "{tags}");
        }
        if config["scope"] == "component" {
            assert_eq!(
                tags["zenml_component_uuid"], config["component_id"],
                "{tags}"
            );
        }
    }
    let (_, listed, _) = zenml(backend, "list", config);
    assert_eq!(listed, json!(["api", "db", "made"]));

    // Keys ZenML reads as something else are refused, nothing written.
    s.run(&secret_args(&["register", "bad", "--name=x"]))
        .fails(2)
        .err_has("ZenML's layout cannot hold key(s) 'name'");
    assert_eq!(
        zenml(backend, "get", &with(config, json!({"name": "bad"}))).0,
        3
    );

    // Deleted by Keystack: gone for ZenML; another scope's secret stays.
    s.run(&secret_args(&["delete", "api", "-y"])).ok();
    assert_eq!(zenml(backend, "list", config).1, json!(["db", "made"]));
    s.run(&secret_args(&["delete-all", "-y"]))
        .ok()
        .err_has("Deleted 2 secret(s)");
    assert_eq!(zenml(backend, "list", config).1, json!([]));
    let (_, kept, _) = zenml(backend, "get", &with(elsewhere, json!({"name": "other"})));
    assert_eq!(kept["content"]["token"], "zl-other");
    zenml(
        backend,
        "delete",
        &with(elsewhere, json!({"name": "other"})),
    );
}

/// A namespace no other test or run uses (letters and digits: every
/// backend's ZenML rule allows them).
fn fresh(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    )
}

const COMPONENT_ID: &str = "5f0c2a1e-7b3d-4c9e-8a6f-2d1b0c9e8f7a";

#[test]
fn zenml_layout_on_aws_scope_namespace() {
    let Some(endpoint) = emulator_var("KEYSTACK_TEST_AWS_ENDPOINT", "ZenML's AWS layout") else {
        return;
    };
    let ns = fresh("team");
    let config = json!({"scope": "namespace", "namespace": ns, "component_id": COMPONENT_ID, "component_name": "zsm"});
    let elsewhere =
        json!({"scope": "namespace", "namespace": fresh("other"), "component_id": COMPONENT_ID});
    walk(
        "aws",
        &[
            "--flavor=aws",
            // moto now and then answers 500 to a listing under load.
            "--max_attempts=6",
            "--region_name=us-east-1",
            &format!("--endpoint_url={endpoint}"),
            "--layout=zenml",
            "--scope=namespace",
            &format!("--namespace={ns}"),
            &format!("--component_id={COMPONENT_ID}"),
        ],
        &config,
        &elsewhere,
    );
}

#[test]
fn zenml_layout_on_aws_scope_component() {
    let Some(endpoint) = emulator_var("KEYSTACK_TEST_AWS_ENDPOINT", "ZenML's AWS layout") else {
        return;
    };
    let id = format!(
        "{:08x}-1111-4222-8333-{:012x}",
        std::process::id(),
        0xabcdef_u64
    );
    let config = json!({"scope": "component", "component_id": id, "component_name": "zsm"});
    walk(
        "aws",
        &[
            "--flavor=aws",
            // moto now and then answers 500 to a listing under load.
            "--max_attempts=6",
            "--region_name=us-east-1",
            &format!("--endpoint_url={endpoint}"),
            "--layout=zenml",
            "--scope=component",
            &format!("--component_id={id}"),
        ],
        &config,
        &json!({"scope": "global", "component_id": id}),
    );
}

#[test]
fn zenml_layout_on_aws_without_a_scope() {
    let Some(endpoint) = emulator_var("KEYSTACK_TEST_AWS_ENDPOINT", "ZenML's AWS layout") else {
        return;
    };
    // Unscoped secrets are every untagged secret of the account with a
    // bare name: a region (a separate account in moto) of the test's own.
    let region = "ap-southeast-4";
    let config = json!({"scope": "none", "region": region, "component_id": COMPONENT_ID});
    let elsewhere = json!({"scope": "global", "region": region, "component_id": COMPONENT_ID});
    walk(
        "aws",
        &[
            "--flavor=aws",
            // moto now and then answers 500 to a listing under load.
            "--max_attempts=6",
            &format!("--region_name={region}"),
            &format!("--endpoint_url={endpoint}"),
            "--layout=zenml",
            "--scope=none",
        ],
        &config,
        &elsewhere,
    );
}

#[test]
fn zenml_layout_on_gcp_scope_namespace() {
    let Some(endpoint) = emulator_var("KEYSTACK_TEST_GCP_ENDPOINT", "ZenML's GCP layout") else {
        return;
    };
    let project = fresh("zl");
    let ns = fresh("team");
    let config = json!({"scope": "namespace", "namespace": ns, "component_id": COMPONENT_ID, "component_name": "zsm", "project": project});
    let elsewhere = json!({"scope": "global", "component_id": COMPONENT_ID, "project": project});
    walk(
        "gcp",
        &[
            "--flavor=gcp",
            &format!("--project_id={project}"),
            &format!("--endpoint={endpoint}"),
            "--layout=zenml",
            "--scope=namespace",
            &format!("--namespace={ns}"),
            &format!("--component_id={COMPONENT_ID}"),
        ],
        &config,
        &elsewhere,
    );
}

#[test]
fn zenml_layout_on_azure_scope_namespace() {
    let what = "ZenML's Azure layout";
    let Some((url, ca)) = emulator_var("KEYSTACK_TEST_AZURE_VAULT_URL", what)
        .zip(emulator_var("KEYSTACK_TEST_AZURE_CA", what))
    else {
        return;
    };
    let ns = fresh("team");
    let config = json!({"scope": "namespace", "namespace": ns, "component_id": COMPONENT_ID, "component_name": "zsm"});
    let elsewhere =
        json!({"scope": "namespace", "namespace": fresh("other"), "component_id": COMPONENT_ID});
    walk(
        "azure",
        &[
            "--flavor=azure",
            &format!("--vault_url={url}"),
            &format!("--ca_file={ca}"),
            "--verify_challenge_resource=false",
            "--layout=zenml",
            "--scope=namespace",
            &format!("--namespace={ns}"),
            &format!("--component_id={COMPONENT_ID}"),
        ],
        &config,
        &elsewhere,
    );
}

#[test]
fn zenml_layout_on_vault_scope_namespace() {
    let what = "ZenML's Vault layout";
    let Some(addr) = emulator_var("KEYSTACK_TEST_VAULT_ADDR", what) else {
        return;
    };
    let ns = fresh("team");
    let config = json!({"scope": "namespace", "namespace": ns, "component_id": COMPONENT_ID, "component_name": "zsm"});
    let elsewhere =
        json!({"scope": "namespace", "namespace": fresh("other"), "component_id": COMPONENT_ID});
    walk(
        "vault",
        &[
            "--flavor=vault",
            &format!("--url={addr}"),
            "--layout=zenml",
            "--scope=namespace",
            &format!("--namespace={ns}"),
            &format!("--component_id={COMPONENT_ID}"),
        ],
        &config,
        &elsewhere,
    );
}

#[test]
fn zenml_layout_on_vault_without_a_scope() {
    let what = "ZenML's Vault layout";
    let Some(addr) = emulator_var("KEYSTACK_TEST_VAULT_ADDR", what) else {
        return;
    };
    // Unscoped entries sit at the mount's root: a mount of the test's own.
    let mount = fresh("zl");
    let token = emulator_var("KEYSTACK_TEST_VAULT_TOKEN", what).unwrap();
    let enabled = Command::new(std::env::var("KEYSTACK_TEST_BAO").expect("KEYSTACK_TEST_BAO"))
        .args(["secrets", "enable", &format!("-path={mount}"), "kv-v2"])
        .env("BAO_ADDR", &addr)
        .env("BAO_TOKEN", &token)
        .output()
        .unwrap();
    assert!(enabled.status.success(), "{enabled:?}");
    let config = json!({"scope": "none", "mount_point": mount, "component_id": COMPONENT_ID});
    let elsewhere = json!({"scope": "global", "mount_point": mount, "component_id": COMPONENT_ID});
    walk(
        "vault",
        &[
            "--flavor=vault",
            &format!("--url={addr}"),
            &format!("--mount_point={mount}"),
            "--layout=zenml",
            "--scope=none",
        ],
        &config,
        &elsewhere,
    );
}

//! `secret copy` and `secret migrate` between secrets managers: local to
//! local, local to and from every emulated backend, and cloud to cloud.

use crate::{Sandbox, emulator_var};

const PEM: &str = "-----BEGIN KEY-----\nline-one-3f9a\nline-two-77c1\n-----END KEY-----";

fn secret<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["secrets-manager", "secret"];
    all.extend(rest);
    all
}

/// Registers the destination manager `dst` (`register`: the flavor and its
/// attributes) and a stack `dst` on it, then walks copy and migrate there
/// and back. `env`: the backend's credentials.
fn copy_there_and_back(s: &Sandbox, register: &[&str], env: &[(&str, &str)]) {
    let mut args = vec!["secrets-manager", "register", "dst"];
    args.extend(register);
    s.run_env(&args, env).ok();
    s.run(&[
        "stack", "register", "dst", "-o", "default", "-a", "default", "-x", "dst",
    ])
    .ok();
    let on_dst: Vec<(&str, &str)> = env
        .iter()
        .copied()
        .chain([("KEYSTACK_STACK", "dst")])
        .collect();
    s.run_stdin_env(
        &secret(&["register", "db", "--user=ana", "--key=@-"]),
        PEM.as_bytes(),
        env,
    )
    .ok();
    s.run_env(&secret(&["register", "api", "--token=tok-1"]), env)
        .ok();
    s.run_env(
        &secret(&[
            "register",
            "cloud",
            "--schema=aws",
            "--aws_access_key_id=AKIA1",
            "--aws_secret_access_key=sk-1",
        ]),
        env,
    )
    .ok();
    let json = |env: &[(&str, &str)], name: &str| -> serde_json::Value {
        serde_json::from_str(
            &s.run_env(&secret(&["get", name, "-o", "json"]), env)
                .ok()
                .stdout,
        )
        .unwrap()
    };

    s.run_env(&secret(&["copy", "--to", "dst", "--all", "--dry-run"]), env)
        .ok()
        .err_has("Would copy 3 secret(s)");
    assert_eq!(s.run_env(&secret(&["list"]), &on_dst).ok().stdout, "NAME\n");
    s.run_env(&secret(&["copy", "--to", "dst", "--all"]), env)
        .ok()
        .err_has("db: copied")
        .err_has("Copied 3 secret(s) from 'default' to 'dst'");
    for name in ["db", "api", "cloud"] {
        assert_eq!(json(&on_dst, name), json(env, name), "{name}");
    }
    s.run_env(&secret(&["get", "cloud"]), &on_dst)
        .ok()
        .out_has("aws_secret_access_key");
    // Again: nothing is duplicated.
    s.run_env(&secret(&["copy", "--to", "dst", "--all"]), env)
        .ok()
        .err_has("api: already there, identical");

    // The destination's own `api` is never overwritten, and its source is
    // never deleted; the others migrate.
    s.run_env(&secret(&["update", "api", "--token=theirs"]), &on_dst)
        .ok();
    s.run_env(
        &secret(&["migrate", "--to", "dst", "--all", "--delete-source"]),
        env,
    )
    .fails(1)
    .err_has("api: left as it is")
    .err_has("db: copied, verified, deleted from the source")
    .err_has("1 of 3 secret(s) were not copied to 'dst': 'api'");
    assert_eq!(json(&on_dst, "api")["token"], "theirs");
    assert_eq!(json(env, "api")["token"], "tok-1");
    s.run_env(&secret(&["get", "db"]), env).fails(3);

    // And back, from the other backend to the local store.
    s.run_env(
        &secret(&["migrate", "--to", "default", "db", "--delete-source"]),
        &on_dst,
    )
    .ok()
    .err_has("Migrated 1 secret(s) from 'dst' to 'default'");
    assert_eq!(json(env, "db")["key"], PEM);
    s.run_env(&secret(&["get", "db"]), &on_dst).fails(3);

    // Names the source lacks: nothing copied.
    s.run_env(&secret(&["copy", "--to", "dst", "api", "nope"]), env)
        .fails(3)
        .err_has("has no secret 'nope'; nothing was copied");
}

#[test]
fn copy_and_migrate_between_two_local_managers() {
    let s = Sandbox::new();
    copy_there_and_back(&s, &["--flavor=local"], &[]);
    s.run(&secret(&["copy", "--to", "default", "--all"]))
        .fails(2)
        .err_has("is the secrets manager the secrets come from");
    s.run(&secret(&["copy", "--to", "nowhere", "--all"]))
        .fails(3);
    s.run(&secret(&["copy", "--to", "dst"])).fails(2);
}

#[test]
fn copy_and_migrate_with_vault() {
    let what = "the copy test on OpenBao";
    let Some((addr, token)) = emulator_var("KEYSTACK_TEST_VAULT_ADDR", what)
        .zip(emulator_var("KEYSTACK_TEST_VAULT_TOKEN", what))
    else {
        return;
    };
    let s = Sandbox::new();
    let ns = format!("copy{}", std::process::id());
    copy_there_and_back(
        &s,
        &[
            "--flavor=vault",
            &format!("--url={addr}"),
            &format!("--namespace={ns}"),
        ],
        &[("VAULT_TOKEN", &token), ("BAO_TOKEN", "")],
    );
}

#[test]
fn copy_and_migrate_with_aws() {
    let Some(endpoint) = emulator_var("KEYSTACK_TEST_AWS_ENDPOINT", "the copy test on moto") else {
        return;
    };
    let s = Sandbox::new();
    let ns = format!("copy{}", std::process::id());
    copy_there_and_back(
        &s,
        &[
            "--flavor=aws",
            "--region_name=us-east-1",
            &format!("--endpoint_url={endpoint}"),
            &format!("--namespace={ns}"),
        ],
        &[],
    );
}

#[test]
fn copy_and_migrate_with_gcp() {
    let Some(endpoint) = emulator_var("KEYSTACK_TEST_GCP_ENDPOINT", "the copy test on drongo")
    else {
        return;
    };
    let s = Sandbox::new();
    copy_there_and_back(
        &s,
        &[
            "--flavor=gcp",
            &format!("--project_id=copy-{}", std::process::id()),
            &format!("--endpoint={endpoint}"),
        ],
        &[],
    );
}

#[test]
fn copy_and_migrate_with_azure() {
    let what = "the copy test on the Key Vault test server";
    let Some((url, ca)) = emulator_var("KEYSTACK_TEST_AZURE_VAULT_URL", what)
        .zip(emulator_var("KEYSTACK_TEST_AZURE_CA", what))
    else {
        return;
    };
    let s = Sandbox::new();
    let ns = format!("copy{}", std::process::id());
    copy_there_and_back(
        &s,
        &[
            "--flavor=azure",
            &format!("--vault_url={url}"),
            &format!("--ca_file={ca}"),
            "--verify_challenge_resource=false",
            &format!("--namespace={ns}"),
        ],
        &[],
    );
}

#[test]
fn migrate_from_aws_to_gcp() {
    let what = "the cloud-to-cloud migrate test";
    let Some((aws, gcp)) = emulator_var("KEYSTACK_TEST_AWS_ENDPOINT", what)
        .zip(emulator_var("KEYSTACK_TEST_GCP_ENDPOINT", what))
    else {
        return;
    };
    let s = Sandbox::new();
    let ns = format!("c2c{}", std::process::id());
    s.run(&[
        "secrets-manager",
        "register",
        "aws_sm",
        "--flavor=aws",
        "--region_name=us-east-1",
        &format!("--endpoint_url={aws}"),
        &format!("--namespace={ns}"),
    ])
    .ok();
    s.run(&[
        "secrets-manager",
        "register",
        "gcp_sm",
        "--flavor=gcp",
        &format!("--project_id={ns}"),
        &format!("--endpoint={gcp}"),
    ])
    .ok();
    for (stack, manager) in [("on_aws", "aws_sm"), ("on_gcp", "gcp_sm")] {
        s.run(&[
            "stack", "register", stack, "-o", "default", "-a", "default", "-x", manager,
        ])
        .ok();
    }
    let aws_env = [("KEYSTACK_STACK", "on_aws")];
    for i in 0..5 {
        s.run_env(
            &secret(&["register", &format!("s{i}"), &format!("--k=v{i}")]),
            &aws_env,
        )
        .ok();
    }
    s.run_env(
        &secret(&["migrate", "--to", "gcp_sm", "--all", "--delete-source"]),
        &aws_env,
    )
    .ok()
    .err_has("Migrated 5 secret(s) from 'aws_sm' to 'gcp_sm'");
    assert_eq!(
        s.run_env(&secret(&["list"]), &aws_env).ok().stdout,
        "NAME\n"
    );
    s.run_env(
        &secret(&["get", "s3", "--key", "k"]),
        &[("KEYSTACK_STACK", "on_gcp")],
    )
    .ok()
    .out_has("v3");
}

//! Side by side with a peer: `keystack run -- true` on a stack whose
//! component refers to 200 keys of 50 secrets in AWS Secrets Manager (moto),
//! and `fnox exec -- true` over the same 200 keys of the same 50 secrets on
//! the same moto server. Both go through one counting proxy, so each row
//! says how many HTTP requests one run made as well as its median time;
//! then both again behind 50 ms per request (a region far away).
//!
//! Run through `cargo xtask bench`, which starts moto, builds fnox under
//! `target/peers/` and passes `KEYSTACK_TEST_AWS_ENDPOINT` and `FNOX_BIN`
//! (or `FNOX_SKIPPED`, the reason there is no fnox). Prints markdown table
//! rows on stdout. `--quick`: 3 runs instead of 21.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keystack_secrets_core::testkit::{CountingProxy, unique_id};

const SECRETS: usize = 50;
const KEYS: usize = 4;
const REGION: &str = "us-east-1";

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 3 } else { 21 };
    let Some(moto) = std::env::var("KEYSTACK_TEST_AWS_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        eprintln!("KEYSTACK_TEST_AWS_ENDPOINT is not set: no side-by-side rows");
        return;
    };
    let fnox = match std::env::var_os("FNOX_BIN") {
        Some(fnox) => Ok(PathBuf::from(fnox)),
        None => {
            Err(std::env::var("FNOX_SKIPPED").unwrap_or_else(|_| "FNOX_BIN is not set".to_owned()))
        }
    };
    let namespace = format!("peers{}", unique_id());
    println!(
        "| side by side, 200 keys of 50 secrets in moto | wall time (median of {runs}) | HTTP requests per run |"
    );
    println!("|---|---|---|");
    // moto as it answers, then moto behind 50 ms per request: a region
    // far away, where round trips count more than requests.
    for (latency, label) in [(0, ""), (50, ", 50 ms per request")] {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let bench = Bench {
            dir: dir.path().to_owned(),
            proxy: CountingProxy::start_with_latency(&moto, Duration::from_millis(latency)),
        };
        // The secrets are written once, through the first (fast) proxy.
        bench.set_up(&namespace, latency == 0);
        let keystack = bench.keystack_command(&["run", "--", "true"]);
        let (keystack_time, keystack_requests) = bench.measure(keystack, runs);
        println!(
            "| keystack run -- true{label} | {:.1} ms | {keystack_requests} |",
            ms(keystack_time)
        );
        let fnox = match &fnox {
            Ok(fnox) => fnox,
            Err(why) => {
                println!("| fnox exec -- true{label} | skipped: {why} | |");
                continue;
            }
        };
        bench.check_fnox_agrees(fnox);
        let command = bench.fnox_command(fnox, &["exec", "--", "true"]);
        let (fnox_time, fnox_requests) = bench.measure(command, runs);
        println!(
            "| fnox exec -- true{label} | {:.1} ms | {fnox_requests} |",
            ms(fnox_time)
        );
        println!(
            "| fnox / keystack{label} | {:.2}× | {keystack_requests} vs {fnox_requests} |",
            fnox_time.as_secs_f64() / keystack_time.as_secs_f64()
        );
    }
}

struct Bench {
    dir: PathBuf,
    proxy: CountingProxy,
}

impl Bench {
    /// The project (an AWS secrets manager through the proxy, a flavor
    /// mapping 200 attributes to `V0`…`V199`, a stack), the 50 secrets, and
    /// fnox's configuration over the same secrets.
    fn set_up(&self, namespace: &str, seed: bool) {
        std::fs::create_dir_all(self.dir.join("home")).expect("a home folder");
        self.keystack(&["init"]);
        self.keystack(&[
            "secrets-manager",
            "register",
            "sm",
            "--flavor=aws",
            &format!("--region_name={REGION}"),
            &format!("--endpoint_url={}", self.proxy.url()),
            &format!("--namespace={namespace}"),
        ]);
        let flavors = self.dir.join(".keystack/flavors");
        std::fs::create_dir_all(&flavors).expect("the flavors folder");
        let mut flavor = String::from(
            "flavors:\n  - type: experiment_tracker\n    name: peers\n    attributes:\n",
        );
        let mut fnox = format!(
            "[providers.sm]\ntype = \"aws-sm\"\nregion = \"{REGION}\"\nendpoint = \"{}\"\nprefix = \"keystack/{namespace}/\"\n\n[secrets]\n",
            self.proxy.url()
        );
        let mut attributes = Vec::new();
        for i in 0..SECRETS * KEYS {
            let (secret, key) = (i % SECRETS, i / SECRETS);
            let _ = writeln!(flavor, "      - {{name: a{i}, sensitive: true, env: V{i}}}");
            attributes.push(format!("--a{i}={{{{peer-{secret:02}.k{key}}}}}"));
            let _ = writeln!(
                fnox,
                "V{i} = {{ provider = \"sm\", value = \"peer-{secret:02}\", json_path = \"k{key}\" }}"
            );
        }
        std::fs::write(flavors.join("peers.yaml"), flavor).expect("the flavor");
        std::fs::write(self.dir.join("fnox.toml"), fnox).expect("fnox.toml");
        let mut register = vec![
            "experiment-tracker".to_owned(),
            "register".to_owned(),
            "tracker".to_owned(),
            "--flavor=peers".to_owned(),
        ];
        register.extend(attributes);
        let register: Vec<&str> = register.iter().map(String::as_str).collect();
        self.keystack(&register);
        self.keystack(&[
            "stack", "register", "peers", "-o", "default", "-a", "default", "-x", "sm", "-e",
            "tracker", "--set",
        ]);
        for secret in (0..SECRETS).filter(|_| seed) {
            let name = format!("peer-{secret:02}");
            let mut args = vec![
                "secrets-manager".to_owned(),
                "secret".to_owned(),
                "register".to_owned(),
                name.clone(),
            ];
            args.extend((0..KEYS).map(|k| format!("--k{k}={}", value(secret, k))));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            self.keystack(&args);
        }
    }

    fn env(&self, command: &mut Command) {
        command
            .current_dir(&self.dir)
            .env("HOME", self.dir.join("home"))
            .env("XDG_CONFIG_HOME", self.dir.join("home/.config"))
            .env("XDG_DATA_HOME", self.dir.join("home/.local/share"))
            .env("XDG_STATE_HOME", self.dir.join("home/.local/state"))
            .env("XDG_CACHE_HOME", self.dir.join("home/.cache"))
            .env("KEYSTACK_DATA_DIR", self.dir.join("data"))
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("KEYSTACK_SECRET_VALIDATION_LEVEL")
            .env_remove("KEYSTACK_CONCURRENCY")
            .stdin(Stdio::null());
    }

    fn keystack_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keystack"));
        self.env(&mut command);
        command.args(args);
        command
    }

    fn fnox_command(&self, fnox: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(fnox);
        self.env(&mut command);
        // Nothing kept between runs: no daemon, no audit log, no prompt.
        command
            .env("FNOX_DAEMON", "off")
            .env("FNOX_AUDIT", "off")
            .env("FNOX_NON_INTERACTIVE", "1")
            .env("FNOX_CONFIG_DIR", self.dir.join("home/.config/fnox"))
            .env("FNOX_STATE_DIR", self.dir.join("home/.local/state/fnox"))
            .env("FNOX_DATA_DIR", self.dir.join("home/.local/share/fnox"))
            .args(args);
        command
    }

    fn keystack(&self, args: &[&str]) {
        let output = self
            .keystack_command(args)
            .output()
            .expect("keystack starts");
        assert!(
            output.status.success(),
            "keystack {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Both tools put the same 200 values in the command's environment
    /// (so the rows compare the same work).
    fn check_fnox_agrees(&self, fnox: &Path) {
        let script = "env | grep '^V[0-9]*=' | sort";
        let keystack = self
            .keystack_command(&["run", "--no-masking", "-q", "--", "sh", "-c", script])
            .output()
            .expect("keystack starts");
        let fnox = self
            .fnox_command(fnox, &["exec", "--", "sh", "-c", script])
            .output()
            .expect("fnox starts");
        assert!(
            keystack.status.success() && fnox.status.success(),
            "a first run failed: keystack {}, fnox {}: {}",
            keystack.status,
            fnox.status,
            String::from_utf8_lossy(&fnox.stderr)
        );
        let lines = String::from_utf8_lossy(&keystack.stdout).lines().count();
        assert_eq!(lines, SECRETS * KEYS, "keystack set every variable");
        assert!(
            keystack.stdout == fnox.stdout,
            "keystack and fnox set different values"
        );
    }

    /// Median wall time over `runs` (after one warm-up run) and the HTTP
    /// requests of one run.
    fn measure(&self, mut command: Command, runs: usize) -> (Duration, usize) {
        command.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut times = Vec::with_capacity(runs);
        let mut requests = 0;
        for i in 0..=runs {
            let before = self.proxy.count();
            let started = Instant::now();
            let output = command.output().expect("the command starts");
            let elapsed = started.elapsed();
            assert!(
                output.status.success(),
                "{:?} failed: {}",
                command.get_program(),
                String::from_utf8_lossy(&output.stderr)
            );
            requests = self.proxy.count() - before;
            if i > 0 {
                times.push(elapsed);
            }
        }
        times.sort();
        (times[times.len() / 2], requests)
    }
}

/// A value that differs per secret and key.
fn value(secret: usize, key: usize) -> String {
    format!("value-{secret}-{key}-{}", "x".repeat(24))
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1000.0
}

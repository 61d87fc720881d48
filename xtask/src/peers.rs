//! The peer the benchmark compares with: fnox 1.46.0, built from its crate
//! source under `target/peers/`.
//!
//! `cargo install fnox@1.46.0 --locked` fails here (its lock pins
//! webpki-roots 1.0.11, which the registry does not serve) and without
//! `--locked` fnox-core resolves to an incompatible release. What builds is
//! the crate's own source with its own lock after one downgrade
//! (`cargo update -p webpki-roots@1.0.11 --precise 1.0.10`), then
//! `cargo build --release --locked`, with Debian's `pkg-config` and
//! `libudev-dev` (for hidapi). The binary is kept, so only the first
//! benchmark pays for the build.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::{apt_get, apt_install, cargo, step};

const FNOX: &str = "fnox-1.46.0";
const CRATE_URL: &str = "https://static.crates.io/crates/fnox/fnox-1.46.0.crate";

/// The fnox binary, built if it is not there yet; the error says why there
/// is none (and becomes the skipped row's reason).
pub(crate) fn fnox() -> Result<PathBuf, String> {
    let root = crate::bench::target_dir().join("peers");
    let binary = root.join("fnox-target/release/fnox");
    if binary.is_file() {
        return Ok(binary);
    }
    fs::create_dir_all(&root).map_err(|e| format!("creating {}: {e}", root.display()))?;
    apt_install(
        &[("pkg-config", "pkg-config"), ("curl", "curl")],
        "building fnox",
    )?;
    let has_udev = Command::new("pkg-config")
        .args(["--exists", "libudev"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_udev {
        apt_get(&["libudev-dev"], "building fnox")?;
    }

    let source = root.join(FNOX);
    if !source.join("Cargo.lock").is_file() {
        let archive = root.join(format!("{FNOX}.crate"));
        let mut download = Command::new("curl");
        download.args(["--fail", "--silent", "--show-error", "--location", "-o"]);
        download.arg(&archive).arg(CRATE_URL);
        step("download fnox 1.46.0 from crates.io", download)?;
        let mut unpack = Command::new("tar");
        unpack.arg("-xzf").arg(&archive).arg("-C").arg(&root);
        step("unpack fnox", unpack)?;
        // Its own workspace: the folder is inside Keystack's when the
        // target folder is the default one.
        let manifest = source.join("Cargo.toml");
        let mut text = fs::read_to_string(&manifest).map_err(|e| e.to_string())?;
        text.push_str("\n[workspace]\n");
        fs::write(&manifest, text).map_err(|e| e.to_string())?;
        let mut downgrade = cargo();
        downgrade.current_dir(&source).args([
            "update",
            "--quiet",
            "-p",
            "webpki-roots@1.0.11",
            "--precise",
            "1.0.10",
        ]);
        step(
            "pin fnox's webpki-roots to a release the registry serves",
            downgrade,
        )?;
    }
    let mut build = cargo();
    build
        .current_dir(&source)
        .env("CARGO_TARGET_DIR", root.join("fnox-target"))
        .args(["build", "--quiet", "--release", "--locked", "--bin", "fnox"]);
    step("build fnox 1.46.0 (release; once)", build)?;
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!("the fnox build left no {}", binary.display()))
    }
}

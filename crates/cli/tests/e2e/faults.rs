//! Faults under the local store: a write refused by the operating system
//! (a file size limit standing in for a full disk) and a read-only store
//! folder. Each gives a clear error and a non-zero exit, and every secret
//! stored before is still there.

use crate::Sandbox;
use crate::secret_args as sm;

fn names(s: &Sandbox) -> String {
    s.run(&sm(&["list"])).ok().stdout
}

#[test]
fn a_write_the_disk_refuses_is_a_clear_error_and_loses_nothing() {
    let s = Sandbox::new();
    for i in 0..20 {
        s.run(&sm(&[
            "register",
            &format!("kept-{i:02}"),
            &format!("--v=value-{i}"),
        ]))
        .ok();
    }
    let before = names(&s);
    // 600 KiB of text, written under a file size limit of 150–300 KiB (sh
    // counts in 512- or 1024-byte blocks): the kernel refuses the write
    // (EFBIG) as it would on a full disk. SIGXFSZ is ignored, as a program
    // on a full disk gets no signal.
    let big = "x".repeat(600 * 1024);
    std::fs::write(s.path().join("big.txt"), &big).unwrap();
    let out = s
        .std_command_via(&[
            "sh",
            "-c",
            "trap '' XFSZ; ulimit -f 300; exec \"$0\" \"$@\"",
        ])
        .args(sm(&["register", "too-big", "--v=@big.txt"]))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot be written"), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert!(!stderr.contains("xxxxxxxx"), "the value must not be shown");

    assert_eq!(names(&s), before, "a secret was lost or half-written");
    assert_eq!(
        s.run(&sm(&["get", "kept-07", "--key", "v"])).ok().stdout,
        "value-7\n"
    );
    s.run(&sm(&["register", "after", "--v=fine"])).ok();
}

#[test]
fn a_read_only_store_folder_refuses_writes_clearly_and_still_reads() {
    let s = Sandbox::new();
    s.run(&sm(&["register", "kept", "--v=before"])).ok();
    let store = s.store();
    let root = String::from_utf8(
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
        == "0";
    // Root ignores permission bits, so as root the store is handed to
    // `nobody` and keystack runs as that user.
    let wrapper: &[&str] = if root {
        let status = std::process::Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(s.path())
            .status()
            .unwrap();
        assert!(status.success());
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]
    } else {
        &[]
    };
    let chmod = |mode: &str, path: &std::path::Path| {
        assert!(
            std::process::Command::new("chmod")
                .arg(mode)
                .arg(path)
                .status()
                .unwrap()
                .success()
        );
    };
    for file in std::fs::read_dir(&store).unwrap() {
        chmod("0400", &file.unwrap().path());
    }
    chmod("0500", &store);

    let run = |args: &[&str]| s.std_command_via(wrapper).args(args).output().unwrap();
    let out = run(&sm(&["register", "new", "--v=x"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("read-only"), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    let out = run(&sm(&["update", "kept", "--v=after"]));
    assert_ne!(out.status.code(), Some(0));
    let out = run(&sm(&["get", "kept", "--key", "v"]));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "before\n",
        "reading still works"
    );

    // Writable again, for its owner (who, when the tests run as root, is
    // `nobody`: Keystack refuses a store that another user owns).
    chmod("0700", &store);
    let out = run(&sm(&["get", "kept", "--key", "v"]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "before\n");
}

/// A real full disk: the store on a 256 KiB tmpfs, mounted in a private
/// mount namespace (`unshare`, which needs no privileges where user
/// namespaces are allowed, as on the CI machines). Where the kernel forbids
/// it, the test says so and the file-size-limit test above still covers the
/// refused write.
#[test]
fn a_full_disk_is_a_clear_error_and_loses_nothing() {
    let probe = std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg("mount -t tmpfs -o size=64k tmpfs \"$(mktemp -d)\"")
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "a_full_disk_is_a_clear_error_and_loses_nothing: this kernel allows no private \
             tmpfs mount (unshare); the file-size-limit test covers refused writes"
        );
        return;
    }
    let s = Sandbox::new();
    std::fs::create_dir_all(s.path().join("small")).unwrap();
    std::fs::write(s.path().join("big.txt"), "x".repeat(600 * 1024)).unwrap();
    let script = r#"
set -u
mount -t tmpfs -o size=256k tmpfs small || exit 90
export KEYSTACK_LOCAL_PATH="$PWD/small/store"
for i in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20; do
  "$0" secrets-manager secret register "kept-$i" "--v=value-$i" 2>/dev/null || exit 91
done
"$0" secrets-manager secret list > before.txt || exit 92
"$0" secrets-manager secret register big --v=@big.txt 2> full.txt && exit 93
echo "exit=$?" >> full.txt
"$0" secrets-manager secret list > after.txt || exit 94
"$0" secrets-manager secret get kept-07 --key v > got.txt || exit 95
"#;
    let out = s
        .std_command_via(&[
            "unshare",
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            script,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |f: &str| std::fs::read_to_string(s.path().join(f)).unwrap();
    let full = read("full.txt");
    assert!(full.contains("the disk is full"), "{full}");
    assert!(full.contains("nothing was changed"), "{full}");
    assert!(full.contains("exit=1"), "{full}");
    assert!(!full.contains("xxxxxxxx"), "the value must not be shown");
    assert_eq!(read("after.txt"), read("before.txt"), "a secret was lost");
    assert_eq!(
        read("before.txt").lines().count(),
        21,
        "header and 20 secrets"
    );
    assert_eq!(read("got.txt"), "value-07\n");
}

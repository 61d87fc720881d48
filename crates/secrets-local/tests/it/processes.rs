//! Several processes on one store: concurrent writers lose nothing, and a
//! writer killed with SIGKILL leaves every committed secret readable.
//!
//! The child processes are this test binary itself, re-run on the ignored
//! test [`child_process`] with `KEYSTACK_TEST_CHILD` saying what to do.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use keystack_secrets_core::{SecretKey, SecretPatch, SecretsManager};

use super::{name, open, secret};

const CHILD_ENV: &str = "KEYSTACK_TEST_CHILD";
const COMMITTED: &str = "committed ";

fn spawn_child(role: &str, dir: &Path, id: usize, count: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "processes::child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{role}:{id}:{count}"))
        .env("KEYSTACK_TEST_STORE", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Entry point of the child processes; does nothing unless run by a parent test.
#[test]
#[ignore = "child process of the multi-process tests; run by them"]
#[allow(clippy::print_stdout)]
fn child_process() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dir = std::env::var_os("KEYSTACK_TEST_STORE").unwrap();
    let mut parts = spec.split(':');
    let (role, id, count) = (
        parts.next().unwrap().to_owned(),
        parts.next().unwrap().parse::<usize>().unwrap(),
        parts.next().unwrap().parse::<usize>().unwrap(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let manager = open(Path::new(&dir));
        for i in 0.. {
            if role != "looper" && i == count {
                break;
            }
            let n = format!("p{id}-{i:05}");
            manager
                .register_secret(&secret(&n, &[("value", &format!("{n}-value"))]))
                .await
                .unwrap();
            println!("{COMMITTED}{n}");
            if role == "writer" {
                let patch = SecretPatch::new().set(
                    SecretKey::new(format!("w{id}-{i:05}")).unwrap(),
                    format!("from {id}"),
                );
                manager
                    .update_secret(&name("shared"), &patch)
                    .await
                    .unwrap();
            }
        }
    });
}

fn committed_lines(child: &mut Child) -> impl Iterator<Item = String> + '_ {
    BufReader::new(child.stdout.as_mut().unwrap())
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            // libtest prints "test … ... " without a newline before the first line.
            line.split_once(COMMITTED).map(|(_, name)| name.to_owned())
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writer_processes_lose_nothing() {
    const PROCESSES: usize = 4;
    const EACH: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let manager = open(dir.path());
    manager
        .register_secret(&secret("shared", &[("base", "kept")]))
        .await
        .unwrap();
    let mut children: Vec<Child> = (0..PROCESSES)
        .map(|id| spawn_child("writer", dir.path(), id, EACH))
        .collect();
    for child in &mut children {
        assert_eq!(committed_lines(child).count(), EACH);
        assert!(child.wait().unwrap().success(), "a writer process failed");
    }
    let names = manager.list_secret_names().await.unwrap();
    assert_eq!(names.len(), PROCESSES * EACH + 1);
    let shared = manager.get_secret(&name("shared")).await.unwrap();
    assert_eq!(
        shared.values().len(),
        PROCESSES * EACH + 1,
        "an update was lost"
    );
    for id in 0..PROCESSES {
        for i in 0..EACH {
            let n = format!("p{id}-{i:05}");
            let got = manager.get_secret(&name(&n)).await.unwrap();
            assert_eq!(got.get("value").unwrap().expose(), format!("{n}-value"));
            let key = format!("w{id}-{i:05}");
            assert_eq!(shared.get(&key).unwrap().expose(), format!("from {id}"));
        }
    }
    manager.verify().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_write_loop_keeps_every_committed_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut committed = Vec::new();
    // Kill the writer several times, after a different number of commits
    // each time, so that some kills land in the middle of a transaction.
    for (round, after) in [150usize, 77, 231].into_iter().enumerate() {
        let mut child = spawn_child("looper", dir.path(), round, 0);
        let mut seen = 0;
        for line in committed_lines(&mut child) {
            committed.push(line);
            seen += 1;
            if seen == after {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        // Lines printed after the ones we read were committed too.
        committed.extend(committed_lines(&mut child));
        let status = child.wait().unwrap();
        assert!(!status.success(), "the writer was expected to be killed");
    }
    let manager = open(dir.path());
    manager.verify().await.unwrap();
    let listed = manager.list_secret_names().await.unwrap();
    assert!(
        listed.len() >= committed.len(),
        "committed secrets are missing"
    );
    for n in &committed {
        let got = manager.get_secret(&name(n)).await.unwrap();
        assert_eq!(got.get("value").unwrap().expose(), format!("{n}-value"));
    }
    // The store is still writable after the kills.
    manager
        .register_secret(&secret("after-kill", &[("k", "v")]))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_creating_one_store_at_once_agree_on_its_key() {
    const PROCESSES: usize = 4;
    const EACH: usize = 5;
    let dir = tempfile::tempdir().unwrap();
    let mut children: Vec<Child> = (0..PROCESSES)
        .map(|id| spawn_child("creator", dir.path(), id, EACH))
        .collect();
    for child in &mut children {
        assert_eq!(committed_lines(child).count(), EACH);
        assert!(child.wait().unwrap().success(), "a creating process failed");
    }
    let manager = open(dir.path());
    assert_eq!(
        manager.list_secret_names().await.unwrap().len(),
        PROCESSES * EACH
    );
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        files.len(),
        2,
        "expected the store and one key file, found {files:?}"
    );
}

//! Several processes on one store: concurrent writers lose nothing, 8
//! processes × 500 mixed operations end in the state a sequential replay of
//! their committed operations gives, and a writer killed with SIGKILL leaves
//! every committed secret readable.
//!
//! The child processes are this test binary itself, re-run on the ignored
//! test [`child_process`] with `KEYSTACK_TEST_CHILD` saying what to do.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use std::collections::BTreeMap;

use keystack_secrets_core::memory::InMemorySecretsManager;
use keystack_secrets_core::{Error, Secret, SecretKey, SecretPatch, SecretsManager};

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
    if role == "mixed" {
        runtime.block_on(mixed_operations(Path::new(&dir), id, count));
        return;
    }
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

/// The names a child reports committed. One reader for the child's whole
/// output: a second one would miss what the first had buffered.
fn committed_lines(child: &mut Child) -> impl Iterator<Item = String> + use<> {
    BufReader::new(child.stdout.take().unwrap())
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
    let dir = super::private_dir().unwrap();
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
    let dir = super::private_dir().unwrap();
    // Kill the writer 50 times, after a different, pseudo-random number of
    // commits each time, so that kills land at every point of a write.
    let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..50 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let after = 1 + (rng % 60) as usize;
        let mut child = spawn_child("looper", dir.path(), round, 0);
        let mut committed = Vec::new();
        let mut lines = committed_lines(&mut child);
        for line in lines.by_ref() {
            committed.push(line);
            if committed.len() == after {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        // Lines printed after the ones we read were committed too.
        committed.extend(lines);
        let status = child.wait().unwrap();
        assert!(!status.success(), "the writer was expected to be killed");

        // The store opens, passes SQLite's integrity check, and holds
        // exactly what was reported committed, plus at most the one secret
        // whose commit happened just before the kill hit the report.
        let manager = open(dir.path());
        manager.verify().await.unwrap();
        let prefix = format!("p{round}-");
        let listed: Vec<String> = manager
            .list_secret_names()
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.as_str().to_owned())
            .filter(|n| n.starts_with(&prefix))
            .collect();
        for n in &committed {
            assert!(
                listed.contains(n),
                "round {round}: committed {n} is missing"
            );
        }
        let extra: Vec<&String> = listed.iter().filter(|n| !committed.contains(n)).collect();
        assert!(
            extra.len() <= 1,
            "round {round}: unreported secrets {extra:?}"
        );
        for n in listed.iter() {
            let got = manager.get_secret(&name(n)).await.unwrap();
            assert_eq!(got.get("value").unwrap().expose(), format!("{n}-value"));
        }
    }
    // The store is still writable after the kills.
    let manager = open(dir.path());
    manager
        .register_secret(&secret("after-kill", &[("k", "v")]))
        .await
        .unwrap();
    manager.verify().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_creating_one_store_at_once_agree_on_its_key() {
    const PROCESSES: usize = 4;
    const EACH: usize = 5;
    let dir = super::private_dir().unwrap();
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

/// Shared secrets every mixed process updates (each only its own keys).
const SHARED: [&str; 4] = ["s0", "s1", "s2", "s3"];

/// One operation of a mixed process, as logged when it committed and
/// replayed by the parent: `register NAME VALUE`, `set NAME KEY VALUE`,
/// `remove NAME KEY`, `delete NAME`.
async fn apply(manager: &dyn SecretsManager, op: &str) -> Result<(), Error> {
    let parts: Vec<&str> = op.split(' ').collect();
    match parts[..] {
        ["register", n, v] => manager.register_secret(&secret(n, &[("v", v)])).await,
        ["set", n, k, v] => manager
            .update_secret(
                &name(n),
                &SecretPatch::new().set(SecretKey::new(k).unwrap(), v),
            )
            .await
            .map(drop),
        ["remove", n, k] => manager
            .update_secret(
                &name(n),
                &SecretPatch::new().remove(SecretKey::new(k).unwrap()),
            )
            .await
            .map(drop),
        ["delete", n] => manager.delete_secret(&name(n)).await,
        _ => panic!("unknown operation {op:?}"),
    }
}

/// `count` operations, picked by a fixed pseudo-random sequence, on state
/// no other process touches (its own secrets `m<id>-…`, its own keys
/// `k<id>-…` in the shared secrets), so that replaying each process's
/// committed operations one process after another must give the final
/// state, whatever the interleaving was. Reads check the process's own
/// view as it goes. Prints `committed OP` for each write that committed;
/// a write that fails with a documented transient error (`Unavailable`:
/// the store stayed locked past the busy timeout) is printed as `transient`.
#[allow(clippy::print_stdout)]
async fn mixed_operations(dir: &Path, id: usize, count: usize) {
    let manager = open(dir);
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15 ^ (id as u64 + 1);
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut own: BTreeMap<String, String> = BTreeMap::new();
    let mut keys: BTreeMap<(usize, String), String> = BTreeMap::new();
    let mut created = 0;
    for i in 0..count {
        let r = next();
        let op = match r % 6 {
            0 | 1 => {
                let shared = (r / 7) as usize % SHARED.len();
                let key = format!("k{id}-{}", (r / 31) % 12);
                if r % 6 == 1 && keys.contains_key(&(shared, key.clone())) {
                    format!("remove {} {key}", SHARED[shared])
                } else {
                    format!("set {} {key} v{id}-{i}", SHARED[shared])
                }
            }
            2 | 3 if !own.is_empty() && r % 6 == 3 => {
                let n = own
                    .keys()
                    .nth((r / 11) as usize % own.len())
                    .unwrap()
                    .clone();
                format!("delete {n}")
            }
            4 if !own.is_empty() => {
                let n = own
                    .keys()
                    .nth((r / 11) as usize % own.len())
                    .unwrap()
                    .clone();
                let got = manager.get_secret(&name(&n)).await.unwrap();
                assert_eq!(
                    got.get("v").unwrap().expose(),
                    own[&n],
                    "process {id} read back {n}"
                );
                format!("set {n} v v{id}-{i}")
            }
            _ => {
                created += 1;
                format!("register m{id}-{created:04} v{id}-{i}")
            }
        };
        match apply(&manager, &op).await {
            Ok(()) => {
                let parts: Vec<&str> = op.split(' ').collect();
                match parts[..] {
                    ["register", n, v] => drop(own.insert(n.to_owned(), v.to_owned())),
                    ["set", n, "v", v] if n.starts_with('m') => {
                        drop(own.insert(n.to_owned(), v.to_owned()))
                    }
                    ["set", n, k, v] => {
                        let shared = SHARED.iter().position(|s| *s == n).unwrap();
                        keys.insert((shared, k.to_owned()), v.to_owned());
                    }
                    ["remove", n, k] => {
                        let shared = SHARED.iter().position(|s| *s == n).unwrap();
                        keys.remove(&(shared, k.to_owned()));
                    }
                    ["delete", n] => drop(own.remove(n)),
                    _ => unreachable!(),
                }
                println!("{COMMITTED}{op}");
            }
            Err(e @ Error::Unavailable { .. }) => println!("transient {op}: {e}"),
            Err(e) => panic!("process {id}: {op}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_operations_of_eight_processes_equal_a_sequential_replay() {
    const PROCESSES: usize = 8;
    const EACH: usize = 500;
    let dir = super::private_dir().unwrap();
    let manager = open(dir.path());
    let replay = InMemorySecretsManager::new();
    for s in SHARED {
        let base = secret(s, &[("base", "kept")]);
        manager.register_secret(&base).await.unwrap();
        replay.register_secret(&base).await.unwrap();
    }
    let mut children: Vec<Child> = (0..PROCESSES)
        .map(|id| spawn_child("mixed", dir.path(), id, EACH))
        .collect();
    let mut committed = 0;
    for child in &mut children {
        let ops: Vec<String> = committed_lines(child).collect();
        assert!(child.wait().unwrap().success(), "a mixed process failed");
        committed += ops.len();
        for op in &ops {
            apply(&replay, op).await.unwrap();
        }
    }
    assert!(
        committed > PROCESSES * EACH * 9 / 10,
        "only {committed} of {} operations committed",
        PROCESSES * EACH
    );
    let stored = manager.list_secret_names().await.unwrap();
    assert_eq!(stored, replay.list_secret_names().await.unwrap());
    assert!(
        stored.len() > SHARED.len() + PROCESSES,
        "{} secrets",
        stored.len()
    );
    let shared = manager.get_secret(&name("s0")).await.unwrap();
    assert!(
        shared.values().len() > PROCESSES,
        "s0 has {} keys",
        shared.values().len()
    );
    for n in &stored {
        let a: Secret = manager.get_secret(n).await.unwrap();
        let b: Secret = replay.get_secret(n).await.unwrap();
        assert_eq!(a.values(), b.values(), "secret {n} differs from the replay");
    }
    manager.verify().await.unwrap();
}

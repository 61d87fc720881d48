//! Each local secrets manager has a store of its own (issue 15, finding 1),
//! and the store every project shared before that is noticed and adopted.

use std::path::Path;

use super::{Run, Sandbox};

fn sm<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["secrets-manager", "secret"];
    args.extend_from_slice(rest);
    args
}

/// `keystack ARGS` run in `dir` (a folder of the sandbox).
fn run_in(s: &Sandbox, dir: &Path, args: &[&str]) -> Run {
    Run::from(
        s.std_command()
            .current_dir(dir)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap(),
    )
}

#[test]
fn two_projects_never_share_a_store() {
    let s = Sandbox::new();
    s.run(&sm(&["register", "db", "--password=of-project-a"]))
        .ok();
    let b = s.path().join("b");
    std::fs::create_dir(&b).unwrap();
    run_in(&s, &b, &["init"]).ok();
    assert_ne!(
        s.store(),
        s.store_of(&b.join(".keystack"), "default"),
        "two projects, two stores"
    );

    // Project B sees none of A's secrets, and deleting all of B's leaves A's.
    assert_eq!(run_in(&s, &b, &sm(&["list"])).ok().stdout.trim(), "NAME");
    run_in(&s, &b, &sm(&["delete-all", "-y"]))
        .ok()
        .err_has("Deleted 0 secret(s)");
    // The same name is free in B (a second run of the guide in a new folder).
    run_in(&s, &b, &sm(&["register", "db", "--password=of-project-b"])).ok();
    s.run(&sm(&["get", "db", "--key", "password"]))
        .ok()
        .out_has("of-project-a");
    run_in(&s, &b, &sm(&["get", "db", "--key", "password"]))
        .ok()
        .out_has("of-project-b");
}

#[test]
fn two_local_secrets_managers_of_one_project_never_share_a_store() {
    let s = Sandbox::new();
    s.run(&sm(&["register", "db", "--password=default-one"]))
        .ok();
    s.local_manager_stack("other", &[], "two");
    let on_two = [("KEYSTACK_STACK", "two")];
    assert_eq!(
        s.run_env(&sm(&["list"]), &on_two).ok().stdout.trim(),
        "NAME"
    );
    s.run_env(&sm(&["register", "db", "--password=other-one"]), &on_two)
        .ok();
    s.run(&sm(&["get", "db", "--key", "password"]))
        .ok()
        .out_has("default-one");
    assert!(
        s.store_of(&s.path().join(".keystack"), "other")
            .join("secrets.db")
            .is_file()
    );
}

#[test]
fn describe_and_delete_all_name_the_store_and_its_count() {
    let s = Sandbox::new();
    s.run(&sm(&["register", "a", "--k=v"])).ok();
    s.run(&sm(&["register", "b", "--k=v"])).ok();
    let store = s.store().display().to_string();
    s.run(&["secrets-manager", "describe", "default"])
        .ok()
        .out_has(&format!("store: {store}"))
        .out_has("secrets: 2");
    let json = s
        .run(&["secrets-manager", "describe", "default", "-o", "json"])
        .ok();
    let data: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(data["store"], store.as_str());
    assert_eq!(data["secrets"], 2);
    s.run(&sm(&["delete-all", "-y"]))
        .ok()
        .err_has(&format!("Deleted 2 secret(s) from {store}."));
}

#[test]
fn a_project_made_before_project_ids_gets_its_own_store() {
    let s = Sandbox::new();
    let id_file = s.path().join(".keystack/id");
    let first = std::fs::read_to_string(&id_file).unwrap();
    assert_eq!(first.trim().len(), 32);
    // An earlier Keystack wrote no id.
    std::fs::remove_file(&id_file).unwrap();
    s.run(&sm(&["register", "a", "--k=v"])).ok();
    let second = std::fs::read_to_string(&id_file).unwrap();
    assert_ne!(first, second, "a new id, made on first use");
    assert!(s.store().join("secrets.db").is_file());

    // A damaged id is refused, not replaced behind the user's back.
    std::fs::write(&id_file, "not-an-id\n").unwrap();
    s.run(&sm(&["list"]))
        .fails(2)
        .err_has("is not a project id");
}

#[test]
fn the_shared_store_of_earlier_versions_is_noticed_and_adopted() {
    let s = Sandbox::new();
    let shared = s.path().join("data/local");
    let shared_text = shared.display().to_string();
    let old = [("KEYSTACK_LOCAL_PATH", shared_text.as_str())];
    // What an earlier Keystack left in its default store.
    for (name, value) in [("old1", "one"), ("old2", "two"), ("dup", "shared")] {
        s.run_env(&sm(&["register", name, &format!("--v={value}")]), &old)
            .ok();
    }
    s.run(&sm(&["register", "dup", "--v=own"])).ok();

    // Every command on a default local store says so, naming both stores.
    s.run(&sm(&["list"]))
        .ok()
        .err_has(&format!("warning: {shared_text} holds secrets"))
        .err_has(&s.store().display().to_string())
        .err_has("keystack secrets-manager adopt-shared-store");

    // A dry run changes nothing.
    let before = s.snapshot();
    s.run(&["secrets-manager", "adopt-shared-store", "--dry-run"])
        .ok()
        .err_has("Would move 2 secret(s)")
        .err_has("old1, old2")
        .err_has("already has a secret of that name: dup");
    s.assert_unchanged(&before);

    // Named secrets only, moved whole.
    s.run(&["secrets-manager", "adopt-shared-store", "old1"])
        .ok()
        .err_has("Moved 1 secret(s)");
    s.run(&sm(&["get", "old1", "--key", "v"]))
        .ok()
        .out_has("one");
    s.run_env(&sm(&["get", "old1"]), &old).fails(3);
    // --keep copies.
    s.run(&["secrets-manager", "adopt-shared-store", "old2", "--keep"])
        .ok()
        .err_has("Copied 1 secret(s)");
    s.run_env(&sm(&["get", "old2", "--key", "v"]), &old)
        .ok()
        .out_has("two");
    // A name the manager has is left in the shared store, and says so.
    s.run(&["secrets-manager", "adopt-shared-store"])
        .ok()
        .err_has("Moved 0 secret(s)")
        .err_has("already has a secret of that name: dup, old2");
    s.run(&sm(&["get", "dup", "--key", "v"]))
        .ok()
        .out_has("own");

    // Once it is empty, adopting removes it, and the warning stops.
    s.run_env(&sm(&["delete", "dup", "-y"]), &old).ok();
    s.run_env(&sm(&["delete", "old2", "-y"]), &old).ok();
    s.run(&["secrets-manager", "adopt-shared-store"])
        .ok()
        .err_has("empty now and was removed");
    assert!(!shared.exists());
    let list = s.run(&sm(&["list"])).ok();
    assert!(!list.stderr.contains("warning"), "{}", list.stderr);
}

//! A project another user planted, or may change, is refused (issue 15,
//! finding 2); the user's trust list is the way to accept one on purpose.

use std::path::Path;
use std::process::Command;

use super::{Run, Sandbox};

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn sh(script: &str) {
    let status = Command::new("sh").arg("-c").arg(script).status().unwrap();
    assert!(status.success(), "{script}");
}

/// `keystack ARGS` as uid 1001 in `dir`, with a home and data folder of
/// that user's own.
fn as_user(s: &Sandbox, dir: &Path, args: &[&str]) -> Run {
    let user = s.path().join("u1001");
    Run::from(
        s.std_command_via(&["setpriv", "--reuid=1001", "--regid=1001", "--clear-groups"])
            .current_dir(dir)
            .env("HOME", user.join("home"))
            .env("KEYSTACK_DATA_DIR", user.join("data"))
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap(),
    )
}

#[test]
fn a_project_planted_by_another_user_is_refused_unless_trusted() {
    if !is_root() {
        // Files of two other users need root (chown, setpriv); CI runs as root.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "needs root: chown and setpriv");
        return;
    }
    let s = Sandbox::empty();
    let root = s.path().display().to_string();
    // A sticky, world-writable folder like /tmp; uid 1002's project in it,
    // with a tracker that reads the production password.
    sh(&format!(
        "chmod 755 {root} && mkdir -m 1777 {root}/shared && mkdir -p {root}/u1001/home {root}/u1001/data \
         && chown -R 1001:1001 {root}/u1001 && chmod 700 {root}/u1001/data"
    ));
    let shared = s.path().join("shared");
    let planted = Run::from(
        s.std_command()
            .current_dir(&shared)
            .arg("init")
            .output()
            .unwrap(),
    );
    planted.ok();
    Run::from(
        s.std_command()
            .current_dir(&shared)
            .args([
                "experiment-tracker",
                "register",
                "mlflow",
                "--flavor=mlflow",
                "--tracking_password={{proddb.password}}",
            ])
            .output()
            .unwrap(),
    )
    .ok();
    sh(&format!(
        "mkdir -m 777 {root}/shared/sub && chown -R 1002:1002 {root}/shared/.keystack {root}/shared/sub"
    ));
    let sub = shared.join("sub");
    let project = shared.join(".keystack").display().to_string();

    for args in [
        &["run", "--", "true"][..],
        &["stack", "list"],
        &["secrets-manager", "secret", "list"],
    ] {
        as_user(&s, &sub, args)
            .fails(1)
            .err_has(&format!(
                "refusing {project}: it is owned by uid 1002, not by you (uid 1001) or root"
            ))
            .err_has("chown -R 1001")
            .err_has("trusted.yaml");
    }
    assert!(
        !s.path().join("u1001/data/projects").exists(),
        "no store of uid 1001 was opened"
    );

    // A trust list of the user's own accepts it on purpose.
    let config = s.path().join("u1001/home/.config/keystack");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("trusted.yaml"),
        format!("projects:\n  - {}\n", shared.display()),
    )
    .unwrap();
    // (A team's shared project is readable by its users.)
    sh(&format!(
        "chown -R 1001:1001 {root}/u1001/home && chmod -R a+rX {root}/shared/.keystack"
    ));
    as_user(&s, &sub, &["stack", "list"])
        .ok()
        .out_has("default");

    // A trust list someone else may change is itself refused.
    sh(&format!(
        "chmod 666 {}",
        config.join("trusted.yaml").display()
    ));
    as_user(&s, &sub, &["stack", "list"])
        .fails(1)
        .err_has("trusted.yaml: it has mode 666, so every user may change it");
}

#[test]
fn project_files_others_may_change_are_refused_with_the_fix() {
    let s = Sandbox::new();
    s.run(&["stack", "list"]).ok();
    let project = s.path().join(".keystack");
    let chmod = |mode: &str, path: &Path| sh(&format!("chmod {mode} {}", path.display()));

    // The project folder, writable by everyone.
    chmod("777", &project);
    s.run(&["stack", "list"])
        .fails(1)
        .err_has(&format!(
            "refusing {}: it has mode 777, so every user may change it",
            project.display()
        ))
        .err_has(&format!("chmod -R go-w {}", project.display()));
    chmod("700", &project);

    // A component file its group may change.
    let component = project.join("components/secrets_manager/default.yaml");
    chmod("664", &component);
    s.run(&["run", "--", "true"]).fails(1).err_has(&format!(
        "refusing {}: it has mode 664, so its group may change it",
        component.display()
    ));
    chmod("600", &component);

    // A flavor file, through a symlink to a loose file elsewhere.
    std::fs::create_dir_all(project.join("flavors")).unwrap();
    let elsewhere = s.path().join("flavor.yaml");
    std::fs::write(&elsewhere, "flavors: []\n").unwrap();
    chmod("666", &elsewhere);
    std::os::unix::fs::symlink(&elsewhere, project.join("flavors/mine.yaml")).unwrap();
    s.run(&["stack", "list"])
        .fails(1)
        .err_has("flavors/mine.yaml: it has mode 666");
    chmod("600", &elsewhere);

    // The active stack file, and the project id.
    chmod("646", &project.join("stacks/default.yaml"));
    s.run(&["stack", "describe"])
        .fails(1)
        .err_has("default.yaml: it has mode 646");
    chmod("600", &project.join("stacks/default.yaml"));
    chmod("622", &project.join("id"));
    s.run(&["secrets-manager", "secret", "list"])
        .fails(1)
        .err_has("id: it has mode 622");
    chmod("600", &project.join("id"));
    s.run(&["stack", "list"]).ok();
}

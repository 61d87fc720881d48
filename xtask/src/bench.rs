//! `cargo xtask bench [--quick]`: the `keystack` binary on local stores of
//! 10 and 10,000 secrets, validation against a 50 ms-latency manager and
//! against moto (wall time and backend calls), side by side with fnox on
//! moto (wall time and HTTP requests), the Python package, and the
//! criterion benchmarks
//! of the libraries, gathered into one markdown table with the targets of
//! docs/performance.md (printed, and written to `target/bench/report.md`).
//!
//! `--quick` keeps the benchmarks working in CI: debug build, 3 runs per
//! command, 300 secrets instead of 10,000, criterion's shortest settings.
//! Its figures are not comparable with the targets.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{cargo, emulators, project_root, step};

/// How a run is set up.
struct Mode {
    quick: bool,
    /// Timed runs per command (after one warm-up run).
    runs: usize,
    /// Secrets in the "large" store.
    large: usize,
}

impl Mode {
    fn profile(&self) -> &'static str {
        if self.quick { "dev" } else { "release" }
    }

    /// Every build of the benchmark selects the whole workspace with all
    /// features, like `cargo xtask test`, so that dependencies are built
    /// with the same features and reused instead of rebuilt.
    fn cargo_args(&self) -> [&'static str; 5] {
        [
            "--locked",
            "--workspace",
            "--all-features",
            "--profile",
            self.profile(),
        ]
    }

    fn binaries(&self) -> PathBuf {
        target_dir().join(if self.quick { "debug" } else { "release" })
    }
}

/// One line of the report.
struct Row {
    what: String,
    median: String,
    calls: String,
    target: Option<Target>,
}

/// A target from issue 9 / docs/performance.md.
#[derive(Clone, Copy)]
enum Target {
    AtMostMs(f64),
    AtLeastMbPerS(f64),
    AtMostTimes(f64),
    AtLeastTimes(f64),
}

impl Row {
    fn time(what: impl Into<String>, time: Duration, target: Option<f64>) -> Self {
        Row {
            what: what.into(),
            median: format!("{:.1} ms", ms(time)),
            calls: String::new(),
            target: target.map(Target::AtMostMs),
        }
    }

    fn verdict(&self) -> String {
        let Some(target) = self.target else {
            return String::new();
        };
        // The leading number of `12.5 ms`, `3.91×`, `2.50 M`.
        let number: String = self
            .median
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let value: f64 = number.parse().unwrap_or(f64::NAN);
        match target {
            Target::AtMostMs(max) => {
                format!("≤ {max} ms {}", if value <= max { "✓" } else { "✗" })
            }
            Target::AtLeastMbPerS(min) => {
                format!("≥ {min} MB/s {}", if value >= min { "✓" } else { "✗" })
            }
            Target::AtMostTimes(max) => {
                format!("≤ {max}× {}", if value <= max { "✓" } else { "✗" })
            }
            Target::AtLeastTimes(min) => {
                format!("≥ {min}× {}", if value >= min { "✓" } else { "✗" })
            }
        }
    }
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1000.0
}

pub(crate) fn bench(quick: bool, only: &[String]) -> Result<(), String> {
    let mode = Mode {
        quick,
        runs: if quick { 3 } else { 21 },
        large: if quick { 300 } else { 10_000 },
    };
    let started = Instant::now();

    let mut build = cargo();
    build.args(["build", "--quiet"]);
    build.args(mode.cargo_args());
    build.args(["--bin", "keystack", "--example", "seed"]);
    step("build the binaries", build)?;

    let wanted = |group: &str| only.is_empty() || only.iter().any(|g| g == group);
    let mut rows = Vec::new();
    if wanted("cli") {
        rows.extend(cli_rows(&mode)?);
    }
    if wanted("masking") {
        rows.extend(masking_rows(&mode)?);
    }
    if wanted("validation") {
        rows.extend(validation_rows(&mode)?);
    }
    if wanted("peers") {
        rows.extend(peer_rows(&mode)?);
    }
    if wanted("python") {
        rows.extend(python_rows(&mode)?);
    }
    if wanted("library") {
        rows.extend(library_rows(&mode)?);
    }

    let report = report(&mode, &rows);
    println!("\n{report}");
    let out = target_dir().join("bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    std::fs::write(out.join("report.md"), &report).map_err(|e| e.to_string())?;
    eprintln!(
        "xtask: bench done in {:.0}s (also written to {})",
        started.elapsed().as_secs_f64(),
        out.join("report.md").display()
    );
    Ok(())
}

fn report(mode: &Mode, rows: &[Row]) -> String {
    let mut report = String::new();
    let _ = writeln!(report, "{}\n", machine());
    if mode.quick {
        report.push_str(
            "**--quick run: debug build, 3 runs, 300 secrets for the large store. \
             These figures only show that the benchmarks work; compare `cargo xtask bench` \
             (release) with the targets.**\n\n",
        );
    }
    let _ = writeln!(
        report,
        "| benchmark | median | backend calls | target |\n|---|---|---|---|"
    );
    for row in rows {
        let _ = writeln!(
            report,
            "| {} | {} | {} | {} |",
            row.what,
            row.median,
            row.calls,
            if mode.quick {
                String::new()
            } else {
                row.verdict()
            }
        );
    }
    report
}

/// The machine, for the report's header.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(String::from("?"), |kib| {
            format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0)
        });
    format!("Machine: {model}, {cores} cores available, {memory} RAM; Linux; medians.")
}

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| project_root().join("target"), PathBuf::from)
}

/// A project folder with its own home and data folders, for the binary.
struct Sandbox {
    dir: PathBuf,
    binary: PathBuf,
    runs: usize,
}

impl Sandbox {
    fn new(mode: &Mode, name: &str) -> Result<Self, String> {
        let dir =
            std::env::temp_dir().join(format!("keystack-bench-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        Ok(Self {
            dir,
            binary: mode.binaries().join("keystack"),
            runs: mode.runs,
        })
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(&self.dir)
            .env("HOME", self.dir.join("home"))
            .env("KEYSTACK_DATA_DIR", self.dir.join("data"))
            .env_remove("KEYSTACK_SECRET_VALIDATION_LEVEL")
            .env_remove("KEYSTACK_LOCAL_KEY")
            .env_remove("KEYSTACK_CONCURRENCY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }

    fn keystack(&self, args: &[&str]) -> Result<(), String> {
        let output = self
            .command(&self.binary)
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "keystack {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// Median wall time of `keystack ARGS(i)` over the runs (after one
    /// warm-up, run i = 0); `args` gets the run's number so that commands
    /// that change the store can use a new name each time.
    fn median(
        &self,
        args: impl Fn(usize) -> Vec<String>,
        env: &[(&str, &str)],
    ) -> Result<Duration, String> {
        let mut times = Vec::with_capacity(self.runs);
        for i in 0..=self.runs {
            let args = args(i);
            let started = Instant::now();
            let output = self
                .command(&self.binary)
                .args(&args)
                .envs(env.iter().copied())
                .output()
                .map_err(|e| e.to_string())?;
            let elapsed = started.elapsed();
            if !output.status.success() {
                return Err(format!(
                    "keystack {} failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            if i > 0 {
                times.push(elapsed);
            }
        }
        times.sort();
        Ok(times[times.len() / 2])
    }

    fn seed(&self, mode: &Mode, count: usize) -> Result<(), String> {
        self.keystack(&["init"])?;
        let id = fs::read_to_string(self.dir.join(".keystack/id"))
            .map_err(|e| format!("reading the project id: {e}"))?;
        let store = self
            .dir
            .join("data/projects")
            .join(id.trim())
            .join("secrets_manager/default");
        eprintln!("==> seeding {count} secrets");
        let status = self
            .command(&mode.binaries().join("examples/seed"))
            .args([
                store.to_str().expect("temp paths are UTF-8"),
                &count.to_string(),
                "4",
            ])
            .stderr(Stdio::inherit())
            .status()
            .map_err(|e| e.to_string())?;
        if status.success() {
            Ok(())
        } else {
            Err("seeding failed".into())
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `10000` as `10,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// Instructions one run of `keystack ARGS` executes, counted by valgrind's
/// callgrind: repeatable to a fraction of a percent on a loaded machine,
/// where wall time of a few milliseconds is not. No row (and a line saying
/// why) without valgrind.
fn instruction_row(s: &Sandbox, what: &str, args: &[&str]) -> Result<Option<Row>, String> {
    let mut command = s.command(Path::new("valgrind"));
    command
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(&s.binary)
        .args(args);
    let output = match command.output() {
        Ok(output) => output,
        Err(e) => {
            eprintln!(
                "    no instruction counts: cannot run valgrind ({e}); apt-get install valgrind"
            );
            return Ok(None);
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let collected = stderr
        .lines()
        .find_map(|line| line.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .ok_or_else(|| format!("valgrind printed no instruction count for {what}: {stderr}"))?;
    Ok(Some(Row {
        what: format!("{what}: instructions (callgrind)"),
        median: format!("{:.2} M", collected as f64 / 1e6),
        calls: String::new(),
        target: None,
    }))
}

fn cli_rows(mode: &Mode) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let s = Sandbox::new(mode, "start")?;
    rows.push(Row::time(
        "`keystack --version`",
        s.median(|_| strings(&["--version"]), &[])?,
        Some(3.0),
    ));
    rows.extend(instruction_row(&s, "`keystack --version`", &["--version"])?);
    drop(s);

    for count in [10, mode.large] {
        let s = Sandbox::new(mode, &format!("store{count}"))?;
        s.seed(mode, count)?;
        let large = count == mode.large;
        let label = |what: &str| {
            format!(
                "`secret {what}`, {} secrets stored (local)",
                thousands(count)
            )
        };
        let secret = |args: &[&str]| {
            let mut all = strings(&["secrets-manager", "secret"]);
            all.extend(strings(args));
            all
        };
        let middle = format!("bench-{:05}", count / 2);
        rows.push(Row::time(
            label("get"),
            s.median(|_| secret(&["get", &middle]), &[])?,
            large.then_some(15.0),
        ));
        if !large {
            rows.extend(instruction_row(
                &s,
                &label("get"),
                &["secrets-manager", "secret", "get", &middle],
            )?);
        }
        rows.push(Row::time(
            label("list"),
            s.median(|_| secret(&["list"]), &[])?,
            large.then_some(60.0),
        ));
        rows.push(Row::time(
            label("update"),
            s.median(
                |i| secret(&["update", &middle, &format!("--k0=updated-{i}")]),
                &[],
            )?,
            None,
        ));
        // Registers new secrets, then deletes exactly those: the store ends
        // as it began.
        rows.push(Row::time(
            label("register"),
            s.median(
                |i| secret(&["register", &format!("new-{i}"), "--k0=a", "--k1=b"]),
                &[],
            )?,
            large.then_some(25.0),
        ));
        rows.push(Row::time(
            label("delete"),
            s.median(|i| secret(&["delete", &format!("new-{i}"), "-y"]), &[])?,
            None,
        ));
        if large {
            stack_with_200_references(&s)?;
            for level in ["NONE", "SECRET_EXISTS", "SECRET_AND_KEY_EXISTS"] {
                rows.push(Row::time(
                    format!(
                        "`stack validate`, 200 refs / 50 secrets, {level} (local, {} stored)",
                        thousands(count)
                    ),
                    s.median(
                        |_| strings(&["stack", "validate"]),
                        &[("KEYSTACK_SECRET_VALIDATION_LEVEL", level)],
                    )?,
                    (level == "SECRET_AND_KEY_EXISTS").then_some(30.0),
                ));
            }
        }
    }
    Ok(rows)
}

/// A stack with 200 references to 50 seeded secrets, through a user flavor
/// with 200 attributes.
/// `keystack run` passing a large stream through, masked and with
/// `--no-masking`, with and without newlines: throughput, and keystack's
/// peak memory (its VmHWM, which the command reads from `/proc/$PPID` as
/// its last act). Targets: masked within 2× of unmasked; memory bounded by
/// the longest value, not by the stream.
fn masking_rows(mode: &Mode) -> Result<Vec<Row>, String> {
    let s = Sandbox::new(mode, "masking")?;
    s.keystack(&["init"])?;
    s.keystack(&[
        "secrets-manager",
        "secret",
        "register",
        "mlflow_secret",
        "--username=admin",
        "--password=hunter2-a-long-enough-password",
    ])?;
    s.keystack(&[
        "experiment-tracker",
        "register",
        "mlflow",
        "--flavor=mlflow",
        "--tracking_username={{mlflow_secret.username}}",
        "--tracking_password={{mlflow_secret.password}}",
    ])?;
    s.keystack(&["stack", "update", "default", "-e", "mlflow"])?;
    let megabytes: u64 = if mode.quick { 30 } else { 300 };
    let bytes = megabytes * 1_000_000;
    let runs = if mode.quick { 1 } else { 3 };
    let mut rows = Vec::new();
    for (shape, generator) in [
        (
            "with newlines",
            format!("yes 'a line of output that holds no secret at all' | head -c {bytes}"),
        ),
        (
            "without newlines",
            format!("head -c {bytes} /dev/zero | tr '\\0' a"),
        ),
    ] {
        let mut medians = Vec::new();
        // Masked; unmasked; and unmasked through one pipe into `cat`: the
        // floor of any masking, which must read the output through a pipe.
        for (label, masked, through_cat) in [
            ("masked", true, false),
            ("--no-masking", false, false),
            ("--no-masking, piped through `cat`", false, true),
        ] {
            let script = if through_cat {
                format!("{{ {generator}; }} | cat; grep VmHWM /proc/$PPID/status >&2")
            } else {
                format!("{generator}; grep VmHWM /proc/$PPID/status >&2")
            };
            let mut args = vec!["run", "-q"];
            if !masked {
                args.push("--no-masking");
            }
            args.extend(["--", "sh", "-c", &script]);
            let mut times = Vec::new();
            let mut peak_kib = 0u64;
            for i in 0..=runs {
                let started = Instant::now();
                let output = s
                    .command(&s.binary)
                    .args(&args)
                    .output()
                    .map_err(|e| e.to_string())?;
                let elapsed = started.elapsed();
                let stderr = String::from_utf8_lossy(&output.stderr);
                if !output.status.success() {
                    return Err(format!("keystack run ({shape}) failed: {stderr}"));
                }
                peak_kib = peak_kib.max(
                    stderr
                        .split_whitespace()
                        .skip_while(|w| *w != "VmHWM:")
                        .nth(1)
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0),
                );
                if i > 0 {
                    times.push(elapsed);
                }
            }
            times.sort();
            let median = times[times.len() / 2];
            medians.push(median);
            rows.push(Row {
                what: format!("`run`, {megabytes} MB {shape}, {label}"),
                median: format!("{:.0} MB/s", megabytes as f64 / median.as_secs_f64()),
                calls: format!("keystack peak {:.1} MiB", peak_kib as f64 / 1024.0),
                target: None,
            });
        }
        rows.push(Row {
            what: format!("`run`, {megabytes} MB {shape}: masked time / --no-masking time"),
            median: format!(
                "{:.2} ×",
                medians[0].as_secs_f64() / medians[1].as_secs_f64()
            ),
            calls: String::new(),
            target: Some(Target::AtMostTimes(2.0)),
        });
        rows.push(Row {
            what: format!("`run`, {megabytes} MB {shape}: masked time / time through `cat`"),
            median: format!(
                "{:.2} ×",
                medians[0].as_secs_f64() / medians[2].as_secs_f64()
            ),
            calls: String::new(),
            target: None,
        });
    }
    Ok(rows)
}

fn stack_with_200_references(s: &Sandbox) -> Result<(), String> {
    let flavors = s.dir.join(".keystack/flavors");
    std::fs::create_dir_all(&flavors).map_err(|e| e.to_string())?;
    let mut flavor =
        String::from("flavors:\n  - type: experiment_tracker\n    name: bench\n    attributes:\n");
    let mut component =
        String::from("type: experiment_tracker\nname: bench\nflavor: bench\nattributes:\n");
    for i in 0..200 {
        let _ = writeln!(flavor, "      - {{name: a{i}, sensitive: true}}");
        let _ = writeln!(
            component,
            "  a{i}: \"{{{{bench-{:05}.k{}}}}}\"",
            i % 50,
            i % 4
        );
    }
    std::fs::write(flavors.join("bench.yaml"), flavor).map_err(|e| e.to_string())?;
    let components = s.dir.join(".keystack/components/experiment_tracker");
    std::fs::create_dir_all(&components).map_err(|e| e.to_string())?;
    std::fs::write(components.join("bench.yaml"), component).map_err(|e| e.to_string())?;
    s.keystack(&[
        "stack", "register", "bench", "-o", "default", "-a", "default", "-x", "default", "-e",
        "bench", "--set",
    ])
}

/// Runs a harness-less benchmark of the CLI crate (`crates/cli/benches/NAME.rs`)
/// with the emulators up and their addresses (plus `env`) in its
/// environment, and returns what it printed.
fn emulator_bench(mode: &Mode, name: &str, env: &[(&str, String)]) -> Result<String, String> {
    let mut bench = cargo();
    bench.arg("bench").args(mode.cargo_args());
    bench.args(["--bench", name, "--"]);
    if mode.quick {
        bench.arg("--quick");
    }
    bench.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    with_emulators(name, bench)
}

/// Runs `command` (a benchmark printing its rows on stdout) with the
/// emulators up, reset, and their addresses in its environment; returns
/// what it printed. The emulators are stopped whatever happens.
fn with_emulators(name: &str, mut command: Command) -> Result<String, String> {
    eprintln!("==> emulators up");
    let running = emulators::up()?;
    let result = (|| {
        for emulator in &running {
            emulators::reset(emulator)?;
        }
        command.envs(
            emulators::env_vars(&running)
                .iter()
                .map(|(k, v)| (*k, v.as_str())),
        );
        eprintln!("==> {name} benchmark");
        let output = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(format!("the {name} benchmark failed ({})", output.status));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    })();
    eprintln!("==> emulators down");
    emulators::down()?;
    result
}

/// The cells of the rows of a markdown table (its header left out).
fn table_rows(table: &str) -> Vec<Vec<&str>> {
    table
        .lines()
        .filter(|l| l.starts_with("| "))
        .skip(1)
        .map(|line| line.trim_matches('|').split('|').map(str::trim).collect())
        .collect()
}

/// Side by side with fnox (crates/cli/benches/peers.rs): `keystack run` and
/// `fnox exec` over the same 50 secrets in moto. The full benchmark builds
/// fnox once under `target/peers/`; `--quick` leaves it out (a release
/// build of several minutes) and says so.
fn peer_rows(mode: &Mode) -> Result<Vec<Row>, String> {
    let fnox = if mode.quick {
        Err(
            "--quick does not build fnox (a release build of about 50 minutes on 2 cores); \
             `cargo xtask bench --only peers` does"
                .to_owned(),
        )
    } else {
        crate::peers::fnox()
    };
    let env = match fnox {
        Ok(binary) => vec![("FNOX_BIN", binary.display().to_string())],
        Err(why) => {
            eprintln!("    no fnox rows: {why}");
            vec![("FNOX_SKIPPED", why)]
        }
    };
    let table = emulator_bench(mode, "peers", &env)?;
    let rows: Vec<Row> = table_rows(&table)
        .into_iter()
        .filter_map(|cells| {
            let [what, time, requests] = cells[..] else {
                return None;
            };
            Some(Row {
                what: format!("side by side, 200 keys of 50 secrets in moto: {what}"),
                // Both targets of the issue: at least twice as fast, and
                // never more requests (the calls column says both counts).
                median: time.to_owned(),
                calls: if requests.is_empty() {
                    String::new()
                } else {
                    format!("{requests} HTTP requests")
                },
                target: what
                    .starts_with("fnox / keystack")
                    .then_some(Target::AtLeastTimes(2.0)),
            })
        })
        .collect();
    if rows.is_empty() {
        return Err("the peers benchmark printed no rows".into());
    }
    Ok(rows)
}

/// The Python package (crates/python/benches/bench.py): `import keystack`,
/// `get_secret` on the large local store, and `keystack.resolve` of 200
/// references against OpenBao behind a 50 ms proxy. The package is built
/// into target/python (release, or debug with `--quick`).
fn python_rows(mode: &Mode) -> Result<Vec<Row>, String> {
    let python = crate::python::build(!mode.quick)?;
    let s = Sandbox::new(mode, "python")?;
    s.seed(mode, mode.large)?;
    let mut bench = s.command(&python);
    bench
        .arg(crate::project_root().join("crates/python/benches/bench.py"))
        .arg("--keystack")
        .arg(&s.binary)
        .args([
            "--secrets",
            &mode.large.to_string(),
            "--runs",
            &mode.runs.to_string(),
        ]);
    let table = with_emulators("python", bench)?;
    let rows: Vec<Row> = table_rows(&table)
        .into_iter()
        .filter_map(|cells| {
            let [what, time, calls] = cells[..] else {
                return None;
            };
            let target = if what.contains("import") {
                Some(50.0)
            } else if what.contains("get_secret") {
                Some(1.0)
            } else if what.contains("resolve") {
                Some(250.0)
            } else {
                None
            };
            Some(Row {
                what: format!("Python: {what}"),
                median: time.to_owned(),
                calls: calls.to_owned(),
                target: target.map(Target::AtMostMs),
            })
        })
        .collect();
    if rows.is_empty() {
        return Err("the python benchmark printed no rows".into());
    }
    Ok(rows)
}

/// Runs the validation benchmark (crates/cli/benches/validation.rs) with the
/// emulators up, and takes its rows.
fn validation_rows(mode: &Mode) -> Result<Vec<Row>, String> {
    let table = emulator_bench(mode, "validation", &[])?;
    let mut rows = Vec::new();
    // | manager | level | concurrency | time | calls |
    for cells in table_rows(&table) {
        let [manager, level, concurrency, time, calls] = cells[..] else {
            continue;
        };
        let target = (manager.contains("50 ms")
            && level == "SECRET_AND_KEY_EXISTS"
            && time.contains("ms")
            && !concurrency.is_empty())
        .then_some(250.0);
        rows.push(Row {
            what: format!(
                "validation (library), 200 refs / 50 secrets, {level}, {manager}, {concurrency} in flight"
            ),
            median: time.to_owned(),
            calls: calls.to_owned(),
            target: target
                .filter(|_| concurrency.parse::<usize>().is_ok_and(|c| c >= 12))
                .map(Target::AtMostMs),
        });
    }
    if rows.is_empty() {
        return Err("the validation benchmark printed no rows".into());
    }
    Ok(rows)
}

/// (criterion id, what it measures, divisor to get one operation, target)
const CRITERION: &[(&str, &str, f64, Option<Target>)] = &[
    (
        "references/parse_1mib",
        "reference parsing, 1 MiB component file (attribute values)",
        1.0,
        Some(Target::AtLeastMbPerS(100.0)),
    ),
    (
        "yaml/load_1mib_with_references",
        "YAML load + reference extraction, 1 MiB component file",
        1.0,
        None,
    ),
    (
        "resolve/200_refs_50_secrets",
        "resolution of a 200-reference stack (in-memory manager)",
        1.0,
        None,
    ),
    (
        "local/register_1000",
        "local store: one register (of 1,000 into a fresh store)",
        1000.0,
        None,
    ),
    (
        "local/get_1000",
        "local store: one get (of 1,000 from 1,000 stored)",
        1000.0,
        None,
    ),
];

fn library_rows(mode: &Mode) -> Result<Vec<Row>, String> {
    let mut bench = cargo();
    bench.arg("bench").args(mode.cargo_args());
    bench.args(["--bench", "local_store", "--bench", "stack", "--"]);
    if mode.quick {
        // Its own baseline, so that debug figures are never compared with
        // release ones.
        bench.args(["--warm-up-time", "0.1", "--measurement-time", "0.3"]);
        bench.args(["--sample-size", "10", "--save-baseline", "quick"]);
    }
    step("criterion benchmarks", bench)?;
    let mut rows = Vec::new();
    for (id, what, per, target) in CRITERION {
        let dir =
            target_dir()
                .join("criterion")
                .join(id)
                .join(if mode.quick { "quick" } else { "new" });
        let estimates = std::fs::read_to_string(dir.join("estimates.json"))
            .map_err(|e| format!("no criterion result for {id}: {e}"))?;
        let nanos = json_number_after(&estimates, "\"median\"", "\"point_estimate\":")
            .ok_or_else(|| format!("no median in {}", dir.display()))?
            / per;
        let median = match target {
            Some(Target::AtLeastMbPerS(_)) => {
                let benchmark = std::fs::read_to_string(dir.join("benchmark.json"))
                    .map_err(|e| e.to_string())?;
                let bytes = json_number_after(&benchmark, "\"throughput\"", "\"Bytes\":")
                    .ok_or("no throughput recorded")?;
                format!("{:.0} MB/s ({:.2} ms)", bytes / nanos * 1000.0, nanos / 1e6)
            }
            _ if nanos >= 1e6 => format!("{:.2} ms", nanos / 1e6),
            _ => format!("{:.1} µs", nanos / 1e3),
        };
        rows.push(Row {
            what: (*what).to_owned(),
            median,
            calls: String::new(),
            target: *target,
        });
    }
    Ok(rows)
}

/// The number after `key` that follows `section` in a JSON text (enough for
/// criterion's estimates.json and benchmark.json, without a JSON parser).
fn json_number_after(text: &str, section: &str, key: &str) -> Option<f64> {
    let rest = &text[text.find(section)?..];
    let rest = rest[rest.find(key)? + key.len()..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_numbers() {
        let estimates = r#"{"mean":{"point_estimate":5.0},"median":{"confidence_interval":{"lower_bound":1.0},"point_estimate":1966712.5,"standard_error":3.0}}"#;
        assert_eq!(
            json_number_after(estimates, "\"median\"", "\"point_estimate\":"),
            Some(1_966_712.5)
        );
        let benchmark = r#"{"group_id":"references","throughput":{"Bytes":777215},"x":1}"#;
        assert_eq!(
            json_number_after(benchmark, "\"throughput\"", "\"Bytes\":"),
            Some(777_215.0)
        );
        assert_eq!(
            json_number_after(benchmark, "\"nothing\"", "\"Bytes\":"),
            None
        );
    }

    #[test]
    fn counts_read_well() {
        assert_eq!(thousands(10), "10");
        assert_eq!(thousands(300), "300");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn verdicts_compare_with_the_target() {
        let row = |median: &str, target| Row {
            what: String::new(),
            median: median.to_owned(),
            calls: String::new(),
            target: Some(target),
        };
        assert!(
            row("2.5 ms", Target::AtMostMs(3.0))
                .verdict()
                .ends_with('✓')
        );
        assert!(
            row("3.5 ms", Target::AtMostMs(3.0))
                .verdict()
                .ends_with('✗')
        );
        assert!(
            row("3.91×", Target::AtLeastTimes(2.0))
                .verdict()
                .ends_with('✓')
        );
        assert!(
            row("1.47×", Target::AtLeastTimes(2.0))
                .verdict()
                .ends_with('✗')
        );
        assert!(
            row("377 MB/s (2.0 ms)", Target::AtLeastMbPerS(100.0))
                .verdict()
                .ends_with('✓')
        );
        assert!(
            row("99 MB/s (2.0 ms)", Target::AtLeastMbPerS(100.0))
                .verdict()
                .ends_with('✗')
        );
    }
}

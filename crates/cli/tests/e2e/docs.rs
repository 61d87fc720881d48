//! The console examples of the user guide, run as tests (trycmd reads the
//! Markdown): every ```console block of `README.md` and `docs/**/*.md` is a
//! sequence of `$ keystack …` commands with the output they print (standard
//! error included, `[CWD]` for the project folder, `...` for lines left out)
//! and, after `? N`, their exit code. Examples that need a cloud account, a
//! Rust toolchain or a terminal are written as ```sh and are not run.
//!
//! Each page runs in a sandbox of its own, like the other e2e tests: a copy
//! of the page in a fresh folder, which is also the project folder, with
//! `HOME` and the data directory inside it. `TRYCMD=overwrite` writes what
//! the commands printed back into the pages.

use std::path::{Path, PathBuf};

use super::binary;

fn pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut pages = vec![root.join("README.md")];
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
        .into_iter()
        .filter(|p| std::fs::read_to_string(p).unwrap().contains("```console"))
        .collect()
}

#[test]
fn console_examples_in_the_docs_run_as_written() {
    let pages = pages();
    assert!(
        pages.iter().any(|p| p.ends_with("docs/getting-started.md")),
        "the getting-started page has console examples: {pages:?}"
    );
    let copies = tempfile::tempdir().unwrap();
    let mut copied = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        // `NAME.out/` beside a page turns trycmd's sandbox on for it.
        let copy = copies.path().join(format!(
            "{i}-{}",
            page.file_name().unwrap().to_string_lossy()
        ));
        std::fs::copy(page, &copy).unwrap();
        std::fs::create_dir(copy.with_extension("out")).unwrap();
        copied.push((page.clone(), copy));
    }
    let cases = trycmd::TestCases::new();
    cases
        .register_bin("keystack", binary())
        .env("HOME", "home")
        .env("KEYSTACK_DATA_DIR", "data")
        .env("XDG_CONFIG_HOME", "home/.config")
        .env("XDG_DATA_HOME", "home/.local/share")
        .env("NO_COLOR", "1");
    for (_, copy) in &copied {
        cases.case(copy);
    }
    let overwrite = std::env::var("TRYCMD").is_ok_and(|v| v == "overwrite");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cases.run()));
    if overwrite {
        for (page, copy) in &copied {
            std::fs::copy(copy, page).unwrap();
        }
    }
    if let Err(panic) = result {
        let map: Vec<String> = copied
            .iter()
            .map(|(page, copy)| format!("{} is {}", copy.display(), page.display()))
            .collect();
        // Written to the stderr handle, not with eprintln!, so that the
        // harness's capture does not hide which page failed.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{}", map.join("\n"));
        std::panic::resume_unwind(panic);
    }
}

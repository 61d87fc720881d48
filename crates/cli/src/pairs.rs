//! Free-form `--KEY=VALUE` arguments and the `@file` value syntax.
//!
//! In the library target (not only the binary) so that the fuzz targets
//! (`fuzz/`) can drive it directly.

use std::fmt;
use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

/// Bad key-value arguments (exit code 2, usage). Never quotes a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairsError(String);

impl PairsError {
    fn usage(message: String) -> Self {
        Self(message)
    }

    fn input(message: String) -> Self {
        Self(message)
    }
}

impl fmt::Display for PairsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PairsError {}

/// The largest value read from a file or stdin.
pub const MAX_VALUE_BYTES: u64 = 1024 * 1024;

/// Splits `--KEY=VALUE` and `--KEY VALUE` arguments into pairs. Values are
/// kept zeroizing because they may be secrets.
pub fn parse_pairs(args: &[String]) -> Result<Vec<(String, Zeroizing<String>)>, PairsError> {
    let mut pairs = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let Some(body) = arg.strip_prefix("--") else {
            return Err(PairsError::usage(format!(
                "unexpected argument {}; give key-value pairs as --KEY=VALUE",
                shown(arg)
            )));
        };
        let (key, value) = match body.split_once('=') {
            Some((key, value)) => (key.to_owned(), Zeroizing::new(value.to_owned())),
            None => {
                let value = iter
                    .next()
                    .filter(|v| !v.starts_with("--"))
                    .ok_or_else(|| {
                        PairsError::usage(format!("--{body} needs a value: --{body}=VALUE"))
                    })?;
                (body.to_owned(), Zeroizing::new(value.clone()))
            }
        };
        if key.is_empty() {
            return Err(PairsError::usage(
                "an argument '--=…' has an empty key".to_owned(),
            ));
        }
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(PairsError::usage(format!("--{key} is given twice")));
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Removes every `--NAME VALUE` / `--NAME=VALUE` (and `-S VALUE`) from
/// free-form arguments and returns the values. clap hands over everything
/// after the first `--KEY=VALUE`, so the command's own options may be there.
pub fn take_option(
    args: &mut Vec<String>,
    long: &str,
    short: Option<&str>,
) -> Result<Vec<String>, PairsError> {
    let mut values = Vec::new();
    let mut rest = Vec::with_capacity(args.len());
    let mut iter = std::mem::take(args).into_iter();
    let flag = format!("--{long}");
    let prefix = format!("--{long}=");
    while let Some(arg) = iter.next() {
        if let Some(value) = arg.strip_prefix(&prefix) {
            values.push(value.to_owned());
        } else if arg == flag || short.is_some_and(|s| arg == s) {
            values.push(
                iter.next()
                    .ok_or_else(|| PairsError::usage(format!("{arg} needs a value")))?,
            );
        } else {
            rest.push(arg);
        }
    }
    *args = rest;
    Ok(values)
}

/// Removes a boolean flag from free-form arguments; whether it was there.
pub fn take_flag(args: &mut Vec<String>, long: &str, short: Option<&str>) -> bool {
    let before = args.len();
    let flag = format!("--{long}");
    args.retain(|a| *a != flag && short.is_none_or(|s| a != s));
    args.len() != before
}

/// Shows an argument in an error without risking a secret: only its start.
fn shown(arg: &str) -> String {
    let start: String = arg.chars().take(12).collect();
    if start.len() < arg.len() {
        format!("'{start}…'")
    } else {
        format!("'{start}'")
    }
}

/// Expands the value syntax: `@path` reads a file, `@-` reads stdin,
/// `@@x` is the literal `@x`, anything else is itself.
pub fn expand_value(key: &str, value: Zeroizing<String>) -> Result<Zeroizing<String>, PairsError> {
    if let Some(rest) = value.strip_prefix("@@") {
        return Ok(Zeroizing::new(format!("@{rest}")));
    }
    let Some(path) = value.strip_prefix('@') else {
        return Ok(value);
    };
    // ZenML's `@~/file`: the shell does not expand `~` after `=@`.
    let home_path;
    let path = match path.strip_prefix("~/") {
        Some(rest) => match std::env::var_os("HOME") {
            Some(home) => {
                home_path = Path::new(&home).join(rest).display().to_string();
                home_path.as_str()
            }
            None => path,
        },
        None => path,
    };
    if path == "-" {
        let value = read_limited(std::io::stdin().lock(), key, "standard input")?;
        if value.is_empty() {
            // Rust reopens a closed standard input as /dev/null: both read
            // as nothing, which is almost never what was meant.
            return Err(PairsError::input(format!(
                "--{key}=@-: standard input is empty (closed, or nothing was piped in); \
                 to store an empty value, write --{key}="
            )));
        }
        return Ok(value);
    }
    let metadata = std::fs::metadata(path)
        .map_err(|e| PairsError::input(format!("--{key}: cannot read file {path}: {e}")))?;
    let kind = metadata.file_type();
    if kind.is_dir() {
        return Err(PairsError::input(format!(
            "--{key}: {path} is a directory; @ reads a file"
        )));
    }
    if !kind.is_file() {
        // A pipe (`@<(pass show db)`), a FIFO or a device: opening it may
        // wait for a writer that never comes.
        return read_special(key, path);
    }
    let file = std::fs::File::open(path)
        .map_err(|e| PairsError::input(format!("--{key}: cannot read file {path}: {e}")))?;
    if metadata.len() > MAX_VALUE_BYTES {
        let len = metadata.len();
        return Err(PairsError::input(format!(
            "--{key}: file {path} has {len} bytes; values are limited to {MAX_VALUE_BYTES} bytes"
        )));
    }
    read_limited(file, key, &Path::new(path).display().to_string())
}

/// How long `@path` waits for a pipe or device to be written to.
pub const SPECIAL_FILE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads a pipe, FIFO or device, giving up after [`SPECIAL_FILE_WAIT`]
/// without a writer (the reading thread is left blocked; the command ends).
fn read_special(key: &str, path: &str) -> Result<Zeroizing<String>, PairsError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (owned_key, owned_path) = (key.to_owned(), path.to_owned());
    std::thread::spawn(move || {
        let result = std::fs::File::open(&owned_path)
            .map_err(|e| PairsError::input(format!("--{owned_key}: cannot read {owned_path}: {e}")))
            .and_then(|file| read_limited(file, &owned_key, &owned_path));
        let _ = tx.send(result);
    });
    rx.recv_timeout(SPECIAL_FILE_WAIT).unwrap_or_else(|_| {
        Err(PairsError::input(format!(
            "--{key}: nothing was written to {path} within {} s; @ reads a file, or a pipe a \
             program writes to (e.g. @<(pass show db))",
            SPECIAL_FILE_WAIT.as_secs()
        )))
    })
}

/// Reads at most [`MAX_VALUE_BYTES`] of UTF-8 text from `reader`;
/// messages name `--key` and `source`.
pub fn read_limited(
    reader: impl Read,
    key: &str,
    source: &str,
) -> Result<Zeroizing<String>, PairsError> {
    let mut bytes = Zeroizing::new(Vec::new());
    reader
        .take(MAX_VALUE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| PairsError::input(format!("--{key}: cannot read {source}: {e}")))?;
    if bytes.len() as u64 > MAX_VALUE_BYTES {
        return Err(PairsError::input(format!(
            "--{key}: {source} holds more than {MAX_VALUE_BYTES} bytes, the limit for one value"
        )));
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(e) => Err(PairsError::input(format!(
            "--{key}: {source} is not UTF-8 text (invalid byte at offset {}); secret values are text — \
             encode binary data, e.g. with base64, first",
            e.valid_up_to()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn pairs_in_both_forms() {
        let pairs = parse_pairs(&args(&[
            "--username=admin",
            "--password",
            "abc=123",
            "--empty=",
        ]))
        .unwrap();
        let plain: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            plain,
            [
                ("username", "admin"),
                ("password", "abc=123"),
                ("empty", "")
            ]
        );
    }

    #[test]
    fn bad_pairs_are_refused_without_echoing_values() {
        let err = parse_pairs(&args(&["hunter2-is-my-password"]))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("my-password"), "{err}");
        assert!(parse_pairs(&args(&["--a=1", "--a=2"])).is_err());
        assert!(parse_pairs(&args(&["--a"])).is_err());
    }

    #[test]
    fn options_are_taken_out_of_free_form_arguments() {
        let mut a = args(&[
            "--a=1",
            "--remove-key",
            "x",
            "-i",
            "--remove-key=y",
            "--b",
            "2",
        ]);
        assert_eq!(take_option(&mut a, "remove-key", None).unwrap(), ["x", "y"]);
        assert!(take_flag(&mut a, "interactive", Some("-i")));
        assert_eq!(a, ["--a=1", "--b", "2"]);
        assert!(take_option(&mut args(&["--flavor"]), "flavor", Some("-f")).is_err());
    }

    #[test]
    fn at_syntax() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v.txt");
        std::fs::write(&file, "from file\n").unwrap();
        let v = expand_value("k", Zeroizing::new(format!("@{}", file.display()))).unwrap();
        assert_eq!(v.as_str(), "from file\n");
        assert_eq!(
            expand_value("k", Zeroizing::new("@@x".into()))
                .unwrap()
                .as_str(),
            "@x"
        );
        assert_eq!(
            expand_value("k", Zeroizing::new("plain".into()))
                .unwrap()
                .as_str(),
            "plain"
        );
        std::fs::write(&file, [0xff, 0xfe, 0x00]).unwrap();
        let err = expand_value("k", Zeroizing::new(format!("@{}", file.display()))).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
        let err = expand_value("k", Zeroizing::new("@/does/not/exist".into())).unwrap_err();
        assert!(err.to_string().contains("cannot read file"), "{err}");
    }
}

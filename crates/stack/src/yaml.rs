//! YAML through serde-saphyr, with bounds.
//!
//! `serde_yaml` is deprecated upstream and has no limits on aliases; we use
//! `serde-saphyr`, which is maintained, never panics on input, and enforces
//! budgets (aliases, depth, document size) so that an alias bomb or a deeply
//! nested file fails fast instead of exhausting memory.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::StackError;

/// The largest YAML file Keystack reads.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// Reads a YAML file of at most [`MAX_FILE_BYTES`]: never more than that
/// is read, whatever the file is (a huge file, a device, a pipe), and
/// text that is not UTF-8 is an error naming the file.
pub fn read_file(path: &Path) -> Result<String, StackError> {
    use std::io::Read;

    let file = std::fs::File::open(path).map_err(|e| StackError::io("read", path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| StackError::io("read", path, e))?;
    if bytes.len() > MAX_FILE_BYTES {
        let len = std::fs::metadata(path)
            .ok()
            .and_then(|m| usize::try_from(m.len()).ok())
            .filter(|len| *len > MAX_FILE_BYTES)
            .unwrap_or(bytes.len());
        return Err(StackError::TooLarge {
            file: path.to_owned(),
            len,
            max: MAX_FILE_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|e| StackError::Yaml {
        file: path.to_owned(),
        message: format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// Parses `text` (read from `file`) with bounds; duplicate keys are errors.
pub fn parse<T: DeserializeOwned>(text: &str, file: &Path) -> Result<T, StackError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(StackError::TooLarge {
            file: file.to_owned(),
            len: text.len(),
            max: MAX_FILE_BYTES,
        });
    }
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        budget: serde_saphyr::budget! {
            max_anchors: 100,
            max_aliases: 1_000,
            max_depth: 64,
            max_total_scalar_bytes: MAX_FILE_BYTES,
        },
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| StackError::Yaml {
        file: file.to_owned(),
        message: message(&e) + &unquoted_reference_hint(text, &e),
    })
}

/// `attr: {{s.k}}` unquoted is a YAML mapping, not text: when the line the
/// parser stopped at holds one, say to quote it.
fn unquoted_reference_hint(text: &str, err: &serde_saphyr::Error) -> String {
    let Some(at) = err.location() else {
        return String::new();
    };
    let line = text
        .lines()
        .nth(at.line().saturating_sub(1) as usize)
        .unwrap_or("");
    let unquoted = line
        .split_once(':')
        .is_some_and(|(_, value)| value.trim_start().starts_with("{{"));
    if unquoted {
        "; a value holding a reference must be quoted: write attr: \"{{name.key}}\"".to_owned()
    } else {
        String::new()
    }
}

/// The parser's error as a position and a problem, never a line of the file
/// nor a value in it: a file may hold a plain value in a sensitive attribute
/// (allowed, with a warning), and an error must not print it.
fn message(err: &serde_saphyr::Error) -> String {
    let problem = err.render_with_options(serde_saphyr::render_options! {
        formatter: &serde_saphyr::UserMessageFormatter,
        snippets: serde_saphyr::SnippetMode::Off,
    });
    // The location is given once, in front; the formatter's own suffix goes.
    let problem = problem
        .rsplit_once(" at line ")
        .map_or(problem.as_str(), |(before, _)| before)
        .to_owned();
    let problem = without_values(&problem).replace(
        ", set DuplicateKeyPolicy in Options if acceptable",
        "; remove one of them",
    );
    match err.location() {
        Some(at) => format!("line {}, column {}: {problem}", at.line(), at.column()),
        None => problem,
    }
}

/// Serde's "invalid type: string \"…\", expected …" and "invalid value: …"
/// name the value found; only its kind is kept.
fn without_values(problem: &str) -> String {
    for lead in ["invalid type: ", "invalid value: "] {
        if let Some(start) = problem.find(lead) {
            let rest = &problem[start + lead.len()..];
            let end = rest.find(", expected").unwrap_or(rest.len());
            let kind = rest[..end].split_whitespace().next().unwrap_or("value");
            return format!("{}{lead}{kind}{}", &problem[..start], &rest[end..]);
        }
    }
    problem.to_owned()
}

/// Writes `value` as YAML.
pub fn to_string<T: Serialize>(value: &T) -> String {
    serde_saphyr::to_string(value).expect("our file types always serialize")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn an_unquoted_reference_is_told_to_be_quoted() {
        let text = "type: experiment_tracker\nname: m\nflavor: mlflow\nattributes:\n  \
                    tracking_password: {{mlflow.password}}\n";
        let err = parse::<crate::Component>(text, Path::new("m.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("must be quoted: write attr: \"{{name.key}}\""),
            "{err}"
        );
        let quoted = text.replace("{{mlflow.password}}", "\"{{mlflow.password}}\"");
        parse::<crate::Component>(&quoted, Path::new("m.yaml")).unwrap();
    }

    #[test]
    fn alias_bomb_is_refused_quickly() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let started = std::time::Instant::now();
        let result: Result<BTreeMap<String, serde_saphyr_value::Any>, _> =
            parse(&bomb, Path::new("bomb.yaml"));
        assert!(result.is_err());
        assert!(started.elapsed().as_secs() < 2);
    }

    #[test]
    fn duplicate_keys_and_deep_nesting_are_errors() {
        let err =
            parse::<BTreeMap<String, String>>("a: 1\na: 2\n", Path::new("dup.yaml")).unwrap_err();
        assert!(err.to_string().contains("dup.yaml"), "{err}");
        let deep = format!("{}1{}", "[".repeat(500), "]".repeat(500));
        assert!(parse::<serde_saphyr_value::Any>(&deep, Path::new("deep.yaml")).is_err());
    }

    #[test]
    fn errors_give_positions_never_lines_or_values_of_the_file() {
        let err = parse::<BTreeMap<String, BTreeMap<String, String>>>(
            "attributes:\n  tracking_password: hunter2secret\n  tracking_password: hunter2secret\n",
            Path::new("m.yaml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("m.yaml: line 3, column 3: duplicate mapping key `tracking_password`"),
            "{err}"
        );
        assert!(!err.contains("hunter2secret"), "{err}");
        let err = parse::<BTreeMap<String, bool>>("switch: hunter2secret\n", Path::new("t.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("t.yaml: line 1") && err.contains("invalid"),
            "{err}"
        );
        assert!(!err.contains("hunter2secret"), "{err}");
        let err = parse::<BTreeMap<String, String>>("a: \"hunter2secret\n", Path::new("q.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("q.yaml: line 1, column 4: unclosed quote"),
            "{err}"
        );
        assert!(!err.contains("hunter2secret"), "{err}");
    }

    #[test]
    fn oversized_files_are_refused() {
        let big = "a".repeat(MAX_FILE_BYTES + 1);
        let err = parse::<String>(&big, Path::new("big.yaml")).unwrap_err();
        assert!(matches!(err, StackError::TooLarge { .. }));
    }

    /// A value that accepts any YAML, for the tests above.
    mod serde_saphyr_value {
        use serde::Deserialize;

        #[derive(Debug, Deserialize)]
        #[serde(untagged)]
        #[allow(dead_code)]
        pub(super) enum Any {
            Seq(Vec<Any>),
            Map(std::collections::BTreeMap<String, Any>),
            Scalar(String),
        }
    }
}

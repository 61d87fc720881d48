//! `.env` files: read into a secret's key-values
//! (`secret register NAME --from-dotenv FILE`), and written by
//! `secret get -o dotenv` so that python-dotenv and a POSIX shell (`. file`
//! or `set -a; . file`) both read back the same values.
//!
//! Reading follows python-dotenv's format: `KEY=VALUE` lines, optionally
//! after `export `; blank lines and `#` comments; values unquoted (trimmed,
//! a ` #` starts a comment), in single quotes (escapes `\\` and `\'`), or in
//! double quotes (escapes `\\ \' \" \n \r \t \a \b \f \v`); quoted values
//! may span lines. Values are taken literally: python-dotenv expands
//! `${NAME}` in every value (quoted or not), so a value holding `${` is
//! refused rather than stored differently from what python-dotenv reads.

use std::fmt;

/// What is wrong with a `.env` file, by line. Never quotes a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvError {
    /// The line (1-based) the problem starts on.
    pub line: usize,
    /// What is wrong and what to do.
    pub problem: String,
}

impl fmt::Display for DotenvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

impl std::error::Error for DotenvError {}

/// Whether `key` is a name a POSIX shell takes for a variable:
/// `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The pairs of a `.env` file, in file order; a key given twice is refused
/// (python-dotenv would keep the last one silently).
pub fn parse(text: &str) -> Result<Vec<(String, String)>, DotenvError> {
    let mut pairs: Vec<(String, String, usize)> = Vec::new();
    let mut rest = text;
    let mut line = 1;
    while !rest.is_empty() {
        let (entry, after, lines) = next_entry(rest, line)?;
        if let Some((key, value)) = entry {
            if let Some((_, _, first)) = pairs.iter().find(|(k, _, _)| *k == key) {
                return Err(DotenvError {
                    line,
                    problem: format!("key '{key}' is also set on line {first}; keep one"),
                });
            }
            pairs.push((key, value, line));
        }
        line += lines;
        rest = after;
    }
    Ok(pairs.into_iter().map(|(k, v, _)| (k, v)).collect())
}

/// One line (or one multi-line quoted entry): the pair it sets, if any,
/// what follows it, and how many lines it took.
#[allow(clippy::type_complexity)]
fn next_entry(
    text: &str,
    line: usize,
) -> Result<(Option<(String, String)>, &str, usize), DotenvError> {
    let err = |problem: String| DotenvError { line, problem };
    let (first, _) = text.split_once('\n').unwrap_or((text, ""));
    let trimmed = first.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        let after = text.get(first.len() + 1..).unwrap_or("");
        return Ok((None, after, 1));
    }
    if !first.contains('=') {
        return Err(err(
            "expected KEY=VALUE (or a blank line, or a # comment)".to_owned()
        ));
    }
    let body = text.trim_start();
    let body = body.strip_prefix("export ").map_or(body, str::trim_start);
    let (key, value) = body.split_once('=').expect("the first line has a '='");
    let key = key.trim();
    if key.is_empty() {
        return Err(err("expected KEY=VALUE with a key before '='".to_owned()));
    }
    let value = value.trim_start_matches([' ', '\t']);
    let (parsed, after) = match value.chars().next() {
        Some(quote @ ('\'' | '"')) => {
            let inner = &value[1..];
            let end = closing_quote(inner, quote).ok_or_else(|| {
                err(format!(
                    "the value of '{key}' opens a {} quote that is never closed",
                    if quote == '\'' { "single" } else { "double" }
                ))
            })?;
            let raw = &inner[..end];
            let tail = &inner[end + 1..];
            let (tail_line, after) = tail.split_once('\n').unwrap_or((tail, ""));
            let tail_line = tail_line.trim();
            if !tail_line.is_empty() && !tail_line.starts_with('#') {
                return Err(err(format!(
                    "the value of '{key}' has text after its closing quote; quote all of it"
                )));
            }
            if raw.contains("${") {
                return Err(interpolated(line, key));
            }
            (unescape(raw, quote), after)
        }
        _ => {
            let (value_line, after) = value.split_once('\n').unwrap_or((value, ""));
            let value_line = match value_line.find(" #").or(value_line.find("\t#")) {
                Some(comment) => &value_line[..comment],
                None => value_line,
            };
            let value_line = value_line.trim().trim_end_matches('\r');
            if value_line.contains("${") {
                return Err(interpolated(line, key));
            }
            (value_line.to_owned(), after)
        }
    };
    let consumed = &text[..text.len() - after.len()];
    let lines = consumed.matches('\n').count().max(1);
    Ok((Some((key.to_owned(), parsed)), after, lines))
}

fn interpolated(line: usize, key: &str) -> DotenvError {
    DotenvError {
        line,
        problem: format!(
            "the value of '{key}' holds '${{', which python-dotenv expands (quoted or not) and \
             Keystack does not; give that key as --{key}=VALUE instead"
        ),
    }
}

/// Where the quote closing `inner` is (a quote after a backslash is escaped).
fn closing_quote(inner: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in inner.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            c if c == quote && !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

/// python-dotenv's escapes: `\\` and `\'` in single quotes; those, `\"`
/// and the control escapes in double quotes. Any other backslash stays.
fn unescape(raw: &str, quote: char) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match (quote, chars.peek()) {
            (_, Some('\\')) => Some('\\'),
            (_, Some('\'')) => Some('\''),
            ('"', Some('"')) => Some('"'),
            ('"', Some('n')) => Some('\n'),
            ('"', Some('r')) => Some('\r'),
            ('"', Some('t')) => Some('\t'),
            ('"', Some('a')) => Some('\u{7}'),
            ('"', Some('b')) => Some('\u{8}'),
            ('"', Some('f')) => Some('\u{c}'),
            ('"', Some('v')) => Some('\u{b}'),
            _ => None,
        };
        match decoded {
            Some(d) => {
                out.push(d);
                chars.next();
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `KEY=VALUE` for a `.env` file that python-dotenv and a POSIX shell read
/// back to `value`: single quotes when the value has no `'` and no `\`;
/// else double quotes (`\` and `"` escaped) when it has no `$` and no
/// backquote. `None` for a value no line reads back the same in both: one
/// holding `${` (python-dotenv expands it in any quotes), or a quote or
/// backslash together with `$` or a backquote.
pub fn dotenv_line(key: &str, value: &str) -> Option<String> {
    if value.contains("${") {
        return None;
    }
    if !value.contains(['\'', '\\']) {
        return Some(format!("{key}='{value}'"));
    }
    if value.contains(['$', '`']) {
        return None;
    }
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    Some(format!("{key}=\"{escaped}\""))
}

/// `KEY='VALUE'` for `eval` in a POSIX shell: single quotes, each `'`
/// written as `'\''`. Every value can be written this way.
pub fn shell_line(key: &str, value: &str) -> String {
    format!("{key}='{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn reads_what_python_dotenv_reads() {
        let text = "# a comment\n\
                    \n\
                    PLAIN=value\n\
                    export EXPORTED = spaced value  # comment\n\
                    SINGLE='it''s not'\n\
                    ESC_SINGLE='a\\'b\\\\c\\nd'\n\
                    DOUBLE=\"line\\none \\\"q\\\" \\\\ \\x\"\n\
                    MULTI='first\n\
                    second'\n\
                    HASH=a#b\n\
                    EMPTY=\n\
                    LAST=end";
        let got = parse(text);
        // `'it''s not'` has text after the closing quote.
        assert!(got.unwrap_err().problem.contains("after its closing quote"));
        let text = text.replace("SINGLE='it''s not'\n", "");
        assert_eq!(
            pairs(&text),
            [
                ("PLAIN", "value"),
                ("EXPORTED", "spaced value"),
                ("ESC_SINGLE", "a'b\\c\\nd"),
                ("DOUBLE", "line\none \"q\" \\ \\x"),
                ("MULTI", "first\nsecond"),
                ("HASH", "a#b"),
                ("EMPTY", ""),
                ("LAST", "end"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn refuses_what_it_cannot_read_alike_by_line_without_values() {
        for (text, line, says) in [
            ("A=1\nnot a pair\n", 2, "expected KEY=VALUE"),
            ("A=1\nB='open\nC=3\n", 2, "never closed"),
            ("A=1\nA=2\n", 2, "also set on line 1"),
            ("U=${HOME}/x\n", 1, "expands"),
            ("D=\"${HOME}\"\n", 1, "expands"),
            ("=v\n", 1, "a key before"),
            ("no pair here\nB=1\n", 1, "expected KEY=VALUE"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}");
            assert!(e.problem.contains(says), "{text:?}: {e}");
        }
        assert!(
            parse("S='${HOME}'\n")
                .unwrap_err()
                .problem
                .contains("expands")
        );
        let e = parse("K='top-secret-value\n").unwrap_err();
        assert!(!e.to_string().contains("top-secret"));
    }

    #[test]
    fn written_lines_read_back_to_the_same_values() {
        for value in [
            "plain",
            "with space",
            "multi\nline",
            "it's",
            "back\\slash",
            "quote \" and ' and \\",
            "",
            "#hash",
        ] {
            let line = dotenv_line("K", value).unwrap();
            assert_eq!(pairs(&line), [("K".to_owned(), value.to_owned())], "{line}");
        }
        assert_eq!(dotenv_line("K", "it's $HOME"), None);
        assert_eq!(dotenv_line("K", "a\\`b`"), None);
        assert_eq!(dotenv_line("K", "$HOME"), Some("K='$HOME'".to_owned()));
        assert_eq!(dotenv_line("K", "${HOME}"), None);
    }

    #[test]
    fn env_names() {
        for good in ["A", "_a", "DB_URL2"] {
            assert!(is_env_name(good), "{good}");
        }
        for bad in ["", "1A", "a.b", "my-key", "a b", "ä"] {
            assert!(!is_env_name(bad), "{bad}");
        }
    }
}

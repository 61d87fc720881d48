//! The walk-through script (`crates/cli/tests/e2e/walkthrough.script`),
//! parsed. `cargo xtask demo` prints and runs it; the e2e tests include this
//! file (`#[path]`) and run the same steps with the same checks, so the demo
//! and the tests cannot drift. Standard library only, for that reason.

/// One line of the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    /// `# text`: said to the reader.
    Comment(String),
    /// A `keystack` command and what it must do.
    Step(Step),
}

/// A `keystack` command of the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    /// `VAR=VALUE` set for this command only.
    pub(crate) env: Vec<(String, String)>,
    /// The arguments after `keystack`.
    pub(crate) args: Vec<String>,
    /// The exit code it must give (`# exit N`, else 0).
    pub(crate) exit: i32,
    /// Text its standard output must hold.
    pub(crate) stdout_has: Vec<String>,
    /// Text its standard output must not hold.
    pub(crate) stdout_lacks: Vec<String>,
}

/// The script as lines; an error names the line that does not parse.
pub(crate) fn parse(text: &str) -> Result<Vec<Line>, String> {
    let mut lines = Vec::new();
    for (number, raw) in text.lines().enumerate() {
        let at = |problem: &str| format!("walkthrough.script line {}: {problem}", number + 1);
        if raw.trim().is_empty() {
            continue;
        }
        if let Some(check) = raw.strip_prefix("  ") {
            let Some(Line::Step(step)) = lines.last_mut() else {
                return Err(at("a check must follow a command"));
            };
            if let Some(text) = check.strip_prefix("stdout has: ") {
                step.stdout_has.push(text.to_owned());
            } else if let Some(text) = check.strip_prefix("stdout lacks: ") {
                step.stdout_lacks.push(text.to_owned());
            } else {
                return Err(at("a check is `stdout has: TEXT` or `stdout lacks: TEXT`"));
            }
            continue;
        }
        if let Some(comment) = raw.strip_prefix('#') {
            lines.push(Line::Comment(comment.trim().to_owned()));
            continue;
        }
        let (command, exit) = match raw.rsplit_once(" # exit ") {
            Some((command, code)) => (
                command,
                code.trim().parse().map_err(|_| at("bad exit code"))?,
            ),
            None => (raw, 0),
        };
        let words = split(command).map_err(|p| at(&p))?;
        let program = words
            .iter()
            .position(|w| !w.contains('=') || w.starts_with('-'))
            .ok_or_else(|| at("no command"))?;
        if words[program] != "keystack" {
            return Err(at("a command starts with `keystack`"));
        }
        let env = words[..program]
            .iter()
            .map(|w| {
                let (k, v) = w.split_once('=').expect("has '='");
                (k.to_owned(), v.to_owned())
            })
            .collect();
        lines.push(Line::Step(Step {
            env,
            args: words[program + 1..].to_vec(),
            exit,
            stdout_has: Vec::new(),
            stdout_lacks: Vec::new(),
        }));
    }
    Ok(lines)
}

/// Splits on spaces, with '…' quoting.
fn split(command: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut in_word = false;
    for c in command.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            ' ' if !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err("a quote is not closed".to_owned());
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// An argument as a reader would type it.
pub(crate) fn shown(arg: &str) -> String {
    if arg
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_=./:{}".contains(c))
    {
        arg.to_owned()
    } else {
        format!("'{arg}'")
    }
}

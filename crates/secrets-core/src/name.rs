//! Validated secret names and keys.
//!
//! The grammar is written down in `docs/secrets.md`; keep the two in step.
//!
//! - A **name** is 1 to [`SecretName::MAX_LEN`] ASCII characters: letters,
//!   digits, `_` and `-`, starting with a letter or digit. Names never contain
//!   `.` because a reference `{{name.key}}` splits on the first `.`, and the
//!   small alphabet maps onto every backend's naming rules.
//! - A **key** is 1 to [`SecretKey::MAX_LEN`] characters: ASCII letters,
//!   digits, `_`, `-` and `.`, or any non-ASCII character that is visible
//!   (not whitespace, not a control character, not an invisible formatting or
//!   direction mark). A key starts with neither `-` nor `.`.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

/// What was wrong with a proposed name or key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {shown}: {problem}")]
pub struct NameError {
    kind: NameKind,
    shown: String,
    problem: NameProblem,
}

impl NameError {
    /// Which of the two grammars was violated.
    pub fn kind(&self) -> NameKind {
        self.kind
    }

    /// The precise problem, with the position of the offending character.
    pub fn problem(&self) -> &NameProblem {
        &self.problem
    }

    fn new(kind: NameKind, input: &str, problem: NameProblem) -> Self {
        Self {
            kind,
            shown: shown(input),
            problem,
        }
    }
}

/// Whether a [`NameError`] is about a secret name or a secret key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A [`SecretName`].
    Name,
    /// A [`SecretKey`].
    Key,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Name => "secret name",
            Self::Key => "secret key",
        })
    }
}

/// The precise way a name or key breaks its grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameProblem {
    /// Nothing was given.
    #[error("it is empty; give at least one character")]
    Empty,
    /// More characters than the grammar allows.
    #[error("it is {len} characters long, the limit is {max}")]
    TooLong {
        /// Length in characters.
        len: usize,
        /// The limit in characters.
        max: usize,
    },
    /// A character that may not appear at this position.
    #[error("character {} at position {position} is not allowed{}; {allowed}", quote_char(*.character), if *.position == 1 { " first" } else { "" })]
    BadCharacter {
        /// The offending character.
        character: char,
        /// 1-based position, counted in characters.
        position: usize,
        /// What the grammar allows, in words.
        allowed: &'static str,
    },
}

const NAME_ALLOWED: &str =
    "names use ASCII letters, digits, '_' and '-', and start with a letter or digit";
const KEY_ALLOWED: &str =
    "keys use letters, digits, '_', '-' and '.', and start with neither '-' nor '.'";

fn quote_char(c: char) -> String {
    format!("'{}'", c.escape_debug())
}

/// Shows user input in an error: quoted, escaped and cut short, so that a
/// 10,000-character name or a control character cannot flood or garble a
/// terminal.
fn shown(input: &str) -> String {
    const MAX_SHOWN: usize = 64;
    let mut out = String::from("\"");
    for (i, c) in input.chars().enumerate() {
        if i == MAX_SHOWN {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('"');
    out
}

/// Invisible characters that change how text is shown: zero-width spaces and
/// joiners, direction marks and overrides, and the byte-order mark. They would
/// let two keys look the same while being different.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFFB}'
        | '\u{E0000}'..='\u{E0FFF}'
    ) || (c as u32 & 0xFFFE) == 0xFFFE // noncharacters U+xxFFFE and U+xxFFFF
        || ('\u{FDD0}'..='\u{FDEF}').contains(&c)
        || ('\u{E000}'..='\u{F8FF}').contains(&c) // private use
}

fn check(
    kind: NameKind,
    input: &str,
    max: usize,
    allowed: &'static str,
    ok: impl Fn(usize, char) -> bool,
) -> Result<(), NameError> {
    if input.is_empty() {
        return Err(NameError::new(kind, input, NameProblem::Empty));
    }
    let mut len = 0;
    for (i, c) in input.chars().enumerate() {
        if !ok(i, c) {
            let problem = NameProblem::BadCharacter {
                character: c,
                position: i + 1,
                allowed,
            };
            return Err(NameError::new(kind, input, problem));
        }
        len = i + 1;
    }
    if len > max {
        return Err(NameError::new(
            kind,
            input,
            NameProblem::TooLong { len, max },
        ));
    }
    Ok(())
}

macro_rules! validated_string {
    ($(#[$meta:meta])* $ty:ident, $validate:path) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(String);

        impl $ty {
            /// Validates `input` against the grammar.
            pub fn new(input: impl Into<String>) -> Result<Self, NameError> {
                let input = input.into();
                $validate(&input)?;
                Ok(Self(input))
            }

            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The validated text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl FromStr for $ty {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, NameError> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = NameError;
            fn try_from(s: &str) -> Result<Self, NameError> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = NameError;
            fn try_from(s: String) -> Result<Self, NameError> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $ty {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

validated_string!(
    /// The name of a secret: `[A-Za-z0-9][A-Za-z0-9_-]*`, at most 100 characters.
    SecretName,
    SecretName::validate
);

validated_string!(
    /// One key of a secret: visible characters without whitespace, braces or
    /// `=`, at most 256 characters (see the module docs).
    SecretKey,
    SecretKey::validate
);

impl SecretName {
    /// The longest name accepted, in characters. Chosen so that a name with a
    /// namespace prefix still fits every backend's limit after mapping.
    pub const MAX_LEN: usize = 100;

    /// Checks `input` against the name grammar without allocating.
    pub fn validate(input: &str) -> Result<(), NameError> {
        check(
            NameKind::Name,
            input,
            Self::MAX_LEN,
            NAME_ALLOWED,
            |i, c| c.is_ascii_alphanumeric() || (i > 0 && (c == '_' || c == '-')),
        )
    }
}

impl SecretKey {
    /// The longest key accepted, in characters.
    pub const MAX_LEN: usize = 256;

    /// Checks `input` against the key grammar without allocating.
    pub fn validate(input: &str) -> Result<(), NameError> {
        check(NameKind::Key, input, Self::MAX_LEN, KEY_ALLOWED, |i, c| {
            if c.is_ascii() {
                c.is_ascii_alphanumeric() || c == '_' || (i > 0 && (c == '-' || c == '.'))
            } else {
                !c.is_whitespace() && !c.is_control() && !is_invisible_format(c)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad_char(err: NameError) -> (char, usize) {
        match err.problem {
            NameProblem::BadCharacter {
                character,
                position,
                ..
            } => (character, position),
            other => panic!("expected a bad character, got {other:?}"),
        }
    }

    #[test]
    fn names_accept_the_documented_alphabet() {
        for ok in ["a", "mlflow_secret", "DB-1", "0abc", &"x".repeat(100)] {
            SecretName::new(ok).unwrap();
        }
    }

    #[test]
    fn names_reject_with_character_and_position() {
        assert_eq!(bad_char(SecretName::new("db.user").unwrap_err()), ('.', 3));
        assert_eq!(bad_char(SecretName::new("_x").unwrap_err()), ('_', 1));
        assert_eq!(bad_char(SecretName::new("a/b").unwrap_err()), ('/', 2));
        assert_eq!(bad_char(SecretName::new("..").unwrap_err()), ('.', 1));
        assert_eq!(bad_char(SecretName::new("ab\0").unwrap_err()), ('\0', 3));
        assert_eq!(bad_char(SecretName::new("é").unwrap_err()), ('é', 1));
        assert_eq!(SecretName::new("").unwrap_err().problem, NameProblem::Empty);
        assert_eq!(
            SecretName::new("a".repeat(10_000)).unwrap_err().problem,
            NameProblem::TooLong {
                len: 10_000,
                max: 100
            }
        );
    }

    #[test]
    fn error_messages_name_the_character_and_position() {
        let err = SecretName::new("db.user").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid secret name \"db.user\": character '.' at position 3 is not allowed; \
             names use ASCII letters, digits, '_' and '-', and start with a letter or digit"
        );
        let err = SecretKey::new("-x").unwrap_err();
        assert!(
            err.to_string()
                .contains("character '-' at position 1 is not allowed first")
        );
    }

    #[test]
    fn errors_escape_and_shorten_hostile_input() {
        let long = format!("{}\u{202E}", "a".repeat(10_000));
        let msg = SecretName::new(long).unwrap_err().to_string();
        assert!(msg.len() < 400, "{msg}");
        let msg = SecretKey::new("a\u{202E}b").unwrap_err().to_string();
        assert!(msg.contains("\\u{202e}"), "{msg}");
        assert!(!msg.contains('\u{202E}'));
    }

    #[test]
    fn keys_accept_unicode_and_dots() {
        for ok in [
            "password",
            "aws_access_key_id",
            "tls.crt",
            "пароль",
            "密码",
            "नमस्ते",
            "emoji🔑",
            "_private",
        ] {
            SecretKey::new(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn keys_reject_invisible_and_structural_characters() {
        for (bad, c, pos) in [
            ("a b", ' ', 2),
            ("a=b", '=', 2),
            ("{x", '{', 1),
            ("x}", '}', 2),
            ("a\u{200F}", '\u{200F}', 2),
            ("a\u{202E}b", '\u{202E}', 2),
            ("\u{FEFF}a", '\u{FEFF}', 1),
            ("a\u{00A0}b", '\u{00A0}', 2),
            ("a\tb", '\t', 2),
            (".hidden", '.', 1),
            ("a/b", '/', 2),
        ] {
            assert_eq!(
                bad_char(SecretKey::new(bad).unwrap_err()),
                (c, pos),
                "{bad:?}"
            );
        }
    }
}

//! The secret reference grammar: `{{secret_name.key}}`.
//!
//! A string attribute holds text with references embedded in it:
//!
//! - `{{name.key}}` is a reference. Spaces and tabs just inside the braces are
//!   ignored (`{{ db.password }}`). The content splits on the first `.`: the
//!   part before is a [`SecretName`], the part after a [`SecretKey`].
//! - A reference may be the whole value (ZenML's form) or embedded:
//!   `postgres://{{db.user}}:{{db.password}}@host/db`.
//! - `\{{` is a literal `{{`. Backslashes are special only in a run right
//!   before `{{`: there, `\\` is one literal backslash and a last odd `\`
//!   escapes the braces. Every other backslash is literal, so Windows and UNC
//!   paths need no escaping.
//! - In a run of three or more `{`, the last two open the reference and the
//!   others are literal, so `{{{db.key}}` is `{` followed by a reference.
//! - A lone `}` or `}}` outside a reference is literal.
//!
//! [`Template::parse`] is total: every input either parses or yields a
//! [`ReferenceError`] with its byte offset and 1-based column. Errors never
//! quote the input, which may hold a plain secret next to a typo.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use crate::{NameError, NameProblem, SecretKey, SecretName, SecretValue};

/// A reference to one key of one secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretReference {
    /// The referenced secret.
    pub name: SecretName,
    /// The referenced key.
    pub key: SecretKey,
}

impl SecretReference {
    /// A reference to `key` of secret `name`.
    pub fn new(name: SecretName, key: SecretKey) -> Self {
        Self { name, key }
    }
}

impl fmt::Display for SecretReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{{{}.{}}}}}", self.name, self.key)
    }
}

impl FromStr for SecretReference {
    type Err = ReferenceError;

    /// Parses a value that must be exactly one reference.
    fn from_str(s: &str) -> Result<Self, ReferenceError> {
        let template = Template::parse(s)?;
        template.whole_reference().cloned().ok_or(ReferenceError {
            offset: 0,
            column: 1,
            problem: ReferenceProblem::NotAReference,
        })
    }
}

/// A reference error: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid secret reference at column {column}: {problem}")]
pub struct ReferenceError {
    offset: usize,
    column: usize,
    problem: ReferenceProblem,
}

impl ReferenceError {
    /// Byte offset of the `{{` that opens the faulty reference.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// 1-based column, in characters, of that `{{`.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong.
    pub fn problem(&self) -> &ReferenceProblem {
        &self.problem
    }
}

/// What is wrong with a reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceProblem {
    /// `{{` with no `}}` after it.
    #[error("'{{{{' is not closed by '}}}}'; close it, or write '\\{{{{' for a literal '{{{{'")]
    Unclosed,
    /// `{{something}}` without a `.` between name and key (a template
    /// keeps such text literal; a value that must be one reference refuses it).
    #[error("a reference has the form {{{{secret_name.key}}}}, and this one has no '.'")]
    MissingDot,
    /// The part before the `.` is not a valid secret name.
    #[error("in the secret name, {0}")]
    Name(NameProblem),
    /// The part after the `.` is not a valid key.
    #[error("in the key, {0}")]
    Key(NameProblem),
    /// A value expected to be exactly one reference is something else.
    #[error("expected exactly one reference of the form {{{{secret_name.key}}}}")]
    NotAReference,
}

/// One piece of a parsed string value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Literal text, with escapes already removed.
    Text(Cow<'a, str>),
    /// A reference, with the byte range of its source (`{{` to `}}`).
    Reference {
        /// The reference.
        reference: SecretReference,
        /// Where it stands in the parsed input.
        span: Range<usize>,
    },
}

/// A parsed string value: literal text and references, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template<'a> {
    segments: Vec<Segment<'a>>,
}

impl<'a> Template<'a> {
    /// Parses `input`. Never panics; a malformed reference yields a positioned error.
    pub fn parse(input: &'a str) -> Result<Self, ReferenceError> {
        Parser {
            input,
            builder: Builder::default(),
        }
        .run()
    }

    /// The segments, in order. Adjacent text is merged into one segment.
    pub fn segments(&self) -> &[Segment<'a>] {
        &self.segments
    }

    /// Every reference, in order of appearance (duplicates kept).
    pub fn references(&self) -> impl Iterator<Item = &SecretReference> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Reference { reference, .. } => Some(reference),
            Segment::Text(_) => None,
        })
    }

    /// Whether the value holds any reference.
    pub fn has_references(&self) -> bool {
        self.references().next().is_some()
    }

    /// The reference, if the value is exactly one reference and nothing else.
    pub fn whole_reference(&self) -> Option<&SecretReference> {
        match self.segments.as_slice() {
            [Segment::Reference { reference, .. }] => Some(reference),
            _ => None,
        }
    }

    /// The literal text, if the value holds no reference.
    pub fn as_literal(&self) -> Option<Cow<'_, str>> {
        match self.segments.as_slice() {
            [] => Some(Cow::Borrowed("")),
            [Segment::Text(text)] => Some(Cow::Borrowed(text.as_ref())),
            _ => None,
        }
    }

    /// Replaces every reference by the value `lookup` gives for it. The result
    /// holds secrets, so it comes back as a [`SecretValue`].
    pub fn render<E>(
        &self,
        mut lookup: impl FnMut(&SecretReference) -> Result<SecretValue, E>,
    ) -> Result<SecretValue, E> {
        let mut values = Vec::new();
        let mut len = 0;
        for reference in self.references() {
            let value = lookup(reference)?;
            len += value.len();
            values.push(value);
        }
        len += self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Text(t) => t.len(),
                Segment::Reference { .. } => 0,
            })
            .sum::<usize>();
        // Sized up front so the buffer is never reallocated, which would leave
        // copies of secrets behind in freed memory.
        let mut out = String::with_capacity(len);
        let mut values = values.iter();
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => out.push_str(text),
                Segment::Reference { .. } => {
                    out.push_str(values.next().map(SecretValue::expose).unwrap_or_default());
                }
            }
        }
        Ok(SecretValue::new(out))
    }

    /// Writes the template back in the grammar; parsing the result gives the
    /// same template.
    pub fn to_source(&self) -> String {
        let mut out = String::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Text(text) => {
                    let before_reference =
                        matches!(self.segments.get(i + 1), Some(Segment::Reference { .. }));
                    escape_into(text, before_reference, &mut out);
                }
                Segment::Reference { reference, .. } => out.push_str(&reference.to_string()),
            }
        }
        out
    }

    /// Detaches the template from the input it was parsed from.
    pub fn into_owned(self) -> Template<'static> {
        Template {
            segments: self
                .segments
                .into_iter()
                .map(|segment| match segment {
                    Segment::Text(text) => Segment::Text(Cow::Owned(text.into_owned())),
                    Segment::Reference { reference, span } => {
                        Segment::Reference { reference, span }
                    }
                })
                .collect(),
        }
    }
}

/// Escapes `literal` so that it parses back to itself with no reference in it.
pub fn escape(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len());
    escape_into(literal, false, &mut out);
    out
}

/// Escapes `literal`; with `before_reference`, also protects its end from
/// merging with a `{{` that follows.
fn escape_into(literal: &str, before_reference: bool, out: &mut String) {
    let mut cursor = 0;
    while let Some(found) = literal[cursor..].find("{{") {
        let idx = cursor + found;
        let backslashes = trailing_backslashes(&literal[cursor..idx]);
        out.push_str(&literal[cursor..idx - backslashes]);
        push_backslashes(out, 2 * backslashes + 1);
        out.push_str("{{");
        cursor = idx + 2;
    }
    let rest = &literal[cursor..];
    if before_reference {
        // The reference's `{{` will follow: backslashes right before it (or
        // before one trailing `{`, which joins its brace run) must be doubled
        // so that they do not escape it.
        let brace = usize::from(rest.ends_with('{'));
        let body = &rest[..rest.len() - brace];
        let backslashes = trailing_backslashes(body);
        out.push_str(&body[..body.len() - backslashes]);
        push_backslashes(out, 2 * backslashes);
        out.push_str(&rest[rest.len() - brace..]);
    } else {
        out.push_str(rest);
    }
}

fn trailing_backslashes(s: &str) -> usize {
    s.bytes().rev().take_while(|b| *b == b'\\').count()
}

fn push_backslashes(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n('\\', n));
}

fn column(input: &str, offset: usize) -> usize {
    input[..offset].chars().count() + 1
}

/// Collects segments, merging adjacent text and borrowing where it can.
#[derive(Default)]
struct Builder<'a> {
    segments: Vec<Segment<'a>>,
    text: Option<Cow<'a, str>>,
}

impl<'a> Builder<'a> {
    fn text(&mut self, piece: &'a str) {
        if piece.is_empty() {
            return;
        }
        match &mut self.text {
            None => self.text = Some(Cow::Borrowed(piece)),
            Some(text) => text.to_mut().push_str(piece),
        }
    }

    fn flush(&mut self) {
        if let Some(text) = self.text.take() {
            self.segments.push(Segment::Text(text));
        }
    }

    fn reference(&mut self, reference: SecretReference, span: Range<usize>) {
        self.flush();
        self.segments.push(Segment::Reference { reference, span });
    }

    fn finish(mut self) -> Template<'a> {
        self.flush();
        Template {
            segments: self.segments,
        }
    }
}

struct Parser<'a> {
    input: &'a str,
    builder: Builder<'a>,
}

impl<'a> Parser<'a> {
    fn run(mut self) -> Result<Template<'a>, ReferenceError> {
        let input = self.input;
        let bytes = input.as_bytes();
        let mut cursor = 0;
        while let Some(found) = input[cursor..].find("{{") {
            let idx = cursor + found;
            let backslashes = trailing_backslashes(&input[cursor..idx]);
            self.builder.text(&input[cursor..idx - backslashes]);
            // Each `\\` pair stands for one backslash; borrow them from the input.
            let half = backslashes / 2;
            self.builder
                .text(&input[idx - backslashes..idx - backslashes + half]);
            if backslashes % 2 == 1 {
                self.builder.text(&input[idx..idx + 2]);
                cursor = idx + 2;
                continue;
            }
            let run_end = idx + bytes[idx..].iter().take_while(|b| **b == b'{').count();
            let open = run_end - 2;
            self.builder.text(&input[idx..open]);
            let Some(found) = input[run_end..].find("}}") else {
                return Err(self.error(open, ReferenceProblem::Unclosed));
            };
            let close = run_end + found;
            match self.reference(open, run_end, close) {
                Ok(reference) => self.builder.reference(reference, open..close + 2),
                // Braces around text without a `.` (`{{ ds }}` of Airflow
                // and Jinja) are no reference: literal, as ZenML kept them.
                Err(ReferenceError {
                    problem: ReferenceProblem::MissingDot,
                    ..
                }) => self.builder.text(&input[open..close + 2]),
                Err(e) => return Err(e),
            }
            cursor = close + 2;
        }
        self.builder.text(&input[cursor..]);
        Ok(self.builder.finish())
    }

    /// Parses the content between `{{` (ending at `start`) and `}}` (at `end`).
    fn reference(
        &self,
        open: usize,
        start: usize,
        end: usize,
    ) -> Result<SecretReference, ReferenceError> {
        let content = self.input[start..end].trim_matches([' ', '\t']);
        let Some((name, key)) = content.split_once('.') else {
            return Err(self.error(open, ReferenceProblem::MissingDot));
        };
        let name = SecretName::new(name)
            .map_err(|e| self.error(open, ReferenceProblem::Name(problem(e))))?;
        let key =
            SecretKey::new(key).map_err(|e| self.error(open, ReferenceProblem::Key(problem(e))))?;
        Ok(SecretReference { name, key })
    }

    fn error(&self, offset: usize, problem: ReferenceProblem) -> ReferenceError {
        ReferenceError {
            offset,
            column: column(self.input, offset),
            problem,
        }
    }
}

fn problem(err: NameError) -> NameProblem {
    err.problem().clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str, key: &str) -> SecretReference {
        SecretReference::new(SecretName::new(name).unwrap(), SecretKey::new(key).unwrap())
    }

    fn refs(input: &str) -> Vec<SecretReference> {
        Template::parse(input)
            .unwrap()
            .references()
            .cloned()
            .collect()
    }

    fn literal(input: &str) -> String {
        Template::parse(input)
            .unwrap()
            .as_literal()
            .unwrap_or_else(|| panic!("{input:?} holds a reference"))
            .into_owned()
    }

    fn problem_of(input: &str) -> (usize, ReferenceProblem) {
        let err = Template::parse(input).unwrap_err();
        (err.column(), err.problem().clone())
    }

    #[test]
    fn whole_value_reference() {
        let t = Template::parse("{{mlflow_secret.password}}").unwrap();
        assert_eq!(t.whole_reference(), Some(&r("mlflow_secret", "password")));
        let t = Template::parse("{{ db.password }}").unwrap();
        assert_eq!(t.whole_reference(), Some(&r("db", "password")));
    }

    #[test]
    fn embedded_references() {
        let t = Template::parse("postgres://{{db.user}}:{{db.password}}@host/db").unwrap();
        assert_eq!(t.whole_reference(), None);
        assert_eq!(
            t.references().cloned().collect::<Vec<_>>(),
            [r("db", "user"), r("db", "password")]
        );
        assert_eq!(
            t.segments()[1],
            Segment::Reference {
                reference: r("db", "user"),
                span: 11..22
            }
        );
    }

    #[test]
    fn key_splits_on_first_dot() {
        assert_eq!(refs("{{tls.tls.crt}}"), [r("tls", "tls.crt")]);
    }

    #[test]
    fn plain_values_borrow_and_pass_through() {
        for s in [
            "",
            "plain",
            r"C:\Users\x",
            r"\\server\share",
            "a } b }}",
            "{single}",
            "{",
            "}}{",
        ] {
            assert_eq!(literal(s), s);
            let t = Template::parse(s).unwrap();
            if let [Segment::Text(text)] = t.segments() {
                assert!(matches!(text, Cow::Borrowed(_)), "{s:?} was copied");
            }
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(literal(r"\{{not.a_ref}}"), "{{not.a_ref}}");
        assert_eq!(literal(r"\{{"), "{{");
        assert_eq!(refs(r"\\{{db.x}}"), [r("db", "x")]);
        let t = Template::parse(r"a\\{{db.x}}").unwrap();
        assert_eq!(t.segments()[0], Segment::Text(Cow::Borrowed(r"a\")));
        assert_eq!(literal(r"\\\{{"), r"\{{");
        assert_eq!(literal(r"\{{{a.b}}"), "{{{a.b}}");
    }

    #[test]
    fn braces_without_a_dot_stay_literal_as_zenml_kept_them() {
        for text in ["{{ ds }}", "run {{ds}} daily, {{ next_ds }}", "{{ }}"] {
            let t = Template::parse(text).unwrap();
            assert_eq!(t.references().count(), 0, "{text}");
            assert_eq!(t.as_literal().as_deref(), Some(text), "{text}");
            let source = t.to_source();
            let again = Template::parse(&source).unwrap();
            assert_eq!(again, t, "{text} round-trips through to_source");
        }
        assert_eq!(refs("{{ ds }} and {{db.x}}"), [r("db", "x")]);
        assert!("{{dbx}}".parse::<SecretReference>().is_err());
    }

    #[test]
    fn brace_runs_open_at_their_last_two_braces() {
        let t = Template::parse("{{{db.x}}").unwrap();
        assert_eq!(t.segments()[0], Segment::Text(Cow::Borrowed("{")));
        assert_eq!(t.references().count(), 1);
        assert_eq!(refs("x{{{{db.x}}}}"), [r("db", "x")]);
    }

    #[test]
    fn positioned_errors() {
        assert_eq!(problem_of("abc {{db.x"), (5, ReferenceProblem::Unclosed));
        assert_eq!(
            Template::parse("{{dbx}}").unwrap().as_literal().as_deref(),
            Some("{{dbx}}"),
            "braces without a '.' are text"
        );
        assert_eq!(
            problem_of("é{{.x}}"),
            (2, ReferenceProblem::Name(NameProblem::Empty))
        );
        assert_eq!(
            problem_of("{{db.}}"),
            (1, ReferenceProblem::Key(NameProblem::Empty))
        );
        let (col, p) = problem_of("ok {{a/b.c}}");
        assert_eq!(col, 4);
        assert!(matches!(
            p,
            ReferenceProblem::Name(NameProblem::BadCharacter {
                character: '/',
                position: 2,
                ..
            })
        ));
        let err = Template::parse("x {{db.pass word}}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid secret reference at column 3: in the key, character ' ' at position 5 is not allowed; \
             keys use letters, digits, '_', '-' and '.', and start with neither '-' nor '.'"
        );
    }

    #[test]
    fn errors_do_not_quote_the_input() {
        let err = Template::parse("hunter2-plain-password {{oops").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        let err = Template::parse("{{hunter2 password.typed here}}").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn render_replaces_references() {
        let t = Template::parse(r"postgres://{{db.user}}:{{db.password}}@h/\{{x").unwrap();
        let out = t
            .render(|r| Ok::<_, ()>(SecretValue::new(format!("<{}>", r.key))))
            .unwrap();
        assert_eq!(out.expose(), "postgres://<user>:<password>@h/{{x");
    }

    #[test]
    fn reference_display_and_from_str() {
        let reference: SecretReference = "{{db.password}}".parse().unwrap();
        assert_eq!(reference.to_string(), "{{db.password}}");
        assert_eq!(
            "x{{db.password}}"
                .parse::<SecretReference>()
                .unwrap_err()
                .problem(),
            &ReferenceProblem::NotAReference
        );
    }

    #[test]
    fn to_source_round_trips_tricky_boundaries() {
        for text in [r"a\", r"\{", "{", "{{", "{{{", r"\", r"\\{", r"x\{{"] {
            let template = Template {
                segments: vec![
                    Segment::Text(Cow::Borrowed(text)),
                    Segment::Reference {
                        reference: r("db", "x"),
                        span: 0..0,
                    },
                ],
            };
            let source = template.to_source();
            let parsed = Template::parse(&source).unwrap();
            assert_eq!(
                parsed.segments()[0],
                Segment::Text(Cow::Borrowed(text)),
                "{text:?} -> {source:?}"
            );
            assert_eq!(parsed.references().count(), 1, "{text:?} -> {source:?}");
        }
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// Strings rich in the grammar's special characters, so that the
    /// interesting paths are hit far more often than with uniform text.
    fn grammar_soup() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("{{".to_owned()),
                Just("}}".to_owned()),
                Just("{".to_owned()),
                Just("}".to_owned()),
                Just("\\".to_owned()),
                Just(".".to_owned()),
                Just(" ".to_owned()),
                Just("db".to_owned()),
                Just("é".to_owned()),
                Just("\u{202E}".to_owned()),
                any::<char>().prop_map(String::from),
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    fn name() -> impl Strategy<Value = SecretName> {
        "[a-zA-Z0-9][a-zA-Z0-9_-]{0,10}".prop_map(|s| SecretName::new(s).unwrap())
    }

    fn key() -> impl Strategy<Value = SecretKey> {
        "[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,10}".prop_map(|s| SecretKey::new(s).unwrap())
    }

    fn segment() -> impl Strategy<Value = Segment<'static>> {
        prop_oneof![
            grammar_soup().prop_map(|s| Segment::Text(Cow::Owned(s))),
            (name(), key()).prop_map(|(name, key)| Segment::Reference {
                reference: SecretReference::new(name, key),
                span: 0..0,
            }),
        ]
    }

    /// Merges adjacent text and drops empty text, as the parser does.
    fn normalize(segments: Vec<Segment<'static>>) -> Vec<Segment<'static>> {
        let mut out: Vec<Segment<'static>> = Vec::new();
        for segment in segments {
            match (out.last_mut(), segment) {
                (_, Segment::Text(t)) if t.is_empty() => {}
                (Some(Segment::Text(prev)), Segment::Text(t)) => prev.to_mut().push_str(&t),
                (_, s) => out.push(s),
            }
        }
        out
    }

    fn without_spans(t: &Template<'_>) -> Vec<Segment<'static>> {
        t.clone()
            .into_owned()
            .segments
            .into_iter()
            .map(|s| match s {
                Segment::Reference { reference, .. } => Segment::Reference {
                    reference,
                    span: 0..0,
                },
                text => text,
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

        #[test]
        fn parse_is_total_on_arbitrary_strings(s in any::<String>()) {
            let _ = Template::parse(&s);
        }

        #[test]
        fn parse_is_total_and_positions_are_in_bounds(s in grammar_soup()) {
            match Template::parse(&s) {
                Ok(t) => {
                    for segment in t.segments() {
                        if let Segment::Reference { span, .. } = segment {
                            prop_assert!(span.end <= s.len());
                            prop_assert!(s[span.clone()].starts_with("{{"));
                            prop_assert!(s[span.clone()].ends_with("}}"));
                        }
                    }
                }
                Err(e) => {
                    prop_assert!(e.offset() < s.len());
                    prop_assert!(s.is_char_boundary(e.offset()));
                    prop_assert_eq!(&s[e.offset()..e.offset() + 2], "{{");
                    prop_assert_eq!(e.column(), s[..e.offset()].chars().count() + 1);
                }
            }
        }

        #[test]
        fn escaped_text_parses_back_to_itself(s in grammar_soup()) {
            let escaped = escape(&s);
            let t = Template::parse(&escaped).unwrap();
            prop_assert_eq!(t.as_literal().unwrap(), s.as_str());
        }

        #[test]
        fn escaped_arbitrary_text_parses_back(s in any::<String>()) {
            let escaped = escape(&s);
            let t = Template::parse(&escaped).unwrap();
            prop_assert_eq!(t.as_literal().unwrap(), s.as_str());
        }

        #[test]
        fn templates_round_trip_through_source(segments in proptest::collection::vec(segment(), 0..8)) {
            let expected = normalize(segments);
            let template = Template { segments: expected.clone() };
            let source = template.to_source();
            let parsed = Template::parse(&source).unwrap();
            prop_assert_eq!(without_spans(&parsed), expected);
        }

        #[test]
        fn valid_templates_reparse_identically(s in grammar_soup()) {
            if let Ok(t) = Template::parse(&s) {
                let again = t.to_source();
                let reparsed = Template::parse(&again).unwrap();
                prop_assert_eq!(without_spans(&reparsed), without_spans(&t));
            }
        }
    }
}

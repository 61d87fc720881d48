//! Every secret value this process fetched (or registered), for
//! `keystack.logging.MaskingFilter`: [`remember`] as values arrive, [`mask`]
//! on log text. The patterns are the command line's
//! (`keystack_secrets_core::mask::patterns`): each value and each line of a
//! multi-line one; they are wiped from memory when replaced.

use std::sync::Mutex;

use aho_corasick::{AhoCorasick, MatchKind};
use keystack_secrets_core::REDACTED;
use keystack_secrets_core::mask::patterns;
use zeroize::Zeroizing;

#[derive(Default)]
struct Known {
    values: Vec<Zeroizing<String>>,
    finder: Option<AhoCorasick>,
}

static KNOWN: Mutex<Option<Known>> = Mutex::new(None);

fn known() -> std::sync::MutexGuard<'static, Option<Known>> {
    KNOWN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds values to mask from now on.
pub(crate) fn remember<'a>(values: impl IntoIterator<Item = &'a str>) {
    let mut guard = known();
    let known = guard.get_or_insert_with(Known::default);
    let mut added = false;
    for value in values {
        if !known.values.iter().any(|v| v.as_str() == value) {
            known.values.push(Zeroizing::new(value.to_owned()));
            added = true;
        }
    }
    if added {
        known.finder = None;
    }
}

/// `text` with every remembered value (and line of one) replaced by
/// [`REDACTED`].
pub(crate) fn mask(text: &str) -> String {
    let mut guard = known();
    let Some(known) = guard.as_mut() else {
        return text.to_owned();
    };
    if known.finder.is_none() {
        let patterns = patterns(known.values.iter().map(|v| v.as_str()));
        if patterns.is_empty() {
            return text.to_owned();
        }
        known.finder = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns.iter().map(|p| p.as_slice()))
            .ok();
    }
    let Some(finder) = &known.finder else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for found in finder.find_iter(text) {
        // Patterns are whole values or whole lines of values, so matches
        // begin and end on character boundaries.
        out.push_str(&text[last..found.start()]);
        out.push_str(REDACTED);
        last = found.end();
    }
    out.push_str(&text[last..]);
    out
}

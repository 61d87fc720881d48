//! Masking: secret values in a command's output replaced by the redaction
//! marker, as the output streams.
//!
//! Every value is a pattern, and so is each line (of
//! [`keystack_secrets_core::mask::MIN_MASKED_LEN`] bytes or more) of a
//! multi-line value, so that a PEM printed line by line
//! is masked too. One Aho-Corasick automaton finds the leftmost-longest
//! match of any of them. Output is written as soon as it cannot be the start
//! of a value still arriving: [`Masker`] holds back only the shortest tail
//! that is a proper prefix of some pattern, so memory is bounded by the
//! longest value and a prompt without a newline appears at once (unless it
//! ends like the start of a secret, which then waits for the next bytes or
//! the end of the stream).

use std::io::{Read, Write};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind, packed};
use keystack_secrets_core::REDACTED;
pub(crate) use keystack_secrets_core::mask::patterns;
use zeroize::Zeroizing;

/// How much of the command's output is read at once (and the size `run`
/// gives the command's pipes).
pub(crate) const CHUNK: usize = 1024 * 1024;

/// Finds the leftmost-longest match of any pattern.
enum Finder {
    /// Teddy, SIMD over the patterns' first bytes: several GB/s on any
    /// text, for up to 64 patterns on x86-64 and aarch64.
    Packed(packed::Searcher),
    /// A DFA, for more patterns or other machines.
    Automaton(AhoCorasick),
}

impl Finder {
    fn new(patterns: &[Zeroizing<Vec<u8>>]) -> Self {
        let packed = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostLongest)
            .builder()
            .extend(patterns.iter().map(|p| p.as_slice()))
            .build();
        if let Some(searcher) = packed {
            return Self::Packed(searcher);
        }
        Self::Automaton(
            AhoCorasickBuilder::new()
                .kind(Some(AhoCorasickKind::DFA))
                .match_kind(MatchKind::LeftmostLongest)
                .build(patterns.iter().map(|p| p.as_slice()))
                .expect("a few secret values always make an automaton"),
        )
    }

    /// The matches in `haystack`, as byte ranges, left to right.
    fn ranges<'h>(&'h self, haystack: &'h [u8]) -> Box<dyn Iterator<Item = (usize, usize)> + 'h> {
        match self {
            Self::Packed(searcher) => {
                Box::new(searcher.find_iter(haystack).map(|m| (m.start(), m.end())))
            }
            Self::Automaton(automaton) => {
                Box::new(automaton.find_iter(haystack).map(|m| (m.start(), m.end())))
            }
        }
    }
}

/// A streaming masker over a set of patterns.
pub(crate) struct Masker {
    patterns: Vec<Zeroizing<Vec<u8>>>,
    finder: Finder,
    /// Bytes read but not yet written: at most the longest pattern plus one chunk.
    pending: Zeroizing<Vec<u8>>,
}

impl Masker {
    /// A masker for `patterns` (see [`patterns`]); `None` if there is none.
    pub(crate) fn new(patterns: Vec<Zeroizing<Vec<u8>>>) -> Option<Self> {
        if patterns.is_empty() {
            return None;
        }
        Some(Self {
            finder: Finder::new(&patterns),
            patterns,
            pending: Zeroizing::new(Vec::new()),
        })
    }

    /// Where the held-back tail of `pending` starts: the earliest position
    /// from which the rest is a proper prefix of some pattern (so a match
    /// may still be completing there), else its end.
    fn hold_from(&self) -> usize {
        let len = self.pending.len();
        let longest = self.patterns.first().map_or(0, |p| p.len());
        let earliest = len.saturating_sub(longest.saturating_sub(1));
        (earliest..len)
            .find(|&start| {
                let tail = &self.pending[start..];
                self.patterns
                    .iter()
                    .any(|p| p.len() > tail.len() && p.starts_with(tail))
            })
            .unwrap_or(len)
    }

    /// Writes what of `pending` can no longer change (everything before
    /// `hold`, and any match starting there), masked; keeps the rest.
    fn drain(&mut self, hold: usize, to: &mut dyn Write) -> std::io::Result<()> {
        // The settled output is gathered and written at once: one write
        // call per read, however many values it masks.
        let mut out = Zeroizing::new(Vec::with_capacity(hold + REDACTED.len()));
        let mut written = 0;
        for (start, end) in self.finder.ranges(self.pending.as_slice()) {
            if start >= hold {
                break;
            }
            out.extend_from_slice(&self.pending[written..start]);
            out.extend_from_slice(REDACTED.as_bytes());
            written = end;
        }
        let keep_from = hold.max(written);
        if out.is_empty() {
            to.write_all(&self.pending[written..keep_from])?;
        } else {
            out.extend_from_slice(&self.pending[written..keep_from]);
            to.write_all(&out)?;
        }
        // Shift the kept tail to the front; the bytes left behind past the
        // new length are overwritten by the next chunk or wiped on drop.
        self.pending.copy_within(keep_from.., 0);
        let kept = self.pending.len() - keep_from;
        self.pending[kept..].iter_mut().for_each(|b| *b = 0);
        self.pending.truncate(kept);
        Ok(())
    }

    /// Masks one chunk of output, writing all that is settled.
    pub(crate) fn feed(&mut self, chunk: &[u8], to: &mut dyn Write) -> std::io::Result<()> {
        self.pending.extend_from_slice(chunk);
        let hold = self.hold_from();
        self.drain(hold, to)
    }

    /// The end of the stream: writes the rest, masked.
    pub(crate) fn finish(&mut self, to: &mut dyn Write) -> std::io::Result<()> {
        let end = self.pending.len();
        self.drain(end, to)
    }
}

/// Copies `from` to `to` as it arrives, replacing every pattern by
/// [`REDACTED`]; flushes after every read so that output appears at once.
pub(crate) fn copy_masked(
    mut from: impl Read,
    mut to: impl Write,
    patterns: Vec<Zeroizing<Vec<u8>>>,
) -> std::io::Result<()> {
    let Some(mut masker) = Masker::new(patterns) else {
        std::io::copy(&mut from, &mut to)?;
        return to.flush();
    };
    let mut buf = Zeroizing::new(vec![0u8; CHUNK]);
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        masker.feed(&buf[..n], &mut to)?;
        to.flush()?;
    }
    masker.finish(&mut to)?;
    to.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask_in_chunks(values: &[&str], input: &[u8], chunk: usize) -> String {
        let mut masker = Masker::new(patterns(values.iter().copied())).unwrap();
        let mut out = Vec::new();
        for piece in input.chunks(chunk.max(1)) {
            masker.feed(piece, &mut out).unwrap();
        }
        masker.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn masks_longest_first_and_everywhere() {
        let out = mask_in_chunks(&["abc123", "abc"], b"pw=abc123 user=abc x=ab\n", 1024);
        assert_eq!(out, format!("pw={REDACTED} user={REDACTED} x=ab\n"));
    }

    #[test]
    fn matches_across_every_write_boundary() {
        let input = b"a=s3cret-value, b=s3cret-value!";
        for chunk in 1..input.len() {
            assert_eq!(
                mask_in_chunks(&["s3cret-value"], input, chunk),
                format!("a={REDACTED}, b={REDACTED}!"),
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn multi_line_values_are_masked_whole_and_line_by_line() {
        let pem = "-----BEGIN KEY-----\nMIIEvQIBADANBgkq\nhkiG9w0BAQEFAASC\n-----END KEY-----";
        let whole = mask_in_chunks(&[pem], format!("key:\n{pem}\nok\n").as_bytes(), 7);
        assert_eq!(whole, format!("key:\n{REDACTED}\nok\n"));
        let indented: String = pem.lines().map(|l| format!("  {l}\n")).collect();
        let by_line = mask_in_chunks(&[pem], indented.as_bytes(), 5);
        assert!(!by_line.contains("MIIEvQIBADANBgkq"), "{by_line}");
        assert!(!by_line.contains("hkiG9w0BAQEFAASC"), "{by_line}");
        assert_eq!(by_line.matches(REDACTED).count(), 4, "{by_line}");
        let crlf = pem.replace('\n', "\r\n");
        let out = mask_in_chunks(&[&crlf], b"MIIEvQIBADANBgkq\n", 3);
        assert_eq!(out, format!("{REDACTED}\n"));
    }

    #[test]
    fn a_longer_value_is_not_cut_short_by_a_shorter_one_at_a_boundary() {
        // "abc" is a whole value and the start of "abcdef": with the bytes
        // arriving one by one, "abcdef" must still be masked whole.
        for chunk in 1..=3 {
            assert_eq!(
                mask_in_chunks(&["abcdef", "abc"], b"x abcdef y abc z", chunk),
                format!("x {REDACTED} y {REDACTED} z"),
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn output_that_cannot_start_a_value_is_written_at_once() {
        let mut masker = Masker::new(patterns(["hunter22"])).unwrap();
        let mut out = Vec::new();
        masker.feed(b"Password: ", &mut out).unwrap();
        assert_eq!(out, b"Password: ", "a prompt is not held back");
        masker.feed(b"hun", &mut out).unwrap();
        assert_eq!(out, b"Password: ", "the start of a value is held back");
        masker.feed(b"ter22 and hunt", &mut out).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            format!("Password: {REDACTED} and ")
        );
        masker.finish(&mut out).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            format!("Password: {REDACTED} and hunt"),
            "a prefix that never completed is written at the end"
        );
    }

    #[test]
    fn memory_is_bounded_by_the_longest_value_without_newlines() {
        let mut masker = Masker::new(patterns(["0123456789"])).unwrap();
        let mut sink = std::io::sink();
        let chunk = vec![b'0'; CHUNK];
        for _ in 0..64 {
            masker.feed(&chunk, &mut sink).unwrap();
            assert!(masker.pending.len() < 10, "{}", masker.pending.len());
        }
    }

    #[test]
    fn short_values_are_not_patterns() {
        assert!(patterns(["ok", "1"]).is_empty());
        let p = patterns(["a\nbcd\nbcd"]);
        let shown: Vec<&[u8]> = p.iter().map(|p| p.as_slice()).collect();
        assert_eq!(shown, [b"a\nbcd\nbcd".as_slice(), b"bcd"]);
    }
}

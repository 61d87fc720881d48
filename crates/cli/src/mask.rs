//! Masking: secret values in a command's output replaced by the redaction
//! marker.

use std::io::{BufRead, BufReader, Read, Write};

use keystack_secrets_core::REDACTED;

/// Values shorter than this are not masked: masking `1` or `ok` everywhere
/// would garble output without protecting anything.
pub(crate) const MIN_MASKED_LEN: usize = 3;

/// Copies `from` to `to` line by line, replacing every mask by [`REDACTED`].
pub(crate) fn copy_masked(
    from: impl Read,
    mut to: impl Write,
    masks: &[Vec<u8>],
) -> std::io::Result<()> {
    let mut reader = BufReader::new(from);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        to.write_all(&mask_line(&line, masks))?;
        to.flush()?;
    }
}

pub(crate) fn mask_line(line: &[u8], masks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    'scan: while i < line.len() {
        for mask in masks {
            if line[i..].starts_with(mask) {
                out.extend_from_slice(REDACTED.as_bytes());
                i += mask.len();
                continue 'scan;
            }
        }
        out.push(line[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_longest_first_and_everywhere() {
        let masks = vec![b"abc123".to_vec(), b"abc".to_vec()];
        let out = mask_line(b"pw=abc123 user=abc x=ab\n", &masks);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("pw={REDACTED} user={REDACTED} x=ab\n")
        );
    }
}

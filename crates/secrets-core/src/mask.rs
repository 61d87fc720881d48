//! What masking looks for: the patterns of the secret values a program
//! holds, shared by `keystack run`'s output masking and the Python
//! package's logging filter.

use zeroize::Zeroizing;

/// Values shorter than this are not masked: masking `1` or `ok` everywhere
/// would garble output without protecting anything.
pub const MIN_MASKED_LEN: usize = 3;

/// The patterns of `values`: each value, and each line of a multi-line one
/// (without its `\r`), of [`MIN_MASKED_LEN`] bytes or more; longest first,
/// each once, in buffers wiped when dropped. A PEM printed line by line is
/// then masked line by line.
pub fn patterns<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Zeroizing<Vec<u8>>> {
    let mut out: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    let mut add = |bytes: &[u8]| {
        if bytes.len() >= MIN_MASKED_LEN && !out.iter().any(|p| p.as_slice() == bytes) {
            out.push(Zeroizing::new(bytes.to_vec()));
        }
    };
    for value in values {
        add(value.as_bytes());
        if value.contains('\n') {
            for line in value.split('\n') {
                add(line.strip_suffix('\r').unwrap_or(line).as_bytes());
            }
        }
    }
    out.sort_by_key(|p| std::cmp::Reverse(p.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_and_each_line_of_a_multi_line_one_longest_first() {
        let got = patterns(["ab", "short-line\r\nthe second line", "the second line"]);
        let got: Vec<&[u8]> = got.iter().map(|p| p.as_slice()).collect();
        assert_eq!(
            got,
            [
                &b"short-line\r\nthe second line"[..],
                b"the second line",
                b"short-line",
            ]
        );
    }
}

//! Did-you-mean hints for names that are close to a known one.

/// `"; did you mean 'x'?"` for the closest candidate within a small edit
/// distance, else the empty string.
pub fn did_you_mean<'a>(given: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    candidates
        .map(|c| (edit_distance(given, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min()
        .map(|(_, c)| format!("; did you mean '{c}'?"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_picks_close_names_only() {
        let names = ["tracking_uri", "tracking_username", "tracking_password"];
        assert_eq!(
            did_you_mean("tracking_usernme", names.into_iter()),
            "; did you mean 'tracking_username'?"
        );
        assert_eq!(did_you_mean("zzz", names.into_iter()), "");
    }
}

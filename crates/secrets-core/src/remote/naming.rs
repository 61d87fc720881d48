//! Namespaced IDs for services with one flat namespace of secret names
//! (feature `remote`): `<prefix>-<name>`, or `<prefix><n>-<namespace>-<name>`
//! for a namespace written as `n` characters. The length makes the split
//! unambiguous although namespaces and names may both contain `-`
//! (`a` + `b-c` and `a-b` + `c` give `p1-a-b-c` and `p3-a-b-c`). Backends
//! escape both parts into their service's alphabet first, if they must.

/// The ID of `name` in `namespace` (both already in the service's alphabet).
pub fn join_id(prefix: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        None => format!("{prefix}-{name}"),
        Some(ns) => format!("{prefix}{}-{ns}-{name}", ns.len()),
    }
}

/// The namespace and name parts of an ID [`join_id`] made; `None` if it is
/// not one (another prefix, a bad or zero-padded length, a missing `-`).
pub fn split_id<'a>(prefix: &str, id: &'a str) -> Option<(Option<&'a str>, &'a str)> {
    let rest = id.strip_prefix(prefix)?;
    if let Some(name) = rest.strip_prefix('-') {
        return Some((None, name));
    }
    let digits = rest.find('-')?;
    if rest[..digits].starts_with('0') {
        return None;
    }
    let len: usize = rest[..digits].parse().ok()?;
    let rest = &rest[digits + 1..];
    let ns = rest.get(..len)?;
    let name = rest.get(len..)?.strip_prefix('-')?;
    Some((Some(ns), name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_back_and_foreign_ones_do_not() {
        assert_eq!(join_id("ks", None, "db"), "ks-db");
        assert_eq!(join_id("ks", Some("a-b"), "c"), "ks3-a-b-c");
        assert_eq!(split_id("ks", "ks3-a-b-c"), Some((Some("a-b"), "c")));
        assert_eq!(split_id("ks", "ks1-a-b-c"), Some((Some("a"), "b-c")));
        assert_eq!(split_id("ks", "ks-db"), Some((None, "db")));
        for foreign in ["db", "ks", "ks4-pro", "ks04-prod-db", "ksx-a-b", "other-db"] {
            assert_eq!(split_id("ks", foreign), None, "{foreign}");
        }
    }
}

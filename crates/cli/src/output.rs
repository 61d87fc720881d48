//! Printing data: aligned tables for people, JSON or YAML for scripts.

use std::io::{self, Write};

use serde::Serialize;

use crate::args::Format;

/// Prints `rows` under `headers` as aligned columns, or `data` as JSON/YAML.
pub(crate) fn print<T: Serialize>(
    format: Format,
    headers: &[&str],
    rows: &[Vec<String>],
    data: &T,
) -> io::Result<()> {
    match format {
        Format::Table => table(headers, rows),
        Format::Json => json(data),
        Format::Yaml => yaml(data),
    }
}

/// Writes one line to stdout.
pub(crate) fn line(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()
}

/// Writes text as it is to stdout.
pub(crate) fn text(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

pub(crate) fn json<T: Serialize>(data: &T) -> io::Result<()> {
    let text = serde_json::to_string_pretty(data).map_err(io::Error::other)?;
    line(&text)
}

pub(crate) fn yaml<T: Serialize>(data: &T) -> io::Result<()> {
    let text = serde_saphyr::to_string(data).map_err(io::Error::other)?;
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = io::stdout().lock();
    let mut write_row = |cells: &mut dyn Iterator<Item = &str>| -> io::Result<()> {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(cell);
            let pad = widths[i].saturating_sub(cell.chars().count());
            text.extend(std::iter::repeat_n(' ', pad));
        }
        writeln!(out, "{}", text.trim_end())
    };
    write_row(&mut headers.iter().copied())?;
    for row in rows {
        write_row(&mut row.iter().map(String::as_str))?;
    }
    out.flush()
}

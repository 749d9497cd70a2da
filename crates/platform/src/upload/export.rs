//! CSV exports safe to open in a spreadsheet: formula injection (CWE-1236) neutralised as OWASP
//! advises. A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
//! leading single quote, so Excel, LibreOffice and WPS show it as text instead of running it.
//!
//! A cell that is a plain decimal number (`-12.5`, `+3`, `1e-3`) is left alone: a spreadsheet
//! reads it as that number, never as a formula, and numeric columns (readings, scores, negative
//! savings) must stay numbers. Anything else starting with those characters — `-1+2`, `-inf`,
//! `=SUM(A1)`, `@cmd` — is quoted.

use std::borrow::Cow;

/// The cell as it is safe to write into a CSV export.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') if !is_plain_number(s) => {
            Cow::Owned(format!("'{s}"))
        }
        _ => Cow::Borrowed(s),
    }
}

/// Whether `s` is `[+-]digits[.digits][e[+-]digits]` (or `.digits`), nothing else.
fn is_plain_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let int = digits(&mut i);
    let mut frac = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        frac = digits(&mut i);
    }
    if int + frac == 0 {
        return false;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if i < b.len() && matches!(b[i], b'+' | b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Writes one record with every cell passed through [`csv_cell`]. Every CSV a person may open
/// in a spreadsheet (registry export, open data, survey scores) is written through this.
pub fn write_record<W, I, T>(w: &mut ::csv::Writer<W>, record: I) -> ::csv::Result<()>
where
    W: std::io::Write,
    I: IntoIterator<Item = T>,
    T: AsRef<str>,
{
    w.write_record(
        record
            .into_iter()
            .map(|c| csv_cell(c.as_ref()).into_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_quoted_numbers_are_not() {
        for (cell, want) in [
            ("=1+2", "'=1+2"),
            ("+1+2", "'+1+2"),
            ("-1+2", "'-1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=cmd", "'\t=cmd"),
            ("\r=cmd", "'\r=cmd"),
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("-inf", "'-inf"),
            ("-", "'-"),
            ("-12.5", "-12.5"),
            ("+3", "+3"),
            ("-1e-3", "-1e-3"),
            ("-.5", "-.5"),
            ("正常", "正常"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(csv_cell(cell), want, "{cell:?}");
        }
    }

    #[test]
    fn records_are_written_safe() {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        write_record(&mut w, ["=2+5", "-3", "x"]).unwrap();
        let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(out, "'=2+5,-3,x\n");
    }
}

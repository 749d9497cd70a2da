//! XLSX workbooks read safely: the zip is measured (declared and actual unzipped sizes) before
//! calamine sees it, and the first sheet is streamed cell by cell, refusing a sheet whose
//! declared dimension or used cells pass the row, column or cell limits before any grid is
//! allocated. calamine's dense `worksheet_range` is never called on an upload.

use super::error::{UploadError, UploadErrorKind, column_letter};
use super::limits::Limits;
use super::table::Table;
use calamine::{DataRef, Reader, Xlsx};
use std::io::{Cursor, Read};

/// A workbook that cannot be read (field `xlsx`).
fn unreadable(message: impl Into<String>) -> UploadError {
    UploadError::malformed(message).with_field("xlsx")
}

/// Whether the bytes are a zip file (an XLSX workbook) rather than CSV text.
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Checks the zip container: every entry's declared unzipped size, then the bytes each entry
/// really unzips to (read through a bound, so a lying header cannot make it read more), stay
/// within `limits.max_decompressed_bytes` all together.
pub fn check_zip(bytes: &[u8], limits: &Limits) -> Result<(), UploadError> {
    let max = limits.max_decompressed_bytes;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("not a readable XLSX file: {e}")))?;
    let unzipped = |size: u64| {
        UploadError::too_large(
            UploadErrorKind::TooLargeUnzipped,
            "the workbook once unzipped",
            size,
            max,
        )
    };
    let mut declared: u64 = 0;
    for i in 0..zip.len() {
        let f = zip
            .by_index_raw(i)
            .map_err(|e| unreadable(format!("not a readable XLSX file: {e}")))?;
        declared = declared.saturating_add(f.size());
        if declared > max {
            return Err(unzipped(declared));
        }
    }
    let mut actual: u64 = 0;
    for i in 0..zip.len() {
        let f = zip
            .by_index(i)
            .map_err(|e| unreadable(format!("not a readable XLSX file: {e}")))?;
        let budget = max - actual;
        let n = std::io::copy(&mut f.take(budget + 1), &mut std::io::sink())
            .map_err(|e| unreadable(format!("not a readable XLSX file: {e}")))?;
        actual += n;
        if actual > max {
            return Err(unzipped(actual));
        }
    }
    Ok(())
}

/// Reads the first sheet of a workbook into a table anchored at A1 (row `i` of the table is
/// sheet row `i + 1`). Dates become ISO dates (`YYYY-MM-DD`, with ` HH:MM:SS` when the cell has
/// a time); whole numbers lose their `.0`.
pub fn read_xlsx(bytes: &[u8], limits: &Limits) -> Result<Table, UploadError> {
    if bytes.len() > limits.max_bytes {
        return Err(UploadError::too_large(
            UploadErrorKind::TooLarge,
            "the upload",
            bytes.len() as u64,
            limits.max_bytes as u64,
        ));
    }
    check_zip(bytes, limits)?;
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("not a readable XLSX file: {e}")))?;
    let name = wb
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| unreadable("the workbook has no sheet"))?;
    let mut cells = wb
        .worksheet_cells_reader(&name)
        .map_err(|e| unreadable(format!("cannot read the first sheet: {e}")))?;
    let dim = cells.dimensions();
    check_extent(
        dim.end.0 as usize + 1,
        dim.end.1 as usize + 1,
        limits,
        "declares",
    )?;
    let mut table = Table::default();
    let mut area = 0usize;
    loop {
        let cell = match cells.next_cell() {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                return Err(unreadable(format!("cannot read the first sheet: {e}")));
            }
        };
        let (r, c) = cell.get_position();
        let (r, c) = (r as usize, c as usize);
        let Some(text) = cell_text(cell.get_value()) else {
            continue;
        };
        check_extent(r + 1, c + 1, limits, "has a cell in")?;
        if table.rows.len() <= r {
            table.rows.resize_with(r + 1, Vec::new);
        }
        let row = &mut table.rows[r];
        if row.len() <= c {
            area += c + 1 - row.len();
            if area > limits.max_cells {
                return Err(UploadError::new(
                    UploadErrorKind::TooManyCells,
                    format!(
                        "the sheet spans more than {} cells (rows × the columns each uses); \
                         remove stray cells far from the table",
                        limits.max_cells
                    ),
                )
                .at_row(r + 1)
                .at_column(column_letter(c)));
            }
            row.resize_with(c + 1, String::new);
        }
        row[c] = text;
    }
    Ok(table)
}

/// Refuses an extent of `rows` × `cols` (1-based) past the row or column limit.
fn check_extent(rows: usize, cols: usize, limits: &Limits, verb: &str) -> Result<(), UploadError> {
    if rows > limits.max_rows {
        return Err(UploadError::new(
            UploadErrorKind::TooManyRows,
            format!(
                "the sheet {verb} row {rows}; the limit is {} rows",
                limits.max_rows
            ),
        ));
    }
    if cols > limits.max_columns {
        return Err(UploadError::new(
            UploadErrorKind::TooManyColumns,
            format!(
                "the sheet {verb} column {} ({cols} columns); the limit is {} columns",
                column_letter(cols - 1),
                limits.max_columns
            ),
        ));
    }
    Ok(())
}

/// The text of a cell, `None` when it is empty.
fn cell_text(v: &DataRef<'_>) -> Option<String> {
    Some(match v {
        DataRef::Empty => return None,
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Float(f) => number_text(*f),
        DataRef::Int(i) => i.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) if d.is_datetime() => {
            let (y, mo, da, h, mi, s, _) = d.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{da:02}")
            } else {
                format!("{y:04}-{mo:02}-{da:02} {h:02}:{mi:02}:{s:02}")
            }
        }
        DataRef::DateTime(d) => number_text(d.as_f64()),
        DataRef::DateTimeIso(s) => s
            .strip_suffix("T00:00:00")
            .unwrap_or(s)
            .replacen('T', " ", 1),
        DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => e.to_string(),
    })
}

/// A number as a person typed it: whole numbers without `.0` (a rescue code `110001` stays so).
pub fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

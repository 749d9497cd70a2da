//! CSV uploads through the `csv` crate: quoted fields may hold commas, quotes and newlines.
//! The text is decoded first (UTF-8, UTF-8 with BOM, UTF-16 with BOM or GBK; see [`super::text`]).

use super::error::{UploadError, UploadErrorKind};
use super::limits::Limits;
use super::table::Table;
use super::text;

/// Refuses a body past `limits.max_bytes` (413).
pub fn check_bytes(bytes: &[u8], limits: &Limits) -> Result<(), UploadError> {
    if bytes.len() > limits.max_bytes {
        return Err(UploadError::too_large(
            UploadErrorKind::TooLarge,
            "the upload",
            bytes.len() as u64,
            limits.max_bytes as u64,
        ));
    }
    Ok(())
}

/// A CSV reader over decoded text: no header handling (row 1 is a record like the others),
/// records of any width. Row numbers count records, as a spreadsheet shows them.
fn reader(text: &str) -> ::csv::Reader<&[u8]> {
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
}

fn csv_error(e: &::csv::Error, row: usize) -> UploadError {
    let row = e.position().map(|p| p.record() as usize + 1).unwrap_or(row);
    let msg = match e.kind() {
        ::csv::ErrorKind::Utf8 { .. } => "the row is not valid text".to_string(),
        _ => format!("CSV error: {e}"),
    };
    UploadError::malformed(msg).at_row(row)
}

/// Calls `each(row, record)` for every record of a CSV upload, row 1 being the first line
/// (the header, when there is one). Streams: nothing but the current record is held, so a bulk
/// ingest keeps one row in memory. Stops at the first error `each` returns.
pub fn for_each_record<E: From<UploadError>>(
    bytes: &[u8],
    limits: &Limits,
    mut each: impl FnMut(usize, &::csv::StringRecord) -> Result<(), E>,
) -> Result<(), E> {
    check_bytes(bytes, limits)?;
    let (text, _) = text::decode(bytes)?;
    let mut rdr = reader(&text);
    let mut rec = ::csv::StringRecord::new();
    let mut row = 0usize;
    let mut lines = LineTracker::default();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&e, row + 1).into()),
        }
        lines.mark(text.as_bytes(), rdr.position().byte() as usize, &mut rec);
        row += 1;
        check_shape(row, rec.len(), limits)?;
        each(row, &rec)?;
    }
    Ok(())
}

/// The csv crate records a record's position before it skips the line ending and blank lines
/// that precede it, so its line number lags after CRLF endings and blank lines. This counts the
/// physical line each record starts on (1-based) and sets it as the record's position.
#[derive(Default)]
struct LineTracker {
    /// Byte offset where the previous record ended.
    end: usize,
    /// Newlines before `end`.
    newlines: u64,
}

impl LineTracker {
    fn mark(&mut self, text: &[u8], end: usize, rec: &mut ::csv::StringRecord) {
        let end = end.min(text.len());
        let mut start = self.end.min(end);
        let mut newlines = self.newlines;
        while start < end && matches!(text[start], b'\n' | b'\r') {
            newlines += u64::from(text[start] == b'\n');
            start += 1;
        }
        let mut pos = rec.position().cloned().unwrap_or_else(::csv::Position::new);
        pos.set_line(newlines + 1);
        pos.set_byte(start as u64);
        rec.set_position(Some(pos));
        self.newlines = newlines + text[start..end].iter().filter(|&&b| b == b'\n').count() as u64;
        self.end = end;
    }
}

fn check_shape(row: usize, width: usize, limits: &Limits) -> Result<(), UploadError> {
    if row > limits.max_rows {
        return Err(UploadError::new(
            UploadErrorKind::TooManyRows,
            format!(
                "the file has at least {row} rows; the limit is {} rows",
                limits.max_rows
            ),
        )
        .at_row(row));
    }
    if width > limits.max_columns {
        return Err(UploadError::new(
            UploadErrorKind::TooManyColumns,
            format!(
                "row {row} has {width} columns; the limit is {} columns",
                limits.max_columns
            ),
        )
        .at_row(row));
    }
    Ok(())
}

/// Reads a whole CSV upload into a table (row 1 = the first line), within the row, column and
/// cell limits.
pub fn read_csv(bytes: &[u8], limits: &Limits) -> Result<Table, UploadError> {
    let mut table = Table::default();
    let mut cells = 0usize;
    for_each_record(bytes, limits, |row, rec| {
        cells += rec.len();
        if cells > limits.max_cells {
            return Err(UploadError::new(
                UploadErrorKind::TooManyCells,
                format!("the file has more than {} cells", limits.max_cells),
            )
            .at_row(row));
        }
        table.rows.push(rec.iter().map(str::to_string).collect());
        let line = rec.position().map_or(row as u64, ::csv::Position::line);
        table.lines.push(usize::try_from(line).unwrap_or(row));
        Ok(())
    })?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_commas_quotes_and_newlines() {
        let t = read_csv(
            b"a,b\n\"x, y\",\"say \"\"hi\"\"\nthere\"\n",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(t.rows[1], vec!["x, y", "say \"hi\"\nthere"]);
    }

    #[test]
    fn rows_and_columns_are_limited() {
        let l = Limits::default().with_max_rows(2);
        let e = read_csv(b"a\n1\n2\n", &l).unwrap_err();
        assert_eq!(e.kind, UploadErrorKind::TooManyRows);
        assert!(e.message.contains("the limit is 2 rows"), "{e}");
        let l = Limits {
            max_columns: 2,
            ..Limits::default()
        };
        let e = read_csv(b"a,b,c\n", &l).unwrap_err();
        assert_eq!(e.kind, UploadErrorKind::TooManyColumns);
        let l = Limits::default().with_max_bytes(3);
        let e = read_csv(b"a,b,c\n", &l).unwrap_err();
        assert_eq!(e.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn gbk_csv_is_read() {
        let (gbk, _, _) = encoding_rs::GBK.encode("指标代码,年份\nA1,2024\n");
        let t = read_csv(&gbk, &Limits::default()).unwrap();
        assert_eq!(t.rows[0], vec!["指标代码", "年份"]);
    }
}

//! Uploads, read one way by every importer: a byte limit, row / column / cell limits checked
//! before any grid is allocated, an unzipped-size limit for XLSX workbooks, UTF-8 / UTF-8 BOM /
//! UTF-16 BOM / GBK text, CSV through the `csv` crate, Excel dates as ISO dates, and one error
//! type ([`UploadError`]) that answers `413` or `422` problem+json naming the limit.
//! CSV exports go through [`export::write_record`] (formula injection neutralised).

pub mod body;
pub mod csv;
pub mod error;
pub mod export;
pub mod limits;
pub mod table;
pub mod text;
pub mod xlsx;

pub use body::{Upload, read_body};
pub use error::{UploadError, UploadErrorKind, column_letter};
pub use limits::Limits;
pub use table::Table;

/// Reads a CSV or XLSX upload (told apart by its first bytes: a zip is a workbook) into a table.
pub fn read_table(bytes: &[u8], limits: &Limits) -> Result<Table, UploadError> {
    if xlsx::is_zip(bytes) {
        xlsx::read_xlsx(bytes, limits)
    } else {
        csv::read_csv(bytes, limits)
    }
}

/// Reads a file (a command-line import) within `limits.max_bytes`; an error names the file.
pub fn read_file(path: &std::path::Path, limits: &Limits) -> Result<Vec<u8>, UploadError> {
    use std::io::Read;
    let name = path.display().to_string();
    let f = std::fs::File::open(path)
        .map_err(|e| UploadError::malformed(format!("cannot open {name}: {e}")))?;
    let mut bytes = Vec::new();
    f.take(limits.max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| UploadError::malformed(format!("cannot read {name}: {e}")))?;
    if bytes.len() > limits.max_bytes {
        return Err(UploadError::too_large(
            UploadErrorKind::TooLarge,
            &name,
            bytes.len() as u64,
            limits.max_bytes as u64,
        ));
    }
    Ok(bytes)
}

/// A CSV or XLSX file as a table, read as [`read_table`] reads an upload.
pub fn read_file_table(path: &std::path::Path, limits: &Limits) -> Result<Table, UploadError> {
    read_table(&read_file(path, limits)?, limits)
}

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

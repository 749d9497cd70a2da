//! One error for every upload: what was refused, and where (row, column, field).

use axum::http::StatusCode;
use serde::Serialize;

/// Why an upload was refused; each kind has a stable problem `code` and an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UploadErrorKind {
    /// Over `upload.max_bytes` (413).
    TooLarge,
    /// An XLSX workbook that unzips past `upload.max_decompressed_bytes` (413).
    TooLargeUnzipped,
    /// More rows than `upload.max_rows` (422).
    TooManyRows,
    /// More columns than `upload.max_columns` (422).
    TooManyColumns,
    /// More cells than `upload.max_cells` (422).
    TooManyCells,
    /// Text that is neither UTF-8 nor GBK (422).
    Encoding,
    /// Not a readable CSV or XLSX file, or a malformed row (422).
    Malformed,
    /// A value that does not fit its column (422); importers report these by row and field.
    Invalid,
}

impl UploadErrorKind {
    /// Stable machine-readable code of the problem.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooLarge => "upload_too_large",
            Self::TooLargeUnzipped => "upload_too_large_unzipped",
            Self::TooManyRows => "upload_too_many_rows",
            Self::TooManyColumns => "upload_too_many_columns",
            Self::TooManyCells => "upload_too_many_cells",
            Self::Encoding => "upload_bad_encoding",
            Self::Malformed => "upload_malformed",
            Self::Invalid => "validation_failed",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::TooLarge | Self::TooLargeUnzipped => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// Whether a limit was hit (the file was not read), as opposed to bad content.
    pub fn is_limit(self) -> bool {
        matches!(
            self,
            Self::TooLarge
                | Self::TooLargeUnzipped
                | Self::TooManyRows
                | Self::TooManyColumns
                | Self::TooManyCells
        )
    }
}

/// An upload refused, or a cell that could not be read. Rows count as a spreadsheet shows
/// them (the header is row 1); `column` is the spreadsheet letter (`A`, `B`, …) when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, utoipa::ToSchema)]
#[error("{}", self.describe())]
pub struct UploadError {
    pub kind: UploadErrorKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl UploadError {
    pub fn new(kind: UploadErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            row: None,
            column: None,
            field: None,
            message: message.into(),
        }
    }

    /// Over a byte limit: `what` is "the upload", "the workbook once unzipped", ….
    pub fn too_large(kind: UploadErrorKind, what: &str, size: u64, limit: u64) -> Self {
        Self::new(
            kind,
            format!("{what} is {size} bytes or more; the limit is {limit} bytes"),
        )
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(UploadErrorKind::Malformed, message)
    }

    pub fn at_row(mut self, row: usize) -> Self {
        self.row = Some(row);
        self
    }

    pub fn at_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// "row 3, column B (year): message" — as much of the place as is known.
    pub fn describe(&self) -> String {
        let mut place = Vec::new();
        if let Some(r) = self.row {
            place.push(format!("row {r}"));
        }
        match (&self.column, &self.field) {
            (Some(c), Some(f)) => place.push(format!("column {c} ({f})")),
            (Some(c), None) => place.push(format!("column {c}")),
            (None, Some(f)) => place.push(f.clone()),
            (None, None) => {}
        }
        if place.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", place.join(", "), self.message)
        }
    }
}

/// The spreadsheet letter of a 0-based column (`A`, …, `Z`, `AA`, …).
pub fn column_letter(mut c: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(16383), "XFD");
    }

    #[test]
    fn describe_names_the_place() {
        let e = UploadError::malformed("bad")
            .at_row(3)
            .at_column("B")
            .with_field("year");
        assert_eq!(e.to_string(), "row 3, column B (year): bad");
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e = UploadError::too_large(UploadErrorKind::TooLarge, "the upload", 11, 10);
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(e.code(), "upload_too_large");
    }
}

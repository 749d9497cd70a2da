//! How much an upload may be: bytes on the wire, bytes once unzipped, rows, columns and cells.

use crate::config::UploadConfig;

/// The limits one import is read under. Built from the `[upload]` configuration; a bulk path
/// (meter readings) may widen one limit for itself with the `with_…` methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body or file, bytes (answered `413`).
    pub max_bytes: usize,
    /// Most rows of a table, the header included (answered `422`).
    pub max_rows: usize,
    /// Most columns of a table (answered `422`).
    pub max_columns: usize,
    /// Most bytes an XLSX workbook may hold once unzipped, all entries together (`413`).
    pub max_decompressed_bytes: u64,
    /// Most cells of a table once its rows are laid out (each row as wide as its last used
    /// cell), so a sheet of a few far-apart cells cannot become a huge grid (`422`).
    pub max_cells: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self::from_config(&UploadConfig::default())
    }
}

impl Limits {
    pub fn from_config(c: &UploadConfig) -> Self {
        Self {
            max_bytes: usize::try_from(c.max_bytes).unwrap_or(usize::MAX),
            max_rows: usize::try_from(c.max_rows).unwrap_or(usize::MAX),
            max_columns: usize::try_from(c.max_columns).unwrap_or(usize::MAX),
            max_decompressed_bytes: c.max_decompressed_bytes,
            max_cells: usize::try_from(c.max_cells).unwrap_or(usize::MAX),
        }
    }

    pub fn with_max_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n;
        self
    }

    pub fn with_max_rows(mut self, n: usize) -> Self {
        self.max_rows = n;
        self
    }
}

//! A table read from an upload: rows of text, row `i` being spreadsheet row `i + 1`.

/// The rows of an uploaded table. Each row is as wide as its last used cell (a CSV row as wide
/// as its record); an empty sheet row is an empty vector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// The header row (row 1), if any.
    pub fn header(&self) -> Option<&[String]> {
        self.rows.first().map(Vec::as_slice)
    }

    /// Data rows after the header with their spreadsheet row numbers (the header is row 1),
    /// blank rows left out.
    pub fn data_rows(&self) -> impl Iterator<Item = (usize, &[String])> {
        self.rows
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
            .map(|(i, r)| (i + 1, r.as_slice()))
    }
}

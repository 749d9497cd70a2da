//! A table read from an upload: rows of text, row `i` being spreadsheet row `i + 1`.

/// The rows of an uploaded table. Each row is as wide as its last used cell (a CSV row as wide
/// as its record); an empty sheet row is an empty vector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub rows: Vec<Vec<String>>,
    /// The line each row starts on, when it is not `index + 1`: a CSV's blank lines are not
    /// records, and a quoted field may span lines. Empty for a sheet.
    pub lines: Vec<usize>,
}

impl Table {
    /// The header row (row 1), if any.
    pub fn header(&self) -> Option<&[String]> {
        self.rows.first().map(Vec::as_slice)
    }

    /// The row number a person sees for row `i` (0-based): the spreadsheet row, or the line
    /// a CSV record starts on.
    pub fn row_number(&self, i: usize) -> usize {
        self.lines.get(i).copied().unwrap_or(i + 1)
    }

    /// Data rows after the header with their row numbers (see [`Table::row_number`]), blank
    /// rows left out.
    pub fn data_rows(&self) -> impl Iterator<Item = (usize, &[String])> {
        self.rows
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
            .map(|(i, r)| (self.row_number(i), r.as_slice()))
    }
}

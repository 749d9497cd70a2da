//! A CSV table parsed from text, with typed column accessors that report file, line and column.

use crate::error::{Result, SurveyError};

/// A rectangular table of text cells read from CSV, kept with the label (file name) it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    label: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Parse CSV text (first line = header). `label` names the source in errors.
    pub fn parse(label: &str, text: &str) -> Result<Self> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| SurveyError::Malformed {
                source_label: label.to_string(),
                message: e.to_string(),
            })?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| SurveyError::Malformed {
                source_label: label.to_string(),
                message: format!("line {}: {e}", i + 2),
            })?;
            rows.push(rec.iter().map(str::to_string).collect());
        }
        Ok(Self {
            label: label.to_string(),
            headers,
            rows,
        })
    }

    /// Source label (file name).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Column names in file order.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Raw rows (without the header).
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the table has no data rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Index of a column, or a `MissingColumn` error.
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| SurveyError::MissingColumn {
                source_label: self.label.clone(),
                column: name.to_string(),
            })
    }

    fn cell_error(&self, row: usize, col: usize, message: String) -> SurveyError {
        SurveyError::BadCell {
            source_label: self.label.clone(),
            line: row + 2,
            column: self.headers[col].clone(),
            message,
        }
    }

    /// A numeric column where empty cells (and `NA`) are missing (`None`).
    pub fn numeric_with_missing(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let c = self.column_index(name)?;
        self.rows
            .iter()
            .enumerate()
            .map(|(r, row)| {
                let s = row.get(c).map(String::as_str).unwrap_or("");
                if s.is_empty() || s.eq_ignore_ascii_case("na") {
                    return Ok(None);
                }
                match s.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(Some(v)),
                    _ => Err(self.cell_error(r, c, format!("`{s}` is not a number"))),
                }
            })
            .collect()
    }

    /// A numeric column where every cell must hold a finite number.
    pub fn numeric(&self, name: &str) -> Result<Vec<f64>> {
        let c = self.column_index(name)?;
        let vals = self.numeric_with_missing(name)?;
        vals.into_iter()
            .enumerate()
            .map(|(r, v)| v.ok_or_else(|| self.cell_error(r, c, "empty cell".into())))
            .collect()
    }

    /// A categorical column as text labels; empty cells are an error.
    pub fn labels(&self, name: &str) -> Result<Vec<String>> {
        let c = self.column_index(name)?;
        self.rows
            .iter()
            .enumerate()
            .map(|(r, row)| {
                let s = row.get(c).cloned().unwrap_or_default();
                if s.is_empty() {
                    Err(self.cell_error(r, c, "empty category".into()))
                } else {
                    Ok(s)
                }
            })
            .collect()
    }

    /// Error for a given data row index and column name (for callers validating values).
    pub fn error_at(&self, row: usize, column: &str, message: impl Into<String>) -> SurveyError {
        SurveyError::BadCell {
            source_label: self.label.clone(),
            line: row + 2,
            column: column.to_string(),
            message: message.into(),
        }
    }
}

/// Codes `0..k` for text labels, in order of first appearance; returns codes and the level names.
pub fn encode_levels(labels: &[String]) -> (Vec<usize>, Vec<String>) {
    let mut levels: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let codes = labels
        .iter()
        .map(|l| {
            *index.entry(l.clone()).or_insert_with(|| {
                levels.push(l.clone());
                levels.len() - 1
            })
        })
        .collect();
    (codes, levels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_cell_names_line_and_column() {
        let t = Table::parse("s.csv", "a,b\n1,2\n3,x\n").unwrap();
        let e = t.numeric("b").unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.csv: line 3, column `b`: `x` is not a number"
        );
        assert!(matches!(
            t.numeric("c"),
            Err(SurveyError::MissingColumn { .. })
        ));
    }
}

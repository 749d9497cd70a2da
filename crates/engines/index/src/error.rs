//! One error enum for the crate. Input errors name the file, the row (1-based line
//! number, header = line 1) and the column, so a user can find the bad cell.

use thiserror::Error;

/// Everything that can go wrong in the index engine.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum IndexError {
    /// A bad cell or row in an input table (iData, iMeta, matrix, weights, directions, AHP).
    #[error("{file} row {row} column '{column}': {message}")]
    Input {
        file: String,
        row: usize,
        column: String,
        message: String,
    },
    /// The indicator tree is inconsistent (parent cycle, unknown parent, level mismatch).
    #[error("{file}: {message}")]
    Framework { file: String, message: String },
    /// The pipeline specification is invalid.
    #[error("pipeline spec: {0}")]
    Spec(String),
    /// A method cannot be applied to the data it was given.
    #[error("{method}: {message}")]
    Method { method: String, message: String },
}

impl IndexError {
    pub(crate) fn input(
        file: &str,
        row: usize,
        column: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        IndexError::Input {
            file: file.to_string(),
            row,
            column: column.into(),
            message: message.into(),
        }
    }

    pub(crate) fn method(method: &str, message: impl Into<String>) -> Self {
        IndexError::Method {
            method: method.to_string(),
            message: message.into(),
        }
    }
}

/// Result alias for the crate.
pub type Result<T> = std::result::Result<T, IndexError>;

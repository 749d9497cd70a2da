//! The one error type of the engine.

use thiserror::Error;

/// Everything that can go wrong in `qcity-mv`. Input errors name the source (a label the
/// caller passes in, usually a file name), the 1-based row and the column or field.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum MvError {
    /// A field could not be parsed.
    #[error("{source_label}: row {row}, column `{column}`: {message}")]
    Parse {
        /// File or stream label given by the caller.
        source_label: String,
        /// 1-based data row (the header is row 0).
        row: usize,
        /// Column name.
        column: String,
        /// What was wrong.
        message: String,
    },
    /// A header is missing or has unexpected columns.
    #[error("{source_label}: header: {message}")]
    Header {
        /// File or stream label.
        source_label: String,
        /// What was wrong.
        message: String,
    },
    /// A configuration value is out of its domain.
    #[error("invalid setting `{field}`: {message}")]
    Config {
        /// Setting name.
        field: String,
        /// What was wrong.
        message: String,
    },
    /// Not enough data to do what was asked.
    #[error("insufficient data: {0}")]
    Insufficient(String),
    /// No candidate model qualified.
    #[error("no qualified model: {0}")]
    NoModel(String),
    /// A linear system was singular.
    #[error("singular design matrix: {0}")]
    Singular(String),
    /// Factor table text is invalid.
    #[error("factor table `{source_label}`: {message}")]
    FactorTable {
        /// Table label.
        source_label: String,
        /// What was wrong.
        message: String,
    },
    /// An unknown energy type was asked for.
    #[error("unknown energy type `{0}`")]
    UnknownEnergy(String),
}

impl MvError {
    /// Shorthand for a [`MvError::Parse`].
    pub fn parse(label: &str, row: usize, column: &str, message: impl Into<String>) -> Self {
        MvError::Parse {
            source_label: label.to_string(),
            row,
            column: column.to_string(),
            message: message.into(),
        }
    }

    /// Shorthand for a [`MvError::Config`].
    pub fn config(field: &str, message: impl Into<String>) -> Self {
        MvError::Config {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, MvError>;

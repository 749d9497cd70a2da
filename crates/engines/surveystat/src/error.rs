//! The one error type of the survey-statistics engine.

use thiserror::Error;

/// Everything that can go wrong in `qcity-surveystat`.
///
/// Input errors name the source (a label the caller passes in, normally the file name),
/// the 1-based line and the column or field.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SurveyError {
    /// A cell could not be parsed or is out of range.
    #[error("{source_label}: line {line}, column `{column}`: {message}")]
    BadCell {
        /// File or input label.
        source_label: String,
        /// 1-based line number (the header is line 1).
        line: usize,
        /// Column name.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// A required column is missing from a table.
    #[error("{source_label}: missing column `{column}`")]
    MissingColumn {
        /// File or input label.
        source_label: String,
        /// Column name.
        column: String,
    },
    /// The text could not be read as CSV or TOML at all.
    #[error("{source_label}: {message}")]
    Malformed {
        /// File or input label.
        source_label: String,
        /// Parser message.
        message: String,
    },
    /// The model or options are inconsistent.
    #[error("invalid specification: {0}")]
    Spec(String),
    /// An iterative algorithm did not converge.
    #[error("{what} did not converge after {iterations} iterations (last change {last_change:e})")]
    NotConverged {
        /// Algorithm name.
        what: String,
        /// Iterations performed.
        iterations: usize,
        /// Convergence measure at the end.
        last_change: f64,
    },
    /// A numerical problem (singular matrix, zero variance, empty group...).
    #[error("numerical problem: {0}")]
    Numerical(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, SurveyError>;

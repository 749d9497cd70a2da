//! One error enum for the crate.

use thiserror::Error;

/// Everything that can go wrong in the sampling engine.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SamplingError {
    /// An argument is outside its domain (lot size 0, p outside [0, 1], β outside (0, 1), …).
    #[error("{name}: {message}")]
    Argument { name: &'static str, message: String },
    /// The AQL is not one of the standard's preferred values (0.010 … 1000).
    #[error("AQL {0} is not a preferred AQL of ISO 2859-1 (0.010, 0.015, 0.025, … 650, 1000)")]
    NotPreferredAql(f64),
    /// The table cell has no plan: its arrow runs off the table (see the module docs).
    #[error(
        "no {severity} single sampling plan for code letter {letter} at AQL {aql}: the table's arrow runs off the table"
    )]
    NoPlan {
        severity: &'static str,
        letter: char,
        aql: f64,
    },
}

impl SamplingError {
    pub(crate) fn arg(name: &'static str, message: impl Into<String>) -> Self {
        SamplingError::Argument {
            name,
            message: message.into(),
        }
    }
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, SamplingError>;

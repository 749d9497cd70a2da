//! Warnings attached to results: a stable code plus a human detail.

use serde::{Deserialize, Serialize};

/// A non-fatal finding about the data or the fit (stable `code`, free `detail`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MvWarning {
    /// Stable machine code, e.g. `caltrack.sufficiency.too_few_days`.
    pub code: String,
    /// Human-readable detail with the numbers.
    pub detail: String,
}

impl MvWarning {
    /// Builds a warning.
    pub fn new(code: &str, detail: impl Into<String>) -> Self {
        MvWarning {
            code: code.to_string(),
            detail: detail.into(),
        }
    }
}

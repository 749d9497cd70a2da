//! Store functions: frameworks and passports, values with their approval workflow, validation
//! rules, completeness, imports and feeds. The city and the caller's region scope come from the
//! principal and are applied in every query; an object outside the scope is "not found".
//!
//! This module holds the store's error, the value statuses and the shared helpers; each seam is a
//! file of its own and is re-exported here, so `store::X` names every item.

mod checks;
mod completeness;
mod feeds;
mod frameworks;
mod values;
mod workflow;

pub use checks::*;
pub use completeness::*;
pub use feeds::*;
pub use frameworks::*;
pub use values::*;
pub use workflow::*;

use qcity_platform::store::ConflictCode;
use qcity_platform::web::AppError;
use serde::Serialize;

/// Errors of the evaluation store.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A conflict with the current state; `code` says which.
    #[error("{detail}")]
    Conflict { code: ConflictCode, detail: String },
    #[error("not permitted")]
    Forbidden,
    /// An import refused at a limit (413 / 422 problem+json naming the limit).
    #[error("{0}")]
    Upload(qcity_platform::upload::UploadError),
}

impl EvalError {
    pub fn conflict(code: ConflictCode, detail: impl Into<String>) -> Self {
        EvalError::Conflict {
            code,
            detail: detail.into(),
        }
    }
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        EvalError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<qcity_platform::store::StoreError> for EvalError {
    fn from(e: qcity_platform::store::StoreError) -> Self {
        use qcity_platform::store::StoreError as S;
        match e {
            S::Db(e) => EvalError::Db(e),
            S::Invalid { field, message } => EvalError::Invalid { field, message },
            S::NotFound(w) => EvalError::NotFound(w),
            S::Conflict { code, detail } => EvalError::Conflict { code, detail },
        }
    }
}

impl From<qcity_platform::auth::Forbidden> for EvalError {
    fn from(_: qcity_platform::auth::Forbidden) -> Self {
        EvalError::Forbidden
    }
}

impl From<EvalError> for AppError {
    fn from(e: EvalError) -> Self {
        match e {
            EvalError::Db(e) => AppError::internal(e),
            EvalError::NotFound(w) => AppError::NotFound(w),
            EvalError::Invalid { field, message } => AppError::Validation { field, message },
            EvalError::Conflict { code, detail } => AppError::Conflict { code, detail },
            EvalError::Forbidden => AppError::Forbidden,
            EvalError::Upload(u) => AppError::Upload(u),
        }
    }
}

pub type Result<T> = std::result::Result<T, EvalError>;

pub const DRAFT: &str = "draft";
pub const SUBMITTED: &str = "submitted";
pub const APPROVED: &str = "approved";
pub const PUBLISHED: &str = "published";
pub const STATUSES: [&str; 4] = [DRAFT, SUBMITTED, APPROVED, PUBLISHED];

fn actor_json<T: Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}

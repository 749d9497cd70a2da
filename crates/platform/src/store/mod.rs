//! Store functions of the platform's tables. The city is always an explicit parameter; functions
//! that span cities say so in their name.

pub mod cities;
pub mod group_commit;
pub mod regions;
pub mod sql;
pub mod users;

pub use crate::web::error::ConflictCode;

/// Errors of store functions, mapped by the web layer to problem+json.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0} not found")]
    NotFound(String),
    /// A conflict with the current state; `code` says which (the problem's `code`).
    #[error("{detail}")]
    Conflict { code: ConflictCode, detail: String },
}

impl StoreError {
    pub fn conflict(code: ConflictCode, detail: impl Into<String>) -> Self {
        StoreError::Conflict {
            code,
            detail: detail.into(),
        }
    }
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

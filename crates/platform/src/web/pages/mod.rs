//! The shell's own pages: sign-in, language switch, home dashboard, and administration (users,
//! regions, tokens, audit log).

mod audit_log;
mod home;
mod regions;
mod sign_in;
mod tokens;
mod users;

use crate::web::error::AppError;
use crate::web::state::AppState;
use crate::web::urlencode;
use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(sign_in::routes())
        .merge(home::routes())
        .merge(users::routes())
        .merge(regions::routes())
        .merge(tokens::routes())
        .merge(audit_log::routes())
}

/// The message (`msg`, a translation key) or error (`err`, text) an admin page shows after a
/// form posted to it redirected back.
#[derive(Deserialize, Default)]
pub(super) struct Flash {
    pub(super) msg: Option<String>,
    pub(super) err: Option<String>,
}

pub(super) fn flash_err(path: &str, e: &AppError) -> Response {
    Redirect::to(&format!("{path}?err={}", urlencode(&e.to_string()))).into_response()
}

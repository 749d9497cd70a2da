//! The web shell: state, errors, extractors, middleware, assets, pages and the JSON API.

pub mod api;
pub mod api_errors;
pub mod api_extract;
pub mod assets;
pub mod client_addr;
pub mod cookies;
pub mod dead_letters;
pub mod error;
pub mod extensions;
pub mod extract;
pub mod health;
pub mod htmx;
pub mod layout;
pub mod live;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod redirect;
pub mod shell;
pub mod state;

pub use api_extract::{ApiJson, ApiPath, ApiQuery};
pub use error::{ApiError, AppError, PageError};
pub use extract::{ApiUser, CsrfToken, PageUser, ReqLang};
pub use layout::{NavItem, PageCtx, Pillar};
pub use state::AppState;

use axum::Router;

/// The complete router: platform routes, every module's routes, and the middleware stack.
pub fn router(state: AppState) -> Router {
    let mut r: Router<AppState> = Router::new()
        .merge(shell::routes())
        .merge(dead_letters::routes())
        .merge(api::routes())
        .merge(crate::enterprise::routes())
        .merge(health::routes())
        .merge(assets::routes());
    for m in state.modules.iter() {
        r = r.merge(m.routes());
    }
    r.layer(axum::middleware::from_fn(api_errors::api_problems))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::csrf_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::authenticate,
        ))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

/// Percent-encodes a query or form value (RFC 3986 unreserved characters kept).
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

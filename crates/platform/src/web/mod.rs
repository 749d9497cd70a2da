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
pub mod pages;
pub mod redirect;
pub mod render;
pub mod state;

pub use api_extract::{ApiJson, ApiPath, ApiQuery};
pub use error::{ApiError, AppError, PageError};
pub use extract::{ApiUser, CsrfToken, Page, PageUser, ReqLang};
pub use layout::{NavItem, PageCtx, Pillar};
pub use state::AppState;

use axum::Router;

/// The complete router: platform routes, every module's routes, and the middleware stack.
pub fn router(state: AppState) -> Router {
    let mut r: Router<AppState> = Router::new()
        .merge(pages::routes())
        .merge(dead_letters::routes())
        .merge(api::routes())
        .merge(crate::enterprise::pages::routes())
        .merge(health::routes())
        .merge(assets::routes());
    for m in state.modules.iter() {
        r = r.merge(m.routes()).merge(m.api());
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

/// What [`urlencode`] escapes: everything but RFC 3986's unreserved characters.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a query or form value (RFC 3986 unreserved characters kept).
pub fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod urlencode_tests {
    #[test]
    fn unreserved_kept_everything_else_escaped() {
        assert_eq!(super::urlencode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(
            super::urlencode("示范 a&b=c/%"),
            "%E7%A4%BA%E8%8C%83%20a%26b%3Dc%2F%25"
        );
    }
}

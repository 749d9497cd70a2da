//! What a handler needs to know about htmx requests: forms post with `HX-Request` and swap the
//! answer into the page, so a refused form comes back as `200` with its errors (htmx ignores
//! non-2xx bodies by default), while a plain browser post gets `422`.

use axum::http::{HeaderMap, StatusCode};

/// Whether the request was made by htmx.
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// Status of a form redrawn with its validation errors.
pub fn form_error_status(headers: &HeaderMap) -> StatusCode {
    if is_htmx(headers) {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htmx_swaps_get_200_and_plain_posts_422() {
        let mut h = HeaderMap::new();
        assert!(!is_htmx(&h));
        assert_eq!(form_error_status(&h), StatusCode::UNPROCESSABLE_ENTITY);
        h.insert("HX-Request", "true".parse().expect("header"));
        assert!(is_htmx(&h));
        assert_eq!(form_error_status(&h), StatusCode::OK);
    }
}

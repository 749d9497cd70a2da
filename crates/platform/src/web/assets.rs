//! Static assets embedded in the binary: our CSS/JS and the vendored htmx and ECharts (their
//! version is in the file name, so they are cached for a year). No CDN is ever used.

use crate::web::state::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets/{*path}", get(serve))
        .route("/favicon.ico", get(favicon))
}

async fn serve(Path(path): Path<String>) -> Response {
    match Assets::get(&path) {
        Some(file) => {
            let mime = mime_guess::from_path(&path).first_or_octet_stream();
            let cache = if path.starts_with("vendor/") {
                "public, max-age=31536000, immutable"
            } else {
                "public, max-age=300"
            };
            (
                [
                    (header::CONTENT_TYPE, mime.as_ref().to_string()),
                    (header::CACHE_CONTROL, cache.to_string()),
                ],
                file.data.into_owned(),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Browsers ask for `/favicon.ico` on their own; answer with the embedded SVG icon.
async fn favicon() -> Response {
    serve(Path("favicon.svg".to_string())).await
}

/// Whether an embedded asset exists (tests).
pub fn exists(path: &str) -> bool {
    Assets::get(path).is_some()
}

//! Page helpers every module uses: rendering a template, embedding JSON in a page, the frame of
//! a signed-in page, number formatting.

use crate::auth::Principal;
use crate::store;
use crate::web::error::{AppError, PageError};
use crate::web::extract::{CsrfToken, ReqLang};
use crate::web::layout::PageCtx;
use crate::web::state::AppState;
use askama::Template;
use axum::response::Html;

/// Renders a template into a page response.
pub fn render<T: Template>(t: &T) -> Result<Html<String>, PageError> {
    t.render()
        .map(Html)
        .map_err(|e| PageError(AppError::internal(e)))
}

/// JSON for embedding in a `<script type="application/json">` block: `<` is escaped so the
/// data can never close the script element.
pub fn embed_json(v: &serde_json::Value) -> String {
    v.to_string().replace('<', "\\u003c")
}

/// The page frame for a signed-in principal.
pub async fn page_ctx(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    path: &str,
    title_key: &str,
) -> Result<PageCtx, PageError> {
    let t = lang.tr();
    let city = store::cities::by_id(&st.db, p.city_id)
        .await?
        .ok_or_else(|| AppError::NotFound("city".into()))?;
    let city_name = t.pick(&city.name_zh, &city.name_en).to_string();
    Ok(PageCtx::new(
        st,
        p,
        lang.0,
        &csrf.0,
        path,
        t.t(title_key),
        city_name,
    ))
}

/// `1234567` → `1,234,567`.
pub fn format_thousands(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn thousands() {
        assert_eq!(format_thousands(0), "0");
        assert_eq!(format_thousands(1234567), "1,234,567");
        assert_eq!(format_thousands(-1000), "-1,000");
    }
}

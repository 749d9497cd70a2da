//! The public portal's in-memory cache (门户缓存): what the portal shows changes only when
//! something is published, so the published reports, the open data gathered from every module
//! and the rendered public pages are kept per application instance and city.
//!
//! - A publication ([`invalidate`], called after the report workflow publishes) drops everything
//!   at once: the next request recomputes. Published versions are immutable and never deleted, so what
//!   a cache holds is always a subset of what is published.
//! - Each item also has a time to live: short for live sections (the open-survey link), longer
//!   for other modules' open data (published by those modules) and a safety net for the
//!   reports (published by another server process on the same database). An expired item is
//!   served once more while one background task refreshes it (stale-while-revalidate), so no
//!   reader waits for a recomputation that only a publication makes necessary.
//! - Concurrent misses of one item compute it once (the others wait for that result).
//! - The cache is the server's own (an extension of its `AppState`), on the platform's
//!   [`TtlCache`].

use qcity_platform::cache::TtlCache;
use qcity_platform::web::{AppError, AppState};
use std::any::Any;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Live sections (public links such as an open survey wave) and the portal home built on them.
pub const LIVE_TTL: Duration = Duration::from_secs(10);
/// Other modules' open data (they publish without telling this module).
pub const OPEN_DATA_TTL: Duration = Duration::from_secs(60);
/// The published reports and pages made from them (a publication in this process invalidates
/// at once; the time to live covers publications by another process).
pub const PUBLISHED_TTL: Duration = Duration::from_secs(300);
/// Typeset PDFs of published (immutable) versions.
pub const PDF_TTL: Duration = Duration::from_secs(24 * 3600);
/// At most this many items (keys come only from existing cities, years and versions).
const CAPACITY: usize = 4096;

type Value = Arc<dyn Any + Send + Sync>;

/// The portal's items by (city id, item).
struct PortalCache(TtlCache<(i64, String), Value>);

fn cache(st: &AppState) -> Arc<PortalCache> {
    st.extensions
        .get_or_init(|| PortalCache(TtlCache::new(PUBLISHED_TTL, CAPACITY)))
}

/// Drops every cached portal item (after a publication).
pub fn invalidate(st: &AppState) {
    cache(st).0.clear();
}

fn downcast<T: Send + Sync + 'static>(v: Value) -> Result<Arc<T>, AppError> {
    v.downcast::<T>()
        .map_err(|_| AppError::internal("portal cache: item of another type"))
}

/// The cached `item` of a city, computed by `compute` when absent, invalidated or expired
/// (see the module documentation). Errors are returned, never cached.
pub async fn get<T, F, Fut>(
    st: &AppState,
    city_id: i64,
    item: &str,
    ttl: Duration,
    compute: F,
) -> Result<Arc<T>, AppError>
where
    T: Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    let v = cache(st)
        .0
        .try_get_or_compute_for((city_id, item.to_string()), ttl, move || {
            let fut = compute();
            async move { fut.await.map(|t| Arc::new(t) as Value) }
        })
        .await?;
    downcast(v)
}

/// Text standing in for the visitor's CSRF token in a cached page.
pub const CSRF_SLOT: &str = "qcity-csrf-slot-7d1f3a";

/// A cached page with the visitor's CSRF token put in (HTML-escaped: it comes from a cookie).
pub fn personalise(page: &str, csrf: &str) -> String {
    let mut esc = String::with_capacity(csrf.len());
    for c in csrf.chars() {
        match c {
            '&' => esc.push_str("&amp;"),
            '<' => esc.push_str("&lt;"),
            '>' => esc.push_str("&gt;"),
            '"' => esc.push_str("&quot;"),
            '\'' => esc.push_str("&#39;"),
            c => esc.push(c),
        }
    }
    page.replace(CSRF_SLOT, &esc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_escaped_into_the_slot() {
        let page = format!("<body data-x='{CSRF_SLOT}'><input value=\"{CSRF_SLOT}\">");
        assert_eq!(
            personalise(&page, "abc\"'<x>&"),
            "<body data-x='abc&quot;&#39;&lt;x&gt;&amp;'><input value=\"abc&quot;&#39;&lt;x&gt;&amp;\">"
        );
    }
}

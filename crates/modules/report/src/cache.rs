//! The public portal's in-memory cache (门户缓存): what the portal shows changes only when
//! something is published, so the published reports, the open data gathered from every module
//! and the rendered public pages are kept per application instance and city.
//!
//! - A publication ([`invalidate`], called by the report workflow) drops everything at once:
//!   the next request recomputes. Published versions are immutable and never deleted, so what
//!   a cache holds is always a subset of what is published.
//! - Each item also has a time to live: short for live sections (the open-survey link), longer
//!   for other modules' open data (published by those modules) and a safety net for the
//!   reports (published by another server process on the same database). An expired item is
//!   served once more while one background task refreshes it (stale-while-revalidate), so no
//!   reader waits for a recomputation that only a publication makes necessary.
//! - Concurrent misses of one item compute it once (the others wait for that result).

use qcity_platform::Module;
use qcity_platform::web::{AppError, AppState};
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};

/// Live sections (public links such as an open survey wave) and the portal home built on them.
pub const LIVE_TTL: Duration = Duration::from_secs(10);
/// Other modules' open data (they publish without telling this module).
pub const OPEN_DATA_TTL: Duration = Duration::from_secs(60);
/// The published reports and pages made from them (a publication in this process invalidates
/// at once; the time to live covers publications by another process).
pub const PUBLISHED_TTL: Duration = Duration::from_secs(300);
/// Typeset PDFs of published (immutable) versions.
pub const PDF_TTL: Duration = Duration::from_secs(24 * 3600);
/// More entries than this and the cache starts afresh (keys come only from existing cities,
/// years and versions, so this is a guard, not an expected state).
const CAPACITY: usize = 4096;

/// Bumped at every publication: entries of an older generation are not served.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Drops every cached portal item (after a publication).
pub fn invalidate() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

type Modules = Vec<Arc<dyn Module>>;
/// (application instance, city id, item).
type Key = (usize, i64, String);
type Value = Arc<dyn Any + Send + Sync>;

struct Entry {
    value: Value,
    at: Instant,
    generation: u64,
    /// Keeps the instance's address from being reused by another instance while cached.
    _owner: Weak<Modules>,
    refreshing: bool,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<Key, Entry>,
    /// One lock per item being computed (single flight).
    flights: HashMap<Key, Arc<tokio::sync::Mutex<()>>>,
}

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Default::default);

fn lock() -> std::sync::MutexGuard<'static, Cache> {
    CACHE.lock().unwrap_or_else(|p| p.into_inner())
}

fn key(st: &AppState, city_id: i64, item: &str) -> Key {
    (Arc::as_ptr(&st.modules) as usize, city_id, item.to_string())
}

enum Lookup {
    Fresh(Value),
    /// Expired: serve it, one task refreshes.
    Refresh(Value),
    Miss,
}

fn lookup(k: &Key, ttl: Duration) -> Lookup {
    let generation = GENERATION.load(Ordering::SeqCst);
    let mut c = lock();
    match c.entries.get_mut(k) {
        Some(e) if e.generation == generation && e.at.elapsed() < ttl => {
            Lookup::Fresh(e.value.clone())
        }
        Some(e) if e.generation == generation && e.refreshing => Lookup::Fresh(e.value.clone()),
        Some(e) if e.generation == generation => {
            e.refreshing = true;
            Lookup::Refresh(e.value.clone())
        }
        _ => Lookup::Miss,
    }
}

fn store(st: &AppState, k: Key, generation: u64, value: Value) {
    let mut c = lock();
    if c.entries.len() >= CAPACITY {
        c.entries.clear();
    }
    c.entries.insert(
        k,
        Entry {
            value,
            at: Instant::now(),
            generation,
            _owner: Arc::downgrade(&st.modules),
            refreshing: false,
        },
    );
}

fn unrefresh(k: &Key) {
    if let Some(e) = lock().entries.get_mut(k) {
        e.refreshing = false;
    }
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
    let k = key(st, city_id, item);
    match lookup(&k, ttl) {
        Lookup::Fresh(v) => return downcast(v),
        Lookup::Refresh(v) => {
            let generation = GENERATION.load(Ordering::SeqCst);
            let fut = compute();
            let st = st.clone();
            tokio::spawn(async move {
                match fut.await {
                    Ok(value) => store(&st, k, generation, Arc::new(value)),
                    Err(e) => {
                        tracing::warn!(error = %e, item = %k.2, "portal cache refresh");
                        unrefresh(&k);
                    }
                }
            });
            return downcast(v);
        }
        Lookup::Miss => {}
    }
    let flight = lock().flights.entry(k.clone()).or_default().clone();
    let guard = flight.lock().await;
    // Another request may have computed it while this one waited.
    if let Lookup::Fresh(v) = lookup(&k, ttl) {
        drop(guard);
        return downcast(v);
    }
    let generation = GENERATION.load(Ordering::SeqCst);
    let out = match compute().await {
        Ok(value) => {
            let v: Arc<T> = Arc::new(value);
            store(st, k.clone(), generation, v.clone());
            Ok(v)
        }
        Err(e) => Err(e),
    };
    drop(guard);
    {
        let mut c = lock();
        // Forget the flight lock once nobody else holds it.
        if c.flights.get(&k).is_some_and(|f| Arc::strong_count(f) <= 2) {
            c.flights.remove(&k);
        }
    }
    out
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

//! A read-through cache with a time to live, for figures that many requests read and that may
//! be a few seconds old (home-dashboard tiles, region lists, the public portal's pages).
//!
//! - Stale-while-revalidate: once an entry has a value, readers never wait for its refresh; one
//!   background task recomputes it.
//! - Concurrent misses of one key compute it once; the others wait for that result (an error is
//!   never cached: each waiter then tries itself).
//! - [`TtlCache::clear`] drops everything, and a computation that started before it is not stored.
//! - Bounded: moka evicts the least useful entries (TinyLFU) beyond the capacity.

use moka::sync::Cache;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Entry<V> {
    value: V,
    fetched: Instant,
    generation: u64,
    refreshing: AtomicBool,
}

/// Values by key, each fresh for a time to live. Keys must carry the tenant and whatever scopes
/// the value (city, role, region scope, language) — the cache itself knows nothing of scoping.
pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: Cache<K, Arc<Entry<V>>>,
    generation: Arc<AtomicU64>,
    /// One lock per key being computed (single flight).
    flights: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

enum Lookup<V> {
    Fresh(V),
    /// Older than its time to live: served, and this caller refreshes it.
    Refresh(V),
    Miss,
}

impl<K, V> TtlCache<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A cache of at most `capacity` keys, each fresh for `ttl` (zero turns caching off).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            entries: Cache::new(capacity.max(1) as u64),
            generation: Arc::new(AtomicU64::new(0)),
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// The cached value for `key`; computes it on first use, and when it is older than the time
    /// to live returns the old value at once while `compute` refreshes it in the background.
    pub async fn get_or_compute<F, Fut>(&self, key: K, compute: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        // Futures are lazy: making it costs nothing until a miss or a refresh polls it.
        let fut = compute();
        let ok = self
            .try_get_or_compute(key, move || async move {
                Ok::<V, std::convert::Infallible>(fut.await)
            })
            .await;
        match ok {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// As [`get_or_compute`](Self::get_or_compute) for a computation that can fail: an error is
    /// returned (on first use) or ignored (in a background refresh, the old value stays) and is
    /// never cached.
    pub async fn try_get_or_compute<F, Fut, E>(&self, key: K, compute: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
        E: Send + std::fmt::Display + 'static,
    {
        self.try_get_or_compute_for(key, self.ttl, compute).await
    }

    /// As [`try_get_or_compute`](Self::try_get_or_compute) with this item's own time to live
    /// (one cache holding items that go stale at different rates).
    pub async fn try_get_or_compute_for<F, Fut, E>(
        &self,
        key: K,
        ttl: Duration,
        compute: F,
    ) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
        E: Send + std::fmt::Display + 'static,
    {
        if ttl.is_zero() {
            return compute().await;
        }
        match self.lookup(&key, ttl) {
            Lookup::Fresh(v) => return Ok(v),
            Lookup::Refresh(old) => {
                let generation = self.generation.load(Ordering::SeqCst);
                let fut = compute();
                let entries = self.entries.clone();
                let current = Arc::clone(&self.generation);
                tokio::spawn(async move {
                    match fut.await {
                        Ok(value) => store(&entries, &current, key, generation, value),
                        Err(e) => {
                            tracing::warn!(error = %e, "cache refresh failed; the old value stays");
                            if let Some(e) = entries.get(&key) {
                                e.refreshing.store(false, Ordering::SeqCst);
                            }
                        }
                    }
                });
                return Ok(old);
            }
            Lookup::Miss => {}
        }
        let flight = {
            let mut f = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(f.entry(key.clone()).or_default())
        };
        let _turn = flight.lock().await;
        // Another caller may have computed it while this one waited for its turn.
        if let Lookup::Fresh(v) | Lookup::Refresh(v) = self.lookup(&key, ttl) {
            return Ok(v);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let result = compute().await;
        if let Ok(value) = &result {
            store(
                &self.entries,
                &self.generation,
                key.clone(),
                generation,
                value.clone(),
            );
        }
        self.flights
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
        result
    }

    /// Forget every entry (after a change the cached figures depend on).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
    }

    fn lookup(&self, key: &K, ttl: Duration) -> Lookup<V> {
        let generation = self.generation.load(Ordering::SeqCst);
        match self.entries.get(key) {
            Some(e) if e.generation != generation => Lookup::Miss,
            Some(e) if e.fetched.elapsed() < ttl => Lookup::Fresh(e.value.clone()),
            // Someone is refreshing it already, or this caller takes the refresh on.
            Some(e) if e.refreshing.swap(true, Ordering::SeqCst) => Lookup::Fresh(e.value.clone()),
            Some(e) => Lookup::Refresh(e.value.clone()),
            None => Lookup::Miss,
        }
    }

    /// How many entries are held (after pending evictions ran).
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Stores a value computed from the data as of `generation`, unless the cache was cleared since.
fn store<K, V>(
    entries: &Cache<K, Arc<Entry<V>>>,
    current: &AtomicU64,
    key: K,
    generation: u64,
    value: V,
) where
    K: Eq + Hash + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    if current.load(Ordering::SeqCst) != generation {
        return;
    }
    entries.insert(
        key,
        Arc::new(Entry {
            value,
            fetched: Instant::now(),
            generation,
            refreshing: AtomicBool::new(false),
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn computes_once_while_fresh_and_refreshes_in_background_when_stale() {
        let cache = TtlCache::new(Duration::from_millis(50), 10);
        let calls = Arc::new(AtomicUsize::new(0));
        let get = |c: Arc<AtomicUsize>| {
            let cache = &cache;
            async move {
                cache
                    .get_or_compute(
                        "k",
                        move || async move { c.fetch_add(1, Ordering::SeqCst) + 1 },
                    )
                    .await
            }
        };
        assert_eq!(get(calls.clone()).await, 1);
        assert_eq!(
            get(calls.clone()).await,
            1,
            "fresh value served from the cache"
        );
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(get(calls.clone()).await, 1, "stale value served at once");
        for _ in 0..100 {
            if calls.load(Ordering::SeqCst) == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(
            get(calls.clone()).await,
            2,
            "the background refresh replaced it"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn errors_are_returned_and_never_cached() {
        let cache: TtlCache<u8, u32> = TtlCache::new(Duration::from_secs(60), 4);
        let e = cache
            .try_get_or_compute(1, || async { Err::<u32, &str>("down") })
            .await;
        assert_eq!(e, Err("down"));
        let v = cache
            .try_get_or_compute(1, || async { Ok::<u32, &str>(5) })
            .await;
        assert_eq!(v, Ok(5));
    }

    #[tokio::test]
    async fn keys_are_separate_and_capacity_bounds_the_map() {
        let cache = TtlCache::new(Duration::from_secs(60), 2);
        assert_eq!(cache.get_or_compute(1, || async { "a" }).await, "a");
        assert_eq!(cache.get_or_compute(2, || async { "b" }).await, "b");
        assert_eq!(cache.get_or_compute(1, || async { "x" }).await, "a");
        assert_eq!(cache.get_or_compute(3, || async { "c" }).await, "c");
        assert!(cache.len() <= 2);
        cache.clear();
        assert_eq!(cache.get_or_compute(1, || async { "y" }).await, "y");
    }
}

#[cfg(test)]
mod coalescing {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_misses_compute_once() {
        let cache: Arc<TtlCache<u8, usize>> = Arc::new(TtlCache::new(Duration::from_secs(60), 4));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (cache, calls) = (Arc::clone(&cache), Arc::clone(&calls));
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_compute(1, move || async move {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        calls.fetch_add(1, Ordering::SeqCst) + 1
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.ok(), Some(1));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_value_computed_before_a_clear_is_not_stored() {
        let cache: Arc<TtlCache<u8, &str>> = Arc::new(TtlCache::new(Duration::from_secs(60), 4));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let slow = {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move {
                cache
                    .get_or_compute(1, move || async move {
                        let _ = rx.await;
                        "old"
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        cache.clear();
        let _ = tx.send(());
        assert_eq!(slow.await.ok(), Some("old"), "its own caller still gets it");
        assert_eq!(cache.get_or_compute(1, || async { "new" }).await, "new");
    }
}

//! A small read-through cache with a time to live, for figures that many requests read and that
//! may be a few seconds old (home-dashboard tiles, region lists). Stale-while-revalidate: once an
//! entry has a value, readers never wait for its refresh; one background task recomputes it.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Entry<V> {
    value: V,
    fetched: Instant,
    refreshing: bool,
}

/// Values by key, each fresh for `ttl`. Keys must carry the tenant and whatever scopes the value
/// (city, role, region scope, language) — the cache itself knows nothing of scoping.
pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Arc<Mutex<HashMap<K, Entry<V>>>>,
}

impl<K, V> TtlCache<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    /// A cache holding at most `capacity` keys (beyond that it starts afresh).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            entries: Arc::new(Mutex::new(HashMap::new())),
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
        E: Send + 'static,
    {
        if self.ttl.is_zero() {
            return compute().await;
        }
        let stale = {
            let mut map = self.lock();
            match map.get_mut(&key) {
                Some(e) if e.fetched.elapsed() < self.ttl => return Ok(e.value.clone()),
                Some(e) if e.refreshing => return Ok(e.value.clone()),
                Some(e) => {
                    e.refreshing = true;
                    Some(e.value.clone())
                }
                None => None,
            }
        };
        let fut = compute();
        match stale {
            Some(old) => {
                let entries = Arc::clone(&self.entries);
                let capacity = self.capacity;
                tokio::spawn(async move {
                    match fut.await {
                        Ok(value) => store(&entries, capacity, key, value),
                        Err(_) => {
                            let mut map = entries.lock().unwrap_or_else(|p| p.into_inner());
                            if let Some(e) = map.get_mut(&key) {
                                e.refreshing = false;
                            }
                        }
                    }
                });
                Ok(old)
            }
            None => {
                let value = fut.await?;
                store(&self.entries, self.capacity, key, value.clone());
                Ok(value)
            }
        }
    }

    /// Forget every entry (after a change the cached figures depend on).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Entry<V>>> {
        // A panic while holding this lock cannot leave a half-written map: recover it.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn store<K: Eq + Hash, V>(
    entries: &Mutex<HashMap<K, Entry<V>>>,
    capacity: usize,
    key: K,
    value: V,
) {
    let mut map = entries.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= capacity && !map.contains_key(&key) {
        map.clear();
    }
    map.insert(
        key,
        Entry {
            value,
            fetched: Instant::now(),
            refreshing: false,
        },
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
        assert!(cache.lock().len() <= 2);
        cache.clear();
        assert_eq!(cache.get_or_compute(1, || async { "y" }).await, "y");
    }
}

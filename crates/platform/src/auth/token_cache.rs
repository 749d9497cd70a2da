//! The principals behind recently used API tokens, so that a busy client (a 96333 dispatch
//! terminal, a fieldwork upload, an IoT gateway) is not re-authenticated with three queries on
//! every request.
//!
//! An entry lives at most `security.token_cache_seconds` (strict: never served older). Any change
//! this process makes to a user or a token (password, disabled, company or enterprise binding,
//! revocation) bumps a generation counter that empties the cache at once; a change made by another
//! process (the `qcity` command line against a running server, a second server on the same
//! PostgreSQL) takes effect within the time to live.

use super::Principal;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Forgets every cached principal (called by the stores that change users and tokens).
pub fn invalidate_all() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

struct Entry {
    principal: Principal,
    fetched: Instant,
    generation: u64,
}

/// Principals by the SHA-256 of their bearer token.
pub struct TokenCache {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

impl TokenCache {
    /// A cache keeping each principal for `ttl` (zero turns caching off), at most `capacity` tokens.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached principal for a token hash, if fresh and no user or token changed since.
    pub fn get(&self, token_hash: &str) -> Option<Principal> {
        if self.ttl.is_zero() {
            return None;
        }
        let generation = GENERATION.load(Ordering::SeqCst);
        let map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        map.get(token_hash)
            .filter(|e| e.generation == generation && e.fetched.elapsed() < self.ttl)
            .map(|e| e.principal.clone())
    }

    /// Remembers the principal read from the database for a token hash. `generation` is the
    /// value of [`generation`] taken before that read, so a change racing with it is not cached.
    pub fn put(&self, token_hash: String, principal: Principal, generation: u64) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.capacity && !map.contains_key(&token_hash) {
            let ttl = self.ttl;
            let now = GENERATION.load(Ordering::SeqCst);
            map.retain(|_, e| e.generation == now && e.fetched.elapsed() < ttl);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(
            token_hash,
            Entry {
                principal,
                fetched: Instant::now(),
                generation,
            },
        );
    }
}

/// The current generation (read before loading a principal, passed to [`TokenCache::put`]).
pub fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthVia, RegionScope, Role};

    fn principal(user_id: i64) -> Principal {
        Principal {
            city_id: 1,
            city_code: "990100".into(),
            user_id,
            username: format!("u{user_id}"),
            display_name: String::new(),
            role: Role::Analyst,
            scope: RegionScope::new(1, "990100"),
            company_id: None,
            enterprise_id: None,
            via: AuthVia::Token { token_id: user_id },
        }
    }

    #[test]
    fn serves_fresh_entries_and_forgets_on_any_change() {
        let c = TokenCache::new(Duration::from_secs(60), 10);
        let g = generation();
        c.put("h1".into(), principal(7), g);
        // Another test in this process may bump the generation; only assert when it did not.
        if generation() == g {
            assert_eq!(c.get("h1").map(|p| p.user_id), Some(7));
        }
        assert!(c.get("h2").is_none());
        invalidate_all();
        assert!(c.get("h1").is_none());
    }

    #[test]
    fn a_read_racing_with_a_change_is_not_served() {
        let c = TokenCache::new(Duration::from_secs(60), 10);
        let before = generation();
        invalidate_all();
        c.put("h".into(), principal(1), before);
        assert!(c.get("h").is_none());
    }

    #[test]
    fn zero_ttl_caches_nothing_and_entries_expire() {
        let off = TokenCache::new(Duration::ZERO, 10);
        off.put("h".into(), principal(1), generation());
        assert!(off.get("h").is_none());
        let short = TokenCache::new(Duration::from_millis(1), 10);
        short.put("h".into(), principal(1), generation());
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get("h").is_none());
    }

    #[test]
    fn capacity_is_bounded() {
        let c = TokenCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            c.put(format!("h{i}"), principal(i), generation());
        }
        assert!(c.entries.lock().map(|m| m.len()).unwrap_or(0) <= 3);
    }
}

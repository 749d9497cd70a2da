//! The principals behind recently used API tokens, so that a busy client (a 96333 dispatch
//! terminal, a fieldwork upload, an IoT gateway) is not re-authenticated with three queries on
//! every request.
//!
//! An entry lives at most `security.token_cache_seconds` (strict: never served older). The cache
//! is the server's own (in `AppState`): whatever changes a user or a token through this server
//! (password, disabled, revocation) calls [`TokenCache::invalidate_all`] after its commit, which
//! empties it at once; a change made by another process (the `qcity` command line against a
//! running server, a second server on the same PostgreSQL) takes effect within the time to live.

use super::Principal;
use moka::sync::Cache;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Principals by the SHA-256 of their bearer token.
pub struct TokenCache {
    ttl: Duration,
    entries: Cache<String, (Principal, u64)>,
    generation: Arc<AtomicU64>,
}

impl TokenCache {
    /// A cache keeping each principal for `ttl` (zero turns caching off), at most `capacity` tokens.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            entries: Cache::builder()
                .max_capacity(capacity.max(1) as u64)
                .time_to_live(ttl.max(Duration::from_nanos(1)))
                .build(),
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The cached principal for a token hash, if fresh and no user or token changed since.
    pub fn get(&self, token_hash: &str) -> Option<Principal> {
        if self.ttl.is_zero() {
            return None;
        }
        let now = self.generation();
        self.entries
            .get(token_hash)
            .filter(|(_, generation)| *generation == now)
            .map(|(p, _)| p)
    }

    /// Remembers the principal read from the database for a token hash. `generation` is the
    /// value of [`generation`](Self::generation) taken before that read, so a change racing with
    /// it is not cached.
    pub fn put(&self, token_hash: String, principal: Principal, generation: u64) {
        if self.ttl.is_zero() || generation != self.generation() {
            return;
        }
        self.entries.insert(token_hash, (principal, generation));
    }

    /// The current generation (read before loading a principal, passed to [`put`](Self::put)).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Forgets every cached principal (after a change to users or tokens commits).
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
    }
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
        c.put("h1".into(), principal(7), c.generation());
        assert_eq!(c.get("h1").map(|p| p.user_id), Some(7));
        assert!(c.get("h2").is_none());
        c.invalidate_all();
        assert!(c.get("h1").is_none());
    }

    #[test]
    fn a_read_racing_with_a_change_is_not_served() {
        let c = TokenCache::new(Duration::from_secs(60), 10);
        let before = c.generation();
        c.invalidate_all();
        c.put("h".into(), principal(1), before);
        assert!(c.get("h").is_none());
    }

    #[test]
    fn zero_ttl_caches_nothing_and_entries_expire() {
        let off = TokenCache::new(Duration::ZERO, 10);
        off.put("h".into(), principal(1), off.generation());
        assert!(off.get("h").is_none());
        let short = TokenCache::new(Duration::from_millis(1), 10);
        short.put("h".into(), principal(1), short.generation());
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get("h").is_none());
    }

    #[test]
    fn capacity_is_bounded() {
        let c = TokenCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            c.put(format!("h{i}"), principal(i), c.generation());
        }
        c.entries.run_pending_tasks();
        assert!(c.entries.entry_count() <= 3);
    }
}

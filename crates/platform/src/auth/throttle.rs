//! Login throttling within a sliding window, counted per (account, client address) and per
//! client address: one client's failures never lock another client out, however many it makes.
//!
//! Each attempt reserves its place before the password is checked (check and count under one
//! lock), so concurrent guesses cannot pass together; a success gives the place back. Keys are
//! fixed-size digests (a long username costs nothing), and the map holds at most `max_keys`
//! entries: expired ones go first, then the least recently used.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Default bound on tracked keys.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// Longest part of a username that is significant for throttling.
const USERNAME_CHARS: usize = 128;

type Key = [u8; 16];

/// In-memory failure counters (a restart forgets them; the window is short).
pub struct LoginThrottle {
    max_per_account: u32,
    max_per_client: u32,
    window: Duration,
    max_keys: usize,
    failures: Mutex<HashMap<Key, Vec<Instant>>>,
}

/// A reserved attempt: counted as a failure unless [`Attempt::succeeded`] is called (an attempt
/// dropped half-way, e.g. by a client that hung up, stays counted).
#[must_use]
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    pair: Key,
    client: Key,
    at: Instant,
}

fn digest(parts: &[&str]) -> Key {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

fn account(username: &str) -> String {
    username
        .trim()
        .chars()
        .take(USERNAME_CHARS)
        .collect::<String>()
        .to_lowercase()
}

impl LoginThrottle {
    pub fn new(max_per_account: u32, max_per_client: u32, window: Duration) -> Self {
        Self::with_capacity(max_per_account, max_per_client, window, DEFAULT_MAX_KEYS)
    }

    /// As [`LoginThrottle::new`] with a bound on the keys kept.
    pub fn with_capacity(
        max_per_account: u32,
        max_per_client: u32,
        window: Duration,
        max_keys: usize,
    ) -> Self {
        Self {
            max_per_account: max_per_account.max(1),
            max_per_client: max_per_client.max(1),
            window,
            max_keys: max_keys.max(2),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Reserves one attempt of `username` from `client`, or `Err(wait)` when it must be refused
    /// until `wait` has passed.
    pub fn begin(&self, username: &str, client: &str) -> Result<Attempt<'_>, Duration> {
        let pair = digest(&["pair", &account(username), client]);
        let client_key = digest(&["client", client]);
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait: Option<Duration> = None;
        for (key, max) in [
            (pair, self.max_per_account),
            (client_key, self.max_per_client),
        ] {
            if let Some(times) = map.get_mut(&key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                if times.len() >= max as usize {
                    let w = self.window.saturating_sub(now.duration_since(times[0]));
                    wait = Some(wait.map_or(w, |x| x.max(w)));
                }
            }
        }
        if let Some(w) = wait {
            return Err(w.max(Duration::from_secs(1)));
        }
        for key in [pair, client_key] {
            if !map.contains_key(&key) && map.len() >= self.max_keys {
                self.evict(&mut map, now);
            }
            map.entry(key).or_default().push(now);
        }
        Ok(Attempt {
            throttle: self,
            pair,
            client: client_key,
            at: now,
        })
    }

    /// Makes room: drops expired keys, then the least recently used tenth.
    fn evict(&self, map: &mut HashMap<Key, Vec<Instant>>, now: Instant) {
        map.retain(|_, v| {
            v.last()
                .is_some_and(|t| now.duration_since(*t) < self.window)
        });
        if map.len() < self.max_keys {
            return;
        }
        let mut last: Vec<(Instant, Key)> = map
            .iter()
            .filter_map(|(k, v)| v.last().map(|t| (*t, *k)))
            .collect();
        let n = (self.max_keys / 10).max(1).min(last.len());
        last.select_nth_unstable_by_key(n - 1, |x| x.0);
        for (_, k) in &last[..n] {
            map.remove(k);
        }
    }

    /// Keys tracked now (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

impl Attempt<'_> {
    /// The password was right: this account's failures from this client are forgiven and the
    /// reservation is given back (the client's other failures stay counted).
    pub fn succeeded(self) {
        let mut map = self
            .throttle
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.remove(&self.pair);
        if let Some(v) = map.get_mut(&self.client) {
            if let Some(i) = v.iter().position(|t| *t == self.at) {
                v.remove(i);
            }
            if v.is_empty() {
                map.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(t: &LoginThrottle, user: &str, client: &str) {
        drop(t.begin(user, client).expect("not locked yet"));
    }

    #[test]
    fn locks_the_account_for_the_failing_client_only() {
        let t = LoginThrottle::new(3, 100, Duration::from_secs(60));
        for _ in 0..3 {
            fail(&t, "Alice", "1.1.1.1");
        }
        assert!(t.begin("alice", "1.1.1.1").is_err());
        // Another client signs in to the same account.
        t.begin("alice", "2.2.2.2")
            .expect("other client")
            .succeeded();
        assert!(t.begin("bob", "1.1.1.1").is_ok());
    }

    #[test]
    fn locks_a_client_trying_many_accounts() {
        let t = LoginThrottle::new(100, 2, Duration::from_secs(60));
        fail(&t, "a", "9.9.9.9");
        fail(&t, "b", "9.9.9.9");
        let wait = t.begin("c", "9.9.9.9").err().expect("locked");
        assert!(wait > Duration::from_secs(50));
        assert!(t.begin("c", "8.8.8.8").is_ok());
    }

    #[test]
    fn success_gives_the_reservation_back() {
        let t = LoginThrottle::new(2, 2, Duration::from_secs(60));
        fail(&t, "a", "1.1.1.1");
        t.begin("a", "1.1.1.1").unwrap().succeeded();
        t.begin("a", "1.1.1.1").unwrap().succeeded();
        fail(&t, "a", "1.1.1.1");
        assert!(t.begin("a", "1.1.1.1").is_err());
    }

    #[test]
    fn concurrent_attempts_cannot_exceed_the_limit() {
        let t = std::sync::Arc::new(LoginThrottle::new(5, 1000, Duration::from_secs(60)));
        let admitted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (t, admitted) = (t.clone(), admitted.clone());
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        if let Ok(a) = t.begin("root", "6.6.6.6") {
                            admitted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            std::thread::yield_now();
                            drop(a);
                        }
                    }
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        assert_eq!(admitted.load(std::sync::atomic::Ordering::SeqCst), 5);
    }

    #[test]
    fn the_map_stays_bounded() {
        let t = LoginThrottle::with_capacity(5, 5, Duration::from_secs(60), 1000);
        let long = "x".repeat(4096);
        for i in 0..20_000 {
            let _ = t.begin(
                &format!("{long}{i}"),
                &format!("10.0.{}.{}", i / 256, i % 256),
            );
        }
        assert!(t.tracked() <= 1000, "{}", t.tracked());
        // A long name is cut: its tail does not make new keys.
        let t = LoginThrottle::new(2, 100, Duration::from_secs(60));
        fail(&t, &format!("{}a", "y".repeat(200)), "1.1.1.1");
        fail(&t, &format!("{}b", "y".repeat(200)), "1.1.1.1");
        assert!(
            t.begin(&format!("{}c", "y".repeat(200)), "1.1.1.1")
                .is_err()
        );
    }
}

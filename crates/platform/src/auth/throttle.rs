//! Login throttling: failures per account and per client address within a sliding window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// In-memory failure counters (a restart forgets them; the window is short).
pub struct LoginThrottle {
    max_per_account: u32,
    max_per_ip: u32,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginThrottle {
    pub fn new(max_per_account: u32, max_per_ip: u32, window: Duration) -> Self {
        Self {
            max_per_account,
            max_per_ip,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(username: &str, ip: &str) -> [(String, bool); 2] {
        [
            (format!("u:{}", username.to_lowercase()), true),
            (format!("ip:{ip}"), false),
        ]
    }

    /// `Some(wait)` when this login must be refused until `wait` has passed.
    pub fn check(&self, username: &str, ip: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = None;
        for (key, is_account) in Self::keys(username, ip) {
            if let Some(times) = map.get_mut(&key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                let max = if is_account {
                    self.max_per_account
                } else {
                    self.max_per_ip
                };
                if times.len() as u32 >= max {
                    let oldest = times[0];
                    let w = self.window.saturating_sub(now.duration_since(oldest));
                    wait = Some(wait.map_or(w, |x: Duration| x.max(w)));
                }
            }
        }
        wait
    }

    pub fn record_failure(&self, username: &str, ip: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < self.window));
        }
        for (key, _) in Self::keys(username, ip) {
            map.entry(key).or_default().push(now);
        }
    }

    pub fn record_success(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&format!("u:{}", username.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_per_account() {
        let t = LoginThrottle::new(3, 100, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(t.check("alice", "1.1.1.1").is_none());
            t.record_failure("Alice", "1.1.1.1");
        }
        assert!(t.check("alice", "2.2.2.2").is_some());
        assert!(t.check("bob", "2.2.2.2").is_none());
        t.record_success("alice");
        assert!(t.check("alice", "2.2.2.2").is_none());
    }

    #[test]
    fn locks_an_address_trying_many_accounts() {
        let t = LoginThrottle::new(100, 2, Duration::from_secs(60));
        t.record_failure("a", "9.9.9.9");
        t.record_failure("b", "9.9.9.9");
        assert!(t.check("c", "9.9.9.9").is_some());
    }
}

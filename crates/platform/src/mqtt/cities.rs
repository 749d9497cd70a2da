//! City codes on topics resolved to tenants. A known city is remembered; an unknown one only for
//! a short while (a city created later is picked up), and a failed lookup is an error, never
//! "unknown": the caller retries the batch instead of rejecting its frames.

use crate::store::{self, StoreError};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// How long a city code that no city has is remembered as unknown.
pub const UNKNOWN_TTL: Duration = Duration::from_secs(30);

/// A tenant named on a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CityRef {
    pub id: i64,
    pub code: String,
    /// Region-code prefix of the whole city (for region-scoped stores).
    pub prefix: String,
}

/// Lookups of topic city codes.
#[derive(Debug)]
pub struct CityCache {
    known: HashMap<String, CityRef>,
    unknown: HashMap<String, Instant>,
    ttl: Duration,
}

impl Default for CityCache {
    fn default() -> Self {
        Self::with_unknown_ttl(UNKNOWN_TTL)
    }
}

impl CityCache {
    /// A cache that remembers unknown codes for `ttl` (zero: not at all).
    pub fn with_unknown_ttl(ttl: Duration) -> Self {
        Self {
            known: HashMap::new(),
            unknown: HashMap::new(),
            ttl,
        }
    }

    /// The city of `code`, `None` if no city has it; a database error is returned as such.
    pub async fn get(
        &mut self,
        db: &impl ConnectionTrait,
        code: &str,
    ) -> Result<Option<CityRef>, StoreError> {
        if let Some(c) = self.known.get(code) {
            return Ok(Some(c.clone()));
        }
        if let Some(at) = self.unknown.get(code) {
            if at.elapsed() < self.ttl {
                return Ok(None);
            }
            self.unknown.remove(code);
        }
        match store::cities::by_code(db, code).await? {
            Some(c) => {
                let r = CityRef {
                    id: c.id,
                    prefix: crate::auth::scope::scope_prefix(&c.code),
                    code: c.code,
                };
                self.known.insert(code.to_string(), r.clone());
                Ok(Some(r))
            }
            None => {
                if !self.ttl.is_zero() {
                    // Bounded: a flood of made-up codes cannot grow the map without end.
                    if self.unknown.len() >= 10_000 {
                        self.unknown.clear();
                    }
                    self.unknown.insert(code.to_string(), Instant::now());
                }
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Backend, TestDb, seed_small_city};

    #[tokio::test]
    async fn unknown_is_not_remembered_forever_and_errors_are_errors() {
        let t = TestDb::migrated(Backend::Sqlite, &[]).await;
        let mut fresh = CityCache::with_unknown_ttl(Duration::ZERO);
        let mut held = CityCache::with_unknown_ttl(Duration::from_secs(3600));
        assert_eq!(fresh.get(&t.db, "990100").await.unwrap(), None);
        assert_eq!(held.get(&t.db, "990100").await.unwrap(), None);
        let id = seed_small_city(&t.db, &[]).await;
        let c = fresh.get(&t.db, "990100").await.unwrap();
        assert_eq!(c.map(|c| c.id), Some(id), "a city created later is found");
        assert_eq!(
            held.get(&t.db, "990100").await.unwrap(),
            None,
            "within the TTL the code stays unknown"
        );
        t.db.clone().close().await.ok();
        assert!(
            CityCache::default().get(&t.db, "990100").await.is_err(),
            "a failed lookup is an error, not an unknown city"
        );
        assert!(
            fresh.get(&t.db, "990100").await.is_ok(),
            "known cities stay known"
        );
    }
}

//! Long-lived responses (server-sent events): the server's shutdown signal, a periodic check
//! that the credentials behind a stream are still good, and a cap on the streams one user may
//! hold open.
//!
//! A stream is authenticated once, when it opens; it may then run for hours. So a stream
//! - re-checks its credentials every [`LiveSettings::recheck`] with [`still_signed_in`] and
//!   ends when the session is gone (logout, expiry) or the user is disabled;
//! - holds a [`StreamPermit`] from [`LiveStreams::acquire`]: at most
//!   [`LiveSettings::per_user`] streams per user, the next one is refused with `429` (the
//!   client's `EventSource` retries later; closing a tab frees its permit at once);
//! - ends when [`Shutdown`] is triggered, so that graceful shutdown does not wait on it.

use crate::auth::session::{self, SessionCookie};
use crate::auth::token::{self, BearerToken};
use crate::web::cookies;
use crate::web::error::AppError;
use crate::web::state::AppState;
use axum::http::{HeaderMap, header};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// The server's shutdown signal: triggered once (SIGTERM, ctrl-c), seen by every clone.
#[derive(Clone)]
pub struct Shutdown(Arc<watch::Sender<bool>>);

impl Default for Shutdown {
    fn default() -> Self {
        Self(Arc::new(watch::channel(false).0))
    }
}

impl Shutdown {
    /// Tells every waiter that the server is stopping.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once [`Shutdown::trigger`] has been called (at once if it already was).
    pub async fn triggered(&self) {
        let mut rx = self.0.subscribe();
        // `wait_for` fails only when the sender is gone, and `self` holds it.
        let _ = rx.wait_for(|stopping| *stopping).await;
    }
}

/// Limits of long-lived streams.
#[derive(Debug, Clone, Copy)]
pub struct LiveSettings {
    /// How often a stream re-checks its session or token.
    pub recheck: Duration,
    /// Streams one user may hold open at once.
    pub per_user: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            recheck: Duration::from_secs(20),
            per_user: 4,
        }
    }
}

/// The open streams of a server, per user, and the settings they run with.
#[derive(Default)]
pub struct LiveStreams {
    settings: Mutex<LiveSettings>,
    open: Arc<Mutex<HashMap<(i64, i64), usize>>>,
}

impl LiveStreams {
    /// The server's registry (one per [`AppState`]).
    pub fn of(st: &AppState) -> Arc<LiveStreams> {
        st.extensions.get_or_init(LiveStreams::default)
    }

    pub fn settings(&self) -> LiveSettings {
        *self.settings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the settings of streams opened from now on (tests use a short re-check).
    pub fn configure(&self, s: LiveSettings) {
        *self.settings.lock().unwrap_or_else(|p| p.into_inner()) = s;
    }

    /// A permit for one more stream of `user_id`; `None` when the user already holds
    /// [`LiveSettings::per_user`] (the handler answers `429`).
    pub fn acquire(&self, city_id: i64, user_id: i64) -> Option<StreamPermit> {
        let max = self.settings().per_user;
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry((city_id, user_id)).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(StreamPermit {
            open: self.open.clone(),
            key: (city_id, user_id),
        })
    }

    /// Streams `user_id` holds open now.
    pub fn open_for(&self, city_id: i64, user_id: i64) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&(city_id, user_id)).copied().unwrap_or(0)
    }
}

/// One open stream; dropping it (the stream ended or the client went away) frees the slot.
pub struct StreamPermit {
    open: Arc<Mutex<HashMap<(i64, i64), usize>>>,
    key: (i64, i64),
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Whether the credentials a request came with (session cookie or bearer token) still name
/// an enabled user. Uses the same rules as sign-in: an expired session is deleted, and a live
/// one counts as in use (its idle timer restarts, as on the client's own reconnects).
pub async fn still_signed_in(st: &AppState, headers: &HeaderMap) -> Result<bool, AppError> {
    let (city_id, user_id) = if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let Some(bt) = auth
            .strip_prefix("Bearer ")
            .and_then(|raw| BearerToken::parse(raw.trim()))
        else {
            return Ok(false);
        };
        match token::lookup(&st.db, &bt).await? {
            Some(t) => (t.city_id, t.user_id),
            None => return Ok(false),
        }
    } else {
        let Some(c) = cookies::get(headers, session::COOKIE).and_then(|v| SessionCookie::parse(&v))
        else {
            return Ok(false);
        };
        match session::load(&st.db, &c, st.session_policy(), chrono::Utc::now()).await? {
            Some(s) => (s.city_id, s.user_id),
            None => return Ok(false),
        }
    };
    Ok(crate::store::users::by_id(&st.db, city_id, user_id)
        .await?
        .is_some_and(|u| !u.disabled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_cap_streams_per_user_and_free_on_drop() {
        let live = LiveStreams::default();
        live.configure(LiveSettings {
            recheck: Duration::from_secs(1),
            per_user: 2,
        });
        let a = live.acquire(1, 7).expect("first");
        let _b = live.acquire(1, 7).expect("second");
        assert!(live.acquire(1, 7).is_none(), "third refused");
        assert!(live.acquire(1, 8).is_some(), "another user has own slots");
        assert!(live.acquire(2, 7).is_some(), "same id in another city");
        drop(a);
        assert_eq!(live.open_for(1, 7), 1);
        assert!(live.acquire(1, 7).is_some(), "a freed slot is reused");
    }

    #[tokio::test]
    async fn shutdown_wakes_every_waiter() {
        let s = Shutdown::default();
        let waiter = tokio::spawn({
            let s = s.clone();
            async move { s.triggered().await }
        });
        assert!(!s.is_triggered());
        s.trigger();
        waiter.await.expect("woken");
        s.triggered().await;
        assert!(s.is_triggered());
    }
}

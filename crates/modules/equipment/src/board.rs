//! The live 96333 board stream (server-sent events at `/app/equipment/board/stream`).
//!
//! - **One poll per city.** The first stream of a city starts a poller that reads the city's
//!   open incidents every [`POLL_EVERY`] and publishes them on a watch channel; every stream of
//!   that city filters the snapshot by its own scope (region subtree, a maintainer's company).
//!   The poller stops when the city's last stream has gone.
//! - **Bounded.** A user holds at most `LiveSettings::per_user` streams (4 by default); the
//!   next one is answered `429` problem+json with `Retry-After` (the browser's `EventSource`
//!   tries again; closing a tab frees its slot at once).
//! - **Signed in, still.** A stream re-checks its session or token every
//!   `LiveSettings::recheck` (20 s by default) and ends after logout, expiry or when the user
//!   is disabled.
//! - **Ends on shutdown**, so that graceful shutdown does not wait for it.

use crate::api;
use crate::incidents::{self, Incident, IncidentFilter};
use crate::pages::{board_json, incident_row};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use qcity_platform::web::error::problem_response;
use qcity_platform::web::live::{self, LiveStreams, StreamPermit};
use qcity_platform::web::{AppError, AppState, Page, PageError, ReqLang};
use qcity_platform::{CityId, Scope};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// How often a city's poller reads its open incidents.
pub const POLL_EVERY: Duration = Duration::from_secs(1);
/// A quiet board is sent again this often (the client's clocks and timers resynchronise).
const REFRESH_EVERY: Duration = Duration::from_secs(15);
/// Most open incidents a poll reads for a city.
const POLL_LIMIT: u32 = 2000;
/// Most rows one board shows (as the board page).
const BOARD_ROWS: usize = 200;
/// `Retry-After` of a refused stream.
const RETRY_AFTER_SECS: u64 = 30;

/// The latest open incidents of a city (`None` until the first poll).
type Snapshot = Option<Arc<Vec<Incident>>>;

/// The pollers of a server, one per city with open streams.
#[derive(Default)]
struct BoardHub {
    cities: Mutex<HashMap<i64, watch::Sender<Snapshot>>>,
}

impl BoardHub {
    fn subscribe(self: &Arc<Self>, st: &AppState, city_id: i64) -> watch::Receiver<Snapshot> {
        let mut cities = self.cities.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = cities.get(&city_id) {
            return tx.subscribe();
        }
        let (tx, rx) = watch::channel(None);
        cities.insert(city_id, tx.clone());
        tokio::spawn(poll(self.clone(), st.clone(), city_id, tx));
        rx
    }

    /// Forgets the city's poller if no stream listens any more; true when it did.
    fn release_if_unused(&self, city_id: i64, tx: &watch::Sender<Snapshot>) -> bool {
        let mut cities = self.cities.lock().unwrap_or_else(|p| p.into_inner());
        if tx.receiver_count() == 0 {
            cities.remove(&city_id);
            true
        } else {
            false
        }
    }
}

/// Whose rows, and in which order: what decides whether a board changed.
fn board_key(list: &[Incident]) -> Vec<(i64, i32)> {
    list.iter().map(|i| (i.id, i.version)).collect()
}

async fn poll(hub: Arc<BoardHub>, st: AppState, city_id: i64, tx: watch::Sender<Snapshot>) {
    let mut every = tokio::time::interval(POLL_EVERY);
    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let city = Scope::city(CityId(city_id));
    let filter = IncidentFilter {
        limit: Some(POLL_LIMIT),
        ..Default::default()
    };
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = st.shutdown.triggered() => break,
        }
        if hub.release_if_unused(city_id, &tx) {
            return;
        }
        match incidents::list(&st.db, &city, &filter).await {
            Ok(list) => {
                tx.send_if_modified(|cur| {
                    let changed = cur
                        .as_ref()
                        .is_none_or(|c| board_key(c) != board_key(&list));
                    if changed {
                        *cur = Some(Arc::new(list));
                    }
                    changed
                });
            }
            Err(e) => tracing::warn!(city_id, error = %e, "live board: reading incidents failed"),
        }
    }
    // Shutdown: dropping the sender ends every stream of the city.
    hub.cities
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&city_id);
}

/// One open stream.
struct Stream {
    st: AppState,
    scope: Scope,
    lang: ReqLang,
    headers: HeaderMap,
    rx: watch::Receiver<Snapshot>,
    last: Option<Vec<(i64, i32)>>,
    recheck: Interval,
    refresh: Interval,
    _permit: StreamPermit,
}

impl Stream {
    /// The board event for the current snapshot in this stream's scope, if it differs from the
    /// last one sent (or always, with `force`).
    fn event(&mut self, force: bool) -> Option<Event> {
        let snap = self.rx.borrow_and_update().clone()?;
        let s = &self.scope;
        let mine: Vec<Incident> = snap
            .iter()
            .filter(|i| s.admits(s.city_id(), &i.region_code, i.company_id, None))
            .take(BOARD_ROWS)
            .cloned()
            .collect();
        let key = board_key(&mine);
        if !force && self.last.as_ref() == Some(&key) {
            return None;
        }
        self.last = Some(key);
        self.refresh.reset();
        let rows: Vec<_> = mine.iter().map(|i| incident_row(i, self.lang)).collect();
        let iot: Vec<i64> = mine
            .iter()
            .filter(|i| i.channel == "iot")
            .map(|i| i.id)
            .collect();
        Some(
            Event::default()
                .event("board")
                .data(board_json(&rows, &iot).to_string()),
        )
    }

    /// The next event, or `None` when the stream must end.
    async fn next(&mut self) -> Option<Event> {
        if self.last.is_none()
            && let Some(ev) = self.event(true)
        {
            return Some(ev);
        }
        loop {
            tokio::select! {
                biased;
                _ = self.st.shutdown.triggered() => return None,
                _ = self.recheck.tick() => {
                    match live::still_signed_in(&self.st, &self.headers).await {
                        Ok(true) => {}
                        Ok(false) => return None,
                        // The database is away: keep the stream, check again next time.
                        Err(e) => tracing::warn!(error = %e, "live board: re-checking the session failed"),
                    }
                }
                changed = self.rx.changed() => {
                    changed.ok()?;
                    if let Some(ev) = self.event(false) {
                        return Some(ev);
                    }
                }
                _ = self.refresh.tick() => {
                    if let Some(ev) = self.event(true) {
                        return Some(ev);
                    }
                }
            }
        }
    }
}

fn interval_after(period: Duration) -> Interval {
    let mut i = tokio::time::interval_at(Instant::now() + period, period);
    i.set_missed_tick_behavior(MissedTickBehavior::Delay);
    i
}

/// `GET /app/equipment/board/stream`: the open incidents in the caller's scope whenever they
/// change.
pub async fn board_stream(
    Page(st, p, lang, ..): Page,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let scope = api::view(&p)?;
    let streams = LiveStreams::of(&st);
    let Some(permit) = streams.acquire(p.city_id, p.user_id) else {
        return Ok(problem_response(&AppError::RateLimited(RETRY_AFTER_SECS)));
    };
    let settings = streams.settings();
    let hub = st.extensions.get_or_init(BoardHub::default);
    let rx = hub.subscribe(&st, p.city_id);
    let stream = Stream {
        scope,
        lang,
        headers,
        rx,
        last: None,
        recheck: interval_after(settings.recheck),
        refresh: interval_after(REFRESH_EVERY),
        _permit: permit,
        st,
    };
    let events = futures::stream::unfold(stream, |mut s| async move {
        let ev = s.next().await?;
        Some((Ok::<_, std::convert::Infallible>(ev), s))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

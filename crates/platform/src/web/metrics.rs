//! Prometheus metrics: request counts and latency histograms by route and status.

use crate::web::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request metrics of this process.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
    counters: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut m = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let s = m
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        s.count += 1;
        s.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    /// Adds to a named counter (modules count ingested messages, rejected rows, …).
    pub fn incr(&self, name: &str, by: u64) {
        *self
            .counters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name.to_string())
            .or_default() += by;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP qcity_http_requests_total HTTP requests by route and status.\n# TYPE qcity_http_requests_total counter\n");
        let m = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        for ((method, route, status), s) in m.iter() {
            let _ = writeln!(
                out,
                "qcity_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP qcity_http_request_duration_seconds Request latency.\n# TYPE qcity_http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in m.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "qcity_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "qcity_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "qcity_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "qcity_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        drop(m);
        let c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        for (name, v) in c.iter() {
            let _ = writeln!(out, "# TYPE qcity_{name} counter\nqcity_{name} {v}");
        }
        out
    }
}

/// Times every request under its route template (not the raw path, so ids do not explode the
/// label set).
pub async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    st.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

//! Prometheus metrics: request counts and latency histograms by route and status.

use crate::web::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
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
        let labels = |method: &str, route: &str, status: u16| {
            format!(
                "method=\"{}\",route=\"{}\",status=\"{status}\"",
                escape_label(method),
                escape_label(route)
            )
        };
        for ((method, route, status), s) in m.iter() {
            let _ = writeln!(
                out,
                "qcity_http_requests_total{{{}}} {}",
                labels(method, route, *status),
                s.count
            );
        }
        out.push_str("# HELP qcity_http_request_duration_seconds Request latency.\n# TYPE qcity_http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in m.iter() {
            let labels = labels(method, route, *status);
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

/// A label value in the Prometheus text format: backslash, double quote and newline escaped.
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The `method` label: a standard HTTP method by name, anything else `other` (a client can send
/// any token as a method; each must not become a series of its own).
pub fn method_label(m: &Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}

/// Times every request under its route template (not the raw path, so ids do not explode the
/// label set) and its method label.
pub async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    st.metrics.observe(
        method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        for raw in ["BREW", "PROPFIND", "X-\"EVIL\""] {
            if let Ok(m) = Method::from_bytes(raw.as_bytes()) {
                assert_eq!(method_label(&m), "other", "{raw}");
            }
        }
        assert_eq!(method_label(&Method::POST), "POST");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        let m = Metrics::default();
        m.observe("GET", "/x\"}\nfake_metric 1", 200, 0.01);
        let text = m.render();
        assert!(text.contains("route=\"/x\\\"}\\nfake_metric 1\""), "{text}");
        assert!(
            !text.lines().any(|l| l.starts_with("fake_metric")),
            "{text}"
        );
    }
}

//! Waste and leak detection (跑冒滴漏): minimum night flow, out-of-hours baseload above the
//! quiescent threshold, continuous non-zero flow, CUSUM of baseline residuals, and
//! parent-versus-children imbalance. Every detector returns typed [`Finding`]s.

use crate::series::{Instant, Reading};
use crate::vee::LocalDays;
use chrono::{Datelike, NaiveDate, Timelike, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Minimum night flow high relative to the day's average flow, or risen suddenly.
    NightFlow,
    /// Out-of-hours use above the quiescent threshold for too long.
    Baseload,
    /// Flow never dropped to zero for the whole span.
    ContinuousFlow,
    /// CUSUM of residuals crossed the decision interval (upward = more use than expected).
    CusumShiftUp,
    /// CUSUM crossed downward (less use than expected).
    CusumShiftDown,
    /// Parent meter exceeds the sum of its children by more than the tolerance.
    Imbalance,
}

/// A detector's finding over a time span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Kind.
    pub kind: FindingKind,
    /// Span start.
    pub start: Instant,
    /// Span end (start of the last interval involved).
    pub end: Instant,
    /// Magnitude (unit depends on the detector; see each function).
    pub magnitude: f64,
    /// Human-readable detail.
    pub detail: String,
}

/// Night-flow statistics of one local day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NightFlow {
    /// Local date.
    pub date: NaiveDate,
    /// Minimum of the rolling 4-point mean inside the night window (i2O nightline).
    pub mnf: f64,
    /// Mean flow over the day.
    pub average_flow: f64,
    /// Points that day.
    pub points: usize,
    /// At least `min_points` points (i2O: 92 of 96).
    pub complete: bool,
}

/// Minimum-night-flow settings.
#[derive(Debug, Clone, PartialEq)]
pub struct NightFlowSettings {
    /// Local day definition.
    pub local_days: LocalDays,
    /// Window start hour (2) and end hour, exclusive (4) — AWWA M36 urban minimum.
    pub window: (u32, u32),
    /// Points required per day for a valid nightline (92 at 15 min).
    pub min_points: usize,
    /// Leak suspected if MNF > this fraction of the average daily flow (Bentley: 0.5).
    pub ratio_limit: f64,
    /// New leak suspected if MNF > this factor × the median MNF of the previous 7 nights.
    pub rise_factor: f64,
}

/// Computes per-day minimum night flow and findings (magnitude = MNF).
pub fn minimum_night_flow(
    flow: &[Reading],
    s: &NightFlowSettings,
) -> (Vec<NightFlow>, Vec<Finding>) {
    let mut by_day: BTreeMap<NaiveDate, Vec<(Instant, f64, bool)>> = BTreeMap::new();
    for r in flow {
        let Some(v) = r.value else { continue };
        let utc = r.at.to_utc();
        let (d, h) = match s.local_days {
            LocalDays::Fixed(o) => {
                let l = utc.with_timezone(&o);
                (l.date_naive(), l.hour())
            }
            LocalDays::Zone(z) => {
                let l = utc.with_timezone(&z);
                (l.date_naive(), l.hour())
            }
        };
        by_day
            .entry(d)
            .or_default()
            .push((r.at, v, h >= s.window.0 && h < s.window.1));
    }
    let mut days = Vec::new();
    let mut findings = Vec::new();
    let mut history: Vec<f64> = Vec::new();
    for (date, pts) in by_day {
        let avg = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
        let night: Vec<&(Instant, f64, bool)> = pts.iter().filter(|p| p.2).collect();
        let mut mnf = f64::INFINITY;
        let mut at = None;
        if night.len() >= 4 {
            for w in night.windows(4) {
                let m = w.iter().map(|p| p.1).sum::<f64>() / 4.0;
                if m < mnf {
                    mnf = m;
                    at = Some((w[0].0, w[3].0));
                }
            }
        } else if let Some(m) = night.iter().map(|p| p.1).reduce(f64::min) {
            mnf = m;
            at = night.first().map(|p| (p.0, p.0));
        }
        let complete = pts.len() >= s.min_points;
        if !mnf.is_finite() {
            continue;
        }
        if complete && let Some((a, b)) = at {
            if avg > 0.0 && mnf > s.ratio_limit * avg {
                findings.push(Finding {
                    kind: FindingKind::NightFlow,
                    start: a,
                    end: b,
                    magnitude: mnf,
                    detail: format!(
                        "{date}: MNF {mnf:.3} > {:.0} % of average flow {avg:.3}",
                        s.ratio_limit * 100.0
                    ),
                });
            } else if history.len() >= 3 {
                let mut h = history[history.len().saturating_sub(7)..].to_vec();
                h.sort_by(f64::total_cmp);
                let med = h[h.len() / 2];
                if med > 0.0 && mnf > s.rise_factor * med {
                    findings.push(Finding {
                        kind: FindingKind::NightFlow,
                        start: a,
                        end: b,
                        magnitude: mnf,
                        detail: format!(
                            "{date}: MNF {mnf:.3} rose above {:.1} × the 7-night median {med:.3}",
                            s.rise_factor
                        ),
                    });
                }
            }
            history.push(mnf);
        }
        days.push(NightFlow {
            date,
            mnf,
            average_flow: avg,
            points: pts.len(),
            complete,
        });
    }
    (days, findings)
}

/// Weekly operating hours: `open[weekday Mon=0][hour]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// UTC offset (seconds east) of the schedule's local time.
    pub utc_offset_seconds: i32,
    /// Open hours per weekday (Monday first).
    pub open: Vec<[bool; 24]>,
}

impl Schedule {
    /// Open `from..to` local hours on Monday–Friday, closed at weekends.
    pub fn weekdays(utc_offset_seconds: i32, from: u32, to: u32) -> Self {
        let mut day = [false; 24];
        for (h, slot) in day.iter_mut().enumerate() {
            *slot = (h as u32) >= from && (h as u32) < to;
        }
        let mut open = vec![day; 5];
        open.extend([[false; 24]; 2]);
        Schedule {
            utc_offset_seconds,
            open,
        }
    }

    /// Whether `at` falls in operating hours.
    pub fn is_open(&self, at: Instant) -> bool {
        let off = chrono::FixedOffset::east_opt(self.utc_offset_seconds).unwrap_or(*at.offset());
        let l = at.with_timezone(&off);
        let wd = l.weekday().num_days_from_monday() as usize;
        self.open.get(wd).is_some_and(|d| d[l.hour() as usize])
    }
}

/// Quiescent threshold: the `quantile` (0.1 = lower decile) of out-of-hours values
/// (enmanreg.org "Q is for quiescent threshold").
pub fn quiescent_threshold(series: &[Reading], schedule: &Schedule, quantile: f64) -> Option<f64> {
    let mut v: Vec<f64> = series
        .iter()
        .filter(|r| !schedule.is_open(r.at))
        .filter_map(|r| r.value)
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = quantile.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// Out-of-hours spans where every value exceeds `threshold` for at least `min_intervals`
/// consecutive intervals (magnitude = mean excess over the threshold).
pub fn baseload_exceedance(
    series: &[Reading],
    schedule: &Schedule,
    threshold: f64,
    min_intervals: usize,
) -> Vec<Finding> {
    spans(series, min_intervals.max(1), |r| {
        !schedule.is_open(r.at) && r.value.is_some_and(|v| v > threshold)
    })
    .into_iter()
    .map(|(i, j)| {
        let excess = series[i..j]
            .iter()
            .filter_map(|r| r.value)
            .map(|v| v - threshold)
            .sum::<f64>()
            / (j - i) as f64;
        Finding {
            kind: FindingKind::Baseload,
            start: series[i].at,
            end: series[j - 1].at,
            magnitude: excess,
            detail: format!(
                "{} out-of-hours intervals above the quiescent threshold {threshold:.3}",
                j - i
            ),
        }
    })
    .collect()
}

/// Spans of at least `min_intervals` consecutive values all above `zero_tolerance`
/// (a site with no zero-flow interval for 24 h ⇒ leak alarm; magnitude = minimum flow).
pub fn continuous_flow(
    series: &[Reading],
    min_intervals: usize,
    zero_tolerance: f64,
) -> Vec<Finding> {
    spans(series, min_intervals.max(1), |r| {
        r.value.is_some_and(|v| v > zero_tolerance)
    })
    .into_iter()
    .map(|(i, j)| {
        let min = series[i..j]
            .iter()
            .filter_map(|r| r.value)
            .fold(f64::INFINITY, f64::min);
        Finding {
            kind: FindingKind::ContinuousFlow,
            start: series[i].at,
            end: series[j - 1].at,
            magnitude: min,
            detail: format!("{} consecutive intervals with non-zero flow", j - i),
        }
    })
    .collect()
}

fn spans(
    series: &[Reading],
    min_len: usize,
    pred: impl Fn(&Reading) -> bool,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < series.len() {
        if !pred(&series[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < series.len() && pred(&series[j]) {
            j += 1;
        }
        if j - i >= min_len {
            out.push((i, j));
        }
        i = j;
    }
    out
}

/// Tabular CUSUM state (Page; Montgomery, *Introduction to Statistical Quality Control*,
/// §9.1): `C⁺ᵢ = max(0, xᵢ − (μ₀ + K) + C⁺ᵢ₋₁)`, `C⁻ᵢ = max(0, (μ₀ − K) − xᵢ + C⁻ᵢ₋₁)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cusum {
    /// Upper statistic per point.
    pub upper: Vec<f64>,
    /// Lower statistic per point.
    pub lower: Vec<f64>,
    /// Indices where `C⁺ > H` first (after each reset).
    pub up_signals: Vec<usize>,
    /// Indices where `C⁻ > H` first.
    pub down_signals: Vec<usize>,
}

/// Runs a tabular CUSUM with target `mu0`, reference value `k` and decision interval `h`
/// (statistics are not reset after a signal; a new signal needs a return to 0 first).
pub fn tabular_cusum(x: &[f64], mu0: f64, k: f64, h: f64) -> Cusum {
    let mut c = Cusum {
        upper: Vec::with_capacity(x.len()),
        lower: Vec::with_capacity(x.len()),
        up_signals: Vec::new(),
        down_signals: Vec::new(),
    };
    let (mut cp, mut cm) = (0.0f64, 0.0f64);
    let (mut in_up, mut in_down) = (false, false);
    for (i, xi) in x.iter().enumerate() {
        cp = (xi - (mu0 + k) + cp).max(0.0);
        cm = ((mu0 - k) - xi + cm).max(0.0);
        if cp > h && !in_up {
            c.up_signals.push(i);
            in_up = true;
        }
        if cp == 0.0 {
            in_up = false;
        }
        if cm > h && !in_down {
            c.down_signals.push(i);
            in_down = true;
        }
        if cm == 0.0 {
            in_down = false;
        }
        c.upper.push(cp);
        c.lower.push(cm);
    }
    c
}

/// CUSUM of baseline-model residuals (actual − expected) with `k`, `h` in units of the
/// residual standard deviation σ (defaults in the literature: k = 0.5, h = 4–5).
/// Findings: magnitude = C at the signal, start = where the statistic last left 0.
pub fn residual_cusum(
    at: &[Instant],
    actual: &[f64],
    expected: &[f64],
    sigma: f64,
    k_sigma: f64,
    h_sigma: f64,
) -> (Cusum, Vec<Finding>) {
    let resid: Vec<f64> = actual.iter().zip(expected).map(|(a, e)| a - e).collect();
    let c = tabular_cusum(&resid, 0.0, k_sigma * sigma, h_sigma * sigma);
    let mut findings = Vec::new();
    for (signals, stat, kind) in [
        (&c.up_signals, &c.upper, FindingKind::CusumShiftUp),
        (&c.down_signals, &c.lower, FindingKind::CusumShiftDown),
    ] {
        for &i in signals {
            let mut s = i;
            while s > 0 && stat[s - 1] > 0.0 {
                s -= 1;
            }
            if let (Some(a), Some(b)) = (at.get(s), at.get(i)) {
                findings.push(Finding {
                    kind,
                    start: *a,
                    end: *b,
                    magnitude: stat[i],
                    detail: format!("CUSUM {:.3} exceeded h = {:.3}", stat[i], h_sigma * sigma),
                });
            }
        }
    }
    (c, findings)
}

/// Parent-versus-children balance per timestamp: findings where
/// `parent − Σ children > tolerance × parent` (magnitude = unmetered use / loss).
/// Timestamps missing from any child are skipped.
pub fn imbalance(parent: &[Reading], children: &[&[Reading]], tolerance: f64) -> Vec<Finding> {
    let maps: Vec<BTreeMap<i64, f64>> = children
        .iter()
        .map(|c| {
            c.iter()
                .filter_map(|r| r.value.map(|v| (r.at.timestamp(), v)))
                .collect()
        })
        .collect();
    let mut out = Vec::new();
    for r in parent {
        let Some(p) = r.value else { continue };
        let ts = r.at.timestamp();
        let sum: Option<f64> = maps.iter().map(|m| m.get(&ts).copied()).sum();
        let Some(sum) = sum else { continue };
        let diff = p - sum;
        if diff > tolerance * p.abs() {
            out.push(Finding {
                kind: FindingKind::Imbalance,
                start: r.at,
                end: r.at,
                magnitude: diff,
                detail: format!(
                    "parent {p:.3} − children {sum:.3} = {diff:.3} ({:.1} %)",
                    if p != 0.0 { diff / p * 100.0 } else { f64::NAN }
                ),
            });
        }
    }
    out
}

/// Weekday helper for schedules.
pub fn weekday_index(w: Weekday) -> usize {
    w.num_days_from_monday() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    // Montgomery, Introduction to Statistical Quality Control (6th ed.), Example 9.1 /
    // Table 9.1: 30 observations, μ₀ = 10, σ = 1, K = 0.5, H = 5. Published results
    // (Table 9.2): C⁺₄ = 1.16, C⁺₅ = 2.82, the upper CUSUM first exceeds H at
    // observation 29 with C⁺₂₉ = 5.28, and C⁺₃₀ = 5.30.
    #[test]
    fn montgomery_example_9_1() {
        let x = [
            9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.20, 10.34, 9.03, 11.47, 10.51,
            9.40, 10.08, 9.37, 10.62, 10.31, 8.52, 10.84, 10.90, 9.33, 12.29, 11.50, 10.60, 11.08,
            10.38, 11.62, 11.31, 10.52,
        ];
        let c = tabular_cusum(&x, 10.0, 0.5, 5.0);
        let r2 = |v: f64| (v * 100.0).round() / 100.0;
        assert_eq!(r2(c.upper[3]), 1.16);
        assert_eq!(r2(c.upper[4]), 2.82);
        assert_eq!(c.up_signals, vec![28]);
        assert_eq!(r2(c.upper[28]), 5.28);
        assert_eq!(r2(c.upper[29]), 5.30);
        assert!(c.down_signals.is_empty());
    }

    use crate::series::parse_instant;
    use chrono::{Duration, FixedOffset};

    fn quarter_hours(days: i64, f: impl Fn(i64, u32) -> f64) -> Vec<Reading> {
        // 2024-01-01 is a Monday.
        let t0 = parse_instant("2024-01-01T00:00:00+08:00").unwrap();
        (0..days * 96)
            .map(|i| {
                let at = t0 + Duration::minutes(15 * i);
                let hour = ((i % 96) / 4) as u32;
                Reading {
                    at,
                    value: Some(f(i / 96, hour)),
                }
            })
            .collect()
    }

    // Hand-checked: day flow 10, night (02–04) flow 6 on day 0 and 1 on day 1. Day 0: MNF 6,
    // average (88·10 + 8·6)/96 = 9.667, 6 > 50 % of it → finding; day 1: MNF 1 → none.
    #[test]
    fn night_flow_hand_checked() {
        let flow = quarter_hours(2, |d, h| {
            if (2..4).contains(&h) {
                if d == 0 { 6.0 } else { 1.0 }
            } else {
                10.0
            }
        });
        let s = NightFlowSettings {
            local_days: LocalDays::Fixed(FixedOffset::east_opt(8 * 3600).unwrap()),
            window: (2, 4),
            min_points: 92,
            ratio_limit: 0.5,
            rise_factor: 2.0,
        };
        let (days, f) = minimum_night_flow(&flow, &s);
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].mnf, 6.0);
        assert!((days[0].average_flow - (88.0 * 10.0 + 48.0) / 96.0).abs() < 1e-12);
        assert_eq!(days[1].mnf, 1.0);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, FindingKind::NightFlow);
        assert_eq!(f[0].start.hour(), 2);
    }

    #[test]
    fn continuous_flow_and_baseload() {
        // Never zero for 2 days → one 192-interval finding with minimum 0.5.
        let flow = quarter_hours(2, |_, h| if h < 6 { 0.5 } else { 3.0 });
        let f = continuous_flow(&flow, 96, 0.0);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].magnitude, 0.5);
        // Open Mon–Fri 08–18. Out-of-hours values: 0.5 (00–06) and 3.0 (06–08, 18–24);
        // lower decile of 56 out-of-hours points per day is 0.5.
        let sch = Schedule::weekdays(8 * 3600, 8, 18);
        let q = quiescent_threshold(&flow, &sch, 0.1).unwrap();
        assert_eq!(q, 0.5);
        // Out-of-hours values above q = 0.5 run 06–08 (8 intervals) and 18–24 (24 intervals)
        // each weekday; a minimum of 20 intervals keeps the two evening spans, excess 2.5.
        let b = baseload_exceedance(&flow, &sch, q, 20);
        assert_eq!(b.len(), 2);
        assert!(b.iter().all(|x| x.magnitude == 2.5 && x.start.hour() == 18));
    }

    #[test]
    fn parent_children_imbalance() {
        let t = parse_instant("2024-01-01T00:00:00+08:00").unwrap();
        let r = |v| {
            [Reading {
                at: t,
                value: Some(v),
            }]
        };
        let (p, a, b) = (r(100.0), r(40.0), r(50.0));
        let f = imbalance(&p, &[&a, &b], 0.05);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].magnitude, 10.0);
        assert!(imbalance(&p, &[&a, &b], 0.2).is_empty());
    }
}

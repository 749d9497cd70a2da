//! Design periods: usage joined with daily mean temperatures, daily aggregation of sub-daily
//! usage and the merging of estimated bills (CalTRACK 2.2).

use super::{CaltrackSettings, Fuel, PeriodKind};
use crate::series::{Instant, TemperatureReading, UsagePeriod};
use crate::warning::MvWarning;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One usage period joined with its daily temperatures: a row of the design matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignPeriod {
    /// Period start.
    pub start: Instant,
    /// Period end (exclusive).
    pub end: Instant,
    /// Days in the period.
    pub n_days: usize,
    /// Days with a valid daily temperature.
    pub n_days_kept: usize,
    /// Usage over the period (`None` = missing or rejected).
    pub usage: Option<f64>,
    /// Daily mean temperatures of the kept days, °F.
    pub day_temperatures: Vec<f64>,
}

impl DesignPeriod {
    /// Usage per day.
    pub fn upd(&self) -> Option<f64> {
        self.usage.map(|u| u / self.n_days as f64)
    }

    /// Mean heating degree days per day at balance point `bp` (CalTRACK 3.3.4).
    pub fn hdd(&self, bp: f64) -> f64 {
        mean_dd(&self.day_temperatures, |t| (bp - t).max(0.0))
    }

    /// Mean cooling degree days per day at balance point `bp` (CalTRACK 3.3.5).
    pub fn cdd(&self, bp: f64) -> f64 {
        mean_dd(&self.day_temperatures, |t| (t - bp).max(0.0))
    }

    pub(super) fn usable(&self) -> bool {
        self.usage.is_some() && self.n_days_kept > 0
    }
}

/// Mean of `f` over the days (0 without days).
pub(super) fn mean_dd(temps: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    if temps.is_empty() {
        return 0.0;
    }
    temps.iter().map(|t| f(*t)).sum::<f64>() / temps.len() as f64
}

/// Aggregates sub-daily usage (e.g. hourly) to local days in the offset of the first
/// period: a day needs ≥ 50 % of its hours, and its value is 24 × the mean hourly use
/// (CalTRACK 2.2.2.1). Periods already ≥ 1 day long are returned unchanged.
pub fn to_daily_usage(usage: &[UsagePeriod]) -> Vec<UsagePeriod> {
    let Some(first) = usage.first() else {
        return Vec::new();
    };
    if usage.iter().all(|p| p.hours() >= 23.0) {
        return usage.to_vec();
    }
    let off = *first.start.offset();
    let mut acc: BTreeMap<NaiveDate, (f64, f64)> = BTreeMap::new();
    for p in usage {
        let d = p.start.with_timezone(&off).date_naive();
        let e = acc.entry(d).or_insert((0.0, 0.0));
        if let Some(v) = p.value {
            e.0 += v;
            e.1 += p.hours();
        }
    }
    acc.into_iter()
        .filter_map(|(d, (sum, hours))| {
            let start = d.and_hms_opt(0, 0, 0)?.and_local_timezone(off).single()?;
            let value = if hours >= 12.0 {
                Some(sum / hours * 24.0)
            } else {
                None
            };
            Some(UsagePeriod {
                start,
                end: start + Duration::days(1),
                value,
            })
        })
        .collect()
}

/// Merges each estimated bill into the following period (its usage added, its start taken)
/// as long as the merged period stays within `max_days` (70); an estimated bill that cannot
/// be merged is kept but its usage set missing (CalTRACK 2.2.3.3).
pub fn merge_estimated_reads(
    periods: &[UsagePeriod],
    estimated: &[bool],
    max_days: i64,
) -> Vec<UsagePeriod> {
    let mut out: Vec<UsagePeriod> = Vec::with_capacity(periods.len());
    let mut pending: Option<UsagePeriod> = None;
    for (i, p) in periods.iter().enumerate() {
        let mut cur = *p;
        if let Some(e) = pending.take() {
            if e.end == cur.start && (cur.end - e.start).num_days() <= max_days {
                cur.start = e.start;
                cur.value = match (e.value, cur.value) {
                    (Some(a), Some(b)) => Some(a + b),
                    _ => None,
                };
            } else {
                out.push(UsagePeriod { value: None, ..e });
            }
        }
        if estimated.get(i).copied().unwrap_or(false) {
            pending = Some(cur);
        } else {
            out.push(cur);
        }
    }
    if let Some(e) = pending {
        out.push(UsagePeriod { value: None, ..e });
    }
    out
}

/// Days of a period: consecutive 24-hour blocks from its start (for periods starting at
/// local midnight these are the local days in the period's own offset; billing reads taken
/// at another hour get 24-hour blocks from the read time, as eemeter does).
fn period_days(p: &UsagePeriod) -> usize {
    ((p.end - p.start).num_seconds() as f64 / 86_400.0)
        .round()
        .max(1.0) as usize
}

/// Joins usage periods with daily mean temperatures (see [`DesignPeriod`]): a day is kept
/// when more than `min_day_temperature_coverage` of its 24 hourly readings exist (2.2.2.3);
/// a billing period keeps no day when fewer than `min_period_temperature_coverage` of its
/// hours have temperatures (2.2.3.2). Applies the electricity zero rule and the billing
/// period-length rules (drop < 25 days; > 35 days monthly or > 70 days bimonthly, 2.2.3).
pub fn design_periods(
    usage: &[UsagePeriod],
    temps: &[TemperatureReading],
    settings: &CaltrackSettings,
) -> (Vec<DesignPeriod>, Vec<MvWarning>) {
    let mut warnings = Vec::new();
    let mut sorted: Vec<(i64, f64)> = temps
        .iter()
        .map(|t| (t.at.timestamp(), t.fahrenheit))
        .collect();
    sorted.sort_by_key(|t| t.0);
    let mut prefix = Vec::with_capacity(sorted.len() + 1);
    prefix.push(0.0);
    for (_, v) in &sorted {
        let last = prefix.last().copied().unwrap_or(0.0);
        prefix.push(last + v);
    }
    let block = |a: i64, b: i64| -> (usize, f64) {
        let i = sorted.partition_point(|t| t.0 < a);
        let j = sorted.partition_point(|t| t.0 < b);
        (j - i, prefix[j] - prefix[i])
    };
    let mut lengths: Vec<usize> = usage.iter().map(period_days).collect();
    lengths.sort_unstable();
    let median_len = lengths.get(lengths.len() / 2).copied().unwrap_or(1);
    let max_len = if median_len > 35 { 70 } else { 35 };
    let mut dropped_len = 0usize;
    let mut zero_as_missing = 0usize;
    let mut out = Vec::with_capacity(usage.len());
    for p in usage {
        let n_days = period_days(p);
        let s0 = p.start.timestamp();
        let mut kept = Vec::with_capacity(n_days);
        let mut hours = 0usize;
        for i in 0..n_days as i64 {
            let (n, sum) = block(s0 + i * 86_400, s0 + (i + 1) * 86_400);
            hours += n;
            if n > 0 && n as f64 > 24.0 * settings.min_day_temperature_coverage {
                kept.push(sum / n as f64);
            }
        }
        let mut usage_value = p.value;
        if settings.fuel == Fuel::Electricity && usage_value == Some(0.0) {
            usage_value = None;
            zero_as_missing += 1;
        }
        if settings.kind == PeriodKind::Billing {
            if (hours as f64) < settings.min_period_temperature_coverage * 24.0 * n_days as f64 {
                kept.clear();
            }
            if n_days < 25 || n_days > max_len {
                usage_value = None;
                dropped_len += 1;
            }
        }
        out.push(DesignPeriod {
            start: p.start,
            end: p.end,
            n_days,
            n_days_kept: kept.len(),
            usage: usage_value,
            day_temperatures: kept,
        });
    }
    if zero_as_missing > 0 {
        warnings.push(MvWarning::new(
            "caltrack.data.zero_usage_as_missing",
            format!("{zero_as_missing} zero electricity readings treated as missing (2.2.1.4)"),
        ));
    }
    if dropped_len > 0 {
        warnings.push(MvWarning::new(
            "caltrack.billing.period_length_out_of_range",
            format!("{dropped_len} billing periods shorter than 25 or longer than {max_len} days dropped (2.2.3)"),
        ));
    }
    (out, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    // CalTRACK 2.2.2.1: a day built from hourly data needs ≥ 50 % of its hours and is
    // 24 × the mean hourly use.
    #[test]
    fn daily_from_hourly() {
        let t0 = crate::series::parse_instant("2024-01-01T00:00:00+08:00").unwrap();
        let h = |i: i64, v: Option<f64>| UsagePeriod {
            start: t0 + Duration::hours(i),
            end: t0 + Duration::hours(i + 1),
            value: v,
        };
        // Day 1: 12 of 24 hours at 2.0 → 48; day 2: 11 hours → missing.
        let mut u: Vec<UsagePeriod> = (0..24).map(|i| h(i, (i < 12).then_some(2.0))).collect();
        u.extend((24..48).map(|i| h(i, (i < 35).then_some(1.0))));
        let d = to_daily_usage(&u);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].value, Some(48.0));
        assert_eq!(d[1].value, None);
    }

    // CalTRACK 2.2.3.3: an estimated read is combined with the next actual read (≤ 70 days).
    #[test]
    fn estimated_reads_merged() {
        let t = |d: i64| {
            crate::series::parse_instant("2024-01-01T00:00:00+00:00").unwrap() + Duration::days(d)
        };
        let p = |a, b, v| UsagePeriod {
            start: t(a),
            end: t(b),
            value: Some(v),
        };
        let bills = [
            p(0, 30, 10.0),
            p(30, 60, 20.0),
            p(60, 90, 30.0),
            p(90, 160, 5.0),
        ];
        let m = merge_estimated_reads(&bills, &[false, true, false, true], 70);
        assert_eq!(m.len(), 3);
        assert_eq!(
            (m[1].start, m[1].end, m[1].value),
            (t(30), t(90), Some(50.0))
        );
        assert_eq!(m[2].value, None);
    }
}

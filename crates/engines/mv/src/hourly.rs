//! CalTRACK 2.0 hourly time-of-week-and-temperature (TOWT) model (CalTRACK 3.7–3.12):
//! 168 time-of-week dummies, occupancy from a degree-hour fit, piecewise-linear
//! temperature bins (30/45/55/65/75/90 °F, bins with < 20 hours merged) with separate
//! slopes for occupied and unoccupied hours, month-by-month models with three-month weighting.

use crate::error::{MvError, Result};
use crate::linalg::{Cholesky, wls};
use crate::metrics::{FitMetrics, fit_metrics};
use crate::series::{Instant, TemperatureReading, UsagePeriod, hourly_temperature_index};
use crate::warning::MvWarning;
use chrono::{Datelike, FixedOffset, Timelike};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Time-of-week slots.
pub const TOW: usize = 168;

/// How the year is split into separately fitted models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segmentation {
    /// One model over the whole baseline (CalTRACK 3.7.5.1 allows it when ≤ 2 months have
    /// |NMBE| > 1 %).
    Single,
    /// One model per calendar month fitted on that month (weight 1) and its neighbours
    /// (weight 0.5) (eemeter `three_month_weighted`).
    ThreeMonthWeighted,
}

/// TOWT settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TowtSettings {
    /// Segmentation.
    pub segmentation: Segmentation,
    /// A time-of-week slot is occupied if more than this fraction of its hours are
    /// under-predicted by the degree-hour fit (0.65).
    pub occupancy_threshold: f64,
    /// Heating degree-hour base of the occupancy fit, °F (50).
    pub occupancy_hdh_base: f64,
    /// Cooling degree-hour base of the occupancy fit, °F (65).
    pub occupancy_cdh_base: f64,
    /// Default temperature-bin endpoints, °F.
    pub bin_endpoints: Vec<f64>,
    /// Bins with fewer hours are merged with a neighbour (20).
    pub min_bin_hours: usize,
    /// Month coverage below this fraction gives a sufficiency warning (0.9).
    pub min_month_coverage: f64,
}

impl Default for TowtSettings {
    fn default() -> Self {
        TowtSettings {
            segmentation: Segmentation::ThreeMonthWeighted,
            occupancy_threshold: 0.65,
            occupancy_hdh_base: 50.0,
            occupancy_cdh_base: 65.0,
            bin_endpoints: vec![30.0, 45.0, 55.0, 65.0, 75.0, 90.0],
            min_bin_hours: 20,
            min_month_coverage: 0.9,
        }
    }
}

/// One fitted segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TowtSegment {
    /// Calendar month 1–12, or 0 for a single model.
    pub month: u32,
    /// Occupancy per time-of-week slot (Monday 00–01 local = slot 0).
    pub occupied: Vec<bool>,
    /// Temperature-bin endpoints of this segment (shared by occupied and unoccupied hours).
    pub bins: Vec<f64>,
    /// Time-of-week coefficients.
    pub tow: Vec<f64>,
    /// Temperature-bin slopes, occupied.
    pub occupied_slopes: Vec<f64>,
    /// Temperature-bin slopes, unoccupied.
    pub unoccupied_slopes: Vec<f64>,
}

/// A fitted hourly TOWT model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TowtModel {
    /// Settings used.
    pub settings: TowtSettings,
    /// UTC offset (seconds east) that defines local time of week and months.
    pub utc_offset_seconds: i32,
    /// Segments (12 monthly, or 1).
    pub segments: Vec<TowtSegment>,
    /// Fit metrics on all baseline hours.
    pub metrics: FitMetrics,
    /// Hours used.
    pub n: usize,
    /// Sufficiency and fit warnings.
    pub warnings: Vec<MvWarning>,
}

/// Piecewise-linear temperature features for bin endpoints (first bin = min(T, b₁),
/// middle bins = clamp(T − bᵢ, 0, bᵢ₊₁ − bᵢ), last bin = max(T − b_k, 0)).
pub fn bin_features(t: f64, endpoints: &[f64]) -> Vec<f64> {
    let k = endpoints.len();
    let mut f = Vec::with_capacity(k + 1);
    if k == 0 {
        f.push(t);
        return f;
    }
    f.push(t.min(endpoints[0]));
    for i in 0..k - 1 {
        f.push((t - endpoints[i]).clamp(0.0, endpoints[i + 1] - endpoints[i]));
    }
    f.push((t - endpoints[k - 1]).max(0.0));
    f
}

/// Merges sparse bins from the outside in (CalTRACK 3.8.2): while the first or last bin
/// has fewer than `min_hours` temperatures drop its inner endpoint; otherwise drop the right
/// endpoint of every sparse middle bin; repeat until every bin is populated enough.
pub fn fit_bins(temps: &[f64], default: &[f64], min_hours: usize) -> Vec<f64> {
    let mut ends = default.to_vec();
    loop {
        if ends.is_empty() {
            return ends;
        }
        let mut counts = vec![0usize; ends.len() + 1];
        for t in temps {
            let idx = ends.iter().position(|e| *t <= *e).unwrap_or(ends.len());
            counts[idx] += 1;
        }
        let last = counts.len() - 1;
        let mut drop = Vec::new();
        if counts[0] < min_hours {
            drop.push(0);
        }
        if counts[last] < min_hours {
            drop.push(last - 1);
        }
        if drop.is_empty() {
            for (i, c) in counts.iter().enumerate().take(last).skip(1) {
                if *c < min_hours {
                    drop.push(i);
                }
            }
        }
        if drop.is_empty() {
            return ends;
        }
        drop.sort_unstable();
        drop.dedup();
        for i in drop.into_iter().rev() {
            ends.remove(i);
        }
    }
}

struct Row {
    at: Instant,
    month: u32,
    tow: usize,
    temp: f64,
    usage: f64,
}

fn tow_of(at: Instant, off: FixedOffset) -> (usize, u32) {
    let l = at.with_timezone(&off);
    (
        l.weekday().num_days_from_monday() as usize * 24 + l.hour() as usize,
        l.month(),
    )
}

fn month_weight(seg_month: u32, m: u32) -> f64 {
    if seg_month == 0 || m == seg_month {
        return 1.0;
    }
    let prev = if seg_month == 1 { 12 } else { seg_month - 1 };
    let next = if seg_month == 12 { 1 } else { seg_month + 1 };
    if m == prev || m == next { 0.5 } else { 0.0 }
}

impl TowtSegment {
    fn n_coef(&self) -> usize {
        TOW + 2 * (self.bins.len() + 1)
    }

    fn features(&self, tow: usize, temp: f64) -> Vec<(usize, f64)> {
        let mut nz = vec![(tow, 1.0)];
        let no = self.bins.len() + 1;
        if self.occupied[tow] {
            for (j, f) in bin_features(temp, &self.bins).into_iter().enumerate() {
                nz.push((TOW + j, f));
            }
        } else {
            for (j, f) in bin_features(temp, &self.bins).into_iter().enumerate() {
                nz.push((TOW + no + j, f));
            }
        }
        nz
    }

    /// Predicted use in an hour with local time-of-week slot `tow` and temperature `temp`.
    pub fn predict(&self, tow: usize, temp: f64) -> f64 {
        let mut y = self.tow.get(tow).copied().unwrap_or(0.0);
        if self.occupied.get(tow).copied().unwrap_or(false) {
            for (j, f) in bin_features(temp, &self.bins).into_iter().enumerate() {
                y += f * self.occupied_slopes.get(j).copied().unwrap_or(0.0);
            }
        } else {
            for (j, f) in bin_features(temp, &self.bins).into_iter().enumerate() {
                y += f * self.unoccupied_slopes.get(j).copied().unwrap_or(0.0);
            }
        }
        y
    }
}

fn fit_segment(rows: &[Row], month: u32, s: &TowtSettings) -> Result<TowtSegment> {
    let w: Vec<f64> = rows.iter().map(|r| month_weight(month, r.month)).collect();
    let sel: Vec<usize> = (0..rows.len()).filter(|i| w[*i] > 0.0).collect();
    if sel.len() < 24 {
        return Err(MvError::Insufficient(format!(
            "segment month {month}: {} hours",
            sel.len()
        )));
    }
    // Occupancy: WLS of usage on CDH/HDH; a slot is occupied if > threshold under-predicted.
    let y: Vec<f64> = sel.iter().map(|i| rows[*i].usage).collect();
    let ww: Vec<f64> = sel.iter().map(|i| w[*i]).collect();
    let cdh: Vec<f64> = sel
        .iter()
        .map(|i| (rows[*i].temp - s.occupancy_cdh_base).max(0.0))
        .collect();
    let hdh: Vec<f64> = sel
        .iter()
        .map(|i| (s.occupancy_hdh_base - rows[*i].temp).max(0.0))
        .collect();
    let f = wls(&[&cdh, &hdh], &y, Some(&ww), true)?;
    let mut under = vec![(0usize, 0usize); TOW];
    for (k, i) in sel.iter().enumerate() {
        let pred = f.beta[0] + f.beta[1] * cdh[k] + f.beta[2] * hdh[k];
        let e = &mut under[rows[*i].tow];
        e.1 += 1;
        if rows[*i].usage > pred {
            e.0 += 1;
        }
    }
    let occupied: Vec<bool> = under
        .iter()
        .map(|(u, n)| *n > 0 && (*u as f64 / *n as f64) > s.occupancy_threshold)
        .collect();
    let seg_t: Vec<f64> = sel.iter().map(|i| rows[*i].temp).collect();
    let mut seg = TowtSegment {
        month,
        bins: fit_bins(&seg_t, &s.bin_endpoints, s.min_bin_hours),
        occupied,
        tow: Vec::new(),
        occupied_slopes: Vec::new(),
        unoccupied_slopes: Vec::new(),
    };
    let k = seg.n_coef();
    let mut xtx = vec![0.0; k * k];
    let mut xty = vec![0.0; k];
    for i in &sel {
        let r = &rows[*i];
        let wi = w[*i];
        let nz = seg.features(r.tow, r.temp);
        for (a, xa) in &nz {
            xty[*a] += wi * xa * r.usage;
            for (b, xb) in &nz {
                xtx[a * k + b] += wi * xa * xb;
            }
        }
    }
    let beta = Cholesky::factor(&xtx, k).solve(&xty);
    let no = seg.bins.len() + 1;
    seg.tow = beta[..TOW].to_vec();
    seg.occupied_slopes = beta[TOW..TOW + no].to_vec();
    seg.unoccupied_slopes = beta[TOW + no..].to_vec();
    Ok(seg)
}

impl TowtModel {
    /// Predicted use for the hour starting at `at` with temperature `temp` (°F).
    pub fn predict(&self, at: Instant, temp: f64) -> f64 {
        let off = FixedOffset::east_opt(self.utc_offset_seconds).unwrap_or(*at.offset());
        let (tow, month) = tow_of(at, off);
        let seg = self
            .segments
            .iter()
            .find(|s| s.month == month)
            .or_else(|| self.segments.first());
        seg.map_or(f64::NAN, |s| s.predict(tow, temp))
    }

    /// Predicted use for each hourly period (`None` without temperature).
    pub fn predict_periods(
        &self,
        usage: &[UsagePeriod],
        temps: &[TemperatureReading],
    ) -> Vec<Option<f64>> {
        let idx = hourly_temperature_index(temps);
        usage
            .iter()
            .map(|p| {
                idx.get(&p.start.timestamp().div_euclid(3600))
                    .map(|t| self.predict(p.start, *t))
            })
            .collect()
    }
}

/// Fits the TOWT model on hourly usage and hourly temperatures.
pub fn fit_towt(
    usage: &[UsagePeriod],
    temps: &[TemperatureReading],
    settings: &TowtSettings,
) -> Result<TowtModel> {
    let first = usage
        .first()
        .ok_or_else(|| MvError::Insufficient("no usage".into()))?;
    let off = *first.start.offset();
    if usage.iter().any(|p| (p.hours() - 1.0).abs() > 1e-6) {
        return Err(MvError::config(
            "usage",
            "the hourly model needs hourly usage periods",
        ));
    }
    let tidx = hourly_temperature_index(temps);
    let mut rows = Vec::with_capacity(usage.len());
    let mut month_hours: BTreeMap<(i32, u32), (usize, usize)> = BTreeMap::new();
    for p in usage {
        let l = p.start.with_timezone(&off);
        let e = month_hours.entry((l.year(), l.month())).or_insert((0, 0));
        e.1 += 1;
        let (Some(v), Some(t)) = (p.value, tidx.get(&p.start.timestamp().div_euclid(3600))) else {
            continue;
        };
        e.0 += 1;
        let (tow, month) = tow_of(p.start, off);
        rows.push(Row {
            at: p.start,
            month,
            tow,
            temp: *t,
            usage: v,
        });
    }
    let mut warnings = Vec::new();
    for ((y, m), (ok, all)) in &month_hours {
        let frac = *ok as f64 / *all as f64;
        if frac < settings.min_month_coverage {
            warnings.push(MvWarning::new(
                "caltrack.hourly.month_coverage_low",
                format!(
                    "{y}-{m:02}: {:.1} % of hours with usage and temperature; {:.0} % required (2.2.1)",
                    frac * 100.0,
                    settings.min_month_coverage * 100.0
                ),
            ));
        }
    }
    let months: Vec<u32> = match settings.segmentation {
        Segmentation::Single => vec![0],
        Segmentation::ThreeMonthWeighted => (1..=12).collect(),
    };
    let mut segments = Vec::new();
    for m in months {
        match fit_segment(&rows, m, settings) {
            Ok(s) => segments.push(s),
            Err(e) => warnings.push(MvWarning::new(
                "caltrack.hourly.segment_not_fitted",
                e.to_string(),
            )),
        }
    }
    if segments.is_empty() {
        return Err(MvError::Insufficient(
            "no hourly segment could be fitted".into(),
        ));
    }
    let mut model = TowtModel {
        settings: settings.clone(),
        utc_offset_seconds: off.local_minus_utc(),
        segments,
        metrics: fit_metrics(&[], &[], 0),
        n: rows.len(),
        warnings,
    };
    let obs: Vec<f64> = rows.iter().map(|r| r.usage).collect();
    let pred: Vec<f64> = rows.iter().map(|r| model.predict(r.at, r.temp)).collect();
    model.metrics = fit_metrics(&obs, &pred, 0);
    Ok(model)
}

/// CalTRACK 3.7.5.1: a single baseline-year model may replace the month-by-month models
/// when at most two calendar months have |NMBE| > 1 % under the single model. Returns
/// whether that holds and each month's NMBE.
pub fn single_model_allowed(
    usage: &[UsagePeriod],
    temps: &[TemperatureReading],
    settings: &TowtSettings,
) -> Result<(bool, Vec<(u32, f64)>)> {
    let single = TowtSettings {
        segmentation: Segmentation::Single,
        ..settings.clone()
    };
    let m = fit_towt(usage, temps, &single)?;
    let off = FixedOffset::east_opt(m.utc_offset_seconds)
        .ok_or_else(|| MvError::config("utc_offset", "out of range"))?;
    let pred = m.predict_periods(usage, temps);
    let mut acc: BTreeMap<u32, (f64, f64)> = BTreeMap::new();
    for (p, pr) in usage.iter().zip(pred) {
        if let (Some(o), Some(pr)) = (p.value, pr) {
            let e = acc
                .entry(p.start.with_timezone(&off).month())
                .or_insert((0.0, 0.0));
            e.0 += pr - o;
            e.1 += o;
        }
    }
    let nmbe: Vec<(u32, f64)> = acc
        .into_iter()
        .map(|(mo, (d, o))| (mo, if o != 0.0 { d / o } else { f64::NAN }))
        .collect();
    let bad = nmbe
        .iter()
        .filter(|(_, v)| v.is_nan() || v.abs() > 0.01)
        .count();
    Ok((bad <= 2, nmbe))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bin_features_sum_to_temperature() {
        // The piecewise-linear bin features add back up to T (CalTRACK 3.8.3 construction).
        let e = [30.0, 45.0, 55.0, 65.0, 75.0, 90.0];
        for t in [-10.0, 30.0, 41.0, 66.5, 95.0] {
            let f = bin_features(t, &e);
            assert_eq!(f.len(), 7);
            assert!((f.iter().sum::<f64>() - t).abs() < 1e-12);
        }
    }

    #[test]
    fn sparse_bins_merged() {
        let mut t = vec![50.0; 100];
        t.extend([20.0; 5]);
        let b = fit_bins(&t, &[30.0, 45.0, 55.0, 65.0, 75.0, 90.0], 20);
        for w in std::iter::once(f64::NEG_INFINITY)
            .chain(b.iter().copied())
            .collect::<Vec<_>>()
            .windows(2)
        {
            let n = t.iter().filter(|x| **x > w[0] && **x <= w[1]).count();
            assert!(n >= 20);
        }
    }
}

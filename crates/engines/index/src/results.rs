//! Results: scores and ranks at every level, group ranks, strengths and weaknesses,
//! trends (CAGR, % change) and progress against targets (Open SDG).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{IndexError, Result};
use crate::model::Direction;
use crate::pipeline::{Run, Stage};
use crate::stats;

/// Scores and ranks of one unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitResult {
    #[serde(rename = "uCode")]
    pub unit: String,
    /// Code → score (`null` when missing).
    pub scores: BTreeMap<String, Option<f64>>,
    /// Code → rank among units (1 = best; ties share the best rank).
    pub ranks: BTreeMap<String, Option<u32>>,
}

/// Scores and ranks of every unit for every aggregate (levels 2 and up), and for the
/// indicators too when `with_indicators`. Units are sorted by the top aggregate's rank.
pub fn results_table(run: &Run, with_indicators: bool) -> Vec<UnitResult> {
    let agg = run.aggregated();
    let fw = &run.framework;
    let codes: Vec<String> = agg
        .codes
        .iter()
        .filter(|c| with_indicators || fw.get(c).is_some_and(|n| n.level >= 2))
        .cloned()
        .collect();
    let ranks: BTreeMap<&str, Vec<f64>> = codes
        .iter()
        .map(|c| {
            (
                c.as_str(),
                stats::rank_descending(agg.col(c).expect("code")),
            )
        })
        .collect();
    let mut out: Vec<UnitResult> = agg
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| UnitResult {
            unit: u.clone(),
            scores: codes
                .iter()
                .map(|c| {
                    let v = agg.col(c).expect("code")[i];
                    (c.clone(), if v.is_nan() { None } else { Some(v) })
                })
                .collect(),
            ranks: codes
                .iter()
                .map(|c| {
                    let r = ranks[c.as_str()][i];
                    (c.clone(), if r.is_nan() { None } else { Some(r as u32) })
                })
                .collect(),
        })
        .collect();
    if agg.codes.iter().any(|c| c == &fw.top_code()) {
        let top = fw.top_code();
        out.sort_by_key(|r| r.ranks.get(&top).copied().flatten().unwrap_or(u32::MAX));
    }
    out
}

/// CSV of [`results_table`]: `uCode`, then a score column and a `Rank_CODE` column per code.
pub fn results_csv(rows: &[UnitResult]) -> String {
    let codes: Vec<String> = rows
        .first()
        .map(|r| r.scores.keys().cloned().collect())
        .unwrap_or_default();
    let mut s = String::from("uCode");
    for c in &codes {
        s.push_str(&format!(",{c}"));
    }
    for c in &codes {
        s.push_str(&format!(",Rank_{c}"));
    }
    s.push('\n');
    for r in rows {
        s.push_str(&crate::model::csv_field(&r.unit));
        for c in &codes {
            s.push(',');
            if let Some(Some(v)) = r.scores.get(c) {
                s.push_str(&format!("{v}"));
            }
        }
        for c in &codes {
            s.push(',');
            if let Some(Some(v)) = r.ranks.get(c) {
                s.push_str(&format!("{v}"));
            }
        }
        s.push('\n');
    }
    s
}

/// Rank of each unit within its group (for one code and one group column).
pub fn group_ranks(
    run: &Run,
    code: &str,
    group_col: &str,
) -> Result<Vec<(String, String, Option<u32>)>> {
    let agg = run.aggregated();
    let x = agg
        .col(code)
        .ok_or_else(|| IndexError::Spec(format!("unknown code '{code}'")))?;
    let labels: Vec<String> = run
        .units
        .iter()
        .map(|u| {
            u.groups
                .get(group_col)
                .cloned()
                .ok_or_else(|| IndexError::Spec(format!("unknown group column '{group_col}'")))
        })
        .collect::<Result<_>>()?;
    let mut out = vec![None; x.len()];
    let mut uniq = labels.clone();
    uniq.sort();
    uniq.dedup();
    for g in &uniq {
        let idx: Vec<usize> = (0..x.len()).filter(|&i| &labels[i] == g).collect();
        let sub: Vec<f64> = idx.iter().map(|&i| x[i]).collect();
        let r = stats::rank_descending(&sub);
        for (k, &i) in idx.iter().enumerate() {
            out[i] = if r[k].is_nan() {
                None
            } else {
                Some(r[k] as u32)
            };
        }
    }
    Ok(agg
        .units
        .iter()
        .zip(labels)
        .zip(out)
        .map(|((u, g), r)| (u.clone(), g, r))
        .collect())
}

/// Strengths and weaknesses of a unit: its best and worst ranked indicators.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrengthsWeaknesses {
    #[serde(rename = "uCode")]
    pub unit: String,
    /// (indicator code, rank among units), best first.
    pub strengths: Vec<(String, u32)>,
    /// (indicator code, rank among units), worst first.
    pub weaknesses: Vec<(String, u32)>,
}

/// Top-`n` and bottom-`n` indicators of a unit by its rank on each indicator, using the
/// normalised data (directions applied), as COINr `get_str_weak`.
pub fn strengths_weaknesses(run: &Run, unit: &str, n: usize) -> Result<StrengthsWeaknesses> {
    let data = run.data(Stage::Normalised);
    let i = data
        .unit_index(unit)
        .ok_or_else(|| IndexError::Spec(format!("unknown unit '{unit}'")))?;
    let mut ranked: Vec<(String, u32)> = data
        .codes
        .iter()
        .zip(&data.cols)
        .filter_map(|(c, x)| {
            let r = stats::rank_descending(x)[i];
            if r.is_nan() {
                None
            } else {
                Some((c.clone(), r as u32))
            }
        })
        .collect();
    ranked.sort_by_key(|(_, r)| *r);
    let strengths = ranked.iter().take(n).cloned().collect();
    let weaknesses = ranked.iter().rev().take(n).cloned().collect();
    Ok(StrengthsWeaknesses {
        unit: unit.to_string(),
        strengths,
        weaknesses,
    })
}

/// Compound annual growth rate (x₁/x₀)^(1/(t₁ − t₀)) − 1.
pub fn cagr(x0: f64, x1: f64, t0: f64, t1: f64) -> f64 {
    (x1 / x0).powf(1.0 / (t1 - t0)) - 1.0
}

/// Percentage change per time unit: (x₁ − x₀)/x₀ / (t₁ − t₀) × 100.
pub fn percent_change(x0: f64, x1: f64, t0: f64, t1: f64) -> f64 {
    (x1 - x0) / x0 / (t1 - t0) * 100.0
}

/// Trend measure (COINr `get_trends`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Trend {
    Cagr,
    PercentChange,
}

/// Trend of a series between its first and last present points (times ascending).
pub fn trend(series: &[(i64, f64)], f: Trend) -> f64 {
    let pts: Vec<&(i64, f64)> = series.iter().filter(|(_, v)| !v.is_nan()).collect();
    if pts.len() < 2 {
        return f64::NAN;
    }
    let (t0, x0) = *pts[0];
    let (t1, x1) = *pts[pts.len() - 1];
    match f {
        Trend::Cagr => cagr(x0, x1, t0 as f64, t1 as f64),
        Trend::PercentChange => percent_change(x0, x1, t0 as f64, t1 as f64),
    }
}

/// Open SDG progress status (sdg-build `ProgressMeasure.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressStatus {
    TargetAchieved,
    SubstantialProgress,
    ModerateProgress,
    LimitedProgress,
    Deterioration,
    NotAvailable,
}

/// Settings of the progress measure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgressSpec {
    /// Default 2015; if absent from the data, the next year with data.
    pub base_year: i64,
    pub target: Option<f64>,
    /// Default 2030.
    pub target_year: i64,
    pub direction: Direction,
}

impl Default for ProgressSpec {
    fn default() -> Self {
        ProgressSpec {
            base_year: 2015,
            target: None,
            target_year: 2030,
            direction: Direction::Positive,
        }
    }
}

/// Progress value and status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub base_year: i64,
    pub current_year: i64,
    pub value: Option<f64>,
    pub status: ProgressStatus,
}

/// Open SDG's progress classification. Without a target (method 1) the value is the
/// observed CAGR × direction, classified at 0.015 / 0.005 / 0; with a target (method 2)
/// it is CAGR_observed / |CAGR_required| (required growth from the base value to the
/// target by the target year), classified at 0.95 / 0.6 / 0. A met target is
/// `target_achieved`. Series: (year, value), any order.
pub fn progress(series: &[(i64, f64)], spec: &ProgressSpec) -> Progress {
    let mut pts: Vec<(i64, f64)> = series
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_nan())
        .collect();
    pts.sort_by_key(|p| p.0);
    let na = |b, c| Progress {
        base_year: b,
        current_year: c,
        value: None,
        status: ProgressStatus::NotAvailable,
    };
    let Some(&(current_year, current)) = pts.last() else {
        return na(spec.base_year, spec.base_year);
    };
    let Some(&(base_year, base)) = pts.iter().find(|p| p.0 >= spec.base_year) else {
        return na(spec.base_year, current_year);
    };
    let dir = spec.direction.sign();
    let target = spec.target.map(|t| if t == 0.0 { 0.001 } else { t });
    let achieved =
        target.is_some_and(|t| (dir < 0.0 && current <= t) || (dir > 0.0 && current >= t));
    if achieved {
        return Progress {
            base_year,
            current_year,
            value: None,
            status: ProgressStatus::TargetAchieved,
        };
    }
    let base = if base == 0.0 { 0.001 } else { base };
    if (base > 0.0 && current < 0.0)
        || (base < 0.0 && current > 0.0)
        || current_year - base_year < 1
    {
        return na(base_year, current_year);
    }
    let sign = if base < 0.0 { -1.0 } else { 1.0 };
    let cagr_o = cagr(base, current, base_year as f64, current_year as f64);
    let (value, (high, med, low)) = match target {
        None => (sign * dir * cagr_o, (0.015, 0.005, 0.0)),
        Some(t) => {
            let cagr_r = cagr(base, t, base_year as f64, spec.target_year as f64);
            (sign * dir * cagr_o / cagr_r.abs(), (0.95, 0.6, 0.0))
        }
    };
    let status = if value >= high {
        ProgressStatus::SubstantialProgress
    } else if value >= med {
        ProgressStatus::ModerateProgress
    } else if value >= low {
        ProgressStatus::LimitedProgress
    } else {
        ProgressStatus::Deterioration
    };
    Progress {
        base_year,
        current_year,
        value: Some(value),
        status,
    }
}

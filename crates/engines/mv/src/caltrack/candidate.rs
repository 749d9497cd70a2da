//! Candidate models of the balance-point grid search: fit rows and their moments, the
//! intercept-only, single-degree-day and HDD+CDD candidates, qualification and selection
//! (CalTRACK 3.2–3.4).

use super::design::mean_dd;
use super::{CaltrackSettings, DesignPeriod, ModelType, PeriodKind};
use crate::error::Result;
use crate::linalg::{Moments, t_critical, two_sided_p, wls, wls_from_moments};
use crate::warning::MvWarning;
use serde::{Deserialize, Serialize};

/// Whether a candidate was fitted and qualified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateStatus {
    /// Fitted and met every qualification rule.
    Qualified,
    /// Fitted but a slope was ≤ 0 or its p-value too high (or the intercept negative).
    Disqualified,
    /// Not fitted: too few non-zero degree days or too few total degree days.
    NotAttempted,
}

/// One fitted candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Model form.
    pub model_type: ModelType,
    /// Qualification outcome.
    pub status: CandidateStatus,
    /// Heating balance point, °F.
    pub heating_balance_point: Option<f64>,
    /// Cooling balance point, °F.
    pub cooling_balance_point: Option<f64>,
    /// μ.
    #[serde(with = "crate::metrics::nan_as_null")]
    pub intercept: f64,
    /// β_H.
    pub heating_slope: Option<f64>,
    /// β_C.
    pub cooling_slope: Option<f64>,
    /// p-value of β_H (filled for the selected candidate by [`Candidate::with_p_values`]).
    pub heating_p_value: Option<f64>,
    /// p-value of β_C.
    pub cooling_p_value: Option<f64>,
    /// Adjusted R² (0 for intercept-only).
    #[serde(with = "crate::metrics::nan_as_null")]
    pub r2_adj: f64,
    /// t statistics of the slopes (heating first).
    pub t_stats: Vec<f64>,
    /// Residual degrees of freedom of the fit.
    #[serde(with = "crate::metrics::nan_as_null")]
    pub df_resid: f64,
    /// Why it was disqualified or not attempted.
    pub warnings: Vec<MvWarning>,
}

impl Candidate {
    /// Fills the slopes' two-sided p-values from their t statistics (the grid search
    /// qualifies by comparing |t| with the critical value and skips p-values).
    pub fn with_p_values(mut self) -> Self {
        let p: Vec<f64> = self
            .t_stats
            .iter()
            .map(|t| two_sided_p(*t, self.df_resid))
            .collect();
        let mut it = p.into_iter();
        if self.heating_slope.is_some() {
            self.heating_p_value = it.next();
        }
        if self.cooling_slope.is_some() {
            self.cooling_p_value = it.next();
        }
        self
    }

    /// Predicted usage per day at the given mean HDD/CDD (computed at this candidate's
    /// balance points by the caller).
    pub fn upd(&self, hdd: f64, cdd: f64) -> f64 {
        self.intercept
            + self.heating_slope.unwrap_or(0.0) * hdd
            + self.cooling_slope.unwrap_or(0.0) * cdd
    }
}

/// Rows of a fit: usage per day, weights and the periods' daily temperatures.
#[derive(Debug, Clone)]
pub struct FitData {
    /// Usage per day.
    pub upd: Vec<f64>,
    /// Weights (1 for daily; kept days for billing).
    pub weights: Option<Vec<f64>>,
    /// Kept days per row.
    pub kept_days: Vec<f64>,
    /// Daily temperatures of each row.
    pub temps: Vec<Vec<f64>>,
    /// Memo of critical t values keyed by (df, max p).
    pub t_cache: std::cell::RefCell<Vec<(f64, f64, f64)>>,
}

impl FitData {
    /// Builds the fit rows from design periods.
    pub fn new(design: &[DesignPeriod], kind: PeriodKind) -> Self {
        let rows: Vec<&DesignPeriod> = design.iter().filter(|p| p.usable()).collect();
        let kept_days: Vec<f64> = rows.iter().map(|p| p.n_days_kept as f64).collect();
        FitData {
            upd: rows.iter().filter_map(|p| p.upd()).collect(),
            weights: (kind == PeriodKind::Billing).then(|| kept_days.clone()),
            kept_days,
            temps: rows.iter().map(|p| p.day_temperatures.clone()).collect(),
            t_cache: Default::default(),
        }
    }

    /// Weighted moments of `upd ~ 1 + cols` in one pass (grid-search fast path).
    pub fn moments(&self, cols: &[&[f64]]) -> Moments {
        let k = cols.len() + 1;
        let mut xtx = vec![0.0; k * k];
        let mut xty = vec![0.0; k];
        let mut yty = 0.0;
        let mut x = [0.0f64; 4];
        for (i, y) in self.upd.iter().enumerate() {
            let w = self.weights.as_ref().map_or(1.0, |w| w[i]);
            x[0] = 1.0;
            for (j, c) in cols.iter().enumerate().take(3) {
                x[j + 1] = c[i];
            }
            yty += w * y * y;
            for a in 0..k.min(4) {
                let wa = w * x[a];
                xty[a] += wa * y;
                for b in 0..=a {
                    xtx[a * k + b] += wa * x[b];
                }
            }
        }
        for a in 0..k {
            for b in 0..a {
                xtx[b * k + a] = xtx[a * k + b];
            }
        }
        Moments {
            xtx,
            xty,
            yty,
            n: self.upd.len(),
        }
    }

    /// Critical |t| for a two-sided test at level `max_p` with `df` degrees of freedom.
    pub fn t_crit(&self, df: f64, max_p: f64) -> f64 {
        if max_p <= 0.0 {
            return f64::INFINITY;
        }
        if let Some(c) = self
            .t_cache
            .borrow()
            .iter()
            .find(|(d, p, _)| *d == df && *p == max_p)
        {
            return c.2;
        }
        let c = t_critical(1.0 - max_p, df);
        self.t_cache.borrow_mut().push((df, max_p, c));
        c
    }

    pub(super) fn hdd(&self, bp: f64) -> Vec<f64> {
        self.temps
            .iter()
            .map(|t| mean_dd(t, |x| (bp - x).max(0.0)))
            .collect()
    }

    pub(super) fn cdd(&self, bp: f64) -> Vec<f64> {
        self.temps
            .iter()
            .map(|t| mean_dd(t, |x| (x - bp).max(0.0)))
            .collect()
    }
}

/// Fits the intercept-only candidate.
pub fn intercept_only_candidate(data: &FitData) -> Result<Candidate> {
    let fit = wls(&[], &data.upd, data.weights.as_deref(), true)?;
    let mut warnings = Vec::new();
    let intercept = fit.beta[0];
    if intercept < 0.0 {
        warnings.push(MvWarning::new(
            "caltrack.candidate.intercept_negative",
            format!("intercept {intercept:.4} < 0"),
        ));
    }
    Ok(Candidate {
        model_type: ModelType::InterceptOnly,
        status: if warnings.is_empty() {
            CandidateStatus::Qualified
        } else {
            CandidateStatus::Disqualified
        },
        heating_balance_point: None,
        cooling_balance_point: None,
        intercept,
        heating_slope: None,
        cooling_slope: None,
        heating_p_value: None,
        cooling_p_value: None,
        r2_adj: 0.0,
        t_stats: Vec::new(),
        df_resid: fit.df_resid,
        warnings,
    })
}

fn dd_sufficient(
    name: &str,
    bp: f64,
    dd: &[f64],
    kept: &[f64],
    settings: &CaltrackSettings,
    warnings: &mut Vec<MvWarning>,
) -> bool {
    let non_zero = dd.iter().filter(|v| **v > 0.0).count();
    let total: f64 = dd.iter().zip(kept).map(|(d, k)| d * k).sum();
    let mut ok = true;
    if non_zero < settings.min_non_zero_degree_days {
        ok = false;
        warnings.push(MvWarning::new(
            &format!("caltrack.candidate.too_few_non_zero_{name}"),
            format!(
                "{non_zero} periods with non-zero {name} at {bp} °F; {} required (3.2.2)",
                settings.min_non_zero_degree_days
            ),
        ));
    }
    if total < settings.min_total_degree_days {
        ok = false;
        warnings.push(MvWarning::new(
            &format!("caltrack.candidate.total_{name}_too_low"),
            format!(
                "total {name} {total:.1} at {bp} °F; {} required (3.2.2)",
                settings.min_total_degree_days
            ),
        ));
    }
    ok
}

/// CalTRACK 3.4.3.2.3: the intercept must not be negative.
fn intercept_not_negative(mu: f64, warnings: &mut Vec<MvWarning>) {
    if mu < 0.0 {
        warnings.push(MvWarning::new(
            "caltrack.candidate.intercept_negative",
            format!("intercept {mu:.4} < 0 (3.4.3.2.3)"),
        ));
    }
}

/// Two-sided p < max_p ⇔ |t| > t_{1−max_p/2, df}: qualification needs no p-value.
fn qualify(name: &str, slope: f64, t: f64, t_crit: f64, max_p: f64, warnings: &mut Vec<MvWarning>) {
    let p_ok = max_p >= 1.0 || (t.is_finite() && t.abs() > t_crit);
    if slope <= 0.0 {
        warnings.push(MvWarning::new(
            &format!("caltrack.candidate.{name}_slope_not_positive"),
            format!("{name} slope {slope:.4} ≤ 0 (3.4.3.2)"),
        ));
    }
    if !p_ok {
        warnings.push(MvWarning::new(
            &format!("caltrack.candidate.{name}_p_value_too_high"),
            format!(
                "{name} slope p-value ≥ {max_p} (|t| = {:.3}, 3.4.3.2)",
                t.abs()
            ),
        ));
    }
}

pub(super) fn not_attempted(
    model_type: ModelType,
    h: Option<f64>,
    c: Option<f64>,
    warnings: Vec<MvWarning>,
) -> Candidate {
    Candidate {
        model_type,
        status: CandidateStatus::NotAttempted,
        heating_balance_point: h,
        cooling_balance_point: c,
        intercept: f64::NAN,
        heating_slope: None,
        cooling_slope: None,
        heating_p_value: None,
        cooling_p_value: None,
        r2_adj: f64::NAN,
        t_stats: Vec::new(),
        df_resid: f64::NAN,
        warnings,
    }
}

/// Fits a single-degree-day candidate (HDD-only or CDD-only) at one balance point, from
/// precomputed mean degree days per row.
pub fn single_dd_candidate(
    data: &FitData,
    model_type: ModelType,
    bp: f64,
    dd: &[f64],
    settings: &CaltrackSettings,
) -> Result<Candidate> {
    let heating = model_type == ModelType::HddOnly;
    let name = if heating { "hdd" } else { "cdd" };
    let (h, c) = if heating {
        (Some(bp), None)
    } else {
        (None, Some(bp))
    };
    let mut warnings = Vec::new();
    if !dd_sufficient(name, bp, dd, &data.kept_days, settings, &mut warnings) {
        return Ok(not_attempted(model_type, h, c, warnings));
    }
    let fit = wls_from_moments(&data.moments(&[dd]))?;
    let (slope, t) = (fit.beta[1], fit.t_stats[1]);
    let t_crit = data.t_crit(fit.df_resid, settings.max_p_value);
    qualify(name, slope, t, t_crit, settings.max_p_value, &mut warnings);
    intercept_not_negative(fit.beta[0], &mut warnings);
    Ok(Candidate {
        model_type,
        status: if warnings.is_empty() {
            CandidateStatus::Qualified
        } else {
            CandidateStatus::Disqualified
        },
        heating_balance_point: h,
        cooling_balance_point: c,
        intercept: fit.beta[0],
        heating_slope: heating.then_some(slope),
        cooling_slope: (!heating).then_some(slope),
        heating_p_value: None,
        cooling_p_value: None,
        t_stats: vec![t],
        df_resid: fit.df_resid,
        r2_adj: fit.r2_adj,
        warnings,
    })
}

/// Fits the HDD+CDD candidate at one pair of balance points.
pub fn cdd_hdd_candidate(
    data: &FitData,
    hbp: f64,
    hdd: &[f64],
    cbp: f64,
    cdd: &[f64],
    settings: &CaltrackSettings,
) -> Result<Candidate> {
    let mut warnings = Vec::new();
    let ok_h = dd_sufficient("hdd", hbp, hdd, &data.kept_days, settings, &mut warnings);
    let ok_c = dd_sufficient("cdd", cbp, cdd, &data.kept_days, settings, &mut warnings);
    if !(ok_h && ok_c) {
        return Ok(not_attempted(
            ModelType::CddHdd,
            Some(hbp),
            Some(cbp),
            warnings,
        ));
    }
    let fit = wls_from_moments(&data.moments(&[hdd, cdd]))?;
    let t_crit = data.t_crit(fit.df_resid, settings.max_p_value);
    let m = settings.max_p_value;
    qualify("hdd", fit.beta[1], fit.t_stats[1], t_crit, m, &mut warnings);
    qualify("cdd", fit.beta[2], fit.t_stats[2], t_crit, m, &mut warnings);
    intercept_not_negative(fit.beta[0], &mut warnings);
    Ok(Candidate {
        model_type: ModelType::CddHdd,
        status: if warnings.is_empty() {
            CandidateStatus::Qualified
        } else {
            CandidateStatus::Disqualified
        },
        heating_balance_point: Some(hbp),
        cooling_balance_point: Some(cbp),
        intercept: fit.beta[0],
        heating_slope: Some(fit.beta[1]),
        cooling_slope: Some(fit.beta[2]),
        heating_p_value: None,
        cooling_p_value: None,
        r2_adj: fit.r2_adj,
        t_stats: vec![fit.t_stats[1], fit.t_stats[2]],
        df_resid: fit.df_resid,
        warnings,
    })
}

/// Picks the qualified candidate with the highest adjusted R² (CalTRACK 3.4.3.3); the
/// first one wins ties.
pub fn select_best(candidates: &[Candidate]) -> Option<&Candidate> {
    candidates
        .iter()
        .filter(|c| c.status == CandidateStatus::Qualified && c.r2_adj.is_finite())
        .fold(None, |best: Option<&Candidate>, c| match best {
            Some(b) if b.r2_adj >= c.r2_adj => Some(b),
            _ => Some(c),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caltrack::Fuel;

    fn data(y: &[f64], w: Option<&[f64]>) -> FitData {
        FitData {
            upd: y.to_vec(),
            weights: w.map(<[f64]>::to_vec),
            kept_days: vec![1.0; y.len()],
            temps: vec![vec![]; y.len()],
            t_cache: Default::default(),
        }
    }

    fn lax() -> CaltrackSettings {
        CaltrackSettings {
            min_non_zero_degree_days: 1,
            min_total_degree_days: 1.0,
            max_p_value: 0.1,
            ..CaltrackSettings::daily(Fuel::Electricity)
        }
    }

    // Reference: eemeter 2.x `tests/test_caltrack_usage_per_day.py`
    // (openeemeter/eemeter), test_get_cdd_only_candidate_models_qualified:
    // meter_value [1,1,1,6], cdd_65 [0,0.1,0,5] → beta_cdd 1.01, intercept 0.97,
    // r²_adj 1.00, QUALIFIED with max p 0.1.
    #[test]
    fn eemeter_cdd_only_qualified() {
        let d = data(&[1.0, 1.0, 1.0, 6.0], None);
        let c = single_dd_candidate(&d, ModelType::CddOnly, 65.0, &[0.0, 0.1, 0.0, 5.0], &lax())
            .unwrap();
        assert_eq!(c.status, CandidateStatus::Qualified);
        assert_eq!((c.cooling_slope.unwrap() * 100.0).round() / 100.0, 1.01);
        assert_eq!((c.intercept * 100.0).round() / 100.0, 0.97);
        assert_eq!((c.r2_adj * 100.0).round() / 100.0, 1.0);
    }

    // Same source, ..._qualified_with_weights: weights [1,100,1,1] → beta 1.02, intercept 0.9.
    #[test]
    fn eemeter_cdd_only_weighted() {
        let d = data(&[1.0, 1.0, 1.0, 6.0], Some(&[1.0, 100.0, 1.0, 1.0]));
        let c = single_dd_candidate(&d, ModelType::CddOnly, 65.0, &[0.0, 0.1, 0.0, 5.0], &lax())
            .unwrap();
        assert_eq!((c.cooling_slope.unwrap() * 100.0).round() / 100.0, 1.02);
        assert_eq!((c.intercept * 100.0).round() / 100.0, 0.9);
    }

    // Same source, test_get_hdd_only_candidate_models_disqualified: meter [1,1,1,-4],
    // max p-value 0.0 → beta −1.01, intercept 1.03, DISQUALIFIED with 2 warnings.
    #[test]
    fn eemeter_hdd_only_disqualified() {
        let s = CaltrackSettings {
            max_p_value: 0.0,
            ..lax()
        };
        let d = data(&[1.0, 1.0, 1.0, -4.0], None);
        let c =
            single_dd_candidate(&d, ModelType::HddOnly, 65.0, &[0.0, 0.1, 0.0, 5.0], &s).unwrap();
        assert_eq!(c.status, CandidateStatus::Disqualified);
        assert_eq!((c.heating_slope.unwrap() * 100.0).round() / 100.0, -1.01);
        assert_eq!((c.intercept * 100.0).round() / 100.0, 1.03);
        assert_eq!(c.warnings.len(), 2);
    }

    // Same source, test_get_cdd_only_candidate_models_not_attempted: minimum non-zero 10 and
    // minimum total 10 → NOT ATTEMPTED with 2 warnings.
    #[test]
    fn eemeter_not_attempted() {
        let s = CaltrackSettings {
            min_non_zero_degree_days: 10,
            min_total_degree_days: 10.0,
            ..lax()
        };
        let d = data(&[1.0, 1.0, 1.0, 6.0], None);
        let c =
            single_dd_candidate(&d, ModelType::CddOnly, 65.0, &[0.0, 0.1, 0.0, 5.0], &s).unwrap();
        assert_eq!(c.status, CandidateStatus::NotAttempted);
        assert_eq!(c.warnings.len(), 2);
    }

    // Same source, test_get_cdd_hdd_candidate_models_qualified (and _with_weights):
    // meter [6,1,1,6], cdd [5,0,0.1,0], hdd [0,0.1,0.1,5] → both betas 1.03, intercept 0.85;
    // weights [1,1,100,1] → 1.04 / 1.04 / 0.79.
    #[test]
    fn eemeter_cdd_hdd() {
        let y = [6.0, 1.0, 1.0, 6.0];
        let cdd = [5.0, 0.0, 0.1, 0.0];
        let hdd = [0.0, 0.1, 0.1, 5.0];
        let c = cdd_hdd_candidate(&data(&y, None), 65.0, &hdd, 65.0, &cdd, &lax()).unwrap();
        assert_eq!(c.status, CandidateStatus::Qualified);
        assert_eq!((c.heating_slope.unwrap() * 100.0).round() / 100.0, 1.03);
        assert_eq!((c.cooling_slope.unwrap() * 100.0).round() / 100.0, 1.03);
        assert_eq!((c.intercept * 100.0).round() / 100.0, 0.85);
        let w = [1.0, 1.0, 100.0, 1.0];
        let c = cdd_hdd_candidate(&data(&y, Some(&w)), 65.0, &hdd, 65.0, &cdd, &lax()).unwrap();
        assert_eq!((c.heating_slope.unwrap() * 100.0).round() / 100.0, 1.04);
        assert_eq!((c.cooling_slope.unwrap() * 100.0).round() / 100.0, 1.04);
        assert_eq!((c.intercept * 100.0).round() / 100.0, 0.79);
    }

    // Same source, test_get_intercept_only_candidate_models_*: arange(10) → 4.5 QUALIFIED,
    // r²_adj 0; negated → −4.5 DISQUALIFIED; weights arange(10) → 6.33.
    #[test]
    fn eemeter_intercept_only() {
        let y: Vec<f64> = (0..10).map(f64::from).collect();
        let c = intercept_only_candidate(&data(&y, None)).unwrap();
        assert_eq!(c.status, CandidateStatus::Qualified);
        assert_eq!((c.intercept * 100.0).round() / 100.0, 4.5);
        assert_eq!(c.r2_adj, 0.0);
        let neg: Vec<f64> = y.iter().map(|v| -v).collect();
        let c = intercept_only_candidate(&data(&neg, None)).unwrap();
        assert_eq!(c.status, CandidateStatus::Disqualified);
        let c = intercept_only_candidate(&data(&y, Some(&y))).unwrap();
        assert_eq!((c.intercept * 100.0).round() / 100.0, 6.33);
    }

    // Same source, test_select_best_candidate_ok / _none: highest r²_adj among QUALIFIED;
    // none when only disqualified candidates exist.
    #[test]
    fn eemeter_select_best() {
        let base = intercept_only_candidate(&data(&[1.0, 2.0], None)).unwrap();
        let hi = Candidate {
            r2_adj: 1.0,
            ..base.clone()
        };
        let lo = Candidate {
            r2_adj: 0.0,
            ..base.clone()
        };
        let dq = Candidate {
            r2_adj: 0.5,
            status: CandidateStatus::Disqualified,
            ..base
        };
        let all = [hi.clone(), lo, dq.clone()];
        assert_eq!(select_best(&all).unwrap().r2_adj, 1.0);
        assert!(select_best(&[dq]).is_none());
    }
}

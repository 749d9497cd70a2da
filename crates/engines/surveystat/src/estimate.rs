//! Design-based estimation for complex samples (复杂抽样估计): weighted means, proportions and
//! totals with Taylor-linearisation standard errors for stratified, clustered designs with a
//! finite-population correction, and the variance reduction of raking / calibration, following
//! R's `survey` package (Lumley 2004, 2010): with-replacement variance of PSU totals of the
//! influence values within strata, times `(1 − f_h)`; calibration enters through the residuals of
//! the influence values regressed (weighted) on the calibration variables.

use serde::Serialize;

use crate::error::{Result, SurveyError};
use crate::linalg::solve;
use crate::quantiles::z_for_level;
use crate::weighting::{Margin, RakeOptions, WeightSummary, kish, margin_design, rake};

/// A sample design: weights, optional strata, first-stage clusters (PSUs), FPC, calibration.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    weights: Vec<f64>,
    strata: Vec<usize>,
    psu: Vec<usize>,
    fpc: Option<Vec<f64>>,
    /// Calibration variables and the regression weights of the variance projection (the
    /// pre-calibration weights, divided by the working-model variance when there is one).
    calibration: Option<(Vec<Vec<f64>>, Vec<f64>)>,
}

impl Design {
    /// A design with the given sampling weights (one stratum, every unit its own PSU).
    pub fn new(weights: Vec<f64>) -> Result<Self> {
        if let Some(i) = weights.iter().position(|w| !w.is_finite() || *w <= 0.0) {
            return Err(SurveyError::Spec(format!(
                "weight of respondent {} must be positive",
                i + 1
            )));
        }
        let n = weights.len();
        Ok(Self {
            weights,
            strata: vec![0; n],
            psu: (0..n).collect(),
            fpc: None,
            calibration: None,
        })
    }

    fn check_len(&self, len: usize, what: &str) -> Result<()> {
        if len != self.weights.len() {
            return Err(SurveyError::Spec(format!(
                "{what} has {len} values for {} respondents",
                self.weights.len()
            )));
        }
        Ok(())
    }

    /// Stratum code of each unit (分层).
    pub fn with_strata(mut self, strata: Vec<usize>) -> Result<Self> {
        self.check_len(strata.len(), "strata")?;
        self.strata = strata;
        Ok(self)
    }

    /// First-stage cluster (PSU) code of each unit (整群); PSU codes are taken within strata.
    pub fn with_clusters(mut self, clusters: Vec<usize>) -> Result<Self> {
        self.check_len(clusters.len(), "clusters")?;
        self.psu = clusters;
        Ok(self)
    }

    /// Finite-population correction per unit, as R's `survey`: the population number of PSUs
    /// in the unit's stratum, or the sampling fraction when every value is < 1.
    pub fn with_fpc(mut self, fpc: Vec<f64>) -> Result<Self> {
        self.check_len(fpc.len(), "fpc")?;
        if let Some(i) = fpc.iter().position(|f| !f.is_finite() || *f <= 0.0) {
            return Err(SurveyError::Spec(format!(
                "fpc of respondent {} must be positive",
                i + 1
            )));
        }
        self.fpc = Some(fpc);
        Ok(self)
    }

    /// Set the weights to the inverse first-stage selection probabilities implied by the FPC
    /// (`N_h / n_h` with `n_h` sampled PSUs, or `1 / f_h` for a sampling fraction), as
    /// `survey::svydesign` does when only `fpc` is given. Call after strata, clusters and fpc.
    pub fn with_weights_from_fpc(mut self) -> Result<Self> {
        let Some(fpc) = &self.fpc else {
            return Err(SurveyError::Spec("weights from fpc need an fpc".into()));
        };
        use std::collections::{BTreeMap, BTreeSet};
        let mut psus: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
        for (h, c) in self.strata.iter().zip(&self.psu) {
            psus.entry(*h).or_default().insert(*c);
        }
        for i in 0..self.weights.len() {
            let nh = psus.get(&self.strata[i]).map_or(1, BTreeSet::len) as f64;
            self.weights[i] = if fpc[i] < 1.0 {
                1.0 / fpc[i]
            } else {
                fpc[i] / nh
            };
        }
        Ok(self)
    }

    /// Rake the weights to `margins` and remember the margins for the variance.
    pub fn raked(mut self, margins: &[Margin], opts: &RakeOptions) -> Result<Self> {
        let r = rake(&self.weights, margins, opts)?;
        let before = std::mem::replace(&mut self.weights, r.weights);
        self.calibration = Some((margin_design(margins).0, before));
        Ok(self)
    }

    /// Calibrate the weights linearly (GREG) to `totals` of the auxiliary columns `x`, with an
    /// optional working-model variance `σ²_i` (default 1) and optional bounds on `g = w/d`, and
    /// remember `x` for the variance (residuals weighted by `d/σ²`, as `survey::calibrate`).
    pub fn calibrated_linear(
        mut self,
        x: Vec<Vec<f64>>,
        totals: &[f64],
        sigma2: Option<Vec<f64>>,
        bounds: Option<(f64, f64)>,
    ) -> Result<Self> {
        let s2 = sigma2.unwrap_or_else(|| vec![1.0; self.weights.len()]);
        let c = crate::weighting::calibrate_linear_heteroscedastic(
            &self.weights,
            &x,
            totals,
            &s2,
            bounds,
        )?;
        self.check_len(x.first().map_or(0, Vec::len), "auxiliary column")?;
        let reg: Vec<f64> = self.weights.iter().zip(&s2).map(|(d, v)| d / v).collect();
        self.weights = c.weights;
        self.calibration = Some((x, reg));
        Ok(self)
    }

    /// Replace the weights by calibrated ones, calibrated on the auxiliary columns `aux`.
    pub fn calibrated(mut self, weights: Vec<f64>, aux: Vec<Vec<f64>>) -> Result<Self> {
        self.check_len(weights.len(), "calibrated weights")?;
        if aux.iter().any(|c| c.len() != weights.len()) {
            return Err(SurveyError::Spec("auxiliary column length differs".into()));
        }
        let before = std::mem::replace(&mut self.weights, weights);
        self.calibration = Some((aux, before));
        Ok(self)
    }

    /// Current weights.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// True when the design has no units.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// Residualise weighted influence values `u_i = w_i e_i` on the calibration variables:
    /// `u_i ← w_i (e_i − x_iᵀβ)` with β from the regression of `e` on `x` weighted by the
    /// pre-calibration weights, exactly as `survey::calibrate` (`qr.resid` on `√d·x`).
    fn calibration_residuals(&self, u: &mut [f64]) -> Result<()> {
        let Some((x, d)) = &self.calibration else {
            return Ok(());
        };
        let k = x.len();
        let mut a = vec![0.0; k * k];
        let mut b = vec![0.0; k];
        for (i, (&ui, &wi)) in u.iter().zip(&self.weights).enumerate() {
            let e = ui / wi;
            for r in 0..k {
                b[r] += d[i] * x[r][i] * e;
                for c in r..k {
                    a[r * k + c] += d[i] * x[r][i] * x[c][i];
                }
            }
        }
        for r in 0..k {
            for c in 0..r {
                a[r * k + c] = a[c * k + r];
            }
        }
        let beta = solve(&a, &b, k)?;
        for (i, (ui, &wi)) in u.iter_mut().zip(&self.weights).enumerate() {
            let fit: f64 = (0..k).map(|r| x[r][i] * beta[r]).sum();
            *ui -= wi * fit;
        }
        Ok(())
    }

    /// Linearisation variance of an estimator with weighted influence values `u`.
    pub fn variance(&self, influence: &[f64]) -> Result<f64> {
        self.check_len(influence.len(), "influence")?;
        let mut u = influence.to_vec();
        self.calibration_residuals(&mut u)?;
        // PSU totals within strata.
        use std::collections::BTreeMap;
        let mut strata: BTreeMap<usize, (BTreeMap<usize, f64>, Option<f64>)> = BTreeMap::new();
        for (i, &ui) in u.iter().enumerate() {
            let e = strata.entry(self.strata[i]).or_default();
            *e.0.entry(self.psu[i]).or_insert(0.0) += ui;
            if let Some(f) = &self.fpc {
                match e.1 {
                    None => e.1 = Some(f[i]),
                    Some(prev) if (prev - f[i]).abs() > 1e-9 * prev.abs().max(1.0) => {
                        return Err(SurveyError::Spec(format!(
                            "fpc differs within a stratum (respondent {})",
                            i + 1
                        )));
                    }
                    _ => {}
                }
            }
        }
        let mut v = 0.0;
        for (h, (psus, fpc)) in &strata {
            let nh = psus.len() as f64;
            let frac = match fpc {
                None => 0.0,
                Some(f) if *f < 1.0 => *f,
                Some(f) => nh / f,
            };
            if frac > 1.0 + 1e-9 {
                return Err(SurveyError::Spec(format!(
                    "stratum {h}: {nh} sampled PSUs exceed the population count in fpc"
                )));
            }
            if psus.len() < 2 {
                if frac >= 1.0 - 1e-12 {
                    continue;
                }
                return Err(SurveyError::Numerical(format!(
                    "stratum {h} has a single PSU: its variance cannot be estimated"
                )));
            }
            let mean = psus.values().sum::<f64>() / nh;
            let ss: f64 = psus.values().map(|t| (t - mean).powi(2)).sum();
            v += (1.0 - frac).max(0.0) * nh / (nh - 1.0) * ss;
        }
        Ok(v)
    }
}

/// One estimate with its design-based precision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Variable name.
    pub variable: String,
    /// Domain (group) label, if any.
    pub group: Option<String>,
    /// Weighted mean (or proportion for a 0/1 variable).
    pub mean: f64,
    /// Linearisation standard error of the mean.
    pub se: f64,
    /// Weighted total.
    pub total: f64,
    /// Standard error of the total.
    pub total_se: f64,
    /// Lower confidence limit of the mean.
    pub ci_low: f64,
    /// Upper confidence limit of the mean.
    pub ci_high: f64,
    /// Design effect of the mean: design variance over the SRS-without-replacement variance.
    pub deff: f64,
    /// Respondents with a value in the domain.
    pub n: usize,
    /// Kish effective sample size of those respondents.
    pub n_eff: f64,
    /// Kish weighting design effect of those respondents.
    pub deff_w: f64,
    /// Confidence level used.
    pub level: f64,
}

/// Estimate the mean and total of `y` (missing values = outside the domain) in the domain
/// `domain` (all units when `None`), with a normal-theory confidence interval at `level`.
pub fn estimate(
    design: &Design,
    variable: &str,
    y: &[Option<f64>],
    domain: Option<(&str, &[bool])>,
    level: f64,
) -> Result<Estimate> {
    design.check_len(y.len(), variable)?;
    let inside = |i: usize| y[i].is_some() && domain.is_none_or(|(_, d)| d[i]);
    let w = design.weights();
    let idx: Vec<usize> = (0..y.len()).filter(|&i| inside(i)).collect();
    if idx.is_empty() {
        return Err(SurveyError::Numerical(format!(
            "`{variable}`{}: no respondent with a value",
            domain
                .map(|(g, _)| format!(" in group `{g}`"))
                .unwrap_or_default()
        )));
    }
    let nd: f64 = idx.iter().map(|&i| w[i]).sum();
    let total: f64 = idx.iter().map(|&i| w[i] * y[i].unwrap_or(0.0)).sum();
    let mean = total / nd;
    let mut u_mean = vec![0.0; y.len()];
    let mut u_total = vec![0.0; y.len()];
    for &i in &idx {
        let yi = y[i].unwrap_or(0.0);
        u_mean[i] = w[i] * (yi - mean) / nd;
        u_total[i] = w[i] * yi;
    }
    let v_mean = design.variance(&u_mean)?;
    let v_total = design.variance(&u_total)?;
    let se = v_mean.sqrt();
    let z = z_for_level(level);
    let n = idx.len();
    // SRS variance of the mean as R's svymean(deff = TRUE): svyvar / n · (N̂ − n)/N̂.
    let s2 = if n > 1 {
        idx.iter()
            .map(|&i| w[i] * (y[i].unwrap_or(0.0) - mean).powi(2))
            .sum::<f64>()
            / nd
            * n as f64
            / (n as f64 - 1.0)
    } else {
        f64::NAN
    };
    // R's svymean(deff = TRUE) on the (domain) subset: N̂_d = Σ_d w, factor (N̂_d − n_d)/N̂_d.
    let fpc_factor = if nd > n as f64 {
        (nd - n as f64) / nd
    } else {
        1.0
    };
    let srs = s2 / n as f64 * fpc_factor;
    let ws: Vec<f64> = idx.iter().map(|&i| w[i]).collect();
    let WeightSummary { n_eff, deff_w, .. } = kish(&ws);
    Ok(Estimate {
        variable: variable.to_string(),
        group: domain.map(|(g, _)| g.to_string()),
        mean,
        se,
        total,
        total_se: v_total.sqrt(),
        ci_low: mean - z * se,
        ci_high: mean + z * se,
        deff: v_mean / srs,
        n,
        n_eff,
        deff_w,
        level,
    })
}

/// Estimate `y` overall and in every group of `groups` (domain estimation uses the full design).
pub fn estimate_by(
    design: &Design,
    variable: &str,
    y: &[Option<f64>],
    groups: &[String],
    level: f64,
) -> Result<Vec<Estimate>> {
    design.check_len(groups.len(), "groups")?;
    let mut levels: Vec<&String> = groups.iter().collect();
    levels.sort();
    levels.dedup();
    levels
        .into_iter()
        .map(|g| {
            let d: Vec<bool> = groups.iter().map(|x| x == g).collect();
            estimate(design, variable, y, Some((g, &d)), level)
        })
        .collect()
}

/// Proportions of each category of `labels` (each an [`Estimate`] of the 0/1 indicator).
pub fn proportions(
    design: &Design,
    variable: &str,
    labels: &[Option<String>],
    level: f64,
) -> Result<Vec<Estimate>> {
    let mut cats: Vec<&String> = labels.iter().flatten().collect();
    cats.sort();
    cats.dedup();
    cats.into_iter()
        .map(|c| {
            let y: Vec<Option<f64>> = labels
                .iter()
                .map(|l| l.as_ref().map(|l| f64::from(u8::from(l == c))))
                .collect();
            estimate(design, &format!("{variable}={c}"), &y, None, level)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().copied().map(Some).collect()
    }

    /// Stratified SRS worked by hand with Cochran (1977) eq. 5.6 / Lohr (2019) eq. 3.5:
    /// stratum A: N=10, y = 1,2,3 (s² = 1); stratum B: N=20, y = 4,6 (s² = 2).
    /// t̂ = 10·2 + 20·5 = 120; V(t̂) = 10²(1−3/10)·1/3 + 20²(1−2/20)·2/2 = 23.333… + 360.
    /// ȳ = 120/30 = 4, V(ȳ) = V(t̂)/30² = 0.425926.
    #[test]
    fn stratified_srs_matches_cochran() {
        let w = vec![10.0 / 3.0, 10.0 / 3.0, 10.0 / 3.0, 10.0, 10.0];
        let d = Design::new(w)
            .unwrap()
            .with_strata(vec![0, 0, 0, 1, 1])
            .unwrap()
            .with_fpc(vec![10.0, 10.0, 10.0, 20.0, 20.0])
            .unwrap();
        let e = estimate(&d, "y", &some(&[1.0, 2.0, 3.0, 4.0, 6.0]), None, 0.95).unwrap();
        let vt: f64 = 100.0 * 0.7 / 3.0 + 400.0 * 0.9;
        assert!((e.total - 120.0).abs() < 1e-9);
        assert!((e.total_se - vt.sqrt()).abs() < 1e-9);
        assert!((e.mean - 4.0).abs() < 1e-12);
        assert!((e.se - (vt / 900.0).sqrt()).abs() < 1e-12);
        // The same fractions given as sampling fractions (< 1) give the same answer.
        let d2 = Design::new(vec![10.0 / 3.0, 10.0 / 3.0, 10.0 / 3.0, 10.0, 10.0])
            .unwrap()
            .with_strata(vec![0, 0, 0, 1, 1])
            .unwrap()
            .with_fpc(vec![0.3, 0.3, 0.3, 0.1, 0.1])
            .unwrap();
        let e2 = estimate(&d2, "y", &some(&[1.0, 2.0, 3.0, 4.0, 6.0]), None, 0.95).unwrap();
        assert!((e2.se - e.se).abs() < 1e-12);
    }

    /// One-stage cluster sample worked by hand (Lohr 2019, eqs. 5.3 and 5.15): 3 of N = 10
    /// clusters, y = {2,4}, {3}, {5,7,9}; w = 10/3. t̂ = 100, s_t² = 93,
    /// V(t̂) = 10²(1 − 0.3)·93/3 = 2170; ratio mean 5 with s_r² = 28, M̄ = 2:
    /// V(ȳ) = (1 − 0.3)·28/(3·4) = 1.63333.
    #[test]
    fn one_stage_cluster_matches_lohr() {
        let d = Design::new(vec![10.0 / 3.0; 6])
            .unwrap()
            .with_clusters(vec![1, 1, 2, 3, 3, 3])
            .unwrap()
            .with_fpc(vec![10.0; 6])
            .unwrap();
        let e = estimate(&d, "y", &some(&[2.0, 4.0, 3.0, 5.0, 7.0, 9.0]), None, 0.95).unwrap();
        assert!((e.total - 100.0).abs() < 1e-9);
        assert!((e.total_se - 2170f64.sqrt()).abs() < 1e-9);
        assert!((e.mean - 5.0).abs() < 1e-12);
        assert!((e.se - (0.7 * 28.0 / 12.0f64).sqrt()).abs() < 1e-12);
    }

    /// Post-stratified SRS (no fpc), by hand with the linearisation R's `survey` uses
    /// (Lumley 2010, §7.2): y = 1,3 in cell 0 and 10,14 in cell 1, N = (50, 50).
    /// ȳ_ps = 7; residuals from cell means r = (−1, 1, −2, 2), w = 25, N̂ = 100:
    /// V = n/(n−1) Σ (w r / N̂)² = 4/3 · 0.625 = 0.83333.
    #[test]
    fn poststratified_variance_uses_cell_residuals() {
        let m = Margin::new(
            "cell",
            vec!["a".into(), "b".into()],
            vec![0, 0, 1, 1],
            vec![50.0, 50.0],
        )
        .unwrap();
        let d = Design::new(vec![1.0; 4])
            .unwrap()
            .raked(&[m], &RakeOptions::default())
            .unwrap();
        let e = estimate(&d, "y", &some(&[1.0, 3.0, 10.0, 14.0]), None, 0.95).unwrap();
        assert!((e.mean - 7.0).abs() < 1e-12);
        assert!((e.se - (4.0 / 3.0 * 0.625f64).sqrt()).abs() < 1e-9);
        // The population size is known exactly after calibration: the SE of N̂ is zero.
        let ones = estimate(&d, "one", &some(&[1.0; 4]), None, 0.95).unwrap();
        assert!(ones.total_se < 1e-9);
    }

    /// Domain estimation, unconditional approach (Lohr 2019, §4.3; Lumley 2010, §2.4):
    /// SRS y = 1,2,3,4 (w = 1, no fpc), domain a = first two. ȳ_a = 1.5; influence
    /// u = (y − 1.5)/2 inside a, 0 outside → (−0.25, 0.25, 0, 0); V = 4/3 · 0.125 = 1/6.
    #[test]
    fn domain_uses_the_full_design() {
        let d = Design::new(vec![1.0; 4]).unwrap();
        let g: Vec<String> = ["a", "a", "b", "b"].iter().map(|s| s.to_string()).collect();
        let e = estimate_by(&d, "y", &some(&[1.0, 2.0, 3.0, 4.0]), &g, 0.95).unwrap();
        assert_eq!(e[0].group.as_deref(), Some("a"));
        assert!((e[0].mean - 1.5).abs() < 1e-12);
        assert!((e[0].se - (1.0f64 / 6.0).sqrt()).abs() < 1e-12);
        assert_eq!(e[0].n, 2);
        // A proportion is the mean of an indicator: p(a) = 0.5, u = ±(1 − 0.5)/4, so
        // SE² = 4/3 · 4 · 0.125² = p(1 − p)/(n − 1) = 0.25/3 (Cochran 1977, eq. 3.8 without fpc).
        let labels: Vec<Option<String>> = g.iter().cloned().map(Some).collect();
        let p = proportions(&d, "g", &labels, 0.95).unwrap();
        assert!((p[0].mean - 0.5).abs() < 1e-12);
        assert!((p[0].se - (0.25f64 / 3.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn lonely_psu_is_an_error() {
        let d = Design::new(vec![1.0, 1.0, 1.0])
            .unwrap()
            .with_strata(vec![0, 0, 1])
            .unwrap();
        assert!(estimate(&d, "y", &some(&[1.0, 2.0, 3.0]), None, 0.95).is_err());
    }
}

//! Operating characteristic: Pa = P(d ≤ Ac) under the binomial (% nonconforming), Poisson
//! (nonconformities per 100 items) and hypergeometric (isolated finite lot) models; the
//! quality at a given Pa; zero-acceptance sample sizes.
//!
//! Every term is computed in log space (binomial coefficients by recurrence, factorials
//! through `ln Γ`), so n in the thousands never overflows an f64 factorial.

use crate::error::{Result, SamplingError};
use serde::Serialize;
use statrs::function::gamma::ln_gamma;

/// Probability model of the number of nonconforming items in the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Binomial: fraction nonconforming p of an infinite (or large) lot.
    Binomial,
    /// Poisson with mean n·p: nonconformities per item (p = per-100 rate / 100).
    Poisson,
    /// Hypergeometric: exactly D = round(p·N) nonconforming items in a lot of N.
    Hypergeometric {
        /// Lot size N.
        lot: u64,
    },
}

fn check_p(p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(SamplingError::arg(
            "p",
            format!("{p} is not a fraction in [0, 1]"),
        ))
    }
}

fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// Binomial Pa = Σ_{k ≤ Ac} C(n,k) p^k (1−p)^{n−k}.
pub fn binomial_pa(n: u32, ac: u32, p: f64) -> Result<f64> {
    check_p(p)?;
    if ac >= n || p == 0.0 {
        return Ok(1.0);
    }
    if p == 1.0 {
        return Ok(0.0);
    }
    let (lp, lq) = (p.ln(), (-p).ln_1p());
    let mut ln_c = 0.0; // ln C(n, 0)
    let mut sum = 0.0;
    for k in 0..=ac {
        if k > 0 {
            ln_c += f64::from(n - k + 1).ln() - f64::from(k).ln();
        }
        sum += (ln_c + f64::from(k) * lp + f64::from(n - k) * lq).exp();
    }
    Ok(sum.min(1.0))
}

/// Poisson Pa = Σ_{k ≤ Ac} e^{−λ} λ^k / k!, λ = n·p.
pub fn poisson_pa(n: u32, ac: u32, p: f64) -> Result<f64> {
    if !(p >= 0.0 && p.is_finite()) {
        return Err(SamplingError::arg("p", format!("{p} is not a rate ≥ 0")));
    }
    let lambda = f64::from(n) * p;
    if lambda == 0.0 {
        return Ok(1.0);
    }
    let ll = lambda.ln();
    let sum: f64 = (0..=ac)
        .map(|k| (-lambda + f64::from(k) * ll - ln_gamma(f64::from(k) + 1.0)).exp())
        .sum();
    Ok(sum.min(1.0))
}

/// Hypergeometric Pa = Σ_{k ≤ Ac} C(D,k) C(N−D,n−k) / C(N,n).
pub fn hypergeometric_pa(n: u32, ac: u32, lot: u64, defectives: u64) -> Result<f64> {
    let n64 = u64::from(n);
    if n64 > lot {
        return Err(SamplingError::arg(
            "n",
            format!("sample {n} exceeds the lot of {lot}"),
        ));
    }
    if defectives > lot {
        return Err(SamplingError::arg(
            "defectives",
            format!("{defectives} exceeds the lot of {lot}"),
        ));
    }
    let total = ln_choose(lot, n64);
    let lo = (n64 + defectives).saturating_sub(lot);
    let hi = u64::from(ac).min(defectives).min(n64);
    if lo > hi {
        return Ok(0.0);
    }
    let sum: f64 = (lo..=hi)
        .map(|k| (ln_choose(defectives, k) + ln_choose(lot - defectives, n64 - k) - total).exp())
        .sum();
    Ok(sum.min(1.0))
}

/// Number of nonconforming items in a lot of N at fraction p: round(p·N).
pub fn defectives_in_lot(p: f64, lot: u64) -> Result<u64> {
    check_p(p)?;
    Ok((p * lot as f64).round() as u64)
}

/// Pa of the plan (n, Ac) at quality p under `model`.
pub fn pa(model: Model, n: u32, ac: u32, p: f64) -> Result<f64> {
    match model {
        Model::Binomial => binomial_pa(n, ac, p),
        Model::Poisson => poisson_pa(n, ac, p),
        Model::Hypergeometric { lot } => hypergeometric_pa(n, ac, lot, defectives_in_lot(p, lot)?),
    }
}

/// The quality p at which the plan's Pa equals `target` (binomial or Poisson; Pa falls
/// continuously in p), by bisection to 1e-12. Pa = 0.95 gives the producer's-risk point
/// (≈ AQL side), Pa = 0.10 the limiting quality.
pub fn p_at_pa(model: Model, n: u32, ac: u32, target: f64) -> Result<f64> {
    if !(target > 0.0 && target < 1.0) {
        return Err(SamplingError::arg(
            "pa",
            format!("{target} is not in (0, 1)"),
        ));
    }
    if n == 0 || ac >= n {
        return Err(SamplingError::arg("ac", "Pa is 1 at every p when Ac ≥ n"));
    }
    let hi_p = match model {
        Model::Binomial => 1.0,
        // Poisson Pa → 0 as λ grows; λ = ac + 50·√(ac+1) + 50 is far past any target.
        Model::Poisson => (f64::from(ac) + 50.0 * f64::from(ac + 1).sqrt() + 50.0) / f64::from(n),
        Model::Hypergeometric { .. } => {
            return Err(SamplingError::arg(
                "model",
                "the hypergeometric Pa moves in steps of 1/N: no unique p",
            ));
        }
    };
    let (mut lo, mut hi) = (0.0_f64, hi_p);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if pa(model, n, ac, mid)? > target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 {
            break;
        }
    }
    Ok(0.5 * (lo + hi))
}

/// Smallest zero-acceptance sample (Ac = 0) that meets a lot at fraction nonconforming `p1`
/// with probability ≥ 1 − β: n = ⌈ln β / ln(1 − p₁)⌉ (binomial). `zero_acceptance(0.20, 0.05)`
/// is 14, as in PyPI `lotsampling` 0.2.0's docstring.
pub fn zero_acceptance(p1: f64, beta: f64) -> Result<u64> {
    check_zero_args(p1, beta)?;
    if p1 == 1.0 {
        return Ok(1);
    }
    let n = (beta.ln() / (-p1).ln_1p()).ceil();
    // Guard against ln rounding just above an integer.
    let n = if n > 1.0 && (1.0 - p1).powf(n - 1.0) <= beta {
        n - 1.0
    } else {
        n
    };
    Ok(n.max(1.0) as u64)
}

/// Hypergeometric form for a finite lot of N with D = ⌈p₁·N⌉ nonconforming items: the
/// smallest n with P(d = 0) = C(N−D, n)/C(N, n) ≤ β (never more than N − D + 1 ≤ N).
pub fn zero_acceptance_finite(p1: f64, beta: f64, lot: u64) -> Result<u64> {
    check_zero_args(p1, beta)?;
    if lot == 0 {
        return Err(SamplingError::arg("lot", "a lot has at least 1 item"));
    }
    let exact = p1 * lot as f64;
    let d = if (exact - exact.round()).abs() < 1e-9 {
        exact.round()
    } else {
        exact.ceil()
    } as u64;
    if d == 0 {
        return Err(SamplingError::arg(
            "p1",
            format!("{p1} of a lot of {lot} is less than one item"),
        ));
    }
    let mut p0 = 1.0_f64;
    for n in 1..=lot {
        let i = n - 1;
        p0 *= (lot - d).saturating_sub(i) as f64 / (lot - i) as f64;
        if p0 <= beta {
            return Ok(n);
        }
    }
    Ok(lot)
}

fn check_zero_args(p1: f64, beta: f64) -> Result<()> {
    if !(p1 > 0.0 && p1 <= 1.0) {
        return Err(SamplingError::arg("p1", format!("{p1} is not in (0, 1]")));
    }
    if !(beta > 0.0 && beta < 1.0) {
        return Err(SamplingError::arg(
            "beta",
            format!("{beta} is not in (0, 1)"),
        ));
    }
    Ok(())
}

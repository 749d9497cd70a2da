//! Normalisation (COINr `R/normalise.R`), NA-aware. Directions are applied before
//! normalising by multiplying by the direction (COINr `directionalise`); for methods
//! with parameters on the original scale (goalposts, targets) the parameters are
//! moved to the directed scale too (a target t becomes −t; goalposts (lo, hi) become
//! (−hi, −lo)), which gives COINr's direction −1 formulas.

use crate::error::{IndexError, Result};
use crate::spec::Normalisation;
use crate::stats::{self, Ties};

/// Normalises one column `x` (already multiplied by its direction `dir`).
/// `target` is the indicator's iMeta target (original scale); `ref_value` the
/// reference unit's value (directionalised) for `dist2ref`.
pub fn normalise(
    x: &[f64],
    method: &Normalisation,
    dir: f64,
    target: Option<f64>,
    ref_value: Option<f64>,
    code: &str,
) -> Result<Vec<f64>> {
    let mn = stats::min(x);
    let mx = stats::max(x);
    let map = |f: &dyn Fn(f64) -> f64| -> Vec<f64> {
        x.iter()
            .map(|&v| if v.is_nan() { v } else { f(v) })
            .collect()
    };
    Ok(match method {
        Normalisation::Minmax { low, high } => map(&|v| (v - mn) / (mx - mn) * (high - low) + low),
        Normalisation::Zscore { mean, sd } => {
            let m = stats::mean(x);
            let s = stats::sd(x);
            map(&|v| (v - m) / s * sd + mean)
        }
        Normalisation::Scaled { a, b } => {
            let (a, b) = if dir > 0.0 { (*a, *b) } else { (-b, -a) };
            map(&|v| (v - a) / (b - a) * 100.0)
        }
        Normalisation::Goalposts { lo, hi, scale } => {
            // on the directed scale the goalposts swap: (x − hi)/(lo − hi) for direction −1
            let (lo, hi) = if dir > 0.0 { (*lo, *hi) } else { (-hi, -lo) };
            map(&|v| ((v - lo) / (hi - lo)).clamp(0.0, 1.0) * scale)
        }
        Normalisation::Dist2targ { cap_max } => {
            let t = target.ok_or_else(|| {
                IndexError::method("dist2targ", format!("indicator '{code}' has no Target"))
            })? * dir;
            map(&|v| {
                let y = (v - mn) / (t - mn);
                if *cap_max { y.min(1.0) } else { y }
            })
        }
        Normalisation::Dist2ref { cap_max, ref_unit } => {
            let r = ref_value.ok_or_else(|| {
                IndexError::method(
                    "dist2ref",
                    format!("reference unit '{ref_unit}' has no value for '{code}'"),
                )
            })?;
            map(&|v| {
                let y = 1.0 - (r - v) / (r - mn);
                if *cap_max { y.min(1.0) } else { y }
            })
        }
        Normalisation::Dist2max => map(&|v| 1.0 - (mx - v) / (mx - mn)),
        Normalisation::Fracmax => map(&|v| v / mx),
        Normalisation::Rank => stats::rank_ascending(x, Ties::Min),
        Normalisation::Borda => stats::rank_ascending(x, Ties::Min)
            .into_iter()
            .map(|r| r - 1.0)
            .collect(),
        Normalisation::Prank => {
            let n = x.iter().filter(|v| !v.is_nan()).count() as f64;
            stats::rank_ascending(x, Ties::Min)
                .into_iter()
                .map(|r| (r - 1.0) / (n - 1.0))
                .collect()
        }
        Normalisation::None => x.to_vec(),
    })
}

//! Data sufficiency of a CalTRACK baseline (CalTRACK 2.2) and the data-quality warnings of
//! 2.3.5–2.3.6.

use super::{CaltrackSettings, DesignPeriod};
use crate::warning::MvWarning;
use serde::{Deserialize, Serialize};

/// Outcome of the data-sufficiency rules (CalTRACK 2.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sufficiency {
    /// `true` when every rule passed.
    pub pass: bool,
    /// Days spanned by the baseline.
    pub n_days_total: i64,
    /// Days with valid usage and temperature.
    pub n_days_valid: usize,
    /// Rule failures and warnings.
    pub warnings: Vec<MvWarning>,
}

/// Applies CalTRACK 2.2 sufficiency rules: the baseline spans `baseline_days` days, at most
/// 10 % of days lack valid usage or temperature, plus warnings for negative values and for
/// values beyond median + 3·IQR (2.3.5–2.3.6).
pub fn sufficiency(design: &[DesignPeriod], settings: &CaltrackSettings) -> Sufficiency {
    let mut warnings = Vec::new();
    let (Some(first), Some(last)) = (design.first(), design.last()) else {
        return Sufficiency {
            pass: false,
            n_days_total: 0,
            n_days_valid: 0,
            warnings: vec![MvWarning::new("caltrack.sufficiency.no_data", "no data")],
        };
    };
    let span = (last.end - first.start).num_seconds() as f64 / 86_400.0;
    let n_days_total = span.round() as i64;
    let n_days_valid: usize = design
        .iter()
        .filter(|p| p.usage.is_some())
        .map(|p| p.n_days_kept)
        .sum();
    let mut pass = true;
    if n_days_total < settings.baseline_days {
        pass = false;
        warnings.push(MvWarning::new(
            "caltrack.sufficiency.too_few_days",
            format!(
                "baseline spans {n_days_total} days; {} required (2.2.1)",
                settings.baseline_days
            ),
        ));
    }
    let frac = n_days_valid as f64 / n_days_total.max(1) as f64;
    if frac < settings.min_fraction_daily_coverage {
        pass = false;
        warnings.push(MvWarning::new(
            "caltrack.sufficiency.too_many_missing_days",
            format!(
                "{n_days_valid} of {n_days_total} days valid ({:.1} %); {:.0} % required (2.2.1)",
                frac * 100.0,
                settings.min_fraction_daily_coverage * 100.0
            ),
        ));
    }
    let upd: Vec<f64> = design.iter().filter_map(|p| p.upd()).collect();
    let negatives = upd.iter().filter(|v| **v < 0.0).count();
    if negatives > 0 {
        warnings.push(MvWarning::new(
            "caltrack.data.negative_values",
            format!("{negatives} negative usage values (possible net metering, 2.3.5)"),
        ));
    }
    if let Some(limit) = crate::vee::outlier_limit(&upd, 3.0) {
        let extreme = upd.iter().filter(|v| **v > limit).count();
        if extreme > 0 {
            warnings.push(MvWarning::new(
                "caltrack.data.extreme_values",
                format!("{extreme} values above median + 3·IQR = {limit:.3} (2.3.6)"),
            ));
        }
    }
    Sufficiency {
        pass,
        n_days_total,
        n_days_valid,
        warnings,
    }
}

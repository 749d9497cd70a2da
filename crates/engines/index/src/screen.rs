//! Unit screening by data availability (COINr `Screen`).

use crate::model::Dataset;
use crate::spec::{ScreenSpec, UnitScreen};

/// Per-unit availability: share of present values and share of non-zero values.
pub fn availability(data: &Dataset) -> Vec<(f64, f64)> {
    let m = data.n_cols().max(1) as f64;
    (0..data.n_units())
        .map(|i| {
            let present = data.cols.iter().filter(|c| !c[i].is_nan()).count() as f64;
            let zeros = data.cols.iter().filter(|c| c[i] == 0.0).count() as f64;
            (present / m, zeros / m)
        })
        .collect()
}

/// Rows to keep (positions) and codes of the removed units.
pub fn screen_units(data: &Dataset, spec: &ScreenSpec) -> (Vec<usize>, Vec<String>) {
    let av = availability(data);
    let mut keep = Vec::new();
    let mut removed = Vec::new();
    for (i, (dat, zero)) in av.into_iter().enumerate() {
        let ok_na = dat >= spec.dat_thresh;
        let ok_zero = zero <= spec.nonzero_thresh;
        let ok = match spec.unit_screen {
            UnitScreen::ByNa => ok_na,
            UnitScreen::ByZeros => ok_zero,
            UnitScreen::ByNaAndZeros => ok_na && ok_zero,
        };
        if ok {
            keep.push(i);
        } else {
            removed.push(data.units[i].clone());
        }
    }
    (keep, removed)
}

//! Property tests of the weighting invariants: raked margins hit their totals, weights stay
//! positive, trimming bounds are respected, calibration meets its totals, n_eff ≤ n.

use proptest::prelude::*;
use qcity_surveystat::weighting::margin_design;
use qcity_surveystat::{Margin, RakeOptions, calibrate_linear, kish, rake};

fn margin(name: &str, codes: Vec<usize>, totals: Vec<f64>) -> Margin {
    let cats = (0..totals.len()).map(|c| format!("{name}{c}")).collect();
    Margin::new(name, cats, codes, totals).unwrap()
}

/// n respondents, two or three margins whose every category is present. The population totals
/// are the margins of a positive weighting `v` of the sample itself, so a raked solution exists
/// (Bishop, Fienberg & Holland 1975, Thm 3.5.1: IPF converges when the margins are attainable).
fn sample() -> impl Strategy<Value = (Vec<f64>, Vec<Margin>)> {
    (20usize..150, 2usize..4, 2usize..5, 2usize..4)
        .prop_flat_map(|(n, m, ka, kb)| {
            let base = prop::collection::vec(0.5f64..5.0, n);
            let truth = prop::collection::vec(0.2f64..20.0, n);
            let codes = prop::collection::vec(prop::collection::vec(0usize..100, n), m);
            (Just((n, ka, kb)), base, truth, codes)
        })
        .prop_map(|((n, ka, kb), base, truth, codes)| {
            let margins = codes
                .into_iter()
                .enumerate()
                .map(|(k, c)| {
                    let cats = if k % 2 == 0 { ka } else { kb };
                    // Every category appears: the first `cats` respondents cover them.
                    let codes: Vec<usize> = (0..n)
                        .map(|i| if i < cats { i } else { c[i] % cats })
                        .collect();
                    let mut totals = vec![0.0; cats];
                    for (c, v) in codes.iter().zip(&truth) {
                        totals[*c] += v;
                    }
                    margin(&format!("m{k}"), codes, totals)
                })
                .collect();
            (base, margins)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn raked_margins_hit_totals((base, margins) in sample()) {
        let opts = RakeOptions { tolerance: 1e-8, max_iterations: 5000, bounds: None };
        let r = rake(&base, &margins, &opts).unwrap();
        prop_assert!(r.weights.iter().all(|w| *w > 0.0));
        for m in &margins {
            prop_assert!(m.max_relative_error(&r.weights) <= 1e-8);
        }
        let s = kish(&r.weights);
        prop_assert!(s.n_eff <= base.len() as f64 + 1e-9);
        let grand: f64 = margins[0].totals.iter().sum();
        prop_assert!((s.sum_weights - grand).abs() < 1e-6 * grand);
    }

    #[test]
    fn trimming_bounds_are_respected((base, margins) in sample(), lo in 0.2f64..0.9, hi in 1.2f64..6.0) {
        let opts = RakeOptions { tolerance: 1e-6, max_iterations: 2000, bounds: Some((lo, hi)) };
        // Tight bounds may be infeasible; when raking succeeds the bounds must hold.
        let grand: f64 = margins[0].totals.iter().sum();
        let scale = grand / base.iter().sum::<f64>();
        let base: Vec<f64> = base.iter().map(|b| b * scale).collect();
        if let Ok(r) = rake(&base, &margins, &opts) {
            for (w, b) in r.weights.iter().zip(&base) {
                prop_assert!(*w >= lo * b * (1.0 - 1e-12) && *w <= hi * b * (1.0 + 1e-12));
            }
            for m in &margins {
                prop_assert!(m.max_relative_error(&r.weights) <= 1e-6);
            }
        }
    }

    #[test]
    fn linear_calibration_meets_totals((base, margins) in sample()) {
        let (x, totals) = margin_design(&margins);
        let c = calibrate_linear(&base, &x, &totals, None).unwrap();
        for (col, t) in x.iter().zip(&totals) {
            let s: f64 = col.iter().zip(&c.weights).map(|(a, w)| a * w).sum();
            prop_assert!((s - t).abs() <= 1e-7 * t.abs().max(1.0));
        }
    }
}

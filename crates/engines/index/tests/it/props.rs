//! Property tests (proptest) for the invariants of the methods.

use proptest::prelude::*;
use qcity_index::aggregate::{amean, genmean, gmean, hmean};
use qcity_index::normalise::normalise;
use qcity_index::spec::Normalisation;
use qcity_index::stats::{self, Ties};
use qcity_index::{impute, treat, weights};

fn finite_vec(min_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-1e6f64..1e6, min_len..40)
}

fn positive_matrix() -> impl Strategy<Value = Vec<Vec<f64>>> {
    (2usize..6, 4usize..20)
        .prop_flat_map(|(k, n)| prop::collection::vec(prop::collection::vec(0.01f64..1000.0, n), k))
}

proptest! {
    #[test]
    fn minmax_output_within_range(x in finite_vec(2), lo in -100f64..100.0, span in 0.1f64..1000.0) {
        prop_assume!(stats::max(&x) > stats::min(&x));
        let hi = lo + span;
        let y = normalise(&x, &Normalisation::Minmax { low: lo, high: hi }, 1.0, None, None, "x").unwrap();
        for v in &y {
            prop_assert!(*v >= lo - 1e-9 && *v <= hi + 1e-9);
        }
        prop_assert!((stats::min(&y) - lo).abs() < 1e-9 && (stats::max(&y) - hi).abs() < 1e-6);
    }

    #[test]
    fn zscore_has_requested_mean_and_sd(x in finite_vec(3), m in -10f64..10.0, s in 0.1f64..10.0) {
        prop_assume!(stats::sd(&x) > 1e-3);
        let y = normalise(&x, &Normalisation::Zscore { mean: m, sd: s }, 1.0, None, None, "x").unwrap();
        prop_assert!((stats::mean(&y) - m).abs() < 1e-6);
        prop_assert!((stats::sd(&y) - s).abs() < 1e-6);
    }

    #[test]
    fn normalisation_preserves_order(x in finite_vec(2)) {
        prop_assume!(stats::max(&x) > stats::min(&x));
        for m in [Normalisation::Minmax { low: 0.0, high: 100.0 }, Normalisation::Zscore { mean: 0.0, sd: 1.0 },
                  Normalisation::Dist2max, Normalisation::Rank, Normalisation::Prank] {
            let y = normalise(&x, &m, 1.0, None, None, "x").unwrap();
            for i in 0..x.len() {
                for j in 0..x.len() {
                    if x[i] < x[j] { prop_assert!(y[i] <= y[j] + 1e-9, "{m:?}"); }
                }
            }
        }
    }

    #[test]
    fn goalposts_within_zero_and_scale(x in finite_vec(1), lo in -100f64..0.0, hi in 1f64..100.0, dir in prop::bool::ANY) {
        let d = if dir { 1.0 } else { -1.0 };
        let xd: Vec<f64> = x.iter().map(|v| v * d).collect();
        let y = normalise(&xd, &Normalisation::Goalposts { lo, hi, scale: 100.0 }, d, None, None, "x").unwrap();
        for v in y { prop_assert!((0.0..=100.0).contains(&v)); }
    }

    #[test]
    fn aggregating_equal_values_returns_that_value(v in 0.01f64..1000.0, w in prop::collection::vec(0.01f64..10.0, 1..12), p in 0.5f64..4.0) {
        let x = vec![v; w.len()];
        prop_assert!((amean(&x, &w) - v).abs() < 1e-9 * v.max(1.0));
        prop_assert!((gmean(&x, &w).unwrap() - v).abs() < 1e-9 * v.max(1.0));
        prop_assert!((hmean(&x, &w).unwrap() - v).abs() < 1e-9 * v.max(1.0));
        prop_assert!((genmean(&x, &w, p).unwrap() - v).abs() < 1e-8 * v.max(1.0));
    }

    #[test]
    fn power_means_are_ordered(x in prop::collection::vec(0.01f64..1000.0, 1..12)) {
        let w = vec![1.0; x.len()];
        let (h, g, a) = (hmean(&x, &w).unwrap(), gmean(&x, &w).unwrap(), amean(&x, &w));
        prop_assert!(h <= g * (1.0 + 1e-12) && g <= a * (1.0 + 1e-12));
        prop_assert!(a >= stats::min(&x) - 1e-9 && a <= stats::max(&x) + 1e-9);
    }

    #[test]
    fn data_driven_weights_sum_to_one(m in positive_matrix()) {
        let sums = [
            weights::entropy(&m).map(|w| w.iter().sum::<f64>()),
            weights::std_weights(&m).map(|w| w.iter().sum::<f64>()),
            weights::critic(&m).map(|w| w.iter().sum::<f64>()),
            weights::pca(&m).map(|w| w.iter().sum::<f64>()),
        ];
        for s in sums.into_iter().flatten() {
            prop_assert!((s - 1.0).abs() < 1e-9, "{s}");
        }
        prop_assert!((weights::equal(m.len()).iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ahp_of_a_consistent_matrix_recovers_the_weights(w in prop::collection::vec(0.1f64..10.0, 3..8)) {
        let n = w.len();
        let m: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| w[i] / w[j]).collect()).collect();
        let a = weights::ahp(&m).unwrap();
        let s: f64 = w.iter().sum();
        for (ai, wi) in a.weights.iter().zip(&w) { prop_assert!((ai - wi / s).abs() < 1e-9); }
        prop_assert!(a.consistency_ratio.abs() < 1e-9);
        prop_assert!((a.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn benefit_of_doubt_scores_in_unit_interval(m in positive_matrix()) {
        let (s, _) = weights::benefit_of_doubt(&m).unwrap();
        for v in &s { prop_assert!(*v > 0.0 && *v <= 1.0 + 1e-9); }
        // at least one unit is on the frontier
        prop_assert!(s.iter().any(|v| (v - 1.0).abs() < 1e-9));
    }

    #[test]
    fn imputation_never_changes_present_values(x in prop::collection::vec(prop::option::weighted(0.8, -1e3f64..1e3), 2..30)) {
        let v: Vec<f64> = x.iter().map(|o| o.unwrap_or(f64::NAN)).collect();
        prop_assume!(v.iter().any(|a| !a.is_nan()));
        let g: Vec<String> = (0..v.len()).map(|i| (i % 3).to_string()).collect();
        for y in [impute::mean(&v), impute::median(&v), impute::mean_group(&v, &g)] {
            for (a, b) in v.iter().zip(&y) {
                if !a.is_nan() { prop_assert_eq!(a, b); }
            }
        }
        prop_assert!(impute::mean(&v).iter().all(|a| !a.is_nan()));
    }

    #[test]
    fn winsorisation_only_moves_extremes_inward(x in finite_vec(5), winmax in 0usize..6) {
        let mut y = x.clone();
        let (n, _) = treat::winsorise(&mut y, winmax, 2.0, 3.5);
        // every moved point now sits at the new maximum or minimum
        for (a, b) in x.iter().zip(&y) {
            if a != b {
                prop_assert!(*b == stats::max(&y) || *b == stats::min(&y));
            }
        }
        prop_assert!(stats::max(&y) <= stats::max(&x) && stats::min(&y) >= stats::min(&x));
        prop_assert!(n <= x.len());
    }

    #[test]
    fn ranks_are_a_permutation_without_ties(x in prop::collection::hash_set(-100000i64..100000, 1..40)) {
        let v: Vec<f64> = x.into_iter().map(|a| a as f64).collect();
        let mut r = stats::rank_ascending(&v, Ties::Min);
        r.sort_by(|a, b| a.total_cmp(b));
        let want: Vec<f64> = (1..=v.len()).map(|k| k as f64).collect();
        prop_assert_eq!(r, want);
    }
}

/// Fuzzing the pipeline spec parser (`pipeline.toml`, also typed into the evaluation run form):
/// arbitrary text and the COINr example spec with lines dropped, repeated or given random
/// values never panic, and whatever parses serialises back to the same spec.
mod spec_fuzz {
    use proptest::prelude::*;
    use qcity_index::spec::PipelineSpec;

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("\"\"".to_string()),
            Just("-1".to_string()),
            Just("1e309".to_string()),
            Just("nan".to_string()),
            Just("9223372036854775807".to_string()),
            Just("[1, \"a\", 2.5]".to_string()),
            Just("{ x = 1 }".to_string()),
            Just("\"minmax\"".to_string()),
            Just("\"genmean\"".to_string()),
            "-?[0-9]{1,20}(\\.[0-9]{1,4})?",
            "\"[a-z_]{0,8}\"",
            "\\PC{0,12}",
        ]
    }

    fn cases() -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(64)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
            let _ = PipelineSpec::from_toml(&s);
        }

        #[test]
        fn mutated_example_specs_never_panic_and_round_trip(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, value()), 1..8),
        ) {
            let example = PipelineSpec::coinr_example("Group").to_toml();
            let mut lines: Vec<String> = example.lines().map(str::to_string).collect();
            for (i, op, v) in edits {
                if lines.is_empty() {
                    break;
                }
                let k = i.index(lines.len());
                match op {
                    0 => {
                        lines.remove(k);
                    }
                    1 => {
                        let l = lines[k].clone();
                        lines.insert(k, l);
                    }
                    _ => {
                        if let Some((key, _)) = lines[k].split_once('=') {
                            lines[k] = format!("{key}= {v}");
                        }
                    }
                }
            }
            let text = lines.join("\n");
            if let Ok(spec) = PipelineSpec::from_toml(&text) {
                // Compared as text: a `nan` threshold is a valid float but never equal to itself.
                let again = PipelineSpec::from_toml(&spec.to_toml()).map(|s| s.to_toml());
                prop_assert_eq!(again.ok(), Some(spec.to_toml()));
            }
        }
    }
}

//! Oracle tests: every method against a published or independently computed value.
//! Sources are named next to each value.

use qcity_index::aggregate::{amean, copeland, genmean, gmean, hmean};
use qcity_index::model::Direction;
use qcity_index::normalise::normalise;
use qcity_index::results::{ProgressSpec, ProgressStatus, cagr, progress};
use qcity_index::spec::{ImputeMethod, Normalisation, TreatSpec};
use qcity_index::stats::{kurt, skew};
use qcity_index::topsis::{TopsisNormalisation, topsis};
use qcity_index::{diagnostics, impute, treat, uncertainty, weights};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn assert_vec(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!(close(*g, *w, tol), "got {got:?}\nwant {want:?}");
    }
}

// ---- skew, kurtosis, treatment (COINr 1.1.14 reference values, domain brief §2.3) ----

#[test]
fn skew_kurt_match_coinr_worked_example() {
    let x: Vec<f64> = (1..=10).map(f64::from).chain([100.0]).collect();
    assert!(close(skew(&x), 3.255638, 1e-6));
    assert!(close(kurt(&x), 10.706674, 1e-6));
    assert!(!treat::passes(&x, 2.0, 3.5));
    let (y, d) = treat::treat_column("x", &x, &TreatSpec::default());
    assert_eq!(d.n_winsorised, 1);
    assert_eq!(y[10], 10.0);
    assert!(d.passed && !d.transformed);
    assert_eq!(d.points[10], "winhi");
}

#[test]
fn log_ct_matches_coinr() {
    let y = treat::log_ct(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_vec(
        &y,
        &[-3.218876, 0.039221, 0.712950, 1.111858, 1.396245],
        1e-6,
    );
}

#[test]
fn fallback_applies_when_winsorisation_is_not_enough() {
    // a heavy tail that 1 winsorised point cannot fix
    let x: Vec<f64> = (1..=20)
        .map(f64::from)
        .chain([200.0, 400.0, 800.0])
        .collect();
    let spec = TreatSpec {
        winmax: 1,
        ..TreatSpec::default()
    };
    let (y, d) = treat::treat_column("x", &x, &spec);
    assert!(d.transformed);
    assert_vec(&y, &treat::log_ct(&x), 1e-12);
}

#[test]
fn boxcox_zero_lambda_is_log() {
    assert_vec(
        &treat::boxcox(&[1.0, 2.0, 3.0], 0.0),
        &[0.0, 2f64.ln(), 3f64.ln()],
        1e-12,
    );
    assert_vec(
        &treat::boxcox(&[1.0, 2.0, 3.0], 1.0),
        &[0.0, 1.0, 2.0],
        1e-12,
    );
}

// ---- normalisation (COINr formulas, domain brief §2.4) ----

#[test]
fn normalisations_follow_coinr_formulas() {
    let x = [1.0, 2.0, 3.0, 5.0];
    let n = |m: Normalisation, dir: f64| {
        let xd: Vec<f64> = x.iter().map(|v| v * dir).collect();
        normalise(&xd, &m, dir, Some(4.0), None, "x").unwrap()
    };
    assert_vec(
        &n(
            Normalisation::Minmax {
                low: 0.0,
                high: 100.0,
            },
            1.0,
        ),
        &[0.0, 25.0, 50.0, 100.0],
        1e-12,
    );
    assert_vec(
        &n(
            Normalisation::Minmax {
                low: 0.0,
                high: 100.0,
            },
            -1.0,
        ),
        &[100.0, 75.0, 50.0, 0.0],
        1e-12,
    );
    // z-score with sample sd: mean 2.75, sd = sqrt(2.9166…)
    let sd =
        (((1.75f64).powi(2) + 0.75f64.powi(2) + 0.25f64.powi(2) + 2.25f64.powi(2)) / 3.0).sqrt();
    assert_vec(
        &n(
            Normalisation::Zscore {
                mean: 10.0,
                sd: 2.0,
            },
            1.0,
        ),
        &x.map(|v| (v - 2.75) / sd * 2.0 + 10.0),
        1e-12,
    );
    assert_vec(
        &n(Normalisation::Scaled { a: 1.0, b: 5.0 }, 1.0),
        &[0.0, 25.0, 50.0, 100.0],
        1e-12,
    );
    assert_vec(
        &n(
            Normalisation::Goalposts {
                lo: 2.0,
                hi: 4.0,
                scale: 100.0,
            },
            1.0,
        ),
        &[0.0, 0.0, 50.0, 100.0],
        1e-12,
    );
    // direction −1 goalposts: (x − hi)/(lo − hi)
    assert_vec(
        &n(
            Normalisation::Goalposts {
                lo: 2.0,
                hi: 4.0,
                scale: 1.0,
            },
            -1.0,
        ),
        &[1.0, 1.0, 0.5, 0.0],
        1e-12,
    );
    // dist2targ: (x − min)/(targ − min), target 4
    assert_vec(
        &n(Normalisation::Dist2targ { cap_max: false }, 1.0),
        &[0.0, 1.0 / 3.0, 2.0 / 3.0, 4.0 / 3.0],
        1e-12,
    );
    assert_vec(
        &n(Normalisation::Dist2targ { cap_max: true }, 1.0),
        &[0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0],
        1e-12,
    );
    // direction −1 dist2targ: (max − x)/(max − targ)
    assert_vec(
        &n(Normalisation::Dist2targ { cap_max: false }, -1.0),
        &[4.0, 3.0, 2.0, 0.0],
        1e-12,
    );
    assert_vec(
        &n(Normalisation::Dist2max, 1.0),
        &[0.0, 0.25, 0.5, 1.0],
        1e-12,
    );
    assert_vec(
        &n(Normalisation::Fracmax, 1.0),
        &[0.2, 0.4, 0.6, 1.0],
        1e-12,
    );
    let y = [3.0, 1.0, 3.0, 2.0];
    let r = |m| normalise(&y, &m, 1.0, None, None, "y").unwrap();
    assert_vec(&r(Normalisation::Rank), &[3.0, 1.0, 3.0, 2.0], 0.0);
    assert_vec(&r(Normalisation::Borda), &[2.0, 0.0, 2.0, 1.0], 0.0);
    assert_vec(
        &r(Normalisation::Prank),
        &[2.0 / 3.0, 0.0, 2.0 / 3.0, 1.0 / 3.0],
        1e-12,
    );
    // dist2ref: 1 − (x_ref − x)/(x_ref − min), reference value 3
    let d = normalise(
        &x,
        &Normalisation::Dist2ref {
            ref_unit: "c".into(),
            cap_max: false,
        },
        1.0,
        None,
        Some(3.0),
        "x",
    )
    .unwrap();
    assert_vec(&d, &[0.0, 0.5, 1.0, 2.0], 1e-12);
}

#[test]
fn normalisation_keeps_missing_values() {
    let x = [1.0, f64::NAN, 3.0];
    let y = normalise(
        &x,
        &Normalisation::Minmax {
            low: 0.0,
            high: 1.0,
        },
        1.0,
        None,
        None,
        "x",
    )
    .unwrap();
    assert!(y[1].is_nan());
    assert_eq!((y[0], y[2]), (0.0, 1.0));
}

// ---- aggregation (COINr tests/testthat/test-aggregate.R; domain brief §2.6) ----

#[test]
fn aggregation_identities_from_coinr_tests() {
    assert!(close(
        gmean(&[1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]).unwrap(),
        6f64.powf(1.0 / 3.0),
        1e-12
    ));
    assert!(close(
        gmean(&[1.0, 2.0, 3.0], &[1.0, 1.0, 2.0]).unwrap(),
        (1.0f64 * 2.0 * 9.0).powf(0.25),
        1e-12
    ));
    let h = hmean(&[1.0, 2.0, 3.0], &[2.0, 1.0, 1.0]).unwrap();
    assert!(close(h, 4.0 / (2.0 + 0.5 + 1.0 / 3.0), 1e-12));
    assert!(close(
        genmean(&[1.0, 2.0, 3.0], &[2.0, 1.0, 1.0], -1.0).unwrap(),
        h,
        1e-12
    ));
    assert!(close(
        amean(&[1.0, f64::NAN, 3.0], &[1.0, 5.0, 3.0]),
        (1.0 + 9.0) / 4.0,
        1e-12
    ));
    assert!(gmean(&[0.0, 1.0], &[1.0, 1.0]).is_err());
}

#[test]
fn copeland_matches_coinr_worked_example() {
    let x = vec![
        vec![3.0, 1.0, 2.0],
        vec![1.0, 3.0, 2.0],
        vec![2.0, 2.0, 3.0],
        vec![2.0, 2.0, 1.0],
    ];
    assert_vec(
        &copeland(&x, &[0.25, 0.25, 0.5]),
        &[0.0, 0.0, 3.0, -3.0],
        0.0,
    );
}

// ---- weights (pymcdm 1.4.0 computed on Hwang & Yoon's aircraft data; numpy for AHP) ----

/// Hwang & Yoon (1981) fighter-aircraft selection: 4 alternatives × 6 criteria.
fn aircraft() -> Vec<Vec<f64>> {
    let rows = [
        [2.0, 1500.0, 20000.0, 5.5, 5.0, 9.0],
        [2.5, 2700.0, 18000.0, 6.5, 3.0, 5.0],
        [1.8, 2000.0, 21000.0, 4.5, 7.0, 7.0],
        [2.2, 1800.0, 20000.0, 5.0, 5.0, 5.0],
    ];
    (0..6)
        .map(|j| rows.iter().map(|r| r[j]).collect())
        .collect()
}

#[test]
fn entropy_weights_match_pymcdm() {
    let w = weights::entropy(&aircraft()).unwrap();
    assert_vec(
        &w,
        &[
            0.064189734602,
            0.206088164236,
            0.013444590874,
            0.081325628615,
            0.358680024345,
            0.276271857328,
        ],
        1e-9,
    );
}

#[test]
fn critic_weights_match_pymcdm() {
    let w = weights::critic(&aircraft()).unwrap();
    assert_vec(
        &w,
        &[
            0.169103526556,
            0.15848412111,
            0.170582553473,
            0.159874829243,
            0.162842050952,
            0.179112918665,
        ],
        1e-9,
    );
}

#[test]
fn std_weights_match_pymcdm() {
    let w = weights::std_weights(&aircraft()).unwrap();
    assert_vec(
        &w,
        &[
            1.684282948040e-04,
            2.876076674959e-01,
            7.097411133390e-01,
            4.816451478052e-04,
            9.210816963262e-04,
            1.080064026133e-03,
        ],
        1e-12,
    );
}

#[test]
fn ahp_matches_eigenvector_and_saaty_consistency() {
    // Each: pairwise matrix, weights, λmax, CR (numpy.linalg.eig, Saaty RI 0.58 / 0.90).
    type Case = (Vec<Vec<f64>>, Vec<f64>, f64, f64);
    let cases: [Case; 3] = [
        (
            vec![
                vec![1.0, 3.0, 5.0],
                vec![1.0 / 3.0, 1.0, 3.0],
                vec![0.2, 1.0 / 3.0, 1.0],
            ],
            vec![0.636985571745, 0.258284994374, 0.104729433881],
            3.0385110905581745,
            0.033199215998426276,
        ),
        (
            vec![
                vec![1.0, 1.0 / 3.0, 0.5],
                vec![3.0, 1.0, 3.0],
                vec![2.0, 1.0 / 3.0, 1.0],
            ],
            vec![0.157055789411, 0.59363368526, 0.249310525329],
            3.053621575878976,
            0.04622549644739328,
        ),
        (
            vec![
                vec![1.0, 5.0, 3.0, 7.0],
                vec![0.2, 1.0, 1.0 / 3.0, 3.0],
                vec![1.0 / 3.0, 3.0, 1.0, 5.0],
                vec![1.0 / 7.0, 1.0 / 3.0, 0.2, 1.0],
            ],
            vec![
                0.565009053799,
                0.117504250041,
                0.262201205561,
                0.055285490599,
            ],
            4.11698244344727,
            0.04332683090639635,
        ),
    ];
    for (m, w, lam, cr) in cases {
        let a = weights::ahp(&m).unwrap();
        assert_vec(&a.weights, &w, 1e-9);
        assert!(close(a.lambda_max, lam, 1e-9));
        assert!(close(a.consistency_ratio, cr, 1e-9));
        assert!(a.consistency_ratio < 0.1);
    }
    // an inconsistent matrix (λmax 10.43, CR 2.38) is flagged by CR ≥ 0.1
    let bad = vec![
        vec![1.0, 9.0, 1.0 / 9.0, 1.0],
        vec![1.0 / 9.0, 1.0, 9.0, 1.0],
        vec![9.0, 1.0 / 9.0, 1.0, 1.0],
        vec![1.0, 1.0, 1.0, 1.0],
    ];
    let a = weights::ahp(&bad).unwrap();
    assert!(close(a.consistency_ratio, 2.381210880614092, 1e-6));
    assert!(
        weights::ahp(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_err(),
        "not reciprocal"
    );
}

#[test]
fn pca_weights_of_two_equal_correlated_columns_are_equal() {
    let a = vec![1.0, 2.0, 3.0, 4.0, 5.0];
    let b = vec![2.0, 1.0, 4.0, 3.0, 6.0];
    let w = weights::pca(&[a, b]).unwrap();
    assert_vec(&w, &[0.5, 0.5], 1e-9);
}

#[test]
fn benefit_of_doubt_matches_linprog() {
    // scipy.optimize.linprog (HiGHS) on the same data
    let rows = [
        [0.625095466605, 0.89721380097, 0.775685690245],
        [0.225207189991, 0.300166284911, 0.873553445396],
        [0.005265304566, 0.821228418383, 0.797069428752],
        [0.467934952844, 0.303032426819, 0.278425612101],
        [0.254869587654, 0.445076305883, 0.504548258958],
        [0.553497352074, 0.995500283434, 0.792661919214],
    ];
    let cols: Vec<Vec<f64>> = (0..3)
        .map(|j| rows.iter().map(|r| r[j]).collect())
        .collect();
    let (s, w) = weights::benefit_of_doubt(&cols).unwrap();
    assert_vec(
        &s,
        &[
            1.0,
            1.0,
            0.982535127352,
            0.748581581283,
            0.612374803937,
            1.0,
        ],
        1e-9,
    );
    // each unit's own weights reproduce its score
    for u in 0..6 {
        let v: f64 = (0..3).map(|j| w[u][j] * rows[u][j]).sum();
        assert!(close(v, s[u], 1e-9));
    }
}

// ---- TOPSIS (Hwang & Yoon 1981 aircraft example; pymcdm 1.4.0) ----

#[test]
fn topsis_matches_hwang_yoon() {
    let dirs = [
        Direction::Positive,
        Direction::Positive,
        Direction::Positive,
        Direction::Negative,
        Direction::Positive,
        Direction::Positive,
    ];
    let w = [0.2, 0.1, 0.1, 0.1, 0.2, 0.3];
    let v = topsis(&aircraft(), &w, &dirs, TopsisNormalisation::Vector).unwrap();
    // Hwang & Yoon's published closeness: 0.643, 0.268, 0.614, 0.312
    assert_vec(
        &v,
        &[
            0.643277000553,
            0.268383567719,
            0.613542290007,
            0.312291065582,
        ],
        1e-9,
    );
    let m = topsis(&aircraft(), &w, &dirs, TopsisNormalisation::MinMax).unwrap();
    assert_vec(
        &m,
        &[
            0.612748184182,
            0.366025403784,
            0.530641941324,
            0.351689533777,
        ],
        1e-9,
    );
}

// ---- imputation ----

#[test]
fn imputation_by_column_and_group() {
    let x = [1.0, f64::NAN, 3.0, 10.0, f64::NAN, 30.0];
    let g: Vec<String> = ["a", "a", "a", "b", "b", "b"].map(String::from).to_vec();
    assert_vec(
        &impute::mean(&x),
        &[1.0, 11.0, 3.0, 10.0, 11.0, 30.0],
        1e-12,
    );
    assert_vec(
        &impute::median(&x),
        &[1.0, 6.5, 3.0, 10.0, 6.5, 30.0],
        1e-12,
    );
    assert_vec(
        &impute::mean_group(&x, &g),
        &[1.0, 2.0, 3.0, 10.0, 20.0, 30.0],
        1e-12,
    );
    assert_vec(
        &impute::median_group(&x, &g),
        &[1.0, 2.0, 3.0, 10.0, 20.0, 30.0],
        1e-12,
    );
}

#[test]
fn panel_imputation_latest_linear_constant() {
    // COINr impute_panel semantics
    let t = [2018, 2019, 2020, 2021, 2022];
    let x = [f64::NAN, 2.0, f64::NAN, f64::NAN, 8.0];
    let latest = impute::panel_series(&t, &x, ImputeMethod::Latest, None);
    assert!(
        latest[0].is_nan(),
        "latest does not fill before the first observation"
    );
    assert_vec(&latest[1..], &[2.0, 2.0, 2.0, 8.0], 0.0);
    assert_vec(
        &impute::panel_series(&t, &x, ImputeMethod::Linear, None),
        &[2.0, 2.0, 4.0, 6.0, 8.0],
        1e-12,
    );
    assert_vec(
        &impute::panel_series(&t, &x, ImputeMethod::Constant, None),
        &[2.0, 2.0, 2.0, 2.0, 8.0],
        0.0,
    );
    let lim = impute::panel_series(&t, &x, ImputeMethod::Latest, Some(1));
    assert_eq!(lim[2], 2.0);
    assert!(
        lim[3].is_nan(),
        "two time points after the last observation"
    );
}

// ---- diagnostics ----

#[test]
fn cronbach_alpha_textbook_example() {
    // three items, five respondents; α = k/(k−1)(1 − Σσ²ᵢ/σ²_total) computed by hand:
    // item variances 2.5, 2.5, 0 (sum 5); totals 6, 9, 9, 12, 14 have variance 9.5
    let c = vec![
        vec![1.0, 2.0, 3.0, 4.0, 5.0],
        vec![2.0, 4.0, 3.0, 5.0, 6.0],
        vec![3.0, 3.0, 3.0, 3.0, 3.0],
    ];
    let a = diagnostics::cronbach_alpha(&c);
    assert!(close(a, 1.5 * (1.0 - 5.0 / 9.5), 1e-12), "{a}");
}

#[test]
fn pca_of_a_known_correlation_structure() {
    // two perfectly correlated columns and one independent: eigenvalues 2, 1, 0
    let ds = qcity_index::Dataset::new(
        (0..4).map(|i| i.to_string()).collect(),
        vec!["a".into(), "b".into(), "c".into()],
        vec![
            vec![1.0, 2.0, 3.0, 4.0],
            vec![2.0, 4.0, 6.0, 8.0],
            vec![1.0, -1.0, -1.0, 1.0],
        ],
    );
    let p = diagnostics::pca(&ds);
    assert_vec(&p.eigenvalues, &[2.0, 1.0, 0.0], 1e-9);
    assert_vec(&p.explained, &[2.0 / 3.0, 1.0 / 3.0, 0.0], 1e-9);
}

// ---- progress (Open SDG sdg-build ProgressMeasure.py rules) ----

#[test]
fn open_sdg_progress_classification() {
    // method 1, no target: CAGR from 2015 to 2020 of 100 → 110 is 1.924 %, ≥ 1.5 %
    let s = [(2015, 100.0), (2018, 104.0), (2020, 110.0)];
    let p = progress(&s, &ProgressSpec::default());
    assert!(close(
        p.value.unwrap(),
        cagr(100.0, 110.0, 2015.0, 2020.0),
        1e-12
    ));
    assert_eq!(p.status, ProgressStatus::SubstantialProgress);
    // same data, lower is better: deterioration
    let neg = ProgressSpec {
        direction: Direction::Negative,
        ..ProgressSpec::default()
    };
    assert_eq!(progress(&s, &neg).status, ProgressStatus::Deterioration);
    // 0.5 %–1.5 %: moderate; 0–0.5 %: limited
    let m = progress(&[(2015, 100.0), (2020, 104.0)], &ProgressSpec::default());
    assert_eq!(m.status, ProgressStatus::ModerateProgress);
    let l = progress(&[(2015, 100.0), (2020, 101.0)], &ProgressSpec::default());
    assert_eq!(l.status, ProgressStatus::LimitedProgress);
    // method 2, target 150 by 2030: required CAGR 2.74 %, observed 1.92 % → ratio 0.70
    let t = ProgressSpec {
        target: Some(150.0),
        ..ProgressSpec::default()
    };
    let p = progress(&s, &t);
    let want = cagr(100.0, 110.0, 2015.0, 2020.0) / cagr(100.0, 150.0, 2015.0, 2030.0);
    assert!(close(p.value.unwrap(), want, 1e-12));
    assert_eq!(p.status, ProgressStatus::ModerateProgress);
    // target already met
    let met = ProgressSpec {
        target: Some(105.0),
        ..ProgressSpec::default()
    };
    assert_eq!(progress(&s, &met).status, ProgressStatus::TargetAchieved);
    // base year missing from data → next year with data; a single point → not available
    let p = progress(&[(2017, 100.0), (2019, 110.0)], &ProgressSpec::default());
    assert_eq!(p.base_year, 2017);
    assert_eq!(
        progress(&[(2020, 1.0)], &ProgressSpec::default()).status,
        ProgressStatus::NotAvailable
    );
}

// ---- Sobol on the Ishigami function (analytic indices) ----

#[test]
fn sobol_jansen_recovers_ishigami_indices() {
    use std::f64::consts::PI;
    let (a, b) = (7.0, 0.1);
    let f = |u: &[f64]| {
        let x: Vec<f64> = u.iter().map(|v| -PI + 2.0 * PI * v).collect();
        x[0].sin() + a * x[1].sin().powi(2) + b * x[2].powi(4) * x[0].sin()
    };
    // analytic (Ishigami & Homma 1990; Sobol' & Levitan 1999)
    let v1 = 0.5 * (1.0 + b * PI.powi(4) / 5.0).powi(2);
    let v2 = a * a / 8.0;
    let v13 = b * b * PI.powi(8) * (1.0 / 18.0 - 1.0 / 50.0);
    let v = v1 + v2 + v13;
    let s = [v1 / v, v2 / v, 0.0];
    let st = [(v1 + v13) / v, v2 / v, v13 / v];
    let names: Vec<String> = ["x1", "x2", "x3"].map(String::from).to_vec();
    let r = uncertainty::sobol(&names, 3, 1 << 15, 42, 200, f);
    assert_eq!(r.n_runs, 5 * (1 << 15));
    for j in 0..3 {
        let ix = &r.indices[j];
        assert!(
            close(ix.s1, s[j], 0.03),
            "S{} = {} vs {}",
            j + 1,
            ix.s1,
            s[j]
        );
        assert!(
            close(ix.st, st[j], 0.03),
            "ST{} = {} vs {}",
            j + 1,
            ix.st,
            st[j]
        );
        assert!(ix.s1_q05 <= ix.s1 && ix.s1 <= ix.s1_q95);
        assert!(ix.st_q05 <= ix.st && ix.st <= ix.st_q95);
    }
}

// ---- correlations and trends ----

#[test]
fn pearson_and_spearman_known_values() {
    use qcity_index::stats::{pearson, spearman};
    // Spearman is 1 for any monotone relation; Pearson of x and x³ over 1..5 is < 1
    let x = [1.0, 2.0, 3.0, 4.0, 5.0];
    let y: Vec<f64> = x.iter().map(|v: &f64| v.powi(3)).collect();
    assert!(close(spearman(&x, &y), 1.0, 1e-12));
    assert!(pearson(&x, &y) < 1.0);
    // textbook case: d² = (0, 1, 1, 4, 0)… computed with ρ = 1 − 6Σd²/(n(n²−1))
    let a = [1.0, 2.0, 3.0, 4.0, 5.0];
    let b = [1.0, 3.0, 2.0, 5.0, 4.0];
    assert!(close(
        spearman(&a, &b),
        1.0 - 6.0 * 4.0 / (5.0 * 24.0),
        1e-12
    ));
    // Pearson with a missing pair uses the complete pairs only
    assert!(close(
        pearson(&[1.0, 2.0, f64::NAN, 4.0], &[2.0, 4.0, 100.0, 8.0]),
        1.0,
        1e-12
    ));
}

#[test]
fn trends_cagr_and_percent_change() {
    use qcity_index::results::{Trend, percent_change, trend};
    let s = [(2018, 100.0), (2019, f64::NAN), (2020, 121.0)];
    assert!(close(trend(&s, Trend::Cagr), 0.1, 1e-12));
    assert!(close(trend(&s, Trend::PercentChange), 10.5, 1e-12));
    assert!(close(percent_change(50.0, 75.0, 0.0, 1.0), 50.0, 1e-12));
    assert!(trend(&[(2018, 1.0)], Trend::Cagr).is_nan());
}

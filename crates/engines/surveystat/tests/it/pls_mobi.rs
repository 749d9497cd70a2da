//! ECSI model on the mobi data (Tenenhaus et al. 2005) against the published SmartPLS 2.0.M3
//! results shipped with R semPLS (`tests/SmartPLS/results/ecsi/<scheme>/outerWeights.txt` and
//! `pathCoefficients.txt`; settings: mean 0 / var 1, initial weights 1.0, abort criterion 1e-7).

use qcity_surveystat::pls::AlgorithmOptions;
use qcity_surveystat::{PlsOptions, Scheme, estimate_pls};

use crate::common;

fn fit(scheme: Scheme) -> qcity_surveystat::PlsResult {
    let (model, data) = common::ecsi_mobi();
    let opts = PlsOptions {
        algorithm: AlgorithmOptions {
            scheme,
            ..AlgorithmOptions::default()
        },
        ..PlsOptions::default()
    };
    estimate_pls(&data, &model, &opts).unwrap()
}

type Weights = [(&'static str, f64); 24];
type Paths = [(&'static str, &'static str, f64); 12];

fn check(scheme: Scheme, weights: &Weights, paths: &Paths) {
    let r = fit(scheme);
    for (item, w) in weights {
        let got = r.items.iter().find(|i| i.item == *item).unwrap().weight;
        assert!(
            (got - w).abs() < 1e-6,
            "{scheme:?} weight {item}: {got} vs SmartPLS {w}"
        );
    }
    for (f, t, b) in paths {
        let got = r
            .paths
            .iter()
            .find(|p| p.from == *f && p.to == *t)
            .unwrap()
            .coefficient;
        assert!(
            (got - b).abs() < 1e-6,
            "{scheme:?} path {f}->{t}: {got} vs SmartPLS {b}"
        );
    }
}

#[test]
fn path_weighting_matches_smartpls() {
    check(
        Scheme::Path,
        &[
            ("CUEX1", 0.52118068),
            ("CUEX2", 0.47367966),
            ("CUEX3", 0.44563424),
            ("CUSA1", 0.36486486),
            ("CUSA2", 0.38315604),
            ("CUSA3", 0.45096120),
            ("CUSCO", 1.0),
            ("CUSL1", 0.46066473),
            ("CUSL2", 0.11426953),
            ("CUSL3", 0.65431059),
            ("IMAG1", 0.30131215),
            ("IMAG2", 0.25969115),
            ("IMAG3", 0.21792305),
            ("IMAG4", 0.32850357),
            ("IMAG5", 0.32468141),
            ("PERQ1", 0.21317504),
            ("PERQ2", 0.14472169),
            ("PERQ3", 0.20001771),
            ("PERQ4", 0.17939947),
            ("PERQ5", 0.17863569),
            ("PERQ6", 0.17912074),
            ("PERQ7", 0.21548153),
            ("PERV1", 0.47928245),
            ("PERV2", 0.60405602),
        ],
        &[
            ("Complaints", "Loyalty", 0.06692607),
            ("Expectation", "Quality", 0.55674896),
            ("Expectation", "Satisfaction", 0.06252287),
            ("Expectation", "Value", 0.04998839),
            ("Image", "Expectation", 0.50491393),
            ("Image", "Loyalty", 0.19575534),
            ("Image", "Satisfaction", 0.17873950),
            ("Quality", "Satisfaction", 0.51202394),
            ("Quality", "Value", 0.55830438),
            ("Satisfaction", "Complaints", 0.52806625),
            ("Satisfaction", "Loyalty", 0.48547762),
            ("Value", "Satisfaction", 0.19476510),
        ],
    );
}

#[test]
fn factorial_matches_smartpls() {
    check(
        Scheme::Factorial,
        &[
            ("CUEX1", 0.52090762),
            ("CUEX2", 0.47378907),
            ("CUEX3", 0.44585601),
            ("CUSA1", 0.37788083),
            ("CUSA2", 0.38247081),
            ("CUSA3", 0.43950908),
            ("CUSCO", 1.0),
            ("CUSL1", 0.45553653),
            ("CUSL2", 0.12559574),
            ("CUSL3", 0.65632685),
            ("IMAG1", 0.30113984),
            ("IMAG2", 0.25986939),
            ("IMAG3", 0.21780805),
            ("IMAG4", 0.32862476),
            ("IMAG5", 0.32467429),
            ("PERQ1", 0.21333116),
            ("PERQ2", 0.14477854),
            ("PERQ3", 0.19981851),
            ("PERQ4", 0.17953152),
            ("PERQ5", 0.17862778),
            ("PERQ6", 0.17921848),
            ("PERQ7", 0.21525464),
            ("PERV1", 0.48331535),
            ("PERV2", 0.60017870),
        ],
        &[
            ("Complaints", "Loyalty", 0.07031057),
            ("Expectation", "Quality", 0.55675903),
            ("Expectation", "Satisfaction", 0.06494365),
            ("Expectation", "Value", 0.05017810),
            ("Image", "Expectation", 0.50494314),
            ("Image", "Loyalty", 0.19581962),
            ("Image", "Satisfaction", 0.17859267),
            ("Quality", "Satisfaction", 0.51297470),
            ("Quality", "Value", 0.55776245),
            ("Satisfaction", "Complaints", 0.52585655),
            ("Satisfaction", "Loyalty", 0.48305917),
            ("Value", "Satisfaction", 0.19144526),
        ],
    );
}

#[test]
fn centroid_matches_smartpls() {
    check(
        Scheme::Centroid,
        &[
            ("CUEX1", 0.52282271),
            ("CUEX2", 0.46806824),
            ("CUEX3", 0.44989729),
            ("CUSA1", 0.37718684),
            ("CUSA2", 0.38156707),
            ("CUSA3", 0.44105872),
            ("CUSCO", 1.0),
            ("CUSL1", 0.45046794),
            ("CUSL2", 0.13133992),
            ("CUSL3", 0.65948149),
            ("IMAG1", 0.29813185),
            ("IMAG2", 0.26233656),
            ("IMAG3", 0.21987218),
            ("IMAG4", 0.32782296),
            ("IMAG5", 0.32492101),
            ("PERQ1", 0.21364542),
            ("PERQ2", 0.14346701),
            ("PERQ3", 0.19943921),
            ("PERQ4", 0.17811594),
            ("PERQ5", 0.18083905),
            ("PERQ6", 0.18050324),
            ("PERQ7", 0.21436270),
            ("PERV1", 0.48582034),
            ("PERV2", 0.59776530),
        ],
        &[
            ("Complaints", "Loyalty", 0.07123241),
            ("Expectation", "Quality", 0.55724786),
            ("Expectation", "Satisfaction", 0.06442534),
            ("Expectation", "Value", 0.05078755),
            ("Image", "Expectation", 0.50470564),
            ("Image", "Loyalty", 0.19535971),
            ("Image", "Satisfaction", 0.17883348),
            ("Quality", "Satisfaction", 0.51254524),
            ("Quality", "Value", 0.55721686),
            ("Satisfaction", "Complaints", 0.52609731),
            ("Satisfaction", "Loyalty", 0.48347472),
            ("Value", "Satisfaction", 0.19181566),
        ],
    );
}

/// Total effects, path scheme (SmartPLS `pathWeighting/totalEffects.txt`).
#[test]
fn total_effects_match_smartpls() {
    let r = fit(Scheme::Path);
    for (f, t, v) in [
        ("Expectation", "Complaints", 0.22066175),
        ("Expectation", "Loyalty", 0.21763337),
        ("Expectation", "Satisfaction", 0.41786755),
        ("Expectation", "Value", 0.36082377),
        ("Image", "Complaints", 0.20580149),
        ("Image", "Loyalty", 0.39873238),
        ("Image", "Quality", 0.28111031),
        ("Image", "Satisfaction", 0.38972664),
        ("Image", "Value", 0.18218495),
        ("Quality", "Complaints", 0.32780354),
        ("Quality", "Loyalty", 0.32330474),
        ("Quality", "Satisfaction", 0.62076216),
        ("Satisfaction", "Loyalty", 0.52081902),
        ("Value", "Complaints", 0.10284888),
        ("Value", "Loyalty", 0.10143737),
    ] {
        let got = r
            .total_effects
            .iter()
            .find(|e| e.from == f && e.to == t)
            .unwrap()
            .value;
        assert!((got - v).abs() < 1e-6, "total {f}->{t}: {got} vs {v}");
    }
}

/// ACSI-style index (Fornell et al. 1996, J. Marketing 60(4); liquisearch "ACSI Score
/// Calculation"): Σ_h r_h (x̄_h − 1)/9 × 100 with r_h ∝ w_h / sd_h normed to sum 1, computed
/// here from SmartPLS's published path-scheme weights for Satisfaction (0.36486486,
/// 0.38315604, 0.45096120) and the mobi item means and SDs; a single item (CUSCO) gives
/// (x̄ − 1)/9 × 100.
#[test]
fn acsi_index_from_published_weights() {
    let r = fit(Scheme::Path);
    let table =
        qcity_surveystat::Table::parse("mobi.csv", include_str!("../data/mobi.csv")).unwrap();
    let stats = |c: &str| {
        let v = table.numeric(c).unwrap();
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        (m, sd)
    };
    let w = [
        ("CUSA1", 0.36486486),
        ("CUSA2", 0.38315604),
        ("CUSA3", 0.45096120),
    ];
    let u: Vec<(f64, f64)> = w
        .iter()
        .map(|(c, w)| {
            let (m, sd) = stats(c);
            (w / sd, (m - 1.0) / 9.0 * 100.0)
        })
        .collect();
    let su: f64 = u.iter().map(|x| x.0).sum();
    let expected: f64 = u.iter().map(|(a, p)| a / su * p).sum();
    assert!((r.indices["Satisfaction"] - expected).abs() < 1e-5);
    let (m, _) = stats("CUSCO");
    assert!((r.indices["Complaints"] - (m - 1.0) / 9.0 * 100.0).abs() < 1e-12);
    // The index is the mean of the respondents' 0–100 scores.
    let s = &r.scores_0_100["Satisfaction"];
    assert!((s.iter().sum::<f64>() / s.len() as f64 - r.indices["Satisfaction"]).abs() < 1e-9);
}

/// IPMA importance is the unstandardised total effect (Ringle & Sarstedt 2016): with one
/// predictor it must equal the OLS slope of the target's 0–100 scores on the predictor's 0–100
/// scores, computed here directly from the reported respondent scores.
#[test]
fn ipma_importance_is_the_unstandardised_effect() {
    let model = qcity_surveystat::PlsModel::from_toml(
        "two.toml",
        r#"
[constructs.Image]
items = ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"]
scale = [1, 10]
[constructs.Satisfaction]
items = ["CUSA1", "CUSA2", "CUSA3"]
scale = [1, 10]
[[paths]]
from = "Image"
to = "Satisfaction"
"#,
    )
    .unwrap();
    let table =
        qcity_surveystat::Table::parse("mobi.csv", include_str!("../data/mobi.csv")).unwrap();
    let data = qcity_surveystat::ItemData::from_table(&table, &model).unwrap();
    let r = estimate_pls(&data, &model, &PlsOptions::default()).unwrap();
    let x = &r.scores_0_100["Image"];
    let y = &r.scores_0_100["Satisfaction"];
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let ipma = r.ipma.as_ref().unwrap();
    assert_eq!(ipma.target, "Satisfaction");
    let imp = ipma.constructs[0].importance;
    assert!((imp - sxy / sxx).abs() < 1e-9, "{imp} vs {}", sxy / sxx);
    assert!((ipma.constructs[0].performance - r.indices["Image"]).abs() < 1e-12);
}

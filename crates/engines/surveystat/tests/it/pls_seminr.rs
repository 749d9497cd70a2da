//! A four-construct satisfaction model on mobi against the outputs published as seminr's test
//! fixtures (sem-in-r/seminr, `tests/fixtures/V_3_6_0/inner_weights_coefficients.csv`,
//! `tests/fixtures/V_3_5_X/inner_weights_weights.csv`, `tests/fixtures/V_3_6_0/reliability.csv`,
//! `tests/fixtures/V_3_5_X/htmt.csv`; model of `tests/testthat/test-inner_weighting.R` and
//! `test-summary.R`: composites Image, Expectation, Value, Satisfaction, mode A, path weighting).
//! seminr checks its own results against these fixtures to 1e-5; so do we.

use qcity_surveystat::pls::AlgorithmOptions;
use qcity_surveystat::{ItemData, PlsModel, PlsOptions, Scheme, Table, estimate_pls};

const MODEL: &str = r#"
[constructs.Image]
items = ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"]
[constructs.Expectation]
items = ["CUEX1", "CUEX2", "CUEX3"]
[constructs.Value]
items = ["PERV1", "PERV2"]
[constructs.Satisfaction]
items = ["CUSA1", "CUSA2", "CUSA3"]
[[paths]]
from = ["Image", "Expectation", "Value"]
to = "Satisfaction"
"#;

#[test]
fn four_construct_model_matches_seminr_fixtures() {
    let model = PlsModel::from_toml("model.toml", MODEL).unwrap();
    let table = Table::parse("mobi.csv", include_str!("../data/mobi.csv")).unwrap();
    let data = ItemData::from_table(&table, &model).unwrap();
    let opts = PlsOptions {
        algorithm: AlgorithmOptions {
            scheme: Scheme::Path,
            ..AlgorithmOptions::default()
        },
        ..PlsOptions::default()
    };
    let r = estimate_pls(&data, &model, &opts).unwrap();
    let tol = 1e-5;
    for (f, b) in [
        ("Image", 0.447003896753383),
        ("Expectation", 0.171830104491586),
        ("Value", 0.316425319256027),
    ] {
        let got = r.paths.iter().find(|p| p.from == f).unwrap().coefficient;
        assert!((got - b).abs() < tol, "path {f}: {got} vs {b}");
    }
    for (item, w) in [
        ("IMAG1", 0.331565496837403),
        ("IMAG2", 0.253381407777625),
        ("IMAG3", 0.19957423850573),
        ("IMAG4", 0.330983162965217),
        ("IMAG5", 0.310490528776397),
        ("CUEX1", 0.505837721216892),
        ("CUEX2", 0.49867124599148),
        ("CUEX3", 0.43608211325906),
        ("PERV1", 0.476812933927711),
        ("PERV2", 0.606425335428161),
        ("CUSA1", 0.387272947521168),
        ("CUSA2", 0.373939896289369),
        ("CUSA3", 0.439128431593844),
    ] {
        let got = r.items.iter().find(|i| i.item == item).unwrap().weight;
        assert!((got - w).abs() < tol, "weight {item}: {got} vs {w}");
    }
    // tests/fixtures/V_3_6_0/rsquared1.csv (test-metric.R)
    assert!((r.r2["Satisfaction"] - 0.590603320426892).abs() < tol);
    assert!((r.adj_r2["Satisfaction"] - 0.585610677993074).abs() < tol);
    // alpha, rhoC, AVE, rhoA
    for (c, alpha, rho_c, ave, rho_a) in [
        (
            "Image",
            0.722834595427083,
            0.818325774056256,
            0.477979834838268,
            0.745291554480322,
        ),
        (
            "Expectation",
            0.451902555978063,
            0.733177801505283,
            0.480507046633952,
            0.461657986928213,
        ),
        (
            "Value",
            0.823631979352573,
            0.917897281748515,
            0.84831067540365,
            0.857527048393235,
        ),
        (
            "Satisfaction",
            0.779195021918597,
            0.871457927643628,
            0.693363990925202,
            0.784023593590752,
        ),
    ] {
        let got = r.reliability[c];
        assert!((got.alpha - alpha).abs() < tol, "{c} alpha {}", got.alpha);
        assert!((got.rho_c - rho_c).abs() < tol, "{c} rhoC {}", got.rho_c);
        assert!((got.ave - ave).abs() < tol, "{c} AVE {}", got.ave);
        assert!((got.rho_a - rho_a).abs() < tol, "{c} rhoA {}", got.rho_a);
    }
    // tests/fixtures/V_3_5_X/fsquared1.csv: fSquared(model, "Image", "Satisfaction").
    assert!(
        (r.paths[0].f2 - 0.303554364141901).abs() < tol,
        "f2 {}",
        r.paths[0].f2
    );
    for (a, b, v) in [
        ("Image", "Expectation", 0.88803042750925),
        ("Image", "Value", 0.651659392487802),
        ("Image", "Satisfaction", 0.910100923782741),
        ("Expectation", "Value", 0.588628982316289),
        ("Expectation", "Satisfaction", 0.865108193553153),
        ("Value", "Satisfaction", 0.740808927759395),
    ] {
        let got = r.htmt.iter().find(|h| h.a == a && h.b == b).unwrap().value;
        assert!((got - v).abs() < tol, "HTMT {a}-{b}: {got} vs {v}");
    }
}

//! Reference test: COINr's example index on the ASEM data. The pipeline of
//! `build_example_coin()` (denominate, impute i_mean_grp by EurAsia_group, screen 0.9,
//! winsorise winmax 5, min-max 0–100, arithmetic mean) must reproduce COINr's published
//! Index score of all 51 units to 2 decimals.

use qcity_index::pipeline::Stage;
use qcity_index::{PipelineSpec, parse, run};

const IDATA: &str = include_str!("../data/iData.csv");
const IMETA: &str = include_str!("../data/iMeta.csv");

/// COINr 1.1.14 `build_example_coin()` Index scores (4 d.p.), rank order.
const PUBLISHED: [(&str, f64); 51] = [
    ("CHE", 68.3837),
    ("NLD", 64.8195),
    ("DNK", 64.8041),
    ("NOR", 64.4678),
    ("BEL", 63.5395),
    ("SWE", 62.9997),
    ("AUT", 61.9018),
    ("LUX", 61.5835),
    ("DEU", 60.7514),
    ("MLT", 60.3578),
    ("SVN", 60.3041),
    ("IRL", 60.0929),
    ("FIN", 58.7878),
    ("SGP", 58.3663),
    ("GBR", 57.7637),
    ("LTU", 57.0722),
    ("CZE", 56.6443),
    ("HRV", 55.6383),
    ("ESP", 55.5237),
    ("HUN", 55.3915),
    ("FRA", 55.3706),
    ("EST", 55.3189),
    ("LVA", 54.9686),
    ("SVK", 54.8808),
    ("ROU", 54.5625),
    ("POL", 54.0271),
    ("PRT", 53.3787),
    ("ITA", 52.3804),
    ("CYP", 51.0570),
    ("BGR", 50.8076),
    ("KOR", 50.1022),
    ("GRC", 48.8863),
    ("NZL", 48.0391),
    ("JPN", 46.8380),
    ("AUS", 45.7662),
    ("VNM", 43.2089),
    ("KHM", 42.1581),
    ("PHL", 41.5464),
    ("MYS", 41.3491),
    ("BRN", 41.2072),
    ("MMR", 41.0308),
    ("THA", 40.9209),
    ("IDN", 40.2075),
    ("MNG", 40.1761),
    ("IND", 39.7920),
    ("BGD", 39.0478),
    ("KAZ", 39.0263),
    ("LAO", 38.2131),
    ("CHN", 37.7685),
    ("PAK", 37.6322),
    ("RUS", 35.6555),
];

fn example_run() -> qcity_index::Run {
    let coin = parse::parse_coin("iData.csv", IDATA, "iMeta.csv", IMETA).expect("parse");
    run(&coin, &PipelineSpec::coinr_example("EurAsia_group")).expect("pipeline")
}

#[test]
fn asem_index_matches_coinr_for_all_51_units() {
    let r = example_run();
    let agg = r.aggregated();
    assert_eq!(agg.n_units(), 51);
    let index = agg.col("Index").expect("Index column");
    let mut worst = 0.0f64;
    for (code, published) in PUBLISHED {
        let i = agg
            .unit_index(code)
            .unwrap_or_else(|| panic!("unit {code}"));
        let got = index[i];
        worst = worst.max((got - published).abs());
        assert!(
            (got - published).abs() < 0.005,
            "{code}: got {got:.4}, COINr {published:.4}"
        );
    }
    eprintln!("largest |difference| from COINr (4 d.p. published): {worst:.6}");
}

#[test]
fn asem_ranks_match_coinr() {
    let r = example_run();
    let agg = r.aggregated();
    let index = agg.col("Index").unwrap();
    let ranks = qcity_index::stats::rank_descending(index);
    for (k, (code, _)) in PUBLISHED.iter().enumerate() {
        let i = agg.unit_index(code).unwrap();
        assert_eq!(ranks[i], (k + 1) as f64, "{code}");
    }
}

#[test]
fn asem_stage_facts_match_the_documented_pipeline() {
    let r = example_run();
    // 63 indicator cells + Elec and Gas of LAO (missing Energy denominator) are missing
    assert_eq!(r.data(Stage::Raw).n_missing(), 63);
    assert_eq!(r.data(Stage::Denominated).n_missing(), 63 + 2);
    assert_eq!(r.data(Stage::Imputed).n_missing(), 0);
    assert!(r.removed_units.is_empty());
    let treated: Vec<_> = r.treatment.iter().filter(|d| d.n_winsorised > 0).collect();
    let points: usize = treated.iter().map(|d| d.n_winsorised).sum();
    assert_eq!(treated.len(), 15, "indicators winsorised");
    assert_eq!(points, 35, "points winsorised");
    assert!(r.treatment.iter().all(|d| !d.transformed));
    // every stage records the spec section that made it
    for s in &r.stages[1..] {
        assert!(!s.skipped && s.spec.is_some(), "{:?}", s.stage);
    }
}

#[test]
fn regen_reproduces_the_run_exactly() {
    let r = example_run();
    let coin = parse::parse_coin("iData.csv", IDATA, "iMeta.csv", IMETA).unwrap();
    let again = qcity_index::regen(&coin, &r.spec, Some(&r)).unwrap();
    assert_eq!(again.aggregated(), r.aggregated());
    let fresh = run(&coin, &r.spec).unwrap();
    assert_eq!(fresh.aggregated(), r.aggregated());
}

#[test]
fn spec_from_toml_equals_the_coinr_example() {
    let text = r#"
[denominate]
[impute]
method = "mean_group"
group = "EurAsia_group"
[screen]
dat_thresh = 0.9
[treat]
winmax = 5
[normalise]
method = "minmax"
low = 0
high = 100
[weights]
method = "meta"
[aggregate]
method = "amean"
"#;
    let spec = PipelineSpec::from_toml(text).unwrap();
    assert_eq!(spec, PipelineSpec::coinr_example("EurAsia_group"));
}

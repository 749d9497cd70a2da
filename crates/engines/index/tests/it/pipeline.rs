//! Pipeline behaviour: input errors, every method inside a run, panels, uncertainty.

use qcity_index::pipeline::{AggPlan, Stage};
use qcity_index::spec::{AggMethod, Normalisation, NormaliseSpec, WeightMethod};
use qcity_index::{IndexError, PipelineSpec, diagnostics, parse, results, run, uncertainty};

const IDATA: &str = include_str!("../data/iData.csv");
const IMETA: &str = include_str!("../data/iMeta.csv");
const PANEL: &str = include_str!("../data/iData_panel.csv");
const SPEC: &str = include_str!("../../../../../examples/pipeline.toml");

fn coin() -> qcity_index::Coin {
    parse::parse_coin("iData.csv", IDATA, "iMeta.csv", IMETA).unwrap()
}

fn input_error(e: IndexError) -> (String, usize, String) {
    match e {
        IndexError::Input {
            file, row, column, ..
        } => (file, row, column),
        other => panic!("expected an input error, got {other:?}"),
    }
}

// ---- bad input names file, row and column ----

#[test]
fn non_numeric_cell_is_named() {
    let bad = IDATA.replacen("4.097985", "four", 1);
    let e = parse::parse_coin("iData.csv", &bad, "iMeta.csv", IMETA).unwrap_err();
    assert_eq!(
        input_error(e.clone()),
        ("iData.csv".into(), 2, "LPI".into())
    );
    assert!(e.to_string().contains("non-numeric value 'four'"), "{e}");
}

#[test]
fn duplicate_unit_is_named() {
    let mut lines: Vec<&str> = IDATA.lines().collect();
    let dup = lines[1];
    lines.push(dup);
    let bad = lines.join("\n");
    let e = parse::parse_coin("iData.csv", &bad, "iMeta.csv", IMETA).unwrap_err();
    let (f, row, col) = input_error(e.clone());
    assert_eq!((f.as_str(), row, col.as_str()), ("iData.csv", 53, "uCode"));
    assert!(
        e.to_string()
            .contains("duplicate unit 'AUT' (first at row 2)"),
        "{e}"
    );
}

#[test]
fn unknown_code_in_idata_is_named() {
    let bad = IDATA.replacen("LPI,", "LPX,", 1);
    let e = parse::parse_coin("iData.csv", &bad, "iMeta.csv", IMETA).unwrap_err();
    assert_eq!(
        input_error(e.clone()),
        ("iData.csv".into(), 1, "LPX".into())
    );
    assert!(e.to_string().contains("unknown code 'LPX'"), "{e}");
}

#[test]
fn unknown_parent_in_imeta_is_named() {
    let bad = IMETA.replacen(",,Physical,Indicator", ",,Physicl,Indicator", 1);
    let e = parse::parse_imeta("iMeta.csv", &bad).unwrap_err();
    assert_eq!(
        input_error(e.clone()),
        ("iMeta.csv".into(), 2, "Parent".into())
    );
    assert!(e.to_string().contains("unknown code 'Physicl'"), "{e}");
}

#[test]
fn parent_cycle_is_reported() {
    let text = "Level,iCode,Direction,Weight,Parent,Type\n1,a,1,1,B,Indicator\n2,B,1,1,C,Aggregate\n3,C,1,1,B,Aggregate\n";
    let e = parse::parse_imeta("m.csv", text).unwrap_err();
    let s = e.to_string();
    assert!(s.starts_with("m.csv: parent cycle"), "{s}");
}

#[test]
fn bad_direction_and_type_are_named() {
    let bad = IMETA.replacen(
        "1,LPI,Logistics Performance Index,1,",
        "1,LPI,Logistics Performance Index,2,",
        1,
    );
    let e = parse::parse_imeta("iMeta.csv", &bad).unwrap_err();
    assert_eq!(input_error(e), ("iMeta.csv".into(), 2, "Direction".into()));
    let bad = IMETA.replacen(",Physical,Indicator", ",Physical,Indikator", 1);
    let e = parse::parse_imeta("iMeta.csv", &bad).unwrap_err();
    assert_eq!(input_error(e), ("iMeta.csv".into(), 2, "Type".into()));
}

#[test]
fn spec_errors_are_clear() {
    let e = PipelineSpec::from_toml("[impute]\nmethod = \"mode\"\n").unwrap_err();
    assert!(e.to_string().contains("unknown variant `mode`"), "{e}");
    let e = PipelineSpec::from_toml("[screen]\nthresh = 0.9\n").unwrap_err();
    assert!(e.to_string().contains("unknown field `thresh`"), "{e}");
}

// ---- every method inside a run ----

#[test]
fn every_weighting_and_aggregation_runs_on_asem() {
    let c = coin();
    let base = PipelineSpec::coinr_example("EurAsia_group");
    for wm in [
        WeightMethod::Meta,
        WeightMethod::Equal,
        WeightMethod::Entropy,
        WeightMethod::Critic,
        WeightMethod::Std,
        WeightMethod::Pca,
    ] {
        let mut s = base.clone();
        s.weights.as_mut().unwrap().method = wm;
        let r = run(&c, &s).unwrap_or_else(|e| panic!("{wm:?}: {e}"));
        let idx = r.scores("Index").unwrap();
        assert!(idx.iter().all(|v| v.is_finite()), "{wm:?}");
        // weights within each group sum to 1 for data-driven methods
        if !matches!(wm, WeightMethod::Meta | WeightMethod::Equal) {
            let kids = r.framework.children("Physical");
            let s: f64 = kids.iter().map(|k| r.weights[&k.code]).sum();
            assert!((s - 1.0).abs() < 1e-9, "{wm:?}: {s}");
        }
    }
    // geometric and harmonic means need positive values: normalise to 1–100
    for am in [
        AggMethod::Gmean,
        AggMethod::Hmean,
        AggMethod::Genmean,
        AggMethod::Copeland,
        AggMethod::Bod,
    ] {
        let mut s = base.clone();
        s.normalise = Some(NormaliseSpec {
            default: Normalisation::Minmax {
                low: 1.0,
                high: 100.0,
            },
            indicators: Default::default(),
        });
        s.aggregate.as_mut().unwrap().method = am;
        let r = run(&c, &s).unwrap_or_else(|e| panic!("{am:?}: {e}"));
        assert!(
            r.scores("Index").unwrap().iter().all(|v| v.is_finite()),
            "{am:?}"
        );
    }
    // gmean on 0–100 data fails with a clear message
    let mut s = base.clone();
    s.aggregate.as_mut().unwrap().method = AggMethod::Gmean;
    let e = run(&c, &s).unwrap_err();
    assert!(e.to_string().contains("positive values"), "{e}");
}

#[test]
fn ahp_weights_from_the_spec() {
    let text = format!(
        "{SPEC}\n[weights.ahp.Sust]\ncodes = [\"Environ\", \"Social\", \"SusEcFin\"]\nmatrix = [[1, 3, 5], [0.333333333333, 1, 3], [0.2, 0.333333333333, 1]]\n"
    )
    .replace("method = \"meta\"", "method = \"ahp\"");
    let spec = PipelineSpec::from_toml(&text).unwrap();
    let r = run(&coin(), &spec).unwrap();
    assert!((r.weights["Environ"] - 0.637).abs() < 1e-3);
    assert!(r.ahp["Sust"].consistency_ratio < 0.1);
    // groups without a matrix keep iMeta's weights
    assert_eq!(r.weights["LPI"], 1.0);
}

#[test]
fn aggregation_threshold_and_missing_values() {
    let c = coin();
    let mut s = PipelineSpec::coinr_example("EurAsia_group");
    s.impute = None;
    s.screen = None;
    // without imputation, aggregates use the present children with re-normalised weights
    let r = run(&c, &s).unwrap();
    assert!(r.scores("Index").unwrap().iter().all(|v| v.is_finite()));
    // with a strict threshold, pillars with a gap become missing
    s.aggregate.as_mut().unwrap().dat_thresh = 1.0;
    let r = run(&c, &s).unwrap();
    let missing = r
        .scores("Index")
        .unwrap()
        .iter()
        .filter(|v| v.is_nan())
        .count();
    assert!(missing > 0);
}

#[test]
fn skipped_stages_pass_data_through() {
    let spec = PipelineSpec::from_toml("[normalise]\nmethod = \"minmax\"\n[aggregate]\n").unwrap();
    let mut c = coin();
    // fill gaps so that the raw data can be aggregated
    for col in c.data.cols.iter_mut() {
        for v in col.iter_mut() {
            if v.is_nan() {
                *v = 0.0;
            }
        }
    }
    let r = run(&c, &spec).unwrap();
    assert!(
        r.stages[1].skipped && r.stages[2].skipped && r.stages[3].skipped && r.stages[4].skipped
    );
    assert_eq!(r.data(Stage::Treated), r.data(Stage::Raw));
    assert!(r.stages[6].log[0].contains("aggregate level 2"));
}

#[test]
fn panel_data_runs_at_a_chosen_time_with_panel_imputation() {
    let fw = parse::parse_imeta("iMeta.csv", IMETA).unwrap();
    let mut lines: Vec<String> = PANEL.lines().map(String::from).collect();
    // blank AUT's 2022 LPI (column 12): latest imputation carries 2021 forward
    let hdr: Vec<&str> = lines[0].split(',').collect();
    let lpi = hdr.iter().position(|h| *h == "LPI").unwrap();
    let tcol = hdr.iter().position(|h| *h == "Time").unwrap();
    let mut v2021 = String::new();
    for l in lines.iter() {
        let f: Vec<&str> = l.split(',').collect();
        if f[1] == "AUT" && f[tcol] == "2021" {
            v2021 = f[lpi].to_string();
        }
    }
    for l in lines.iter_mut() {
        let mut f: Vec<String> = l.split(',').map(String::from).collect();
        if f[1] == "AUT" && f[tcol] == "2022" {
            f[lpi] = String::new();
            *l = f.join(",");
        }
    }
    let panel = parse::parse_idata("iData_panel.csv", &lines.join("\n"), &fw).unwrap();
    assert!(panel.is_panel());
    assert_eq!(panel.times(), vec![2018, 2019, 2020, 2021, 2022]);
    let spec = PipelineSpec::from_toml(
        "[impute]\nmethod = \"latest\"\n[normalise]\nmethod = \"minmax\"\n[aggregate]\n",
    )
    .unwrap();
    let r = run(&panel, &spec).unwrap();
    assert_eq!(r.data(Stage::Raw).n_units(), 51);
    let got = r.data(Stage::Imputed).get("AUT", "LPI").unwrap();
    assert_eq!(got, v2021.parse::<f64>().unwrap());
    // an explicit time
    let mut s2 = spec.clone();
    s2.time = Some(2019);
    s2.impute = None;
    let r = run(&panel, &s2).unwrap();
    assert!(r.units.iter().all(|u| u.time == Some(2019)));
}

// ---- results ----

#[test]
fn results_table_covers_every_aggregate_level() {
    let r = run(&coin(), &PipelineSpec::coinr_example("EurAsia_group")).unwrap();
    let t = results::results_table(&r, false);
    assert_eq!(t.len(), 51);
    assert_eq!(t[0].unit, "CHE");
    assert_eq!(t[0].ranks["Index"], Some(1));
    assert_eq!(t[0].scores.len(), 8 + 2 + 1);
    let csv = results::results_csv(&t);
    assert!(csv.starts_with("uCode,"));
    assert_eq!(csv.lines().count(), 52);
    let g = results::group_ranks(&r, "Index", "EurAsia_group").unwrap();
    let sgp = g.iter().find(|x| x.0 == "SGP").unwrap();
    assert_eq!((sgp.1.as_str(), sgp.2), ("Asia", Some(1)));
    let sw = results::strengths_weaknesses(&r, "CHE", 5).unwrap();
    assert_eq!(sw.strengths.len(), 5);
    assert!(sw.strengths[0].1 <= sw.weaknesses[0].1);
}

#[test]
fn diagnostics_on_asem() {
    let r = run(&coin(), &PipelineSpec::coinr_example("EurAsia_group")).unwrap();
    let st = diagnostics::indicator_stats(r.data(Stage::Raw));
    assert_eq!(st.len(), 49);
    let flagged = diagnostics::indicator_stats(r.data(Stage::Imputed))
        .iter()
        .filter(|s| s.skew_kurt_flag)
        .count();
    assert_eq!(flagged, 15, "the 15 indicators COINr winsorises");
    let alphas = diagnostics::cronbach_by_group(&r.framework, r.data(Stage::Normalised), 2);
    assert_eq!(alphas.len(), 8);
    let flags = diagnostics::corr_flags(
        &r.framework,
        r.data(Stage::Normalised),
        diagnostics::CorrMethod::Pearson,
        0.9,
        -0.4,
    );
    assert!(flags.iter().all(|f| f.r > 0.9 || f.r < -0.4));
}

// ---- uncertainty ----

fn ua_setup() -> (
    qcity_index::Coin,
    qcity_index::Run,
    Vec<uncertainty::UncertainInput>,
) {
    let c = coin();
    let spec = PipelineSpec::from_toml(SPEC).unwrap();
    let nominal = run(&c, &spec).unwrap();
    let inputs = uncertainty::inputs_from_spec(&nominal, spec.uncertainty.as_ref().unwrap(), 1);
    (c, nominal, inputs)
}

#[test]
fn uncertainty_is_deterministic_for_any_thread_count() {
    let (c, nominal, inputs) = ua_setup();
    let with = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| uncertainty::uncertainty(&c, &nominal, &inputs, 200, 7).unwrap())
    };
    let one = with(1);
    assert_eq!(one, with(2));
    assert_eq!(one, with(3));
    assert_eq!(one.n_failed, 0);
    // a different seed gives a different sample
    let other = uncertainty::uncertainty(&c, &nominal, &inputs, 200, 8).unwrap();
    assert_ne!(one.rank_stats, other.rank_stats);
    for rs in &one.rank_stats {
        assert!(
            rs.q05_rank <= rs.median_rank && rs.median_rank <= rs.q95_rank,
            "{rs:?}"
        );
    }
}

#[test]
fn uncertainty_with_only_nominal_choices_reproduces_nominal_ranks() {
    let (c, nominal, _) = ua_setup();
    let spec = &nominal.spec;
    let us = qcity_index::spec::UncertaintySpec {
        winmax: Some(vec![spec.treat.as_ref().unwrap().winmax]),
        aggregate: Some(vec![AggMethod::Amean]),
        ..Default::default()
    };
    let inputs = uncertainty::inputs_from_spec(&nominal, &us, 1);
    let u = uncertainty::uncertainty(&c, &nominal, &inputs, 20, 1).unwrap();
    for rs in &u.rank_stats {
        assert_eq!(rs.q05_rank, rs.nominal_rank);
        assert_eq!(rs.q95_rank, rs.nominal_rank);
    }
}

#[test]
fn aggregation_plan_matches_the_pipeline() {
    let (c, nominal, _) = ua_setup();
    let plan = AggPlan::new(&nominal.framework, &nominal.data(Stage::Normalised).codes).unwrap();
    let got = plan
        .target_scores(
            &nominal.framework,
            nominal.data(Stage::Normalised),
            nominal.spec.weights.as_ref().unwrap(),
            nominal.spec.aggregate.as_ref().unwrap(),
            "Index",
        )
        .unwrap();
    assert_eq!(got.as_slice(), nominal.scores("Index").unwrap());
    let _ = c;
}

#[test]
fn sensitivity_is_deterministic_and_bounded() {
    let (c, nominal, inputs) = ua_setup();
    let a = uncertainty::sensitivity(&c, &nominal, &inputs, 64, 3, 50).unwrap();
    let b = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| uncertainty::sensitivity(&c, &nominal, &inputs, 64, 3, 50).unwrap());
    assert_eq!(a, b);
    assert_eq!(a.n_runs, 64 * 7);
    for ix in &a.indices {
        assert!(ix.st >= 0.0, "{ix:?}");
    }
}

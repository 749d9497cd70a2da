//! End-to-end checks of `qcity survey` on small files (in process).

use std::path::PathBuf;

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: super::SurveyCommand,
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "qcity-surveystat-cli-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> anyhow::Result<()> {
    let mut argv = vec!["survey"];
    argv.extend_from_slice(args);
    super::run(Cli::try_parse_from(argv)?.cmd)
}

/// The stratified example of `estimate.rs` (Cochran 1977 eq. 5.6) through the command line:
/// mean 4, SE √(383.33/900); weights derived from the fpc population counts.
#[test]
fn estimate_stratified_with_fpc() {
    let d = dir("est");
    let data = d.join("s.csv");
    std::fs::write(&data, "h,N,y\nA,10,1\nA,10,2\nA,10,3\nB,20,4\nB,20,6\n").unwrap();
    let out = d.join("res.json");
    run(&[
        "estimate",
        "--data",
        data.to_str().unwrap(),
        "--var",
        "y",
        "--strata",
        "h",
        "--fpc",
        "N",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let e = &v["estimates"][0];
    assert!((e["mean"].as_f64().unwrap() - 4.0).abs() < 1e-12);
    let vt: f64 = 100.0 * 0.7 / 3.0 + 400.0 * 0.9;
    assert!((e["se"].as_f64().unwrap() - (vt / 900.0).sqrt()).abs() < 1e-12);
    assert!((e["total"].as_f64().unwrap() - 120.0).abs() < 1e-9);
    assert_eq!(e["n"].as_u64().unwrap(), 5);
}

#[test]
fn rake_adds_weight_column_and_errors_write_nothing() {
    let d = dir("rake");
    let data = d.join("sample.csv");
    std::fs::write(
        &data,
        "id,district,sex\n1,a,m\n2,a,f\n3,a,f\n4,b,m\n5,b,m\n6,b,f\n",
    )
    .unwrap();
    let margins = d.join("margins.csv");
    std::fs::write(
        &margins,
        "variable,category,total\ndistrict,a,60\ndistrict,b,40\nsex,m,50\nsex,f,50\n",
    )
    .unwrap();
    let out = d.join("weighted.csv");
    run(&[
        "rake",
        "--data",
        data.to_str().unwrap(),
        "--margins",
        margins.to_str().unwrap(),
        "--tolerance",
        "1e-10",
        "--max-iterations",
        "1000",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let t = qcity_surveystat::Table::parse("w", &text).unwrap();
    assert_eq!(t.headers().last().unwrap(), "weight");
    let w = t.numeric("weight").unwrap();
    let district = t.labels("district").unwrap();
    let a: f64 = w
        .iter()
        .zip(&district)
        .filter(|(_, d)| *d == "a")
        .map(|(w, _)| w)
        .sum();
    assert!((a - 60.0).abs() < 1e-8);

    // A respondent whose category has no population total: error names file, line, column.
    std::fs::write(&data, "id,district,sex\n1,a,m\n2,c,f\n").unwrap();
    let out2 = d.join("never.csv");
    let err = run(&[
        "rake",
        "--data",
        data.to_str().unwrap(),
        "--margins",
        margins.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("sample.csv: line 3, column `district`"),
        "{err}"
    );
    assert!(!out2.exists());
}

#[test]
fn pls_writes_the_contract_shape() {
    let d = dir("pls");
    let model = d.join("model.toml");
    std::fs::write(
        &model,
        r#"
[constructs.Image]
items = ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"]
mode = "A"
[constructs.Satisfaction]
items = ["CUSA1", "CUSA2", "CUSA3"]
mode = "A"
[[paths]]
from = "Image"
to = ["Satisfaction"]
"#,
    )
    .unwrap();
    let out = d.join("res.json");
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../engines/surveystat/tests/data/mobi.csv"
    );
    run(&[
        "pls",
        "--data",
        data,
        "--model",
        model.to_str().unwrap(),
        "--scheme",
        "factorial",
        "--bootstrap",
        "50",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    for key in [
        "paths",
        "r2",
        "adj_r2",
        "items",
        "reliability",
        "htmt",
        "indices",
        "total_effects",
        "iterations",
        "warnings",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let p = &v["paths"][0];
    assert_eq!(p["from"], "Image");
    for key in ["mean", "sd", "t", "ci_low", "ci_high"] {
        assert!(p["bootstrap"][key].is_number(), "bootstrap.{key}");
    }
    for key in ["construct", "item", "weight", "loading"] {
        assert!(v["items"][0].get(key).is_some());
    }
    for key in ["alpha", "rho_a", "rho_c", "ave"] {
        assert!(v["reliability"]["Image"][key].is_number());
    }

    // A bad cell: the error names the data file, line and column; no output.
    let bad = d.join("bad.csv");
    let text = std::fs::read_to_string(data)
        .unwrap()
        .replacen(",7,5,5,5,4,", ",7,5,x,5,4,", 1);
    std::fs::write(&bad, text).unwrap();
    let out2 = d.join("never.json");
    let err = run(&[
        "pls",
        "--data",
        bad.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("bad.csv: line 2, column `IMAG3`"), "{err}");
    assert!(!out2.exists());
}

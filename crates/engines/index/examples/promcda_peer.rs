//! The qcity side of the ProMCDA peer comparison (`bench/index/run.sh`).
//!
//! `prepare DIR`: ASEM data denominated and imputed (COINr's example: group mean by
//! EurAsia_group) written as ProMCDA's input matrix (`DIR/matrix.csv`, `DIR/polarity.txt`)
//! and as a flat qcity framework (49 indicators → Index).
//!
//! `time DIR N`: the equivalent of ProMCDA's robustness run on all weights: N Monte Carlo
//! replications, each with its own set of 49 random weights (qcity noisy weights with
//! noise 1, i.e. w × U(0, 2), the same as ProMCDA's U(0, 1) after normalisation),
//! min-max normalisation and the weighted arithmetic mean; prints seconds (all threads
//! and one thread) and writes the rank statistics to `DIR/qcity_rank_stats.json`.

use std::time::Instant;

use qcity_index::pipeline::Stage;
use qcity_index::spec::{UncertaintySpec, WeightNoise};
use qcity_index::{PipelineSpec, parse, run, uncertainty};

const IDATA: &str = include_str!("../tests/data/iData.csv");
const IMETA: &str = include_str!("../tests/data/iMeta.csv");

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("prepare") => prepare(&args[2]),
        Some("time") => time(&args[2], args[3].parse().expect("N")),
        _ => eprintln!("usage: promcda_peer prepare DIR | time DIR N"),
    }
}

fn prepare(dir: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let coin = parse::parse_coin("iData.csv", IDATA, "iMeta.csv", IMETA).unwrap();
    let spec = PipelineSpec::from_toml(
        "[denominate]\n[impute]\nmethod = \"mean_group\"\ngroup = \"EurAsia_group\"\n",
    )
    .unwrap();
    let r = run(&coin, &spec).unwrap();
    let d = r.data(Stage::Imputed);
    let fw = &coin.framework;
    // ProMCDA matrix: first column the alternatives
    let csv = d.to_csv().replacen("uCode", "Alternatives", 1);
    std::fs::write(format!("{dir}/matrix.csv"), &csv).unwrap();
    let pol: Vec<&str> = d
        .codes
        .iter()
        .map(|c| {
            if fw.get(c).unwrap().direction.sign() > 0.0 {
                "+"
            } else {
                "-"
            }
        })
        .collect();
    std::fs::write(format!("{dir}/polarity.txt"), pol.join(",")).unwrap();
    // flat qcity framework: every indicator directly under Index
    let mut meta = String::from("Level,iCode,iName,Direction,Weight,Parent,Type\n");
    for c in &d.codes {
        let n = fw.get(c).unwrap();
        meta.push_str(&format!(
            "1,{c},{c},{},1,Index,Indicator\n",
            n.direction.sign()
        ));
    }
    meta.push_str("2,Index,Index,1,1,,Aggregate\n");
    std::fs::write(format!("{dir}/iMeta_flat.csv"), meta).unwrap();
    std::fs::write(format!("{dir}/iData_flat.csv"), d.to_csv()).unwrap();
    println!(
        "prepared {} units × {} indicators in {dir}",
        d.n_units(),
        d.n_cols()
    );
}

fn time(dir: &str, n: usize) {
    let data = std::fs::read_to_string(format!("{dir}/iData_flat.csv")).unwrap();
    let meta = std::fs::read_to_string(format!("{dir}/iMeta_flat.csv")).unwrap();
    let spec = PipelineSpec::from_toml(
        "[normalise]\nmethod = \"minmax\"\nlow = 0\nhigh = 1\n[weights]\n[aggregate]\n",
    )
    .unwrap();
    let us = UncertaintySpec {
        weights: Some(WeightNoise {
            noise: 1.0,
            levels: Some(vec![1]),
            n_sets: n,
        }),
        ..Default::default()
    };
    let go = || {
        let t = Instant::now();
        let coin = parse::parse_coin("iData_flat.csv", &data, "iMeta_flat.csv", &meta).unwrap();
        let nominal = run(&coin, &spec).unwrap();
        let inputs = uncertainty::inputs_from_spec(&nominal, &us, 1);
        let u = uncertainty::uncertainty(&coin, &nominal, &inputs, n, 1).unwrap();
        (t.elapsed().as_secs_f64(), u)
    };
    let _ = go(); // warm-up
    let (all, u) = go();
    let (one, _) = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(go);
    std::fs::write(
        format!("{dir}/qcity_rank_stats.json"),
        serde_json::to_string_pretty(&u).unwrap(),
    )
    .unwrap();
    println!(
        "{{\"qcity_seconds_all_threads\": {all:.6}, \"qcity_seconds_one_thread\": {one:.6}, \"threads\": {}}}",
        rayon::current_num_threads()
    );
}

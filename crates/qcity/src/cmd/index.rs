//! `qcity index …`: the command line of the composite-index engine (`qcity-index`).
//!
//! - `run --data iData.csv --meta iMeta.csv --spec pipeline.toml [--emit STAGE] --out FILE`
//! - `weights --method entropy|critic|std|equal|pca|ahp --data matrix.csv
//!   [--directions d.csv] [--pairwise ahp.csv]`
//! - `topsis --data matrix.csv --weights w.csv --directions d.csv`
//! - `uncertainty --data iData.csv --meta iMeta.csv --spec pipeline.toml --n 1000 --seed 1 [--sobol]`
//!
//! File layouts and JSON shapes are documented in `examples/README-index.md`. Every input is
//! parsed and every result computed before anything is written; `--out` is written to a
//! temporary file beside it and renamed, so an error leaves nothing behind. Bad input stops
//! with an error naming the file, row and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::read_text as read;
use anyhow::{Context, Result, bail};
use qcity_index::model::Direction;
use qcity_index::pipeline::Stage;
use qcity_index::topsis::TopsisNormalisation;
use qcity_index::{Coin, PipelineSpec, parse, results, uncertainty, weights};
use serde_json::{Value, json};

/// Subcommands of `qcity index`.
#[derive(Debug, clap::Subcommand)]
pub enum IndexCommand {
    /// Run the pipeline (denominate → impute → screen → treat → normalise → aggregate).
    Run {
        /// Indicator data in COINr's iData layout (uCode, uName, groups, Time, denominators, indicators).
        #[arg(long)]
        data: PathBuf,
        /// Indicator metadata in COINr's iMeta layout.
        #[arg(long)]
        meta: PathBuf,
        /// Pipeline specification (TOML, one table per stage).
        #[arg(long)]
        spec: PathBuf,
        /// Write the data at this stage as CSV instead of the results
        /// (raw, denominated, imputed, screened, treated, normalised, aggregated).
        #[arg(long, value_name = "STAGE")]
        emit: Option<String>,
        /// Output file: `.json` for `{"results": [...]}`, `.csv` for a table.
        #[arg(long)]
        out: PathBuf,
    },
    /// Compute criterion weights from a decision matrix (printed as JSON).
    Weights {
        #[arg(long, value_parser = ["entropy", "critic", "std", "equal", "pca", "ahp"])]
        method: String,
        /// Decision matrix in iData layout: uCode, then one column per criterion.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Directions: `iCode,Direction` (1 or -1).
        #[arg(long)]
        directions: Option<PathBuf>,
        /// AHP pairwise matrix: header row and first column are criterion codes.
        #[arg(long)]
        pairwise: Option<PathBuf>,
    },
    /// Score alternatives by TOPSIS (printed as JSON).
    Topsis {
        /// Decision matrix in iData layout.
        #[arg(long)]
        data: PathBuf,
        /// Weights: `iCode,Weight`.
        #[arg(long)]
        weights: PathBuf,
        /// Directions: `iCode,Direction` (1 or -1).
        #[arg(long)]
        directions: PathBuf,
        /// Normalisation: `vector` (Hwang & Yoon) or `minmax` (pymcdm's default).
        #[arg(long, default_value = "vector", value_parser = ["vector", "minmax"])]
        normalisation: String,
    },
    /// Monte Carlo uncertainty (and optionally Sobol sensitivity) over the `[uncertainty]`
    /// choices of the spec (printed as JSON).
    Uncertainty {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        meta: PathBuf,
        #[arg(long)]
        spec: PathBuf,
        /// Replications (and the Sobol base sample size).
        #[arg(long, default_value_t = 1000)]
        n: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also compute first-order and total Sobol indices (N(d + 2) runs).
        #[arg(long)]
        sobol: bool,
        /// Bootstrap resamples for the Sobol confidence intervals.
        #[arg(long, default_value_t = 100)]
        boot: usize,
    },
}

/// Runs one `qcity index` subcommand.
pub fn run(cmd: IndexCommand) -> Result<()> {
    match cmd {
        IndexCommand::Run {
            data,
            meta,
            spec,
            emit,
            out,
        } => {
            let bytes = run_pipeline(&data, &meta, &spec, emit.as_deref(), &out)?;
            write_atomic(&out, bytes.as_bytes())
        }
        IndexCommand::Weights {
            method,
            data,
            directions,
            pairwise,
        } => {
            let v = compute_weights(
                &method,
                data.as_deref(),
                directions.as_deref(),
                pairwise.as_deref(),
            )?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(())
        }
        IndexCommand::Topsis {
            data,
            weights,
            directions,
            normalisation,
        } => {
            let v = compute_topsis(&data, &weights, &directions, &normalisation)?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(())
        }
        IndexCommand::Uncertainty {
            data,
            meta,
            spec,
            n,
            seed,
            sobol,
            boot,
        } => {
            let v = compute_uncertainty(&data, &meta, &spec, n, seed, sobol, boot)?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(())
        }
    }
}

fn name(path: &Path) -> String {
    path.display().to_string()
}

/// Write `bytes` to `path` atomically (temporary file beside it, then rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

fn load(data: &Path, meta: &Path, spec: &Path) -> Result<(Coin, PipelineSpec)> {
    let coin = parse::parse_coin(&name(data), &read(data)?, &name(meta), &read(meta)?)?;
    let spec =
        PipelineSpec::from_toml(&read(spec)?).with_context(|| format!("in {}", spec.display()))?;
    Ok((coin, spec))
}

/// The bytes `qcity index run` writes.
pub fn run_pipeline(
    data: &Path,
    meta: &Path,
    spec: &Path,
    emit: Option<&str>,
    out: &Path,
) -> Result<String> {
    let (coin, spec) = load(data, meta, spec)?;
    let run = qcity_index::run(&coin, &spec)?;
    if let Some(stage) = emit {
        let Some(st) = Stage::parse(stage) else {
            bail!(
                "--emit {stage}: unknown stage (raw, denominated, imputed, screened, treated, normalised, aggregated)"
            );
        };
        return Ok(run.data(st).to_csv());
    }
    if run.stages[6].skipped {
        bail!(
            "the spec has no [aggregate] section: there are no results (use --emit to write a stage)"
        );
    }
    let table = results::results_table(&run, false);
    match out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => Ok(results::results_csv(&table)),
        Some("json") => Ok(serde_json::to_string_pretty(&json!({ "results": table }))? + "\n"),
        _ => bail!("--out {}: use a .json or .csv file name", out.display()),
    }
}

fn directions_for(path: Option<&Path>, codes: &[String]) -> Result<Vec<Direction>> {
    match path {
        None => Ok(vec![Direction::Positive; codes.len()]),
        Some(p) => {
            let d = parse::parse_directions(&name(p), &read(p)?, Some(codes))?;
            codes
                .iter()
                .map(|c| {
                    d.get(c).copied().with_context(|| {
                        format!("{}: no direction for criterion '{c}'", p.display())
                    })
                })
                .collect()
        }
    }
}

/// The JSON `qcity index weights` prints.
pub fn compute_weights(
    method: &str,
    data: Option<&Path>,
    directions: Option<&Path>,
    pairwise: Option<&Path>,
) -> Result<Value> {
    if method == "ahp" {
        let Some(p) = pairwise else {
            bail!("--method ahp needs --pairwise ahp.csv");
        };
        let (codes, m) = parse::parse_pairwise(&name(p), &read(p)?)?;
        let a = weights::ahp(&m).with_context(|| format!("in {}", p.display()))?;
        let w: BTreeMap<&String, f64> = codes.iter().zip(a.weights.iter().copied()).collect();
        return Ok(json!({
            "method": "ahp",
            "weights": w,
            "lambda_max": a.lambda_max,
            "consistency_index": a.consistency_index,
            "consistency_ratio": a.consistency_ratio,
            "consistent": a.consistency_ratio < 0.1,
        }));
    }
    let Some(d) = data else {
        bail!("--method {method} needs --data matrix.csv");
    };
    let m = parse::parse_matrix(&name(d), &read(d)?)?;
    let dirs = directions_for(directions, &m.codes)?;
    // criteria oriented so that higher is better (CRITIC and PCA use the orientation;
    // entropy, std and equal weights do not depend on it)
    let oriented: Vec<Vec<f64>> = m
        .cols
        .iter()
        .zip(&dirs)
        .map(|(c, d)| c.iter().map(|x| x * d.sign()).collect())
        .collect();
    let w = match method {
        "equal" => weights::equal(m.n_cols()),
        "entropy" => weights::entropy(&m.cols)?,
        "std" => weights::std_weights(&m.cols)?,
        "critic" => weights::critic(&oriented)?,
        "pca" => weights::pca(&oriented)?,
        other => bail!("unknown method '{other}'"),
    };
    let w: BTreeMap<&String, f64> = m.codes.iter().zip(w).collect();
    Ok(json!({ "method": method, "weights": w }))
}

/// The JSON `qcity index topsis` prints.
pub fn compute_topsis(
    data: &Path,
    weights: &Path,
    directions: &Path,
    normalisation: &str,
) -> Result<Value> {
    let m = parse::parse_matrix(&name(data), &read(data)?)?;
    let w = parse::parse_code_values(&name(weights), &read(weights)?, "Weight", Some(&m.codes))?;
    let dirs = directions_for(Some(directions), &m.codes)?;
    let wv: Vec<f64> = m
        .codes
        .iter()
        .map(|c| {
            w.get(c)
                .copied()
                .with_context(|| format!("{}: no weight for criterion '{c}'", weights.display()))
        })
        .collect::<Result<_>>()?;
    let norm = if normalisation == "minmax" {
        TopsisNormalisation::MinMax
    } else {
        TopsisNormalisation::Vector
    };
    let scores = qcity_index::topsis::topsis(&m.cols, &wv, &dirs, norm)?;
    let ranks = qcity_index::stats::rank_descending(&scores);
    let rows: Vec<Value> = m
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            json!({
                "uCode": u,
                "score": if scores[i].is_nan() { Value::Null } else { json!(scores[i]) },
                "rank": if ranks[i].is_nan() { Value::Null } else { json!(ranks[i] as u32) },
            })
        })
        .collect();
    Ok(json!({ "method": "topsis", "normalisation": normalisation, "results": rows }))
}

/// The JSON `qcity index uncertainty` prints.
pub fn compute_uncertainty(
    data: &Path,
    meta: &Path,
    spec_path: &Path,
    n: usize,
    seed: u64,
    sobol: bool,
    boot: usize,
) -> Result<Value> {
    let (coin, spec) = load(data, meta, spec_path)?;
    let Some(us) = spec.uncertainty.clone() else {
        bail!(
            "{}: no [uncertainty] section: nothing is uncertain",
            spec_path.display()
        );
    };
    let nominal = qcity_index::run(&coin, &spec)?;
    let inputs = uncertainty::inputs_from_spec(&nominal, &us, seed);
    if inputs.is_empty() {
        bail!(
            "{}: [uncertainty] lists no uncertain input",
            spec_path.display()
        );
    }
    let ua = uncertainty::uncertainty(&coin, &nominal, &inputs, n, seed)?;
    let mut v = serde_json::to_value(&ua)?;
    if sobol {
        let sa = uncertainty::sensitivity(&coin, &nominal, &inputs, n, seed, boot)?;
        v["sobol"] = serde_json::to_value(&sa)?;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("qcity-index-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const MATRIX: &str = "uCode,speed,range,payload,cost,reliability,manoeuvre\n\
        A1,2.0,1500,20000,5.5,5,9\nA2,2.5,2700,18000,6.5,3,5\n\
        A3,1.8,2000,21000,4.5,7,7\nA4,2.2,1800,20000,5.0,5,5\n";
    const DIRS: &str =
        "iCode,Direction\nspeed,1\nrange,1\npayload,1\ncost,-1\nreliability,1\nmanoeuvre,1\n";
    const W: &str = "iCode,Weight\nspeed,0.2\nrange,0.1\npayload,0.1\ncost,0.1\nreliability,0.2\nmanoeuvre,0.3\n";

    #[test]
    fn topsis_prints_hwang_yoon_scores() {
        let v = compute_topsis(
            &tmp("m.csv", MATRIX),
            &tmp("w.csv", W),
            &tmp("d.csv", DIRS),
            "vector",
        )
        .unwrap();
        let r = &v["results"];
        assert_eq!(r[0]["uCode"], "A1");
        assert!((r[0]["score"].as_f64().unwrap() - 0.643277000553).abs() < 1e-9);
        assert_eq!(r[0]["rank"], 1);
        assert_eq!(r[1]["rank"], 4);
    }

    #[test]
    fn weights_prints_a_map_and_ahp_adds_the_consistency_ratio() {
        let v = compute_weights("entropy", Some(&tmp("m.csv", MATRIX)), None, None).unwrap();
        assert!((v["weights"]["reliability"].as_f64().unwrap() - 0.358680024345).abs() < 1e-9);
        let ahp = tmp(
            "ahp.csv",
            "code,a,b,c\na,1,3,5\nb,0.333333333333,1,3\nc,0.2,0.333333333333,1\n",
        );
        let v = compute_weights("ahp", None, None, Some(&ahp)).unwrap();
        assert!((v["weights"]["a"].as_f64().unwrap() - 0.637).abs() < 1e-3);
        assert!(v["consistency_ratio"].as_f64().unwrap() < 0.1);
    }

    fn asem() -> (PathBuf, PathBuf, PathBuf) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engines/index/tests/data");
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pipeline.toml");
        (root.join("iData.csv"), root.join("iMeta.csv"), spec)
    }

    #[test]
    fn run_writes_results_json_csv_and_emitted_stages() {
        let (d, m, s) = asem();
        let out = tmp("r.json", "");
        let json: Value =
            serde_json::from_str(&run_pipeline(&d, &m, &s, None, &out).unwrap()).unwrap();
        let rows = json["results"].as_array().unwrap();
        assert_eq!(rows.len(), 51);
        assert_eq!(rows[0]["uCode"], "CHE");
        assert!((rows[0]["scores"]["Index"].as_f64().unwrap() - 68.3837).abs() < 0.005);
        assert_eq!(rows[0]["ranks"]["Index"], 1);
        assert_eq!(rows[0]["scores"].as_object().unwrap().len(), 11);
        let csv = run_pipeline(&d, &m, &s, None, &tmp("r.csv", "")).unwrap();
        assert!(csv.starts_with("uCode,ConEcFin,"));
        let emitted = run_pipeline(&d, &m, &s, Some("treated"), &tmp("t.csv", "")).unwrap();
        assert!(emitted.starts_with("uCode,LPI,Flights,"));
        assert_eq!(emitted.lines().count(), 52);
        assert!(run_pipeline(&d, &m, &s, Some("cooked"), &out).is_err());
        assert!(run_pipeline(&d, &m, &s, None, &tmp("r.txt", "")).is_err());
    }

    #[test]
    fn uncertainty_json_has_rank_stats_and_sobol() {
        let (d, m, s) = asem();
        let v = compute_uncertainty(&d, &m, &s, 40, 1, true, 20).unwrap();
        assert_eq!(v["rank_stats"].as_array().unwrap().len(), 51);
        assert_eq!(v["sobol"]["d"], 5);
        assert_eq!(v["sobol"]["n_runs"], 40 * 7);
    }

    #[test]
    fn bad_cell_names_file_row_and_column() {
        let bad = tmp("bad.csv", "uCode,x,y\nA,1,2\nB,three,4\n");
        let e = compute_weights("std", Some(&bad), None, None).unwrap_err();
        let s = format!("{e:#}");
        assert!(
            s.contains("bad.csv row 3 column 'x': non-numeric value 'three'"),
            "{s}"
        );
    }
}

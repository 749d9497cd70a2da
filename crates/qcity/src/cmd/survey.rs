//! `qcity survey …`: the command line of the survey-statistics engine (`qcity-surveystat`).
//!
//! - `pls --data X.csv --model model.toml [--scheme path|factorial|centroid]
//!   [--bootstrap N --seed S] [--ipma-target NAME] --out res.json`
//! - `rake --data sample.csv --margins margins.csv [--base-weight COL] [--trim LO,HI]
//!   [--tolerance T] [--max-iterations N] --out weighted.csv`
//! - `estimate --data sample.csv --var COL [--var COL…] [--weight COL] [--strata COL]
//!   [--cluster COL] [--fpc COL] [--rake margins.csv] [--by COL] [--level L] --out res.json`
//!
//! Every input is parsed and every result computed before anything is written; the output is
//! written to a temporary file beside `--out` and renamed, so an error leaves nothing behind.

use std::path::{Path, PathBuf};

use super::read_text as read;
use anyhow::{Context, Result, bail};
use qcity_surveystat::estimate::{Design, Estimate, estimate, estimate_by};
use qcity_surveystat::pls::{AlgorithmOptions, BootstrapOptions, ItemData, PlsModel, PlsOptions};
use qcity_surveystat::table::encode_levels;
use qcity_surveystat::weighting::{RakeOptions, kish, parse_margins, rake};
use qcity_surveystat::{Scheme, SignChange, Table};

/// Subcommands of `qcity survey`.
#[derive(Debug, clap::Subcommand)]
pub enum SurveyCommand {
    /// Estimate a PLS-SEM satisfaction model (paths, weights, reliability, indices, IPMA).
    Pls {
        /// Item data (CSV with a header; one column per item).
        #[arg(long)]
        data: PathBuf,
        /// Model: `[constructs.NAME] items = [...] mode = "A"|"B"` and
        /// `[[paths]] from = "NAME" to = ["NAME", ...]`.
        #[arg(long)]
        model: PathBuf,
        /// Inner weighting scheme.
        #[arg(long, default_value = "path", value_parser = ["path", "factorial", "centroid"])]
        scheme: String,
        /// Bootstrap resamples (none when absent).
        #[arg(long)]
        bootstrap: Option<usize>,
        /// Bootstrap seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Target construct of the importance–performance analysis.
        #[arg(long)]
        ipma_target: Option<String>,
        /// Output JSON file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Rake sample weights to population margins (`variable,category,total`).
    Rake {
        /// Sample (CSV with a header).
        #[arg(long)]
        data: PathBuf,
        /// Margins CSV with columns `variable,category,total`.
        #[arg(long)]
        margins: PathBuf,
        /// Column with base (design) weights; 1 when absent.
        #[arg(long)]
        base_weight: Option<String>,
        /// Trimming bounds `LO,HI` on the adjustment factor weight/base.
        #[arg(long)]
        trim: Option<String>,
        /// Convergence tolerance: largest relative margin error.
        #[arg(long, default_value_t = 1e-6)]
        tolerance: f64,
        /// Iteration cap.
        #[arg(long, default_value_t = 100)]
        max_iterations: usize,
        /// Output CSV: the input with a `weight` column added.
        #[arg(long)]
        out: PathBuf,
    },
    /// Weighted means and totals with design-based SEs, CIs, deff, n and n_eff.
    Estimate {
        /// Sample (CSV with a header).
        #[arg(long)]
        data: PathBuf,
        /// Variable(s) to estimate (repeat the flag).
        #[arg(long = "var", required = true)]
        vars: Vec<String>,
        /// Weight column (from `--fpc` when absent and fpc given; else 1).
        #[arg(long)]
        weight: Option<String>,
        /// Stratum column.
        #[arg(long)]
        strata: Option<String>,
        /// First-stage cluster (PSU) column.
        #[arg(long)]
        cluster: Option<String>,
        /// FPC column: population count of first-stage units in the stratum, or a sampling
        /// fraction when < 1 (as R's survey package).
        #[arg(long)]
        fpc: Option<String>,
        /// Rake to these margins (`variable,category,total`) first; SEs account for it.
        #[arg(long)]
        rake: Option<PathBuf>,
        /// Domain (group) column.
        #[arg(long)]
        by: Option<String>,
        /// Confidence level.
        #[arg(long, default_value_t = 0.95)]
        level: f64,
        /// Output JSON file.
        #[arg(long)]
        out: PathBuf,
    },
}

fn read_table(path: &Path) -> Result<Table> {
    Ok(Table::parse(&path.display().to_string(), &read(path)?)?)
}

/// Write `bytes` to `path` atomically (temporary file beside it, then rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

fn parse_trim(s: &str) -> Result<(f64, f64)> {
    let (a, b) = s
        .split_once(',')
        .with_context(|| format!("--trim `{s}`: expected LO,HI"))?;
    let lo: f64 = a
        .trim()
        .parse()
        .with_context(|| format!("--trim: `{a}` is not a number"))?;
    let hi: f64 = b
        .trim()
        .parse()
        .with_context(|| format!("--trim: `{b}` is not a number"))?;
    Ok((lo, hi))
}

/// Run one `qcity survey` subcommand.
pub fn run(cmd: SurveyCommand) -> Result<()> {
    match cmd {
        SurveyCommand::Pls {
            data,
            model,
            scheme,
            bootstrap,
            seed,
            ipma_target,
            out,
        } => {
            let model = PlsModel::from_toml(&model.display().to_string(), &read(&model)?)?;
            let table = read_table(&data)?;
            let items = ItemData::from_table(&table, &model)?;
            let scheme: Scheme = scheme.parse()?;
            let opts = PlsOptions {
                algorithm: AlgorithmOptions {
                    scheme,
                    ..AlgorithmOptions::default()
                },
                bootstrap: bootstrap.map(|resamples| BootstrapOptions {
                    resamples,
                    seed,
                    level: 0.95,
                    sign_change: SignChange::ConstructLevel,
                }),
                ipma_target,
            };
            let res = qcity_surveystat::estimate_pls(&items, &model, &opts)?;
            write_atomic(&out, &serde_json::to_vec_pretty(&res)?)?;
            for p in &res.paths {
                println!("{:>14} -> {:<14} {:>9.4}", p.from, p.to, p.coefficient);
            }
            for w in &res.warnings {
                eprintln!("warning: {w}");
            }
            Ok(())
        }
        SurveyCommand::Rake {
            data,
            margins,
            base_weight,
            trim,
            tolerance,
            max_iterations,
            out,
        } => {
            let table = read_table(&data)?;
            let mtable = read_table(&margins)?;
            let margins = parse_margins(&table, &mtable)?;
            let base = match &base_weight {
                Some(col) => positive(&table, col)?,
                None => vec![1.0; table.len()],
            };
            let opts = RakeOptions {
                tolerance,
                max_iterations,
                bounds: trim.as_deref().map(parse_trim).transpose()?,
            };
            let r = rake(&base, &margins, &opts)?;
            let mut w = csv::Writer::from_writer(Vec::new());
            let existing = table.headers().iter().position(|h| h == "weight");
            let mut header: Vec<String> = table.headers().to_vec();
            if existing.is_none() {
                header.push("weight".into());
            }
            w.write_record(&header)?;
            for (row, wt) in table.rows().iter().zip(&r.weights) {
                let mut rec = row.clone();
                match existing {
                    Some(c) => rec[c] = wt.to_string(),
                    None => rec.push(wt.to_string()),
                }
                w.write_record(&rec)?;
            }
            let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
            write_atomic(&out, &bytes)?;
            println!(
                "raked {} respondents on {} margins in {} iterations (max relative error {:.2e}); n_eff {:.1}, deff_w {:.3}",
                table.len(),
                margins.len(),
                r.iterations,
                r.max_relative_error,
                r.summary.n_eff,
                r.summary.deff_w
            );
            Ok(())
        }
        SurveyCommand::Estimate {
            data,
            vars,
            weight,
            strata,
            cluster,
            fpc,
            rake: rake_margins,
            by,
            level,
            out,
        } => {
            if !(level > 0.0 && level < 1.0) {
                bail!("--level {level} must be between 0 and 1");
            }
            let table = read_table(&data)?;
            let base = match &weight {
                Some(col) => positive(&table, col)?,
                None => vec![1.0; table.len()],
            };
            let mut design = Design::new(base)?;
            if let Some(col) = &strata {
                design = design.with_strata(encode_levels(&table.labels(col)?).0)?;
            }
            if let Some(col) = &cluster {
                design = design.with_clusters(encode_levels(&table.labels(col)?).0)?;
            }
            if let Some(col) = &fpc {
                design = design.with_fpc(positive(&table, col)?)?;
                if weight.is_none() {
                    design = design.with_weights_from_fpc()?;
                }
            }
            if let Some(path) = &rake_margins {
                let mtable = read_table(path)?;
                let margins = parse_margins(&table, &mtable)?;
                let opts = RakeOptions {
                    tolerance: 1e-9,
                    max_iterations: 1000,
                    bounds: None,
                };
                design = design.raked(&margins, &opts)?;
            }
            let groups = by.as_ref().map(|col| table.labels(col)).transpose()?;
            let mut estimates: Vec<Estimate> = Vec::new();
            for v in &vars {
                let y = table.numeric_with_missing(v)?;
                estimates.push(estimate(&design, v, &y, None, level)?);
                if let Some(g) = &groups {
                    estimates.extend(estimate_by(&design, v, &y, g, level)?);
                }
            }
            let summary = kish(design.weights());
            let doc = serde_json::json!({
                "level": level,
                "design": {
                    "weight": weight,
                    "strata": strata,
                    "cluster": cluster,
                    "fpc": fpc,
                    "raked_to": rake_margins.as_ref().map(|p| p.display().to_string()),
                    "by": by,
                },
                "weights": summary,
                "estimates": estimates,
            });
            write_atomic(&out, &serde_json::to_vec_pretty(&doc)?)?;
            println!(
                "{:<16} {:<12} {:>10} {:>9} {:>12} {:>10} {:>10} {:>10} {:>7} {:>6} {:>8}",
                "variable",
                "group",
                "mean",
                "se",
                "total",
                "total_se",
                "ci_low",
                "ci_high",
                "deff",
                "n",
                "n_eff"
            );
            for e in &estimates {
                println!(
                    "{:<16} {:<12} {:>10.4} {:>9.4} {:>12.2} {:>10.2} {:>10.4} {:>10.4} {:>7.3} {:>6} {:>8.1}",
                    e.variable,
                    e.group.as_deref().unwrap_or("(all)"),
                    e.mean,
                    e.se,
                    e.total,
                    e.total_se,
                    e.ci_low,
                    e.ci_high,
                    e.deff,
                    e.n,
                    e.n_eff
                );
            }
            Ok(())
        }
    }
}

/// A numeric column whose every value must be positive (weights, fpc).
fn positive(table: &Table, col: &str) -> Result<Vec<f64>> {
    let v = table.numeric(col)?;
    if let Some(i) = v.iter().position(|x| *x <= 0.0) {
        return Err(table
            .error_at(i, col, format!("{} must be positive", v[i]))
            .into());
    }
    Ok(v)
}

#[cfg(test)]
#[path = "survey_tests.rs"]
mod tests;

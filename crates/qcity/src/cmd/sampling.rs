//! `qcity sampling …`: the command line of the acceptance-sampling engine (`qcity-sampling`),
//! the contract of issue 14. Every command prints one JSON object on stdout:
//!
//! - `plan --lot N --level S1|S2|S3|S4|I|II|III --aql A [--severity normal|tightened|reduced]`
//!   → `{"code_letter","plan_letter","n","ac","re","hundred_percent"}`
//! - `oc --n 80 --ac 5 --p 0.025[,…] [--model binomial|poisson|hypergeometric --lot N]`
//!   → `{"pa"}` for one p, `{"points": [{"p","pa"}, …]}` for a comma list
//! - `zero-acceptance --p1 0.20 --beta 0.05 [--lot N]` → `{"n"}`
//! - `switch --history lots.csv` (columns `lot,accepted[,accepted_tighter]`, in inspection
//!   order) → `{"final", "lots": [{"lot","state"}, …]}`
//!
//! Bad input exits non-zero with an error on stderr naming the argument, or the file, row
//! (1-based line, header = 1) and column.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use qcity_sampling::{
    Level, LotOutcome, Model, Severity, Switching, pa, single_plan, zero_acceptance,
    zero_acceptance_finite,
};
use serde::Serialize;

/// Inspection level argument (the standard's own names: S-1…S-4, I, II, III).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[allow(clippy::upper_case_acronyms)]
pub enum LevelArg {
    #[value(name = "S1", alias = "S-1")]
    S1,
    #[value(name = "S2", alias = "S-2")]
    S2,
    #[value(name = "S3", alias = "S-3")]
    S3,
    #[value(name = "S4", alias = "S-4")]
    S4,
    #[value(name = "I")]
    I,
    #[value(name = "II")]
    II,
    #[value(name = "III")]
    III,
}

impl From<LevelArg> for Level {
    fn from(l: LevelArg) -> Level {
        match l {
            LevelArg::S1 => Level::S1,
            LevelArg::S2 => Level::S2,
            LevelArg::S3 => Level::S3,
            LevelArg::S4 => Level::S4,
            LevelArg::I => Level::I,
            LevelArg::II => Level::II,
            LevelArg::III => Level::III,
        }
    }
}

/// Inspection severity argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SeverityArg {
    Normal,
    Tightened,
    Reduced,
}

/// OC model argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelArg {
    Binomial,
    Poisson,
    Hypergeometric,
}

/// Subcommands of `qcity sampling`.
#[derive(Debug, clap::Subcommand)]
pub enum SamplingCommand {
    /// ISO 2859-1 single sampling plan for a lot (Table 1, then Table 2-A/2-B/2-C).
    Plan {
        /// Lot size (items).
        #[arg(long)]
        lot: u64,
        /// Inspection level.
        #[arg(long, value_enum)]
        level: LevelArg,
        /// Acceptance quality limit (a preferred AQL: 0.010 … 1000).
        #[arg(long)]
        aql: f64,
        /// Inspection severity.
        #[arg(long, value_enum, default_value = "normal")]
        severity: SeverityArg,
    },
    /// Probability of acceptance Pa = P(d ≤ Ac) at one or more qualities p.
    Oc {
        /// Sample size.
        #[arg(long)]
        n: u32,
        /// Acceptance number.
        #[arg(long)]
        ac: u32,
        /// Fraction nonconforming (or nonconformities per item), or a comma list.
        #[arg(long)]
        p: String,
        /// Probability model.
        #[arg(long, value_enum, default_value = "binomial")]
        model: ModelArg,
        /// Lot size (required by the hypergeometric model; D = round(p·N)).
        #[arg(long)]
        lot: Option<u64>,
    },
    /// Smallest Ac = 0 sample that finds a lot at p1 nonconforming with probability ≥ 1 − β.
    ZeroAcceptance {
        /// Fraction nonconforming to detect.
        #[arg(long)]
        p1: f64,
        /// Consumer's risk β.
        #[arg(long)]
        beta: f64,
        /// Finite lot size: hypergeometric form with D = ⌈p1·N⌉.
        #[arg(long)]
        lot: Option<u64>,
    },
    /// Run the ISO 2859-1 switching rules over a lot history.
    Switch {
        /// CSV with columns `lot,accepted` (true/false) in inspection order; an optional
        /// `accepted_tighter` column (true/false) feeds the switching score for Ac ≥ 2 plans.
        #[arg(long)]
        history: PathBuf,
    },
}

// Output shapes: structs, so the keys keep the contract's order.
#[derive(Serialize)]
struct PlanOut {
    code_letter: String,
    plan_letter: String,
    n: u32,
    ac: u32,
    re: u32,
    hundred_percent: bool,
}

#[derive(Serialize)]
struct PaOut {
    pa: f64,
}

#[derive(Serialize)]
struct Point {
    p: f64,
    pa: f64,
}

#[derive(Serialize)]
struct PointsOut {
    points: Vec<Point>,
}

#[derive(Serialize)]
struct NOut {
    n: u64,
}

#[derive(Serialize)]
struct LotState {
    lot: String,
    state: qcity_sampling::State,
}

#[derive(Serialize)]
struct SwitchOut {
    #[serde(rename = "final")]
    final_state: qcity_sampling::State,
    lots: Vec<LotState>,
}

/// Runs a `sampling` subcommand and prints its JSON.
pub fn run(cmd: SamplingCommand) -> Result<()> {
    println!("{}", output(cmd)?);
    Ok(())
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).context("serialising JSON")
}

/// The JSON line a subcommand prints.
pub fn output(cmd: SamplingCommand) -> Result<String> {
    match cmd {
        SamplingCommand::Plan {
            lot,
            level,
            aql,
            severity,
        } => {
            let severity = match severity {
                SeverityArg::Normal => Severity::Normal,
                SeverityArg::Tightened => Severity::Tightened,
                SeverityArg::Reduced => Severity::Reduced,
            };
            let plan = single_plan(lot, level.into(), aql, severity)?;
            to_json(&PlanOut {
                code_letter: plan.code_letter.to_string(),
                plan_letter: plan.plan_letter.to_string(),
                n: plan.n,
                ac: plan.ac,
                re: plan.re,
                hundred_percent: plan.hundred_percent,
            })
        }
        SamplingCommand::Oc {
            n,
            ac,
            p,
            model,
            lot,
        } => {
            let model = match (model, lot) {
                (ModelArg::Binomial, _) => Model::Binomial,
                (ModelArg::Poisson, _) => Model::Poisson,
                (ModelArg::Hypergeometric, Some(lot)) => Model::Hypergeometric { lot },
                (ModelArg::Hypergeometric, None) => {
                    bail!("--model hypergeometric needs --lot N")
                }
            };
            let ps = p
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse::<f64>()
                        .with_context(|| format!("--p: `{}` is not a number", s.trim()))
                })
                .collect::<Result<Vec<f64>>>()?;
            let mut points = Vec::with_capacity(ps.len());
            for &x in &ps {
                let v = pa(model, n, ac, x).with_context(|| format!("--p {x}"))?;
                points.push(Point { p: x, pa: v });
            }
            if points.len() == 1 && !p.contains(',') {
                to_json(&PaOut { pa: points[0].pa })
            } else {
                to_json(&PointsOut { points })
            }
        }
        SamplingCommand::ZeroAcceptance { p1, beta, lot } => {
            let n = match lot {
                Some(lot) => zero_acceptance_finite(p1, beta, lot)?,
                None => zero_acceptance(p1, beta)?,
            };
            to_json(&NOut { n })
        }
        SamplingCommand::Switch { history } => {
            let lots = read_history(&history)?;
            let mut machine = Switching::new();
            let mut rows = Vec::with_capacity(lots.len());
            for (name, outcome) in lots {
                let state = machine.record(outcome);
                rows.push(LotState { lot: name, state });
            }
            to_json(&SwitchOut {
                final_state: machine.state(),
                lots: rows,
            })
        }
    }
}

fn parse_bool(file: &str, row: usize, column: &str, cell: &str) -> Result<bool> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => bail!("{file} row {row} column '{column}': expected true or false, got `{other}`"),
    }
}

/// Reads `lot,accepted[,accepted_tighter]`; errors name file, row and column.
fn read_history(path: &Path) -> Result<Vec<(String, LotOutcome)>> {
    let file = path.display().to_string();
    let limits = qcity_platform::upload::Limits::default();
    let table = qcity_platform::upload::read_file_table(path, &limits)
        .map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    let headers: Vec<&str> = table
        .header()
        .unwrap_or_default()
        .iter()
        .map(|h| h.trim())
        .collect();
    let col = |name: &str| headers.iter().position(|h| *h == name);
    let (Some(lot_col), Some(acc_col)) = (col("lot"), col("accepted")) else {
        bail!("{file} row 1: the header needs columns 'lot' and 'accepted'");
    };
    let tighter_col = col("accepted_tighter");
    let mut lots = Vec::new();
    for (row, cells) in table.data_rows() {
        let record: Vec<&str> = cells.iter().map(|c| c.trim()).collect();
        let lot = record.get(lot_col).copied().unwrap_or("").to_string();
        if lot.is_empty() {
            bail!("{file} row {row} column 'lot': empty lot name");
        }
        let accepted = parse_bool(
            &file,
            row,
            "accepted",
            record.get(acc_col).copied().unwrap_or(""),
        )?;
        let accepted_tighter = match tighter_col.and_then(|c| record.get(c).copied()) {
            Some(cell) if !cell.is_empty() => {
                Some(parse_bool(&file, row, "accepted_tighter", cell)?)
            }
            _ => None,
        };
        lots.push((
            lot,
            LotOutcome {
                accepted,
                accepted_tighter,
            },
        ));
    }
    if lots.is_empty() {
        bail!("{file}: no lots");
    }
    Ok(lots)
}

//! `qcity energy …` — baseline fitting, avoided energy use and VEE from files
//! (the command-line contract of issue 7; the engine is `qcity-mv`).

use super::read_text as read;
use anyhow::{Context, Result, bail};
use qcity_mv::baseline::{BaselineFile, Method};
use qcity_mv::caltrack::Fuel;
use qcity_mv::caltrack::merge_estimated_reads;
use qcity_mv::chain::{ChannelChain, ChannelKind, process};
use qcity_mv::series::{parse_readings_csv, parse_temperature_csv, parse_usage_csv_flagged};
use qcity_mv::vee::{LocalDays, VeeConfig, parse_interval, run_vee};
use std::path::{Path, PathBuf};

/// Model family for `energy fit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelArg {
    /// CalTRACK 2.0 daily usage-per-day model.
    #[value(name = "caltrack-daily")]
    Daily,
    /// CalTRACK 2.0 billing model (WLS by period length).
    #[value(name = "caltrack-billing")]
    Billing,
    /// CalTRACK 2.0 hourly time-of-week-and-temperature model.
    #[value(name = "caltrack-hourly")]
    Hourly,
}

/// Energy metering commands.
#[derive(Debug, clap::Subcommand)]
pub enum EnergyCommand {
    /// Fit a baseline model and write model.json.
    Fit {
        /// Usage CSV: `start,value` (daily or hourly) or `start,end,value` (billing; an
        /// optional `estimated` column marks estimated bills, merged into the next one).
        #[arg(long)]
        usage: PathBuf,
        /// Hourly temperature CSV: `timestamp,temperature_f`.
        #[arg(long)]
        temperature: PathBuf,
        /// Model family.
        #[arg(long, value_enum)]
        model: ModelArg,
        /// Electricity meter (default).
        #[arg(long, conflicts_with = "gas")]
        electricity: bool,
        /// Gas meter (no cooling terms).
        #[arg(long)]
        gas: bool,
        /// Output model JSON.
        #[arg(long)]
        out: PathBuf,
    },
    /// Avoided energy use over a reporting period for a fitted model.
    Savings {
        /// model.json from `energy fit`.
        #[arg(long)]
        model: PathBuf,
        /// Reporting-period usage CSV (same format as for `fit`).
        #[arg(long)]
        usage: PathBuf,
        /// Hourly temperature CSV covering the reporting period.
        #[arg(long)]
        temperature: PathBuf,
        /// Output JSON.
        #[arg(long)]
        out: PathBuf,
    },
    /// Validate and estimate interval readings (VEE) and write validated.csv.
    Vee {
        /// Readings CSV: `timestamp,value`.
        #[arg(long)]
        readings: PathBuf,
        /// Interval length, e.g. 15m or 1h.
        #[arg(long)]
        interval: String,
        /// Output CSV: timestamp,raw,value,quality,flags,edits.
        #[arg(long)]
        out: PathBuf,
        /// IANA time zone for local days (DST-aware completeness); default: the offset of
        /// the first reading.
        #[arg(long)]
        tz: Option<String>,
        /// High limit per interval.
        #[arg(long)]
        high_limit: Option<f64>,
        /// Low limit per interval.
        #[arg(long)]
        low_limit: Option<f64>,
        /// Accept negative values (net metering).
        #[arg(long)]
        allow_negative: bool,
        /// Processing chain applied before validation.
        #[command(flatten)]
        chain: ChainArgs,
    },
}

/// Per-channel processing chain options of `energy vee`.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct ChainArgs {
    /// Scale factor (e.g. kWh per pulse).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Additive offset (interval channels only).
    #[arg(long, default_value_t = 0.0)]
    pub offset: f64,
    /// Current-transformer ratio (CT).
    #[arg(long, default_value_t = 1.0)]
    pub ct_ratio: f64,
    /// Voltage-transformer ratio (PT).
    #[arg(long, default_value_t = 1.0)]
    pub pt_ratio: f64,
    /// Readings are a cumulative register: derive interval increments first.
    #[arg(long, requires = "max_increment")]
    pub register: bool,
    /// Register wraps to 0 at this value (e.g. 1000000 for six digits).
    #[arg(long)]
    pub rollover_at: Option<f64>,
    /// Largest plausible increment between two reads, in register units.
    #[arg(long)]
    pub max_increment: Option<f64>,
}

impl Default for ChainArgs {
    fn default() -> Self {
        ChainArgs {
            scale: 1.0,
            offset: 0.0,
            ct_ratio: 1.0,
            pt_ratio: 1.0,
            register: false,
            rollover_at: None,
            max_increment: None,
        }
    }
}

impl ChainArgs {
    fn to_chain(&self) -> Result<ChannelChain> {
        let kind = if self.register {
            ChannelKind::Register {
                rollover_at: self.rollover_at,
                max_increment: self
                    .max_increment
                    .context("--register needs --max-increment")?,
            }
        } else {
            ChannelKind::Interval
        };
        Ok(ChannelChain {
            kind,
            scale: self.scale,
            offset: self.offset,
            ct_ratio: self.ct_ratio,
            pt_ratio: self.pt_ratio,
        })
    }
}

fn write_json<T: serde::Serialize>(path: &Path, v: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(v).context("serialising JSON")?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

fn label(path: &Path) -> String {
    path.display().to_string()
}

/// Reads usage; estimated bills (optional `estimated` column) are merged into the next bill.
fn read_usage(path: &Path) -> Result<Vec<qcity_mv::series::UsagePeriod>> {
    let (periods, estimated) = parse_usage_csv_flagged(&label(path), &read(path)?)?;
    Ok(if estimated.iter().any(|e| *e) {
        merge_estimated_reads(&periods, &estimated, 70)
    } else {
        periods
    })
}

/// Runs an `energy` subcommand.
pub fn run(cmd: EnergyCommand) -> Result<()> {
    match cmd {
        EnergyCommand::Fit {
            usage,
            temperature,
            model,
            electricity: _,
            gas,
            out,
        } => {
            let u = read_usage(&usage)?;
            let t = parse_temperature_csv(&label(&temperature), &read(&temperature)?)?;
            let fuel = if gas { Fuel::Gas } else { Fuel::Electricity };
            let method = match model {
                ModelArg::Daily => Method::CaltrackDaily,
                ModelArg::Billing => Method::CaltrackBilling,
                ModelArg::Hourly => Method::CaltrackHourly,
            };
            let m = BaselineFile::fit(method, fuel, &u, &t)
                .with_context(|| format!("fitting {}", usage.display()))?;
            write_json(&out, &m)
        }
        EnergyCommand::Savings {
            model,
            usage,
            temperature,
            out,
        } => {
            let m: BaselineFile = serde_json::from_str(&read(&model)?)
                .with_context(|| format!("{}: not a qcity model.json", model.display()))?;
            let u = read_usage(&usage)?;
            let t = parse_temperature_csv(&label(&temperature), &read(&temperature)?)?;
            let s = m
                .savings(&u, &t)
                .with_context(|| format!("savings over {}", usage.display()))?;
            write_json(&out, &s)
        }
        EnergyCommand::Vee {
            readings,
            interval,
            out,
            tz,
            high_limit,
            low_limit,
            allow_negative,
            chain,
        } => {
            let mut r = parse_readings_csv(&label(&readings), &read(&readings)?)?;
            r.sort_by_key(|x| x.at);
            let processed = process(&chain.to_chain()?, &r)?;
            let r = processed.values;
            let minutes = parse_interval(&interval)?;
            let local_days = match tz {
                Some(name) => match name.parse() {
                    Ok(z) => LocalDays::Zone(z),
                    Err(_) => bail!("--tz: unknown time zone `{name}`"),
                },
                None => match r.first() {
                    Some(first) => LocalDays::Fixed(*first.at.offset()),
                    None => bail!("{}: no readings", readings.display()),
                },
            };
            let mut cfg = VeeConfig::new(minutes, local_days);
            cfg.high_limit = high_limit;
            cfg.low_limit = low_limit;
            cfg.allow_negative = allow_negative;
            // Clock check: nothing may be stamped in the future.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(i64::MAX);
            cfg.not_after = qcity_mv::series::instant_from_unix(now);
            let v = run_vee(&r, &cfg, None, &processed.events)?;
            let mut w = csv::Writer::from_path(&out)
                .with_context(|| format!("writing {}", out.display()))?;
            w.write_record(["timestamp", "raw", "value", "quality", "flags", "edits"])?;
            let num = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
            for iv in &v.validated {
                let flags: Vec<&str> = iv.flags.iter().map(|f| f.id()).collect();
                let edits: Vec<String> = iv
                    .edits
                    .iter()
                    .map(|e| {
                        format!(
                            "{}:{}->{}@{}",
                            e.rule.id(),
                            num(e.before),
                            num(e.after),
                            e.actor
                        )
                    })
                    .collect();
                let quality = serde_json::to_value(iv.quality)?
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                w.write_record([
                    iv.start.to_rfc3339(),
                    num(iv.raw),
                    num(iv.value),
                    quality,
                    flags.join(";"),
                    edits.join(";"),
                ])?;
            }
            w.flush()?;
            for rej in &v.rejected {
                eprintln!(
                    "{}: row {}: {} rejected ({})",
                    readings.display(),
                    rej.index + 1,
                    rej.reading.at.to_rfc3339(),
                    rej.rule.id()
                );
            }
            Ok(())
        }
    }
}

#[cfg(test)]
#[path = "energy_tests.rs"]
mod tests;

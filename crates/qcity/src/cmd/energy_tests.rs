//! End-to-end runs of `qcity energy` on small files (in process).

use super::{EnergyCommand, ModelArg};
use chrono::{DateTime, Duration};
use std::fmt::Write;
use std::path::PathBuf;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("qcity-mv-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Two years of hourly temperatures and daily/hourly usage with a known response
/// (base 20/day, 1.5 per HDD60, 2 per CDD70); the second year uses 10 % less.
fn write_inputs(d: &std::path::Path) {
    let t0 = DateTime::parse_from_rfc3339("2023-01-01T00:00:00+08:00").unwrap();
    let (mut temp, mut base, mut rep, mut hourly) = (
        String::from("timestamp,temperature_f\n"),
        String::from("start,value\n"),
        String::from("start,value\n"),
        String::from("start,value\n"),
    );
    let mut day_t = 0.0;
    for h in 0..730 * 24 {
        let day = h / 24;
        let t = 55.0 - 25.0 * (2.0 * std::f64::consts::PI * day as f64 / 365.0).cos()
            + 5.0 * ((h % 24) as f64 / 24.0 * std::f64::consts::TAU).sin()
            + ((h * 7919) % 13) as f64 * 0.3;
        let at = t0 + Duration::hours(h);
        writeln!(temp, "{},{t:.2}", at.to_rfc3339()).unwrap();
        day_t += t;
        if h < 365 * 24 {
            writeln!(
                hourly,
                "{},{:.4}",
                at.to_rfc3339(),
                1.0 + 0.05 * (60.0 - t).max(0.0)
            )
            .unwrap();
        }
        if h % 24 == 23 {
            let m = day_t / 24.0;
            day_t = 0.0;
            let noise = ((day * 7717) % 11) as f64 * 0.2 - 1.0;
            let u = 20.0 + 1.5 * (60.0 - m).max(0.0) + 2.0 * (m - 70.0).max(0.0) + noise;
            let start = (t0 + Duration::days(day)).to_rfc3339();
            if day < 365 {
                writeln!(base, "{start},{u:.3}").unwrap();
            } else {
                writeln!(rep, "{start},{:.3}", 0.9 * u).unwrap();
            }
        }
    }
    std::fs::write(d.join("temp.csv"), temp).unwrap();
    std::fs::write(d.join("usage.csv"), base).unwrap();
    std::fs::write(d.join("reporting.csv"), rep).unwrap();
    std::fs::write(d.join("hourly.csv"), hourly).unwrap();
}

#[test]
fn fit_savings_vee_end_to_end() {
    let d = dir("e2e");
    write_inputs(&d);
    super::run(EnergyCommand::Fit {
        usage: d.join("usage.csv"),
        temperature: d.join("temp.csv"),
        model: ModelArg::Daily,
        electricity: true,
        gas: false,
        out: d.join("model.json"),
    })
    .unwrap();
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("model.json")).unwrap()).unwrap();
    for k in [
        "model_type",
        "heating_balance_point",
        "cooling_balance_point",
        "intercept",
        "heating_slope",
        "cooling_slope",
        "r2_adj",
        "cvrmse",
        "nmbe",
        "n",
        "warnings",
    ] {
        assert!(m.get(k).is_some(), "model.json lacks {k}");
    }
    assert_eq!(m["model_type"], "cdd_hdd");
    assert_eq!(m["n"], 365);
    super::run(EnergyCommand::Savings {
        model: d.join("model.json"),
        usage: d.join("reporting.csv"),
        temperature: d.join("temp.csv"),
        out: d.join("s.json"),
    })
    .unwrap();
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("s.json")).unwrap()).unwrap();
    let frac = s["fractional_savings"].as_f64().unwrap();
    assert!((frac - 0.10).abs() < 0.02, "fractional savings {frac}");
    assert!(s["fsu"]["fsu"].as_f64().is_some());

    super::run(EnergyCommand::Fit {
        usage: d.join("hourly.csv"),
        temperature: d.join("temp.csv"),
        model: ModelArg::Hourly,
        electricity: false,
        gas: false,
        out: d.join("hourly.json"),
    })
    .unwrap();
    let h: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("hourly.json")).unwrap()).unwrap();
    assert_eq!(h["model_type"], "towt");
    assert!(h["heating_slope"].is_null());

    std::fs::write(
        d.join("r.csv"),
        "timestamp,value\n2024-01-01T00:00:00+08:00,1\n2024-01-01T00:15:00+08:00,\n\
         2024-01-01T00:30:00+08:00,3\n2024-01-01T00:45:00+08:00,-2\n2024-01-01T01:00:00+08:00,5\n",
    )
    .unwrap();
    super::run(EnergyCommand::Vee {
        readings: d.join("r.csv"),
        interval: "15m".into(),
        out: d.join("validated.csv"),
        tz: None,
        high_limit: None,
        low_limit: None,
        allow_negative: false,
        chain: super::ChainArgs::default(),
    })
    .unwrap();
    let v = std::fs::read_to_string(d.join("validated.csv")).unwrap();
    let lines: Vec<&str> = v.lines().collect();
    assert_eq!(lines[0], "timestamp,raw,value,quality,flags,edits");
    assert_eq!(
        lines[2],
        "2024-01-01T00:15:00+08:00,,2,estimated,V-GAP;E-LIN,E-LIN:->2@qcity-vee"
    );
    assert!(lines[4].contains("V-NEG") && lines[4].contains("estimated"));
    // Cumulative register with a 6-digit rollover and CT 50: increments ×50, wrap flagged.
    std::fs::write(
        d.join("reg.csv"),
        "timestamp,value\n2024-01-01T00:00:00+08:00,999990\n2024-01-01T00:15:00+08:00,999995\n\
         2024-01-01T00:30:00+08:00,3\n2024-01-01T00:45:00+08:00,9\n",
    )
    .unwrap();
    super::run(EnergyCommand::Vee {
        readings: d.join("reg.csv"),
        interval: "15m".into(),
        out: d.join("reg-validated.csv"),
        tz: None,
        high_limit: None,
        low_limit: None,
        allow_negative: false,
        chain: super::ChainArgs {
            ct_ratio: 50.0,
            register: true,
            rollover_at: Some(1_000_000.0),
            max_increment: Some(100.0),
            ..super::ChainArgs::default()
        },
    })
    .unwrap();
    let v = std::fs::read_to_string(d.join("reg-validated.csv")).unwrap();
    let rows: Vec<&str> = v.lines().collect();
    assert_eq!(rows.len(), 4);
    assert!(rows[1].starts_with("2024-01-01T00:00:00+08:00,250,250,valid"));
    assert!(rows[2].starts_with("2024-01-01T00:15:00+08:00,400,400,valid,V-REG-ROLLOVER"));
    assert!(rows[3].starts_with("2024-01-01T00:30:00+08:00,300,300,valid"));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn bad_row_is_named() {
    let d = dir("bad");
    std::fs::write(
        d.join("u.csv"),
        "start,value\n2024-01-01T00:00:00+08:00,x\n",
    )
    .unwrap();
    std::fs::write(d.join("t.csv"), "timestamp,temperature_f\n").unwrap();
    let e = super::run(EnergyCommand::Fit {
        usage: d.join("u.csv"),
        temperature: d.join("t.csv"),
        model: ModelArg::Daily,
        electricity: false,
        gas: false,
        out: d.join("m.json"),
    })
    .unwrap_err();
    let msg = format!("{e:#}");
    assert!(msg.contains("u.csv: row 1, column `value`"), "{msg}");
    std::fs::remove_dir_all(&d).ok();
}

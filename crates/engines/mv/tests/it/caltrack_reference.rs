//! CalTRACK daily prediction reference values from the reference implementation's own test
//! suite: eemeter 2.x `tests/test_caltrack_usage_per_day.py` (openeemeter/eemeter,
//! Apache-2.0), fixtures `temperature_data` (hourly, 2011-01-01 UTC, 365·24+1 points,
//! T = 50 + 30·(i mod 8760)/8760 °F) and `prediction_index` (its 365 daily periods).
use chrono::{DateTime, Duration};
use qcity_mv::caltrack::{CaltrackSettings, Fuel, design_periods};
use qcity_mv::series::{TemperatureReading, UsagePeriod};

fn fixture() -> Vec<qcity_mv::caltrack::DesignPeriod> {
    let t0 = DateTime::parse_from_rfc3339("2011-01-01T00:00:00+00:00").unwrap();
    let temps: Vec<TemperatureReading> = (0..365 * 24 + 1)
        .map(|i| TemperatureReading {
            at: t0 + Duration::hours(i),
            fahrenheit: 30.0 * ((i % (365 * 24)) as f64 / (365.0 * 24.0)) + 50.0,
        })
        .collect();
    let usage: Vec<UsagePeriod> = (0..365)
        .map(|d| UsagePeriod {
            start: t0 + Duration::days(d),
            end: t0 + Duration::days(d + 1),
            value: Some(1.0),
        })
        .collect();
    let (design, _) = design_periods(&usage, &temps, &CaltrackSettings::daily(Fuel::Electricity));
    assert_eq!(design.iter().map(|p| p.n_days).sum::<usize>(), 365);
    design
}

/// test_caltrack_predict_cdd_only(_with_disaggregated): intercept 1, β_C 1, CDD₆₅ →
/// predicted 1733, cooling load 1368, base load 365.
#[test]
fn cdd_only_prediction() {
    let d = fixture();
    let cool: f64 = d.iter().map(|p| p.cdd(65.0) * p.n_days as f64).sum();
    assert_eq!(cool.round(), 1368.0);
    assert_eq!((365.0 + cool).round(), 1733.0);
}

/// test_caltrack_predict_hdd_only(_with_disaggregated): intercept 1, β_H 1, HDD₆₅ →
/// predicted 1734, heating load 1369.
#[test]
fn hdd_only_prediction() {
    let d = fixture();
    let heat: f64 = d.iter().map(|p| p.hdd(65.0) * p.n_days as f64).sum();
    assert_eq!(heat.round(), 1369.0);
    assert_eq!((365.0 + heat).round(), 1734.0);
}

/// test_caltrack_predict_cdd_hdd(_disaggregated): intercept 1, β_H = β_C = 1, HDD₆₀, CDD₇₀
/// → predicted 1582, heating 609, cooling 608; mean daily temperature rounds to 65.
#[test]
fn cdd_hdd_prediction() {
    let d = fixture();
    let heat: f64 = d.iter().map(|p| p.hdd(60.0)).sum();
    let cool: f64 = d.iter().map(|p| p.cdd(70.0)).sum();
    assert_eq!(heat.round(), 609.0);
    assert_eq!(cool.round(), 608.0);
    assert_eq!((365.0 + heat + cool).round(), 1582.0);
    let mean_t: f64 = d.iter().map(|p| p.day_temperatures[0]).sum::<f64>() / d.len() as f64;
    assert_eq!(mean_t.round(), 65.0);
}

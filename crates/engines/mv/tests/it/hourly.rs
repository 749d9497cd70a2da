//! TOWT on a synthetic year with a known structure (hand-built; CalTRACK 3.7–3.12 model
//! form): occupied weekday hours 08–18 add 3 units; heating/cooling responses are piecewise
//! linear at 65 °F, a default bin endpoint, so the model can represent them exactly.
use chrono::{DateTime, Duration};
use qcity_mv::hourly::{Segmentation, TowtSettings, fit_towt, single_model_allowed};
use qcity_mv::series::{TemperatureReading, UsagePeriod};

fn year() -> (Vec<UsagePeriod>, Vec<TemperatureReading>) {
    // 2024-01-01 is a Monday.
    let t0 = DateTime::parse_from_rfc3339("2024-01-01T00:00:00+08:00").unwrap();
    let mut u = Vec::new();
    let mut t = Vec::new();
    for h in 0..364 * 24 {
        let day = h / 24;
        let temp = 60.0 - 25.0 * (2.0 * std::f64::consts::PI * day as f64 / 364.0).cos()
            + 6.0 * ((h % 24) as f64 / 24.0 * std::f64::consts::TAU).sin();
        let occupied = (8..18).contains(&(h % 24)) && day % 7 < 5;
        let v = 2.0
            + if occupied { 3.0 } else { 0.0 }
            + 0.08 * (65.0 - temp).max(0.0)
            + 0.12 * (temp - 65.0).max(0.0);
        let at = t0 + Duration::hours(h);
        t.push(TemperatureReading {
            at,
            fahrenheit: temp,
        });
        u.push(UsagePeriod {
            start: at,
            end: at + Duration::hours(1),
            value: Some(v),
        });
    }
    (u, t)
}

#[test]
fn towt_recovers_structure() {
    let (u, t) = year();
    let m = fit_towt(&u, &t, &TowtSettings::default()).unwrap();
    assert_eq!(m.segments.len(), 12);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    // Noise-free and representable: the in-sample fit is essentially exact (bins merged in
    // a few segments leave a residual of order 1e-5).
    assert!(m.metrics.cvrmse < 1e-3, "cvrmse {}", m.metrics.cvrmse);
    assert!(m.metrics.nmbe.abs() < 1e-6, "nmbe {}", m.metrics.nmbe);
    // Occupancy: Monday 10:00 (slot 10) occupied, Sunday 03:00 (slot 147) not.
    let jul = m.segments.iter().find(|s| s.month == 7).unwrap();
    assert!(jul.occupied[10]);
    assert!(!jul.occupied[6 * 24 + 3]);
    // Single model (3.7.5.1): the same structure all year, so every month's NMBE ≈ 0.
    let (ok, nmbe) = single_model_allowed(&u, &t, &TowtSettings::default()).unwrap();
    assert!(ok);
    assert_eq!(nmbe.len(), 12);
    let single = TowtSettings {
        segmentation: Segmentation::Single,
        ..TowtSettings::default()
    };
    assert_eq!(fit_towt(&u, &t, &single).unwrap().segments.len(), 1);
}

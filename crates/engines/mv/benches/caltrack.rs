//! CalTRACK daily grid-search fit for one meter-year (target < 20 ms) and the hourly TOWT
//! fit for one year (target < 500 ms), on deterministic synthetic data.
use chrono::{DateTime, Duration, FixedOffset};
use criterion::{Criterion, criterion_group, criterion_main};
use qcity_mv::caltrack::{CaltrackSettings, Fuel, fit_caltrack};
use qcity_mv::hourly::{TowtSettings, fit_towt};
use qcity_mv::series::{Reading, TemperatureReading, UsagePeriod};
use qcity_mv::vee::{config_for, run_vee};
use std::hint::black_box;

fn year() -> (Vec<UsagePeriod>, Vec<UsagePeriod>, Vec<TemperatureReading>) {
    let t0: DateTime<FixedOffset> =
        DateTime::parse_from_rfc3339("2023-01-01T00:00:00+08:00").unwrap_or_default();
    let mut temps = Vec::new();
    let mut hourly = Vec::new();
    let mut noise = 12345u64;
    let mut rnd = || {
        noise = noise
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((noise >> 33) as f64 / (1u64 << 31) as f64) - 0.5
    };
    for h in 0..365 * 24 {
        let day = h as f64 / 24.0;
        let t = 55.0 - 25.0 * (2.0 * std::f64::consts::PI * (day + 10.0) / 365.0).cos()
            + 8.0 * (2.0 * std::f64::consts::PI * (h % 24) as f64 / 24.0).sin()
            + 4.0 * rnd();
        let at = t0 + Duration::hours(h);
        temps.push(TemperatureReading { at, fahrenheit: t });
        let occupied = (8..18).contains(&(h % 24)) && (h / 24) % 7 < 5;
        let u = 2.0
            + if occupied { 3.0 } else { 0.0 }
            + 0.08 * (60.0 - t).max(0.0)
            + 0.12 * (t - 68.0).max(0.0)
            + 0.3 * rnd();
        hourly.push(UsagePeriod {
            start: at,
            end: at + Duration::hours(1),
            value: Some(u),
        });
    }
    let daily = hourly
        .chunks(24)
        .map(|c| UsagePeriod {
            start: c[0].start,
            end: c[23].end,
            value: Some(c.iter().filter_map(|p| p.value).sum()),
        })
        .collect();
    (daily, hourly, temps)
}

fn bench(c: &mut Criterion) {
    let (daily, hourly, temps) = year();
    let s = CaltrackSettings::daily(Fuel::Electricity);
    c.bench_function("caltrack_daily_fit_one_meter_year", |b| {
        b.iter(|| fit_caltrack(black_box(&daily), black_box(&temps), &s))
    });
    let ts = TowtSettings::default();
    c.bench_function("caltrack_hourly_towt_fit_one_year", |b| {
        b.iter(|| fit_towt(black_box(&hourly), black_box(&temps), &ts))
    });
}

fn bench_vee(c: &mut Criterion) {
    // One meter-year of 15-minute data (35 040 points) with 1 % gaps and a few spikes.
    let t0: DateTime<FixedOffset> =
        DateTime::parse_from_rfc3339("2023-01-01T00:00:00+08:00").unwrap_or_default();
    let raw: Vec<Reading> = (0..365 * 96)
        .filter(|i| i % 100 != 7)
        .map(|i| Reading {
            at: t0 + Duration::minutes(15 * i),
            value: Some(if i % 5000 == 3 {
                500.0
            } else {
                1.0 + (i % 96) as f64 / 50.0
            }),
        })
        .collect();
    let cfg = config_for(&raw, 15);
    c.bench_function("vee_one_meter_year_15min", |b| {
        b.iter(|| run_vee(black_box(&raw), &cfg, None, &[]))
    });
}

criterion_group!(benches, bench, bench_vee);
criterion_main!(benches);

//! CalTRACK 2.0 rules (openeemeter/caltrack docs/methods.rst) checked as rules:
//! grid (3.2.1), degree-day minimums (3.2.2), qualification (3.4.3.2), selection (3.4.3.3),
//! sufficiency (2.2.1), billing period lengths (2.2.3) and the electricity zero rule (2.2.1.4).
use chrono::{DateTime, Duration, FixedOffset};
use qcity_mv::caltrack::{
    CaltrackSettings, CandidateStatus, FitData, Fuel, ModelType, design_periods, fit_caltrack,
    fit_candidates, sufficiency,
};
use qcity_mv::series::{TemperatureReading, UsagePeriod};

fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2023-01-01T00:00:00+08:00").unwrap()
}

fn temps(days: i64) -> Vec<TemperatureReading> {
    (0..days * 24)
        .map(|h| TemperatureReading {
            at: t0() + Duration::hours(h),
            fahrenheit: 55.0 - 25.0 * (2.0 * std::f64::consts::PI * (h / 24) as f64 / 365.0).cos(),
        })
        .collect()
}

fn daily(days: i64, f: impl Fn(i64) -> Option<f64>) -> Vec<UsagePeriod> {
    (0..days)
        .map(|d| UsagePeriod {
            start: t0() + Duration::days(d),
            end: t0() + Duration::days(d + 1),
            value: f(d),
        })
        .collect()
}

#[test]
fn spec_defaults() {
    let d = CaltrackSettings::daily(Fuel::Electricity);
    // 3.2.1 / 3.2.3: 30–90 °F with a step ≤ 3 °F.
    assert_eq!(d.heating_balance_points.first(), Some(&30.0));
    assert_eq!(d.heating_balance_points.last(), Some(&90.0));
    assert!(
        d.heating_balance_points
            .windows(2)
            .all(|w| w[1] - w[0] <= 3.0)
    );
    // 3.2.2: ≥ 10 days with non-zero degree days and ≥ 20 degree days (daily only).
    assert_eq!(
        (d.min_non_zero_degree_days, d.min_total_degree_days),
        (10, 20.0)
    );
    // 2.2.1: 365 days, ≤ 10 % missing.
    assert_eq!((d.baseline_days, d.min_fraction_daily_coverage), (365, 0.9));
    // 3.4.3.2: qualification by sign only.
    assert_eq!(d.max_p_value, 1.0);
    let b = CaltrackSettings::billing(Fuel::Gas);
    assert_eq!(b.min_non_zero_degree_days, 0);
}

#[test]
fn sufficiency_rules() {
    let s = CaltrackSettings::daily(Fuel::Electricity);
    let t = temps(400);
    // ≥ 90 % of 365 days must be valid: 36 missing → 329/365 = 0.901 passes; 37 missing →
    // 328/365 = 0.899 fails (eemeter: MIN_BASELINE_LENGTH = ceil(0.9·365) = 329).
    for (missing, pass) in [(36, true), (37, false)] {
        let u = daily(365, |d| if d < missing { None } else { Some(10.0) });
        let (design, _) = design_periods(&u, &t, &s);
        assert_eq!(sufficiency(&design, &s).pass, pass, "{missing} missing");
    }
    // 300 days: too short.
    let (design, _) = design_periods(&daily(300, |_| Some(1.0)), &t, &s);
    let r = sufficiency(&design, &s);
    assert!(!r.pass);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.code == "caltrack.sufficiency.too_few_days")
    );
}

#[test]
fn electricity_zero_is_missing_gas_zero_is_not() {
    let t = temps(10);
    let u = daily(10, |d| Some(if d == 3 { 0.0 } else { 5.0 }));
    let (e, w) = design_periods(&u, &t, &CaltrackSettings::daily(Fuel::Electricity));
    assert_eq!(e[3].usage, None);
    assert_eq!(w[0].code, "caltrack.data.zero_usage_as_missing");
    let (g, _) = design_periods(&u, &t, &CaltrackSettings::daily(Fuel::Gas));
    assert_eq!(g[3].usage, Some(0.0));
}

#[test]
fn billing_period_lengths() {
    // Monthly bills: a 20-day off-cycle read and a 40-day bill are dropped (2.2.3).
    let t = temps(200);
    let mut start = t0();
    let mut u = Vec::new();
    for len in [30, 31, 20, 30, 40, 31] {
        let end = start + Duration::days(len);
        u.push(UsagePeriod {
            start,
            end,
            value: Some(100.0),
        });
        start = end;
    }
    let (d, w) = design_periods(&u, &t, &CaltrackSettings::billing(Fuel::Electricity));
    let kept: Vec<bool> = d.iter().map(|p| p.usage.is_some()).collect();
    assert_eq!(kept, vec![true, true, false, true, false, true]);
    assert!(
        w.iter()
            .any(|x| x.code == "caltrack.billing.period_length_out_of_range")
    );
}

#[test]
fn grid_constraints_qualification_and_selection() {
    // Heating-only response: UPD = 10 + 0.5·HDD55.
    let t = temps(365);
    let u = daily(365, |d| {
        let m = 55.0 - 25.0 * (2.0 * std::f64::consts::PI * d as f64 / 365.0).cos();
        Some(10.0 + 0.5 * (55.0 - m).max(0.0) + if d % 2 == 0 { 0.3 } else { -0.3 })
    });
    let s = CaltrackSettings::daily(Fuel::Electricity);
    let (design, _) = design_periods(&u, &t, &s);
    let c = fit_candidates(&FitData::new(&design, s.kind), &s).unwrap();
    // 3.2.3: never a cooling balance point below the heating one.
    assert!(
        c.iter()
            .filter(|x| x.model_type == ModelType::CddHdd)
            .all(|x| { x.cooling_balance_point.unwrap() >= x.heating_balance_point.unwrap() })
    );
    // 3.4.3.2: every qualified candidate has positive slopes and a non-negative intercept.
    assert!(
        c.iter()
            .filter(|x| x.status == CandidateStatus::Qualified)
            .all(|x| {
                x.heating_slope.is_none_or(|b| b > 0.0)
                    && x.cooling_slope.is_none_or(|b| b > 0.0)
                    && x.intercept >= 0.0
            })
    );
    // 3.4.3.3: the selected model has the highest adjusted R² of the qualified ones.
    let m = fit_caltrack(&u, &t, &s).unwrap();
    let best = c
        .iter()
        .filter(|x| x.status == CandidateStatus::Qualified)
        .map(|x| x.r2_adj)
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(m.selected.r2_adj, best);
    assert_eq!(m.selected.model_type, ModelType::HddOnly);
    assert_eq!(m.selected.heating_balance_point, Some(55.0));
    assert!((m.selected.heating_slope.unwrap() - 0.5).abs() < 0.01);
    // Gas: no cooling candidates at all (3.4.3.1).
    let g = CaltrackSettings::daily(Fuel::Gas);
    let cg = fit_candidates(&FitData::new(&design, g.kind), &g).unwrap();
    assert!(cg.iter().all(|x| x.cooling_balance_point.is_none()));
}

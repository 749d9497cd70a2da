//! Reference and property tests of the sampling engine: the brief's OC table (all rows and
//! models, 1e-6) and p-at-Pa values, its worked plans, the 7 CFR §42.140 point, the
//! zero-acceptance docstring value of `lotsampling`, the switching rules, supervision verdicts.

use proptest::prelude::*;
use qcity_sampling::tables::{AQLS, Cell, cell};
use qcity_sampling::*;

fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} vs {b} (tol {tol})");
}

#[test]
fn oc_reference_table_all_models() {
    // (n, Ac, p, N, D, binomial, Poisson, hypergeometric) from shared/domain/safety.md §1.5.
    let rows = [
        (80, 5, 0.025, 1000, 25, 0.984785, 0.983436, 0.988798),
        (125, 7, 0.025, 2400, 60, 0.986384, 0.985163, 0.988752),
        (50, 0, 0.01, 500, 5, 0.605006, 0.606531, 0.589171),
        (32, 1, 0.05, 200, 10, 0.519962, 0.524931, 0.504019),
    ];
    for (n, ac, p, lot, d, b, po, h) in rows {
        close(binomial_pa(n, ac, p).unwrap(), b, 1e-6);
        close(poisson_pa(n, ac, p).unwrap(), po, 1e-6);
        close(hypergeometric_pa(n, ac, lot, d).unwrap(), h, 1e-6);
        close(
            pa(Model::Hypergeometric { lot }, n, ac, p).unwrap(),
            h,
            1e-6,
        );
    }
    close(binomial_pa(500, 3, 0.01).unwrap(), 0.263616, 1e-6);
    close(poisson_pa(500, 3, 0.01).unwrap(), 0.265026, 1e-6);
}

#[test]
fn seven_cfr_42_140_point() {
    // n = 500, Ac = 3: Pa ≈ 26 % at 1.0 defects per 100 units and ≈ 99 % at 0.10.
    let at_1 = poisson_pa(500, 3, 0.010).unwrap();
    let at_01 = poisson_pa(500, 3, 0.001).unwrap();
    assert_eq!((at_1 * 100.0).round(), 27.0); // 26.5 %: "about 26"
    close(at_1, 0.265026, 1e-6);
    close(at_01, 0.9982, 1e-4);
}

#[test]
fn p_at_pa_reference_values() {
    // (n, Ac, p at Pa 0.95, p at Pa 0.10), binomial, in percent to 3 decimals.
    for (n, ac, p95, p10) in [
        (80, 5, 3.317, 11.285),
        (125, 7, 3.224, 9.237),
        (200, 10, 3.115, 7.599),
    ] {
        let a = p_at_pa(Model::Binomial, n, ac, 0.95).unwrap() * 100.0;
        let b = p_at_pa(Model::Binomial, n, ac, 0.10).unwrap() * 100.0;
        close(a, p95, 5e-4);
        close(b, p10, 5e-4);
        close(binomial_pa(n, ac, a / 100.0).unwrap(), 0.95, 1e-9);
    }
    let lam = p_at_pa(Model::Poisson, 50, 0, 0.10).unwrap() * 50.0;
    close(lam, 10f64.ln(), 1e-9);
    assert!(p_at_pa(Model::Hypergeometric { lot: 100 }, 10, 0, 0.1).is_err());
}

#[test]
fn zero_acceptance_values() {
    assert_eq!(zero_acceptance(0.20, 0.05).unwrap(), 14);
    assert_eq!(zero_acceptance(0.01, 0.10).unwrap(), 230);
    // Finite lot: never more than the binomial n, and P(d = 0) crosses β exactly there.
    let n = zero_acceptance_finite(0.20, 0.05, 50).unwrap();
    assert!(n <= 14, "{n}");
    let d = 10;
    let p0 = |n: u32| hypergeometric_pa(n, 0, 50, d).unwrap();
    assert!(p0(n as u32) <= 0.05 && p0(n as u32 - 1) > 0.05);
    assert_eq!(zero_acceptance_finite(0.5, 0.05, 4).unwrap(), 3);
    assert!(zero_acceptance(0.0, 0.05).is_err());
    assert!(zero_acceptance(0.2, 1.0).is_err());
    // One nonconforming item in 10 (D = ⌈0.01⌉ = 1): P(d = 0) = (10 − n)/10 ≤ 0.05 needs n = 10.
    assert_eq!(zero_acceptance_finite(0.001, 0.05, 10).unwrap(), 10);
}

#[test]
fn large_samples_stay_finite() {
    // f64 factorials overflow past 170; log space does not.
    let x = binomial_pa(2000, 21, 0.01).unwrap();
    assert!(x > 0.0 && x < 1.0);
    let y = hypergeometric_pa(2000, 21, 100_000, 1000).unwrap();
    close(x, y, 1e-2);
    let z = poisson_pa(5000, 44, 0.01).unwrap();
    assert!(z > 0.0 && z < 1.0);
}

#[test]
fn table_1_code_letters() {
    let l = |lot, level| code_letter(lot, level).unwrap().as_char();
    assert_eq!(l(8, Level::S1), 'A');
    assert_eq!(l(8, Level::III), 'B');
    assert_eq!(l(1000, Level::II), 'J');
    assert_eq!(l(2400, Level::II), 'K');
    assert_eq!(l(3201, Level::II), 'L');
    assert_eq!(l(500, Level::I), 'F');
    assert_eq!(l(500_001, Level::III), 'R');
    assert_eq!(l(10_000_000, Level::S4), 'K');
    assert_eq!(l(150_000, Level::S3), 'G');
    assert!(code_letter(1, Level::II).is_err());
}

#[test]
fn worked_plans_normal() {
    let p = |lot, level, aql| single_plan(lot, level, aql, Severity::Normal).unwrap();
    // The contract's example: letter A at AQL 2.5 follows ↓ to C (n = 5, 0/1).
    assert_eq!(
        p(8, Level::II, 2.5),
        SinglePlan {
            code_letter: 'A',
            plan_letter: 'C',
            n: 5,
            ac: 0,
            re: 1,
            hundred_percent: false
        }
    );
    let q = p(1000, Level::II, 2.5);
    assert_eq!((q.code_letter, q.n, q.ac, q.re), ('J', 80, 5, 6));
    let q = p(2400, Level::II, 2.5);
    assert_eq!((q.code_letter, q.n, q.ac, q.re), ('K', 125, 7, 8));
    let q = p(5000, Level::II, 2.5);
    assert_eq!((q.code_letter, q.n, q.ac, q.re), ('L', 200, 10, 11));
    // ↑ cells: B at 6.5 uses A (2, 0/1); M at 6.5 uses L's 21/22 with n = 200.
    let q = plan_for_letter(Letter::from_char('B').unwrap(), 6.5, Severity::Normal, 1000).unwrap();
    assert_eq!((q.plan_letter, q.n, q.ac), ('A', 2, 0));
    let q = plan_for_letter(
        Letter::from_char('M').unwrap(),
        6.5,
        Severity::Normal,
        99_999,
    )
    .unwrap();
    assert_eq!((q.plan_letter, q.n, q.ac, q.re), ('L', 200, 21, 22));
    // The ↓ after the ↑: C at 6.5 uses D's 1/2 with n = 8.
    let q = plan_for_letter(Letter::from_char('C').unwrap(), 6.5, Severity::Normal, 1000).unwrap();
    assert_eq!((q.plan_letter, q.n, q.ac, q.re), ('D', 8, 1, 2));
    // 100 %: n of the plan reaches the lot.
    let q = p(3, Level::II, 0.65);
    assert!(q.hundred_percent);
    assert_eq!((q.n, q.ac), (3, 0));
    assert!(matches!(
        single_plan(1000, Level::II, 3.0, Severity::Normal),
        Err(SamplingError::NotPreferredAql(_))
    ));
    assert!(matches!(
        plan_for_letter(Letter::R, 0.015, Severity::Normal, 1_000_000),
        Err(SamplingError::NoPlan { .. })
    ));
}

#[test]
fn brief_table_2a_cells() {
    // Every cell of the brief's Table 2-A (AQL 0.10 … 6.5), arrows resolved.
    let table = "A ↓K:0/1 ↓J:0/1 ↓H:0/1 ↓G:0/1 ↓F:0/1 ↓E:0/1 ↓D:0/1 ↓C:0/1 ↓B:0/1 0/1
B ↓K:0/1 ↓J:0/1 ↓H:0/1 ↓G:0/1 ↓F:0/1 ↓E:0/1 ↓D:0/1 ↓C:0/1 0/1 ↑A:0/1
C ↓K:0/1 ↓J:0/1 ↓H:0/1 ↓G:0/1 ↓F:0/1 ↓E:0/1 ↓D:0/1 0/1 ↑B:0/1 ↓D:1/2
D ↓K:0/1 ↓J:0/1 ↓H:0/1 ↓G:0/1 ↓F:0/1 ↓E:0/1 0/1 ↑C:0/1 ↓E:1/2 1/2
E ↓K:0/1 ↓J:0/1 ↓H:0/1 ↓G:0/1 ↓F:0/1 0/1 ↑D:0/1 ↓F:1/2 1/2 2/3
F ↓K:0/1 ↓J:0/1 ↓H:0/1 ↓G:0/1 0/1 ↑E:0/1 ↓G:1/2 1/2 2/3 3/4
G ↓K:0/1 ↓J:0/1 ↓H:0/1 0/1 ↑F:0/1 ↓H:1/2 1/2 2/3 3/4 5/6
H ↓K:0/1 ↓J:0/1 0/1 ↑G:0/1 ↓J:1/2 1/2 2/3 3/4 5/6 7/8
J ↓K:0/1 0/1 ↑H:0/1 ↓K:1/2 1/2 2/3 3/4 5/6 7/8 10/11
K 0/1 ↑J:0/1 ↓L:1/2 1/2 2/3 3/4 5/6 7/8 10/11 14/15
L ↑K:0/1 ↓M:1/2 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22
M ↓N:1/2 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ↑L:21/22
N 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ↑M:21/22 ↑L:21/22
P 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ↑N:21/22 ↑M:21/22 ↑L:21/22
Q 3/4 5/6 7/8 10/11 14/15 21/22 ↑P:21/22 ↑N:21/22 ↑M:21/22 ↑L:21/22
R 5/6 7/8 10/11 14/15 21/22 ↑Q:21/22 ↑P:21/22 ↑N:21/22 ↑M:21/22 ↑L:21/22";
    let aqls = [0.10, 0.15, 0.25, 0.40, 0.65, 1.0, 1.5, 2.5, 4.0, 6.5];
    for line in table.lines() {
        let mut it = line.split_whitespace();
        let letter = Letter::from_char(it.next().unwrap().chars().next().unwrap()).unwrap();
        for (cellspec, aql) in it.zip(aqls) {
            let (target, acre) = match cellspec.split_once(':') {
                Some((arrow, acre)) => (arrow.chars().nth(1).unwrap(), acre),
                None => (letter.as_char(), cellspec),
            };
            let (ac, re) = acre.split_once('/').unwrap();
            let plan = plan_for_letter(letter, aql, Severity::Normal, u64::MAX).unwrap();
            let want_n = Letter::from_char(target)
                .unwrap()
                .sample_size(Severity::Normal);
            assert_eq!(
                (plan.plan_letter, Some(plan.n), plan.ac, plan.re),
                (target, want_n, ac.parse().unwrap(), re.parse().unwrap()),
                "{} at {aql}",
                letter.as_char()
            );
        }
    }
}

#[test]
fn tightened_cells_from_mil_std_105e_transcription() {
    // nibs.org AC-TABLE.ASC, Table II-B rows (Re at AQL 0.65, 1.0, 1.5, 2.5, 4.0, 6.5, 10),
    // 0 = arrow: G 32: 1 ↓ ↓ 2 3 4 6; H 50: ↓ ↓ 2 3 4 6 9; J 80: ↓ 2 3 4 6 9 13;
    // K 125: 2 3 4 6 9 13 19 (15: ↑); L 200: 3 4 6 9 13 19 ↑.
    let rows: [(char, [u32; 7]); 5] = [
        ('G', [1, 0, 0, 2, 3, 4, 6]),
        ('H', [0, 0, 2, 3, 4, 6, 9]),
        ('J', [0, 2, 3, 4, 6, 9, 13]),
        ('K', [2, 3, 4, 6, 9, 13, 19]),
        ('L', [3, 4, 6, 9, 13, 19, 0]),
    ];
    let aqls = [0.65, 1.0, 1.5, 2.5, 4.0, 6.5, 10.0];
    for (c, res) in rows {
        let l = Letter::from_char(c).unwrap();
        for (re, aql) in res.into_iter().zip(aqls) {
            let p = plan_for_letter(l, aql, Severity::Tightened, u64::MAX).unwrap();
            if re == 0 {
                assert_ne!(p.plan_letter, c, "{c} at {aql} is an arrow");
            } else {
                assert_eq!((p.plan_letter, p.re), (c, re), "{c} at {aql}");
                assert_eq!(Some(p.n), l.sample_size(Severity::Tightened));
            }
        }
    }
    // H at 2.5: 2/3 with n = 50; G at 1.0 follows ↓ ↓ to J's 1/2 (n = 80).
    let h = Letter::from_char('H').unwrap();
    let p = plan_for_letter(h, 2.5, Severity::Tightened, 10_000).unwrap();
    assert_eq!((p.n, p.ac, p.re), (50, 2, 3));
    let g = Letter::from_char('G').unwrap();
    let p = plan_for_letter(g, 1.0, Severity::Tightened, 10_000).unwrap();
    assert_eq!((p.plan_letter, p.n, p.ac), ('J', 80, 1));
    // R at 0.025 points down to S (3150).
    let p = plan_for_letter(Letter::R, 0.025, Severity::Tightened, 10_000_000).unwrap();
    assert_eq!((p.plan_letter, p.n, p.ac), ('S', 3150, 1));
}

#[test]
fn reduced_plans_use_reduced_sample_sizes() {
    let k = Letter::from_char('K').unwrap();
    let p = plan_for_letter(k, 2.5, Severity::Reduced, 10_000).unwrap();
    // Same n and Ac as normal H (50, 3/4).
    assert_eq!((p.plan_letter, p.n, p.ac, p.re), ('K', 50, 3, 4));
    let a = Letter::from_char('A').unwrap();
    let p = plan_for_letter(a, 6.5, Severity::Reduced, 100).unwrap();
    assert_eq!((p.plan_letter, p.n, p.ac), ('A', 2, 0));
    // Reduced never samples more than normal for the same letter and AQL when both exist.
    for l in Letter::all() {
        for &aql in &AQLS {
            if let (Ok(r), Ok(n)) = (
                plan_for_letter(l, aql, Severity::Reduced, u64::MAX),
                plan_for_letter(l, aql, Severity::Normal, u64::MAX),
            ) {
                assert!(r.n <= n.n, "{} at {aql}: {} > {}", l.as_char(), r.n, n.n);
            }
        }
    }
}

#[test]
fn tightened_is_never_looser_than_normal_at_the_same_n() {
    for l in Letter::all() {
        for &aql in &AQLS {
            let (Ok(t), Ok(n)) = (
                plan_for_letter(l, aql, Severity::Tightened, u64::MAX),
                plan_for_letter(l, aql, Severity::Normal, u64::MAX),
            ) else {
                continue;
            };
            if t.n == n.n {
                assert!(t.ac <= n.ac, "{} at {aql}", l.as_char());
            }
        }
    }
}

fn states(history: &[bool]) -> Vec<State> {
    let lots: Vec<LotOutcome> = history.iter().map(|&a| LotOutcome::accepted(a)).collect();
    run_history(&lots)
}

#[test]
fn switching_normal_to_tightened_and_back() {
    // 2 of 5: rejects at lots 1 and 5 → tightened after lot 5.
    let s = states(&[false, true, true, true, false]);
    assert_eq!(s[3], State::Normal);
    assert_eq!(s[4], State::Tightened);
    // Rejects 6 lots apart: stays normal.
    let s = states(&[false, true, true, true, true, false]);
    assert_eq!(*s.last().unwrap(), State::Normal);
    // Tightened → normal after 5 accepted in a row.
    let mut h = vec![false, false];
    h.extend([true; 4]);
    let s = states(&h);
    assert_eq!(*s.last().unwrap(), State::Tightened);
    h.push(true);
    assert_eq!(*states(&h).last().unwrap(), State::Normal);
}

#[test]
fn switching_discontinues_after_five_rejects_on_tightened() {
    let mut h = vec![false, false]; // → tightened
    h.extend([false, true, false, true, true, false, false, false]);
    let s = states(&h);
    assert_eq!(s[s.len() - 2], State::Tightened);
    assert_eq!(*s.last().unwrap(), State::Discontinued);
    let mut m = Switching::new();
    for a in &h {
        m.record(LotOutcome::accepted(*a));
    }
    m.record(LotOutcome::accepted(true));
    assert_eq!(m.state(), State::Discontinued);
    m.resume();
    assert_eq!(m.state(), State::Tightened);
}

#[test]
fn switching_score_to_reduced_and_back() {
    // Ac 0/1 rule: +2 per accepted lot, 15 lots reach 30.
    let s = states(&[true; 15]);
    assert_eq!(s[13], State::Normal);
    assert_eq!(s[14], State::Reduced);
    // A reject resets the score.
    let mut h = vec![true; 14];
    h.push(false);
    h.extend([true; 14]);
    assert_eq!(*states(&h).last().unwrap(), State::Normal);
    // Ac ≥ 2 rule: +3 when accepted one step tighter, reset otherwise.
    let mut m = Switching::new();
    let tight = |t| LotOutcome {
        accepted: true,
        accepted_tighter: Some(t),
    };
    for _ in 0..9 {
        m.record(tight(true));
    }
    assert_eq!(m.score(), 27);
    m.record(tight(false));
    assert_eq!((m.score(), m.state()), (0, State::Normal));
    for _ in 0..10 {
        m.record(tight(true));
    }
    assert_eq!(m.state(), State::Reduced);
    // Reduced → normal on one lot not accepted, with a fresh score.
    m.record(LotOutcome::accepted(false));
    assert_eq!((m.state(), m.score()), (State::Normal, 0));
    // Without the authority's agreement the score alone does not switch.
    let mut m = Switching::new();
    m.reduced_allowed = false;
    for _ in 0..20 {
        m.record(LotOutcome::accepted(true));
    }
    assert_eq!(m.state(), State::Normal);
}

#[test]
fn supervision_verdicts_are_not_acceptance() {
    let plan = limit_number(50, 0.02, 0.05).unwrap();
    // P(d > L | p = 2 %) ≤ 5 % at the smallest such L.
    assert_eq!(plan.limit, 3);
    assert!(1.0 - binomial_pa(50, plan.limit, 0.02).unwrap() <= 0.05);
    assert!(1.0 - binomial_pa(50, plan.limit - 1, 0.02).unwrap() > 0.05);
    assert_eq!(plan.verdict(3).unwrap(), SupervisionVerdict::NotRejected);
    assert_eq!(plan.verdict(4).unwrap(), SupervisionVerdict::Rejected);
    assert_eq!(SupervisionVerdict::Rejected.zh(), "否定");
    assert_eq!(SupervisionVerdict::NotRejected.zh(), "不否定");
    assert!(plan.verdict(51).is_err());
}

proptest! {
    #[test]
    fn pa_in_unit_interval_and_monotone(n in 1u32..600, ac in 0u32..30, p in 0.0f64..0.5, dp in 1e-4f64..0.1) {
        let ac = ac.min(n);
        for pa_at in [binomial_pa, poisson_pa] {
            let a = pa_at(n, ac, p).unwrap();
            let b = pa_at(n, ac, (p + dp).min(1.0)).unwrap();
            prop_assert!((0.0..=1.0).contains(&a));
            prop_assert!(b <= a + 1e-12, "decreasing in p");
            let c = pa_at(n, ac + 1, p).unwrap();
            prop_assert!(c + 1e-12 >= a, "increasing in Ac");
        }
    }

    #[test]
    fn hypergeometric_bounds_and_monotone(lot in 2u64..3000, frac in 0.0f64..1.0, dfrac in 0.0f64..0.5, ac in 0u32..10) {
        let n = ((lot as f64 * frac) as u32).clamp(1, lot as u32);
        let d = ((lot as f64 * dfrac) as u64).min(lot - 1);
        let a = hypergeometric_pa(n, ac, lot, d).unwrap();
        let b = hypergeometric_pa(n, ac, lot, d + 1).unwrap();
        prop_assert!((0.0..=1.0 + 1e-12).contains(&a));
        prop_assert!(b <= a + 1e-9);
        prop_assert!(hypergeometric_pa(n, ac + 1, lot, d).unwrap() + 1e-9 >= a);
    }

    #[test]
    fn models_agree_as_the_lot_grows(n in 20u32..200, ac in 0u32..6, p in 0.001f64..0.05) {
        // Hypergeometric → binomial as N → ∞ with D/N = p; binomial → Poisson as p → 0.
        let lot = 2_000_000u64;
        let d = (p * lot as f64).round() as u64;
        let h = hypergeometric_pa(n, ac, lot, d).unwrap();
        let b = binomial_pa(n, ac, d as f64 / lot as f64).unwrap();
        prop_assert!((h - b).abs() < 1e-3, "{h} vs {b}");
        let bs = binomial_pa(n, ac, p / 100.0).unwrap();
        let ps = poisson_pa(n, ac, p / 100.0).unwrap();
        prop_assert!((bs - ps).abs() < 1e-3, "{bs} vs {ps}");
    }

    #[test]
    fn down_arrows_never_shrink_the_sample(lot in 2u64..2_000_000, level in 0usize..7, j in 0usize..26, sev in 0usize..3) {
        let level = [Level::S1, Level::S2, Level::S3, Level::S4, Level::I, Level::II, Level::III][level];
        let severity = [Severity::Normal, Severity::Tightened, Severity::Reduced][sev];
        let letter = code_letter(lot, level).unwrap();
        if let Ok(plan) = plan_for_letter(letter, AQLS[j], severity, u64::MAX) {
            let own = letter.sample_size(severity).unwrap();
            if cell(letter, j, severity) == Cell::Down {
                prop_assert!(plan.n >= own, "{} at {}: {} < {}", letter.as_char(), AQLS[j], plan.n, own);
            }
            if cell(letter, j, severity) == Cell::Up {
                prop_assert!(plan.n <= own);
            }
            prop_assert_eq!(plan.re, plan.ac + 1);
            let p = plan_for_letter(letter, AQLS[j], severity, lot).unwrap();
            prop_assert_eq!(p.hundred_percent, u64::from(plan.n) >= lot);
            prop_assert!(u64::from(p.n) <= lot);
        }
    }
}

#[test]
fn cells_without_a_plan_are_exactly_the_documented_ones() {
    let mut missing = Vec::new();
    for (sev, name) in [
        (Severity::Normal, "N"),
        (Severity::Tightened, "T"),
        (Severity::Reduced, "R"),
    ] {
        for l in Letter::all() {
            for &aql in &AQLS {
                if let Err(e) = plan_for_letter(l, aql, sev, u64::MAX) {
                    assert!(matches!(e, SamplingError::NoPlan { .. }));
                    missing.push(format!("{name}{}{aql}", l.as_char()));
                }
            }
        }
    }
    let mut want = vec![
        "NA10", "NR0.015", "TR0.015", "RA10", "RB10", "RC10", "RR0.04",
    ];
    let reduced_0010: Vec<String> = Letter::all()
        .map(|l| format!("R{}0.01", l.as_char()))
        .collect();
    want.extend(reduced_0010.iter().map(String::as_str));
    missing.sort();
    want.sort();
    assert_eq!(missing, want);
}

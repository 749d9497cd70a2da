//! Stratified two-PSU-per-stratum design (NHANES II) against published linearisation results:
//! the samplics documentation "Taylor-based Estimation" (and Stata's `svy: mean zinc`) give
//! mean 87.182067, SE 0.494483 for zinc with weights `finalwgt`, strata `stratid`, PSUs
//! `psuid`, missing values removed (9,189 observations, 31 strata, 62 PSUs).

use qcity_surveystat::table::encode_levels;
use qcity_surveystat::{Design, Table, estimate};

#[test]
fn zinc_mean_matches_published_taylor_estimate() {
    let t = Table::parse("nhanes2.csv", include_str!("../data/nhanes2.csv")).unwrap();
    let strata = encode_levels(&t.labels("stratid").unwrap()).0;
    // PSU ids repeat across strata (1, 2 in each); the design nests them within strata.
    let psu = encode_levels(&t.labels("psuid").unwrap()).0;
    let d = Design::new(t.numeric("finalwgt").unwrap())
        .unwrap()
        .with_strata(strata)
        .unwrap()
        .with_clusters(psu)
        .unwrap();
    let e = estimate(
        &d,
        "zinc",
        &t.numeric_with_missing("zinc").unwrap(),
        None,
        0.95,
    )
    .unwrap();
    assert_eq!(e.n, 9189);
    assert!((e.mean - 87.182067).abs() < 5e-7, "mean {}", e.mean);
    assert!((e.se - 0.494483).abs() < 5e-7, "se {}", e.se);
}

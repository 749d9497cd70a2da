//! Criterion benches: ECSI on mobi with 5,000 bootstrap resamples; raking 1,000,000
//! respondents on 4 margins. Run with
//! `cargo bench -p qcity-surveystat -- --warm-up-time 1 --measurement-time 3`.

use criterion::{Criterion, criterion_group, criterion_main};
use qcity_surveystat::pls::AlgorithmOptions;
use qcity_surveystat::{
    BootstrapOptions, ItemData, Margin, PlsModel, PlsOptions, RakeOptions, Scheme, SignChange,
    Table, estimate_pls, rake,
};

const ECSI: &str = r#"
[constructs.Image]
items = ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"]
[constructs.Expectation]
items = ["CUEX1", "CUEX2", "CUEX3"]
[constructs.Quality]
items = ["PERQ1", "PERQ2", "PERQ3", "PERQ4", "PERQ5", "PERQ6", "PERQ7"]
[constructs.Value]
items = ["PERV1", "PERV2"]
[constructs.Satisfaction]
items = ["CUSA1", "CUSA2", "CUSA3"]
[constructs.Complaints]
items = ["CUSCO"]
[constructs.Loyalty]
items = ["CUSL1", "CUSL2", "CUSL3"]
[[paths]]
from = "Image"
to = ["Expectation", "Satisfaction", "Loyalty"]
[[paths]]
from = "Expectation"
to = ["Quality", "Value", "Satisfaction"]
[[paths]]
from = "Quality"
to = ["Value", "Satisfaction"]
[[paths]]
from = "Value"
to = ["Satisfaction"]
[[paths]]
from = "Satisfaction"
to = ["Complaints", "Loyalty"]
[[paths]]
from = "Complaints"
to = ["Loyalty"]
"#;

fn ecsi_bootstrap(c: &mut Criterion) {
    let model = PlsModel::from_toml("ecsi.toml", ECSI).unwrap();
    let table = Table::parse("mobi.csv", include_str!("../tests/data/mobi.csv")).unwrap();
    let data = ItemData::from_table(&table, &model).unwrap();
    let opts = PlsOptions {
        algorithm: AlgorithmOptions {
            scheme: Scheme::Path,
            ..AlgorithmOptions::default()
        },
        bootstrap: Some(BootstrapOptions {
            resamples: 5000,
            seed: 1,
            level: 0.95,
            sign_change: SignChange::ConstructLevel,
        }),
        ipma_target: None,
    };
    let mut g = c.benchmark_group("pls");
    g.sample_size(10);
    g.bench_function("ecsi_mobi_bootstrap_5000", |b| {
        b.iter(|| estimate_pls(&data, &model, &opts).unwrap())
    });
    g.finish();
}

/// 1,000,000 synthetic respondents, margins district (12) × age (6) × sex (2) × education (4),
/// sample skewed against the population so that raking has work to do.
fn raking_million(c: &mut Criterion) {
    let n = 1_000_000usize;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let sizes = [12usize, 6, 2, 4];
    let margins: Vec<Margin> = sizes
        .iter()
        .enumerate()
        .map(|(m, &k)| {
            // Skewed sample: category c drawn with weight (c + 1).
            let tot_w: usize = (1..=k).sum();
            let codes: Vec<usize> = (0..n)
                .map(|_| {
                    let mut r = (next() % tot_w as u64) as usize;
                    let mut c = 0;
                    while r > c {
                        r -= c + 1;
                        c += 1;
                    }
                    c.min(k - 1)
                })
                .collect();
            let totals = vec![5_000_000.0 / k as f64; k];
            Margin::new(
                format!("m{m}"),
                (0..k).map(|c| c.to_string()).collect(),
                codes,
                totals,
            )
            .unwrap()
        })
        .collect();
    let base = vec![1.0; n];
    let opts = RakeOptions {
        tolerance: 1e-6,
        max_iterations: 100,
        bounds: None,
    };
    let mut g = c.benchmark_group("weighting");
    g.sample_size(10);
    g.bench_function("rake_1m_4_margins", |b| {
        b.iter(|| rake(&base, &margins, &opts).unwrap())
    });
    g.finish();
}

criterion_group!(benches, ecsi_bootstrap, raking_million);
criterion_main!(benches);

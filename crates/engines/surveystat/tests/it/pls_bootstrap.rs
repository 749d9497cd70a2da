//! Bootstrap properties on the ECSI / mobi model: reproducible for a seed whatever the number
//! of threads; SEs positive; percentile CIs bracket the bootstrap mean.

use qcity_surveystat::pls::AlgorithmOptions;
use qcity_surveystat::{BootstrapOptions, PlsOptions, Scheme, SignChange, estimate_pls};

use crate::common;

fn run(threads: usize, seed: u64) -> qcity_surveystat::PlsResult {
    let (model, data) = common::ecsi_mobi();
    let opts = PlsOptions {
        algorithm: AlgorithmOptions {
            scheme: Scheme::Path,
            ..AlgorithmOptions::default()
        },
        bootstrap: Some(BootstrapOptions {
            resamples: 200,
            seed,
            level: 0.95,
            sign_change: SignChange::ConstructLevel,
        }),
        ipma_target: None,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| estimate_pls(&data, &model, &opts).unwrap())
}

#[test]
fn bootstrap_is_deterministic_across_thread_counts() {
    let a = run(1, 42);
    let b = run(2, 42);
    assert_eq!(a, b);
    let c = run(2, 43);
    assert_ne!(a.paths[0].bootstrap, c.paths[0].bootstrap);
    for p in &a.paths {
        let s = p.bootstrap.as_ref().unwrap();
        assert!(s.sd > 0.0 && s.ci_low <= s.mean && s.mean <= s.ci_high);
        assert!((s.t - p.coefficient / s.sd).abs() < 1e-12);
    }
    assert_eq!(a.bootstrap.as_ref().unwrap().failed, 0);
}

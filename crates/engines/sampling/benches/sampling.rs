//! Criterion benches (targets from issue 14: plan lookup < 1 µs, OC point < 5 µs at n = 2000).
//! Run with `cargo bench -p qcity-sampling -- --warm-up-time 1 --measurement-time 3`.

use criterion::{Criterion, criterion_group, criterion_main};
use qcity_sampling::{Level, Model, Severity, pa, single_plan};
use std::hint::black_box;

fn benches(c: &mut Criterion) {
    c.bench_function("plan lookup (lot 5000, II, 2.5, normal)", |b| {
        b.iter(|| single_plan(black_box(5000), Level::II, black_box(2.5), Severity::Normal))
    });
    c.bench_function(
        "plan lookup (lot 8, II, 0.010, normal: long ↓ arrow)",
        |b| b.iter(|| single_plan(black_box(8), Level::II, black_box(0.010), Severity::Normal)),
    );
    for (name, model) in [
        ("binomial", Model::Binomial),
        ("poisson", Model::Poisson),
        (
            "hypergeometric N=100000",
            Model::Hypergeometric { lot: 100_000 },
        ),
    ] {
        c.bench_function(&format!("OC curve 100 points, n=2000 Ac=21, {name}"), |b| {
            b.iter(|| {
                (1..=100)
                    .map(|i| pa(model, black_box(2000), 21, f64::from(i) * 0.0005))
                    .collect::<Vec<_>>()
            })
        });
    }
}

criterion_group!(sampling, benches);
criterion_main!(sampling);

//! Criterion benches on the ASEM data (51 units × 49 indicators, 4 levels), one core:
//! full pipeline (target < 5 ms), uncertainty N = 1000 (< 0.2 s), Sobol with 5
//! uncertain inputs and N = 1000 (< 2 s).

use criterion::{Criterion, criterion_group, criterion_main};
use qcity_index::{PipelineSpec, parse, run, uncertainty};

const IDATA: &str = include_str!("../tests/data/iData.csv");
const IMETA: &str = include_str!("../tests/data/iMeta.csv");
const SPEC: &str = include_str!("../../../../examples/pipeline.toml");

fn one_core<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
        .install(f)
}

fn benches(c: &mut Criterion) {
    let coin = parse::parse_coin("iData.csv", IDATA, "iMeta.csv", IMETA).unwrap();
    let spec = PipelineSpec::from_toml(SPEC).unwrap();
    let nominal = run(&coin, &spec).unwrap();
    let inputs = uncertainty::inputs_from_spec(&nominal, spec.uncertainty.as_ref().unwrap(), 1);
    assert_eq!(inputs.len(), 5);

    let mut g = c.benchmark_group("asem");
    g.bench_function("pipeline", |b| b.iter(|| run(&coin, &spec).unwrap()));
    g.sample_size(10);
    g.bench_function("uncertainty_n1000", |b| {
        b.iter(|| one_core(|| uncertainty::uncertainty(&coin, &nominal, &inputs, 1000, 1).unwrap()))
    });
    g.bench_function("sobol_5_inputs_n1000", |b| {
        b.iter(|| {
            one_core(|| uncertainty::sensitivity(&coin, &nominal, &inputs, 1000, 1, 100).unwrap())
        })
    });
    g.finish();
}

criterion_group!(index, benches);
criterion_main!(index);

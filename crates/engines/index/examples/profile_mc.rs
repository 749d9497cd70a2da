use std::time::Instant;
use qcity_index::{PipelineSpec, parse, run, uncertainty, pipeline};
const IDATA: &str = include_str!("../tests/data/iData.csv");
const IMETA: &str = include_str!("../tests/data/iMeta.csv");
const SPEC: &str = include_str!("../../../../examples/pipeline.toml");
fn main() {
    let coin = parse::parse_coin("iData.csv", IDATA, "iMeta.csv", IMETA).unwrap();
    let spec = PipelineSpec::from_toml(SPEC).unwrap();
    let nominal = run(&coin, &spec).unwrap();
    let t = Instant::now();
    for _ in 0..1000 { let _ = pipeline::aggregate_target(&nominal.framework, nominal.data(pipeline::Stage::Normalised), spec.weights.as_ref().unwrap(), spec.aggregate.as_ref().unwrap(), "Index").unwrap(); }
    println!("aggregate_target: {:?}/iter", t.elapsed()/1000);
    let t = Instant::now();
    for _ in 0..1000 { let _ = spec.clone(); }
    println!("spec clone: {:?}/iter", t.elapsed()/1000);
    let t = Instant::now();
    for _ in 0..100 { let _ = run(&coin, &spec).unwrap(); }
    println!("run: {:?}/iter", t.elapsed()/100);
    let inputs = uncertainty::inputs_from_spec(&nominal, spec.uncertainty.as_ref().unwrap(), 1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let t = Instant::now();
    pool.install(|| uncertainty::uncertainty(&coin, &nominal, &inputs, 1000, 1).unwrap());
    println!("ua: {:?}", t.elapsed());
    for k in 0..inputs.len() {
        let one = vec![inputs[k].clone()];
        let t = Instant::now();
        pool.install(|| uncertainty::uncertainty(&coin, &nominal, &one, 1000, 1).unwrap());
        println!("ua only {}: {:?}", inputs[k].name, t.elapsed());
    }
}
#[allow(dead_code)]
fn unused() {}

//! Ingest throughput of the store path (`store::ingest`) into a durable SQLite file
//! (`synchronous = full`, WAL): 50,000 readings of 20 meters per call, fresh timestamps each
//! iteration so every row is a real insert, rollups recomputed inside the transaction; the CSV
//! parser on 500,000 rows (epoch and ISO 8601 timestamps); and a CSV backfill of 500,000 rows
//! through parse + `store::ingest` (durable). Run with `cargo bench -p qcity-metering`; with
//! `RUST_LOG`-style debug logging on, `store::ingest` logs its prep / write / rollups / commit times.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qcity_metering::store::{self, NewMeter, NewUnit, Parsed, Scope};
use qcity_metering::{MeteringModule, domain};
use qcity_platform::Module;
use qcity_platform::testing::{TempDir, all_migrations, seed_small_city};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BATCH: usize = 50_000;
const METERS: usize = 20;

fn rows(meters: &[i64], start: i64) -> Vec<(usize, Parsed)> {
    let per = BATCH / meters.len();
    let mut v = Vec::with_capacity(BATCH);
    for &m in meters {
        for k in 0..per {
            v.push((
                v.len() + 1,
                Parsed {
                    meter_id: m,
                    ts: start + k as i64 * 900,
                    raw: 1.0 + (k % 7) as f64,
                },
            ));
        }
    }
    v
}

fn ingest(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = TempDir::new("mtbench");
    let (db, s, meters) = rt.block_on(async {
        let url = format!("sqlite://{}?mode=rwc", dir.0.join("b.sqlite").display());
        let db = qcity_platform::db::connect_url(&url, 4, "full")
            .await
            .expect("open");
        let mods: Vec<Arc<dyn Module>> = vec![Arc::new(MeteringModule)];
        qcity_platform::migration::migrate(&db, &all_migrations(&mods))
            .await
            .expect("migrate");
        let city = seed_small_city(&db, &[]).await;
        let s = Scope::city(qcity_platform::CityId(city));
        let first = "913501007B0000001";
        let u = store::create_unit(
            &db,
            &s,
            &qcity_platform::audit::Actor::System("bench".into()),
            &NewUnit {
                uscc: format!("{first}{}", domain::check_char(first).expect("check")),
                name_zh: "基准".into(),
                name_en: "Bench".into(),
                industry: String::new(),
                region_code: "990101".into(),
                address: String::new(),
                output_unit: String::new(),
                value_added_10k_yuan: None,
            },
        )
        .await
        .expect("unit");
        let mut meters = Vec::new();
        for i in 0..METERS {
            let m = store::create_meter(
                &db,
                &s,
                &NewMeter {
                    unit_id: u.id,
                    parent_id: None,
                    level: "device".into(),
                    code: format!("B{i}"),
                    name_zh: format!("表{i}"),
                    name_en: String::new(),
                    energy_type: "electricity".into(),
                    measure_unit: String::new(),
                    interval_min: None,
                    multiplier: None,
                    high_limit: None,
                    status: String::new(),
                },
            )
            .await
            .expect("meter");
            meters.push(m.id);
        }
        (db, s, meters)
    });
    let mut g = c.benchmark_group("metering_ingest");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(BATCH as u64));
    let mut start = 1_600_000_000i64;
    g.bench_function("sqlite_durable_50k_readings", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch = rows(&meters, start);
                start += (BATCH / METERS) as i64 * 900;
                let t = Instant::now();
                let rep = rt
                    .block_on(store::ingest(&db, &s, batch, Vec::new()))
                    .expect("ingest");
                total += t.elapsed();
                assert_eq!(rep.accepted, BATCH);
            }
            total
        })
    });
    let csv: String = std::iter::once("meter_id,timestamp,value\n".to_string())
        .chain(
            (0..500_000)
                .map(|i| format!("{},{},{}\n", 1000 + i % 20, 1_600_000_000 + i * 900, 1.5)),
        )
        .collect();
    g.throughput(Throughput::Elements(500_000));
    g.bench_function("parse_csv_500k_rows", |b| {
        b.iter(|| store::parse_csv(csv.as_bytes()).expect("csv").0.len())
    });
    let iso = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .expect("ts")
            .with_timezone(&domain::local_offset())
            .to_rfc3339()
    };
    let csv_iso: String = std::iter::once("meter_id,timestamp,value\n".to_string())
        .chain((0..500_000).map(|i| {
            format!(
                "{},{},{}\n",
                1000 + i % 20,
                iso(1_600_000_000 + i * 900),
                1.5
            )
        }))
        .collect();
    g.bench_function("parse_csv_500k_rows_iso_timestamps", |b| {
        b.iter(|| store::parse_csv(csv_iso.as_bytes()).expect("csv").0.len())
    });
    // CSV backfill through the store: parse + validate + upsert + rollups + durable commit.
    let per = 500_000 / METERS;
    g.bench_function("csv_backfill_500k_rows_durable", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let body: String = std::iter::once("meter_id,timestamp,value\n".to_string())
                    .chain(meters.iter().flat_map(|m| {
                        (0..per)
                            .map(move |k| format!("{m},{},{}\n", start + k as i64 * 900, 1 + k % 7))
                    }))
                    .collect();
                start += per as i64 * 900;
                let t = Instant::now();
                let (rows, rejects) = store::parse_csv(body.as_bytes()).expect("csv");
                let rep = rt
                    .block_on(store::ingest(&db, &s, rows, rejects))
                    .expect("ingest");
                total += t.elapsed();
                assert_eq!(rep.accepted, 500_000);
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);

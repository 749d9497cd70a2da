//! KPI query over a year of elevator incidents: seeds a demo city with N elevators (default
//! 100,000) and a year of history into a fresh SQLite file (or `--database-url`), then times the
//! city-wide monthly and yearly KPI queries (3 runs of 5 queries) and prints the medians.
//!
//! `cargo run --release -p qcity-equipment --example kpi_bench -- [N] [postgres://…]`

use qcity_equipment::{EquipmentModule, demo, incidents};
use qcity_platform::Module;
use qcity_platform::{CityId, Scope};
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let mods: Vec<Arc<dyn Module>> = vec![Arc::new(EquipmentModule)];
    let t = match args.get(2) {
        Some(u) if u.starts_with("postgres") => {
            // SAFETY-free: the testing helper reads the variable.
            unsafe { std::env::set_var("QCITY_TEST_POSTGRES_URL", u) };
            qcity_platform::testing::TestDb::migrated(
                qcity_platform::testing::Backend::Postgres,
                &mods,
            )
            .await
        }
        _ => {
            qcity_platform::testing::TestDb::migrated(
                qcity_platform::testing::Backend::Sqlite,
                &mods,
            )
            .await
        }
    };
    let t0 = Instant::now();
    let city = qcity_platform::demo::seed_demo_city(&t.db, 20151)
        .await
        .expect("city");
    let ctx = qcity_platform::DemoContext {
        db: t.db.clone(),
        city_id: city.city_id,
        city_code: qcity_platform::demo::DEMO_CITY_CODE.into(),
        seed: 20151,
        districts: city.districts.clone(),
        streets: city.streets.clone(),
        jobs: Default::default(),
    };
    demo::seed_with(&ctx, n, false).await.expect("seed");
    let incidents_n =
        qcity_equipment::sql::one(&t.db, "SELECT COUNT(*) AS n FROM eq_incidents", vec![])
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
    println!(
        "seeded {n} elevators and {incidents_n} incidents in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    if t.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // What autovacuum does shortly after a bulk load: without statistics the planner
        // guesses row counts for the freshly filled tables.
        qcity_equipment::sql::exec(&t.db, "ANALYZE", vec![])
            .await
            .expect("analyze");
        println!("ran ANALYZE after the bulk load (PostgreSQL)");
    }
    let s = Scope::city(CityId(city.city_id));
    let month = (chrono::Utc::now() - chrono::Duration::days(20))
        .format("%Y-%m")
        .to_string();
    let (a, b) = incidents::month_range(&month).unwrap();
    let year = incidents::year_of(chrono::Utc::now());
    for (label, yearly) in [("month", false), ("year", true)] {
        // 3 runs of 5 queries each; the median of each run, then the median of the runs.
        let mut run_medians = Vec::new();
        for run in 1..=3 {
            let mut times = Vec::new();
            for _ in 0..5 {
                let t1 = Instant::now();
                let k = if yearly {
                    incidents::kpis_year(&t.db, &s, "990100", year)
                        .await
                        .unwrap()
                } else {
                    incidents::kpis(&t.db, &s, "990100", &month, a, b, 1)
                        .await
                        .unwrap()
                };
                times.push(t1.elapsed().as_secs_f64() * 1000.0);
                assert!(k.elevators as usize >= n * 99 / 100);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "KPI {label} query, {n} elevators, run {run}: median {:.1} ms (min {:.1}, max {:.1})",
                times[2], times[0], times[4]
            );
            run_medians.push(times[2]);
        }
        run_medians.sort_by(f64::total_cmp);
        println!(
            "KPI {label} query, {n} elevators: median of 3 runs {:.1} ms; target < 200 ms",
            run_medians[1]
        );
    }
}

//! What every metering test shares: the city, its units and users, and request helpers.

use qcity_metering::{MeteringModule, domain};
use qcity_platform::Module;
use qcity_platform::auth::{Role, token};
use qcity_platform::testing::{Backend, TestClient, TestDb, app, seed_small_city};
use serde_json::{Value, json};
use std::sync::Arc;

pub struct Env {
    pub _t: TestDb,
    pub db: sea_orm::DatabaseConnection,
    pub router: axum::Router,
    pub city: i64,
}

pub fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(MeteringModule)]
}

pub fn uscc(seq: u32) -> String {
    let first = format!("913501007{seq:08}");
    format!("{first}{}", domain::check_char(&first).unwrap())
}

pub async fn setup(b: Backend) -> Env {
    let t = TestDb::migrated(b, &modules()).await;
    let city = seed_small_city(
        &t.db,
        &[
            ("admin", Role::Admin, "990100"),
            ("analyst", Role::Analyst, "990100"),
            ("east", Role::Viewer, "990102"),
            ("energy", Role::EnergyManager, "990100"),
            ("energy2", Role::EnergyManager, "990100"),
            ("fixer", Role::Maintainer, "990100"),
        ],
    )
    .await;
    let (_, router) = app(&t, modules());
    let db = t.db.clone();
    Env {
        _t: t,
        db,
        router,
        city,
    }
}

pub async fn client(e: &Env, name: &str) -> TestClient {
    let u = qcity_platform::store::users::by_username(&e.db, e.city, name)
        .await
        .unwrap()
        .unwrap();
    let (_, tok) = token::issue(&e.db, e.city, u.id, "test").await.unwrap();
    TestClient::with_bearer(e.router.clone(), &tok)
}

pub async fn bind(e: &Env, name: &str, unit: i64) {
    let u = qcity_platform::store::users::by_username(&e.db, e.city, name)
        .await
        .unwrap()
        .unwrap();
    qcity_platform::store::users::set_enterprise_id(&e.db, e.city, u.id, Some(unit))
        .await
        .unwrap();
}

pub async fn post(c: &mut TestClient, path: &str, v: Value) -> Value {
    let r = c.post_json(path, &v).await;
    assert!(
        r.status == 201 || r.status == 200,
        "{path}: {} {}",
        r.status,
        r.body
    );
    r.json()
}

/// Two units (A in 990101 with a small tree, B in 990102 with one meter).
pub async fn two_units(e: &Env) -> (i64, i64, i64, i64, i64) {
    let mut admin = client(e, "admin").await;
    let a = post(&mut admin, "/api/v1/metering/units", json!({"uscc": uscc(1), "name_zh": "甲啤酒厂", "name_en": "A Brewery", "industry": "C1513", "region_code": "990101001", "output_unit": "hl", "value_added_10k_yuan": 1000.0})).await["id"].as_i64().unwrap();
    let b = post(&mut admin, "/api/v1/metering/units", json!({"uscc": uscc(2), "name_zh": "乙纸业", "region_code": "990102", "value_added_10k_yuan": 500.0})).await["id"].as_i64().unwrap();
    let site = post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": a, "level": "site", "code": "E0", "name_zh": "总进线", "energy_type": "electricity", "multiplier": 2.0})).await["id"].as_i64().unwrap();
    let water = post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": a, "level": "site", "code": "W0", "name_zh": "总水表", "energy_type": "water"})).await["id"].as_i64().unwrap();
    let mb = post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": b, "level": "site", "code": "E0", "name_zh": "总表", "energy_type": "electricity", "high_limit": 100.0})).await["id"].as_i64().unwrap();
    (a, b, site, water, mb)
}

pub fn day_of(meter: i64, day: &str, f: impl Fn(usize) -> f64) -> Vec<Value> {
    (0..96)
        .map(|i| json!({"meter_id": meter, "ts": format!("{day}T{:02}:{:02}:00+08:00", i / 4, (i % 4) * 15), "value": f(i)}))
        .collect()
}

/// A counter of the MQTT consumer on `/metrics`.
pub fn counter(m: &qcity_platform::web::metrics::Metrics, name: &str) -> u64 {
    let key = format!("qcity_{name} ");
    m.render()
        .lines()
        .find_map(|l| l.strip_prefix(&key).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0)
}

pub async fn count_readings(e: &Env, meter: i64, from: &str, to: &str) -> i64 {
    let r = qcity_metering::sql::one(
        &e.db,
        "SELECT COUNT(*) AS n FROM mt_readings WHERE city_id = ? AND meter_id = ? AND ts >= ? AND ts < ?",
        vec![
            e.city.into(),
            meter.into(),
            domain::parse_ts(&format!("{from} 00:00")).unwrap().into(),
            domain::parse_ts(&format!("{to} 00:00")).unwrap().into(),
        ],
    )
    .await
    .unwrap()
    .unwrap();
    r.try_get("", "n").unwrap()
}

pub async fn put(
    c: &mut TestClient,
    path: &str,
    v: &Value,
) -> qcity_platform::testing::TestResponse {
    c.request(
        "PUT",
        path,
        Some("application/json"),
        serde_json::to_vec(v).unwrap(),
        &[],
    )
    .await
}

/// Every rollup (hour, day, month) of the touched meters over `[from, to)`, values as bits.
pub async fn rollup_snapshot(
    e: &Env,
    meters: &[i64],
    from: i64,
    to: i64,
) -> Vec<(i64, String, i64, u64, i64)> {
    let mut out = Vec::new();
    for &m in meters {
        for g in ["h", "d", "m"] {
            let f = if g == "m" { from - 40 * 86400 } else { from };
            for p in qcity_metering::store::rollup_series(&e.db, e.city, m, g, f, to)
                .await
                .unwrap()
            {
                out.push((m, g.to_string(), p.ts, p.value.to_bits(), p.n));
            }
        }
    }
    out
}

/// 28 days before 4 June 2025 plus that day, every 15 minutes: 10 during 08:00–18:00, 5 from
/// 18:00 on the last day, 1 otherwise.
pub fn office_load(meter: i64) -> Vec<Value> {
    let start = domain::parse_ts("2025-05-07 00:00").unwrap();
    let last = domain::parse_ts("2025-06-04 00:00").unwrap();
    (0..29 * 96)
        .map(|i| {
            let ts = start + i * 900;
            let h = (i % 96) / 4;
            let v = if (8..18).contains(&h) {
                10.0
            } else if ts >= last && h >= 18 {
                5.0
            } else {
                1.0
            };
            json!({"meter_id": meter, "ts": ts, "value": v})
        })
        .collect()
}

/// Outdoor temperature of day `d` (0 = 1 Jan 2023), °C: a seasonal sine, 8 °C in winter and
/// 32 °C in summer.
pub fn temp_c(d: i64) -> f64 {
    20.0 - 12.0 * (2.0 * std::f64::consts::PI * (d as f64 + 10.0) / 365.0).cos()
}

//! Demo data: 15 maintenance companies (one negligent), about 20,000 elevators with realistic
//! ages and every other category, synchronously in one transaction; a year of inspections,
//! maintenance records and 96333 incidents in a background job that reports progress and
//! resumes month by month after a restart.

use crate::incidents::{CAUSES, local_hour};
use crate::registry::today;
use crate::sql::{self, all, exec, one};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use qcity_platform::DemoContext;
use qcity_platform::db::BeginWrite;
use qcity_platform::demo::DemoRng;
use qcity_platform::store::StoreError;
use sea_orm::{DatabaseConnection, Value};

mod history;
use history::{load_plans, seed_history};

type R<T> = Result<T, StoreError>;

/// Number of demo elevators.
pub const ELEVATORS: usize = 20_000;

const COMPANIES: usize = 15;
/// Index of the negligent company (slow to acknowledge, late maintenance).
pub const NEGLIGENT: usize = 6;

const COMPANY_NAMES: [(&str, &str); COMPANIES] = [
    ("通力电梯示范分公司", "Tongli Elevator Demo Branch"),
    ("日立电梯示范分公司", "Riding Elevator Demo Branch"),
    ("奥的斯机电示范维保站", "Aotis M&E Demo Station"),
    ("迅达电梯示范分公司", "Xunda Elevator Demo Branch"),
    ("三菱电梯示范维保部", "Sanling Elevator Demo Service"),
    ("蒂森电梯示范分公司", "Disen Elevator Demo Branch"),
    ("安捷电梯工程有限公司", "Anjie Elevator Engineering"),
    ("康力电梯示范服务站", "Kangli Elevator Demo Service"),
    ("快意电梯示范分公司", "Kuaiyi Elevator Demo Branch"),
    ("广日电梯示范维保站", "Guangri Elevator Demo Station"),
    ("西子电梯示范分公司", "Xizi Elevator Demo Branch"),
    ("博林特电梯示范服务部", "Bolinte Elevator Demo Service"),
    ("东南电梯工程有限公司", "Dongnan Elevator Engineering"),
    ("华升电梯维保有限公司", "Huasheng Elevator Maintenance"),
    ("恒达电梯安装维修公司", "Hengda Elevator Install & Repair"),
];

use crate::sql::insert_many;

/// The ids of the city's maintenance companies, in licence order (the order they were seeded).
async fn company_ids(db: &DatabaseConnection, cid: i64) -> R<Vec<i64>> {
    all(
        db,
        "SELECT id FROM eq_companies WHERE city_id = ? ORDER BY license_no",
        vec![cid.into()],
    )
    .await?
    .iter()
    .map(|r| Ok(r.try_get("", "id")?))
    .collect()
}

fn bbox(boundary: &Option<String>) -> Option<(f64, f64, f64, f64)> {
    let v: serde_json::Value = serde_json::from_str(boundary.as_deref()?).ok()?;
    let ring = v.get("coordinates")?.get(0)?.as_array()?;
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in ring {
        let x = p.get(0)?.as_f64()?;
        let y = p.get(1)?.as_f64()?;
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    Some((x0, y0, x1, y1))
}

/// What the history job needs about each elevator.
#[derive(Clone)]
struct ElevatorPlan {
    id: i64,
    company: usize,
    region: String,
    rescue: String,
    age: i32,
    last_inspection: Option<NaiveDate>,
    next_due: Option<NaiveDate>,
    conclusion: &'static str,
}

/// Seeds the module's demo data (idempotent).
pub async fn seed(ctx: &DemoContext) -> R<()> {
    seed_with(ctx, ELEVATORS, true).await
}

/// Seeds `elevators` elevators (plus other equipment); the year of history runs in a spawned
/// task when `background`, else before returning (benchmarks).
pub async fn seed_with(ctx: &DemoContext, elevators: usize, background: bool) -> R<()> {
    let db = &ctx.db;
    let cid = ctx.city_id;
    let have: i64 = one(
        db,
        "SELECT COUNT(*) AS n FROM eq_companies WHERE city_id = ?",
        vec![cid.into()],
    )
    .await?
    .map(|r| r.try_get("", "n"))
    .transpose()?
    .unwrap_or(0);
    if have == 0 {
        seed_registry(ctx, elevators).await?;
    }
    // The companies and use units in the register of market entities (idempotent).
    {
        let txn = ctx.db.begin_write().await?;
        let n = crate::enterprise::seed_demo(&txn, cid).await?;
        txn.commit().await?;
        if n > 0 {
            tracing::info!(
                enterprises = n,
                "equipment demo: companies and use units registered"
            );
        }
    }
    let done = one(
        db,
        "SELECT value FROM eq_settings WHERE city_id = ? AND key = 'demo_history_done'",
        vec![cid.into()],
    )
    .await?;
    if done.is_none() {
        let plans = load_plans(db, cid).await?;
        let companies = company_ids(db, cid).await?;
        let job = ctx.jobs.start("equipment: 96333 history", 12);
        let dbc = ctx.db.clone();
        let seed = ctx.seed;
        let task = async move {
            match seed_history(&dbc, cid, seed, &plans, &companies, &job).await {
                Ok(()) => job.finish(),
                Err(e) => {
                    tracing::error!(error = %e, "equipment demo history failed");
                    job.fail(&e.to_string());
                }
            }
        };
        if background {
            tokio::spawn(task);
        } else {
            task.await;
        }
    }
    Ok(())
}

async fn seed_registry(ctx: &DemoContext, elevators: usize) -> R<()> {
    let cid = ctx.city_id;
    let mut rng = DemoRng::stream(ctx.seed, "equipment.registry");
    let t = today();
    let now = sql::now();
    let txn = ctx.db.begin_write().await?;
    crate::registry::cycles(&txn, cid).await?;
    // Companies spread over the districts.
    let mut company_ids = Vec::new();
    let mut company_pos = Vec::new();
    let mut rows = Vec::new();
    for (i, (zh, en)) in COMPANY_NAMES.iter().enumerate() {
        let d = &ctx.districts[i % ctx.districts.len()];
        let (x0, y0, x1, y1) = bbox(&d.boundary).unwrap_or((118.0, 24.4, 118.6, 24.9));
        let (lon, lat) = (rng.range(x0, x1), rng.range(y0, y1));
        let id = qcity_platform::ids::new_id();
        company_ids.push(id);
        company_pos.push((lon, lat, d.code.clone()));
        rows.push(vec![
            cid.into(),
            id.into(),
            (*zh).into(),
            (*en).into(),
            format!("TS3499{:04}-2025", 101 + i).into(),
            format!("0599-{}", 6_000_000 + rng.below(3_999_999)).into(),
            NaiveDate::from_ymd_opt(2027, 12, 31).into(),
            (20 + rng.below(60) as i32).into(),
            format!("{}{}号", d.name_zh, 1 + rng.below(300)).into(),
            lon.into(),
            lat.into(),
            d.code.clone().into(),
            now.into(),
        ]);
    }
    insert_many(
        &txn,
        "eq_companies",
        &[
            "city_id",
            "id",
            "name_zh",
            "name_en",
            "license_no",
            "duty_phone",
            "contract_until",
            "engineers",
            "address",
            "lon",
            "lat",
            "region_code",
            "created_at",
        ],
        rows,
        100,
    )
    .await?;

    // Streets weighted by population (urban streets have far more elevators per person).
    let weights: Vec<f64> = ctx
        .streets
        .iter()
        .map(|s| s.population.unwrap_or(1000) as f64 * if s.urban { 1.0 } else { 0.25 })
        .collect();
    let total_w: f64 = weights.iter().sum::<f64>().max(1.0);
    let cols = [
        "city_id",
        "id",
        "category",
        "variety",
        "equipment_code",
        "registration_code",
        "use_cert_no",
        "rescue_code",
        "name",
        "use_unit",
        "use_unit_phone",
        "company_id",
        "address",
        "lon",
        "lat",
        "region_code",
        "manufacture_date",
        "install_date",
        "registration_date",
        "supervised_on",
        "status",
        "safety_grade",
        "renovated_year",
        "attributes",
        "last_inspection_on",
        "last_conclusion",
        "next_inspection_due",
        "last_maintenance_on",
        "open_defects",
        "created_at",
        "updated_at",
    ];
    let estates = ["花园", "新村", "大厦", "广场", "公寓", "家园", "中心", "苑"];
    let manufacturers = ["10890", "32011", "44105", "31002", "12008", "35117"];
    let mut rows: Vec<Vec<Value>> = Vec::with_capacity(elevators + 2000);
    let pick_street = |rng: &mut DemoRng| {
        let mut x = rng.f64() * total_w;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    };
    let mut seq = 0u32;
    let schedule = crate::schedule::Schedule::t7001_2023();
    let mut make = |rng: &mut DemoRng,
                    category: &str,
                    variety: &str,
                    elevator: bool,
                    n: usize,
                    rows: &mut Vec<Vec<Value>>| {
        for _ in 0..n {
            seq += 1;
            let si = pick_street(rng);
            let st = &ctx.streets[si];
            let (x0, y0, x1, y1) = bbox(&st.boundary).unwrap_or((118.0, 24.4, 118.6, 24.9));
            let (lon, lat) = (rng.range(x0, x1), rng.range(y0, y1));
            // Ages: a steady build-up over 30 years, about a fifth of elevators past 15 years.
            let age = if rng.chance(0.2) {
                15 + rng.below(16) as i32
            } else {
                rng.below(15) as i32
            };
            let year = (t.year_ce().1 as i32) - age;
            let made =
                NaiveDate::from_ymd_opt(year, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32)
                    .unwrap_or(t);
            let installed = made + Duration::days(60 + rng.below(240) as i64);
            // The installation supervision inspection passes shortly after installation;
            // use registration follows within 30 days.
            let install_supervised = installed + Duration::days(rng.below(15) as i64);
            let registered = install_supervised + Duration::days(rng.below(30) as i64);
            let renovated = (elevator && age >= 15 && rng.chance(0.1))
                .then(|| t.year_ce().1 as i32 - rng.below(8) as i32);
            // A modification restarts the inspection count at its supervision inspection.
            let supervised = renovated
                .and_then(|y| {
                    NaiveDate::from_ymd_opt(y, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32)
                })
                .map(|d| d.min(t - Duration::days(1)).max(install_supervised))
                .unwrap_or(install_supervised);
            // Nearest company in the same district, else any.
            let district: String = st.code.chars().take(6).collect();
            let local: Vec<usize> = company_pos
                .iter()
                .enumerate()
                .filter(|(_, c)| c.2 == district)
                .map(|(i, _)| i)
                .collect();
            let company = if !local.is_empty() && rng.chance(0.7) {
                *rng.pick(&local)
            } else {
                rng.below(COMPANIES as u64) as usize
            };
            // Other equipment: last inspection within the past year. Elevators follow TSG
            // T7001-2023: the latest due month passed was inspected (in that month or up to
            // two months early), except a few overdue.
            let overdue = rng.chance(0.006);
            let last_insp = if elevator {
                let past: Vec<NaiveDate> =
                    schedule.dues(supervised).take_while(|d| *d < t).collect();
                let inspected = |d: NaiveDate, rng: &mut DemoRng| {
                    (d - Duration::days(rng.below(75) as i64)).max(supervised)
                };
                match past.len() {
                    0 => None,
                    n if overdue => (n >= 2).then(|| inspected(past[n - 2], rng)),
                    n => Some(inspected(past[n - 1], rng)),
                }
            } else {
                let back = if overdue {
                    366 + rng.below(60) as i64
                } else {
                    rng.below(360) as i64 + 1
                };
                Some((t - Duration::days(back)).max(registered))
            };
            let r = rng.f64();
            let conclusion = if r < 0.93 {
                "pass"
            } else if r < 0.985 {
                "recheck_pass"
            } else {
                "fail"
            };
            let conclusion = last_insp.map(|_| conclusion);
            let next_due = match (last_insp, conclusion) {
                (Some(d), Some("fail")) => Some(d + Duration::days(60)),
                _ if elevator => schedule.next_due(supervised, last_insp),
                (Some(d), _) => d.checked_add_months(Months::new(12)),
                (None, _) => None,
            };
            let maint_days = if company == NEGLIGENT && rng.chance(0.45) {
                16 + rng.below(40) as i64
            } else {
                rng.below(15) as i64
            };
            let estate = format!(
                "{}{}",
                st.name_zh.trim_end_matches("街道").trim_end_matches('镇'),
                rng.pick(&estates)
            );
            let bldg = 1 + rng.below(30);
            let code = format!("{variety}{}{year:04}{:05}", rng.pick(&manufacturers), seq);
            let rescue = elevator.then(|| format!("{}", 110_000 + seq));
            let attributes = if elevator {
                {
                    let load = [630, 800, 1000, 1050, 1350][rng.below(5) as usize];
                    let speed = [1.0, 1.5, 1.75, 2.5][rng.below(4) as usize];
                    serde_json::json!({"floors": 6 + rng.below(28), "rated_load_kg": load, "speed_m_s": speed})
                }
            } else {
                serde_json::json!({})
            };
            let id = qcity_platform::ids::new_id();
            rows.push(vec![
                cid.into(),
                id.into(),
                category.into(),
                variety.into(),
                Some(code).into(),
                Option::<String>::None.into(),
                Some(format!(
                    "{}11闽Z{:05}({:02})",
                    if elevator { "梯" } else { "特" },
                    seq,
                    registered.year_ce().1 % 100
                ))
                .into(),
                rescue.into(),
                if elevator {
                    format!("{estate}{bldg}号楼{}号梯", 1 + rng.below(3))
                } else {
                    format!("{estate}设备{seq}")
                }
                .into(),
                format!("{estate}物业服务有限公司").into(),
                format!("0599-{}", 5_000_000 + rng.below(999_999)).into(),
                Some(company_ids[company]).into(),
                format!("{}{}{}号楼", st.name_zh, estate, bldg).into(),
                Some(lon).into(),
                Some(lat).into(),
                st.code.clone().into(),
                Some(made).into(),
                Some(installed).into(),
                Some(registered).into(),
                Some(supervised).into(),
                "in_use".into(),
                Option::<i32>::None.into(),
                renovated.into(),
                attributes.to_string().into(),
                last_insp.into(),
                conclusion.map(str::to_string).into(),
                next_due.into(),
                elevator.then(|| t - Duration::days(maint_days)).into(),
                (conclusion == Some("fail")).into(),
                now.into(),
                now.into(),
            ]);
        }
    };
    for (variety, n) in [
        ("3110", elevators * 85 / 100),
        ("3120", elevators * 5 / 100),
        ("3310", elevators * 7 / 100),
        ("3320", elevators * 3 / 100),
    ] {
        make(&mut rng, "3000", variety, true, n, &mut rows);
    }
    for (cat, variety, n) in [
        ("1000", "1100", 180),
        ("2000", "2110", 500),
        ("2000", "2210", 60),
        ("2000", "2310", 80),
        ("4000", "4110", 160),
        ("4000", "4300", 80),
        ("4000", "4800", 60),
        ("5000", "5110", 200),
        ("6000", "6100", 40),
        ("8000", "8310", 100),
        ("9000", "9100", 3),
    ] {
        make(&mut rng, cat, variety, false, n, &mut rows);
    }
    insert_many(&txn, "eq_equipment", &cols, rows, 500).await?;
    txn.commit().await?;
    // The demo maintenance engineer works for the first company.
    if let Some(u) = qcity_platform::store::users::by_username(&ctx.db, cid, "maintainer").await? {
        qcity_platform::store::users::set_company_id(&ctx.db, cid, u.id, Some(company_ids[0]))
            .await?;
    }
    Ok(())
}

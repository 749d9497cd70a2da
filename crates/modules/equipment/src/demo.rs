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
        let companies: Vec<i64> = all(
            db,
            "SELECT id FROM eq_companies WHERE city_id = ? ORDER BY license_no",
            vec![cid.into()],
        )
        .await?
        .iter()
        .map(|r| r.try_get("", "id"))
        .collect::<Result<_, _>>()?;
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

async fn load_plans(db: &DatabaseConnection, cid: i64) -> R<Vec<ElevatorPlan>> {
    let companies: Vec<i64> = all(
        db,
        "SELECT id FROM eq_companies WHERE city_id = ? ORDER BY license_no",
        vec![cid.into()],
    )
    .await?
    .iter()
    .map(|r| r.try_get("", "id"))
    .collect::<Result<_, _>>()?;
    let t = today();
    let rows = all(db, "SELECT id, company_id, region_code, rescue_code, manufacture_date, last_inspection_on, last_conclusion, next_inspection_due FROM eq_equipment WHERE city_id = ? AND category = '3000' ORDER BY id", vec![cid.into()]).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let comp: Option<i64> = r.try_get("", "company_id")?;
        let m: Option<NaiveDate> = r.try_get("", "manufacture_date")?;
        let c: Option<String> = r.try_get("", "last_conclusion")?;
        out.push(ElevatorPlan {
            id: r.try_get("", "id")?,
            company: comp
                .and_then(|c| companies.iter().position(|x| *x == c))
                .unwrap_or(0),
            region: r.try_get("", "region_code")?,
            rescue: r
                .try_get::<Option<String>>("", "rescue_code")?
                .unwrap_or_default(),
            age: m.map(|m| crate::registry::years_between(m, t)).unwrap_or(0),
            last_inspection: r.try_get("", "last_inspection_on")?,
            next_due: r.try_get("", "next_inspection_due")?,
            conclusion: match c.as_deref() {
                Some("fail") => "fail",
                Some("recheck_pass") => "recheck_pass",
                _ => "pass",
            },
        });
    }
    Ok(out)
}

/// Hour of day (China Standard Time) skewed as in Qingdao: 06–12 and 18–22 carry ~75 %.
fn trapping_hour(rng: &mut DemoRng) -> u32 {
    let r = rng.f64();
    if r < 0.45 {
        6 + rng.below(6) as u32
    } else if r < 0.75 {
        18 + rng.below(4) as u32
    } else {
        let others = [0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17, 22, 23];
        *rng.pick(&others)
    }
}

fn cause(rng: &mut DemoRng) -> &'static str {
    let r = rng.f64();
    let cum = [
        (0.52, 0),
        (0.66, 1),
        (0.74, 2),
        (0.79, 3),
        (0.91, 4),
        (0.95, 5),
        (1.0, 6),
    ];
    let i = cum.iter().find(|(p, _)| r < *p).map(|x| x.1).unwrap_or(6);
    CAUSES[i].0
}

async fn seed_history(
    db: &DatabaseConnection,
    cid: i64,
    seed: u64,
    plans: &[ElevatorPlan],
    companies: &[i64],
    job: &qcity_platform::jobs::JobHandle,
) -> R<()> {
    let t = today();
    let start_month = t
        .with_day0(0)
        .unwrap_or(t)
        .checked_sub_months(Months::new(11))
        .unwrap_or(t);
    let done_month: i32 = one(
        db,
        "SELECT value FROM eq_settings WHERE city_id = ? AND key = 'demo_history_month'",
        vec![cid.into()],
    )
    .await?
    .and_then(|r| r.try_get::<String>("", "value").ok())
    .and_then(|v| v.parse().ok())
    .unwrap_or(-1);
    // Company positions for level-2 escalation.
    let cpos: Vec<(f64, f64)> = {
        let mut v = Vec::new();
        for id in companies {
            let r = one(
                db,
                "SELECT lon, lat FROM eq_companies WHERE city_id = ? AND id = ?",
                vec![cid.into(), (*id).into()],
            )
            .await?;
            v.push(
                r.map(|r| {
                    (
                        r.try_get::<Option<f64>>("", "lon")
                            .ok()
                            .flatten()
                            .unwrap_or(0.0),
                        r.try_get::<Option<f64>>("", "lat")
                            .ok()
                            .flatten()
                            .unwrap_or(0.0),
                    )
                })
                .unwrap_or((0.0, 0.0)),
            );
        }
        v
    };
    let urban: std::collections::HashMap<String, bool> = all(
        db,
        "SELECT code, urban FROM regions WHERE city_id = ? AND level = 'district'",
        vec![cid.into()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.try_get("", "code")?, r.try_get("", "urban")?)))
    .collect::<R<_>>()?;
    for m in 0..12i32 {
        if m <= done_month {
            job.set_done((m + 1) as u64);
            continue;
        }
        let mut rng = DemoRng::stream(seed, &format!("equipment.history.{m}"));
        let month_start = start_month
            .checked_add_months(Months::new(m as u32))
            .unwrap_or(t);
        let month_end = month_start
            .checked_add_months(Months::new(1))
            .unwrap_or(t)
            .min(t + Duration::days(1));
        let days = (month_end - month_start).num_days().max(1);
        let txn = db.begin_write().await?;
        // Inspections whose date falls in this month.
        let mut insp = Vec::new();
        for (p, on) in plans
            .iter()
            .filter_map(|p| Some((p, p.last_inspection?)))
            .filter(|(_, d)| *d >= month_start && *d < month_end)
        {
            let defects = if p.conclusion == "pass" {
                Vec::new()
            } else {
                vec![
                    "层门门锁啮合长度不足".to_string(),
                    "轿厢应急照明失效".to_string(),
                ]
            };
            let rect = if defects.is_empty() {
                "none"
            } else if p.conclusion == "recheck_pass" {
                "closed"
            } else {
                "open"
            };
            insp.push(vec![
                cid.into(),
                qcity_platform::ids::new_id().into(),
                p.id.into(),
                on.into(),
                p.conclusion.into(),
                serde_json::to_string(&defects).unwrap_or_default().into(),
                rect.into(),
                (rect == "closed").then(|| on + Duration::days(20)).into(),
                "示范市特种设备检验院".into(),
                p.next_due.into(),
                sql::now().into(),
            ]);
        }
        insert_many(
            &txn,
            "eq_inspections",
            &[
                "city_id",
                "id",
                "equipment_id",
                "inspected_on",
                "conclusion",
                "defects",
                "rectification",
                "rectified_on",
                "inspector",
                "next_due",
                "created_at",
            ],
            insp,
            500,
        )
        .await?;
        // Half-monthly maintenance (the negligent company skips many).
        let mut maint = Vec::new();
        for p in plans {
            for half in 0..2 {
                let day = month_start + Duration::days(half * 15 + rng.below(10) as i64);
                if day >= t || day >= month_end {
                    continue;
                }
                if p.company == NEGLIGENT && rng.chance(0.4) {
                    continue;
                }
                let kind = if half == 0 && m % 3 == 0 {
                    "quarter"
                } else {
                    "half_month"
                };
                maint.push(vec![
                    cid.into(),
                    qcity_platform::ids::new_id().into(),
                    p.id.into(),
                    companies[p.company].into(),
                    day.into(),
                    kind.into(),
                    format!("工程师{:03}", p.company * 40 + rng.below(40) as usize).into(),
                    "".into(),
                    sql::now().into(),
                ]);
            }
        }
        insert_many(
            &txn,
            "eq_maintenance",
            &[
                "city_id",
                "id",
                "equipment_id",
                "company_id",
                "done_on",
                "kind",
                "engineer",
                "notes",
                "created_at",
            ],
            maint,
            1000,
        )
        .await?;
        // 96333 incidents: ~1 trapping per 100 elevators per month, old elevators more often.
        let mut incs = Vec::new();
        let mut events = Vec::new();
        for p in plans {
            let rate = 0.01 * days as f64 / 30.0
                * if p.age >= 15 { 1.6 } else { 0.85 }
                * if p.company == NEGLIGENT { 1.5 } else { 1.0 };
            if !rng.chance(rate * 1.15) {
                continue;
            }
            let day = month_start + Duration::days(rng.below(days as u64) as i64);
            let hour = trapping_hour(&mut rng);
            let Some(local) = day.and_hms_opt(hour, rng.below(60) as u32, rng.below(60) as u32)
            else {
                continue;
            };
            let received: DateTime<Utc> =
                qcity_platform::time::from_local(local).unwrap_or_else(Utc::now);
            if received >= sql::now() - Duration::hours(2) {
                continue;
            }
            let urban_d = urban
                .get(&p.region.chars().take(6).collect::<String>())
                .copied()
                .unwrap_or(true);
            let timers = crate::fsm::Timers::default_for(urban_d);
            let id = qcity_platform::ids::new_id();
            let negligent = p.company == NEGLIGENT;
            let channel = if rng.chance(0.2) {
                "iot"
            } else if rng.chance(0.15) {
                "in_car"
            } else {
                "phone"
            };
            let side = rng.f64();
            let mut ev: Vec<(DateTime<Utc>, &str, &str, String, String)> = Vec::new();
            let dispatcher = "dispatcher".to_string();
            ev.push((received, "", "received", dispatcher.clone(), String::new()));
            let located = received + Duration::seconds(20 + rng.below(60) as i64);
            ev.push((
                located,
                "received",
                "located",
                dispatcher.clone(),
                String::new(),
            ));
            let mut state = "closed";
            let mut level = 1;
            let mut company = companies[p.company];
            let (mut dispatched, mut acked, mut onscene, mut released, mut confirmed) =
                (None, None, None, None, None);
            let closed;
            let mut cause_code = None;
            if side < 0.06 {
                state = if side < 0.03 {
                    "cancelled"
                } else {
                    "false_alarm"
                };
                let at = located + Duration::seconds(60 + rng.below(200) as i64);
                ev.push((
                    at,
                    "located",
                    state,
                    dispatcher.clone(),
                    "自行恢复 / 误报".into(),
                ));
                closed = Some(at);
            } else if side < 0.13 {
                state = "not_trapped";
                let at = located + Duration::seconds(60 + rng.below(120) as i64);
                ev.push((
                    at,
                    "located",
                    state,
                    dispatcher.clone(),
                    "无人被困, 转维修工单".into(),
                ));
                closed = Some(at);
            } else {
                let d = located + Duration::seconds(30 + rng.below(150) as i64);
                dispatched = Some(d);
                ev.push((
                    d,
                    "located",
                    "dispatched",
                    dispatcher.clone(),
                    String::new(),
                ));
                let slow = negligent && rng.chance(0.35) || rng.chance(0.01);
                let mut from = "dispatched";
                let mut ack_at = d + Duration::seconds(if slow {
                    200 + rng.below(200) as i64
                } else {
                    20 + rng.below(140) as i64
                });
                if slow && rng.chance(0.6) {
                    // Missed acknowledgement: level 2, the nearest other unit.
                    let esc = d + Duration::seconds(timers.ack_secs);
                    level = 2;
                    let (ex, ey) = cpos[p.company];
                    let other = (0..companies.len())
                        .filter(|i| *i != p.company)
                        .min_by(|a, b| {
                            let da = (cpos[*a].0 - ex).powi(2) + (cpos[*a].1 - ey).powi(2);
                            let db = (cpos[*b].0 - ex).powi(2) + (cpos[*b].1 - ey).powi(2);
                            da.total_cmp(&db)
                        })
                        .unwrap_or(0);
                    company = companies[other];
                    ev.push((
                        esc,
                        "dispatched",
                        "escalated_l2",
                        "system".into(),
                        "确认超时, 自动升级".into(),
                    ));
                    from = "escalated_l2";
                    ack_at = esc + Duration::seconds(30 + rng.below(100) as i64);
                }
                acked = Some(ack_at);
                ev.push((
                    ack_at,
                    from,
                    "acknowledged",
                    "maintainer".into(),
                    String::new(),
                ));
                let mean_min = if negligent { 22.0 } else { 11.0 };
                let arr_min = (mean_min * (0.35 * rng.normal()).exp()).clamp(3.0, 90.0);
                let arr = (d + Duration::seconds((arr_min * 60.0) as i64))
                    .max(ack_at + Duration::seconds(60));
                onscene = Some(arr);
                ev.push((
                    arr,
                    "acknowledged",
                    "on_scene",
                    "maintainer".into(),
                    String::new(),
                ));
                let rel = arr
                    + Duration::seconds(
                        (60.0 * (5.0 * (0.4 * rng.normal()).exp()).clamp(1.0, 40.0)) as i64,
                    );
                released = Some(rel);
                ev.push((
                    rel,
                    "on_scene",
                    "released",
                    "maintainer".into(),
                    String::new(),
                ));
                let conf = rel + Duration::seconds(120 + rng.below(600) as i64);
                confirmed = Some(conf);
                ev.push((
                    conf,
                    "released",
                    "confirmed",
                    dispatcher.clone(),
                    "已回访".into(),
                ));
                let cc = cause(&mut rng);
                cause_code = Some(cc.to_string());
                let cr = conf + Duration::hours(2 + rng.below(20) as i64);
                ev.push((
                    cr,
                    "confirmed",
                    "cause_reported",
                    "maintainer".into(),
                    cc.into(),
                ));
                let cl = cr + Duration::minutes(5 + rng.below(60) as i64);
                ev.push((
                    cl,
                    "cause_reported",
                    "closed",
                    dispatcher.clone(),
                    String::new(),
                ));
                closed = Some(cl);
            }
            let secs = |a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>| match (a, b) {
                (Some(a), Some(b)) => Some((b - a).num_seconds() as i32),
                _ => None,
            };
            let last = ev.last().map(|e| e.0).unwrap_or(received);
            incs.push(vec![
                cid.into(),
                id.into(),
                p.id.into(),
                p.region.clone().into(),
                p.rescue.clone().into(),
                channel.into(),
                if channel == "phone" {
                    format!("139{:08}", rng.below(100_000_000))
                } else {
                    String::new()
                }
                .into(),
                state.into(),
                level.into(),
                Some(companies[p.company]).into(),
                Some(company).into(),
                (ev.len() as i32 - 1).into(),
                (timers.dispatch_secs as i32).into(),
                (timers.ack_secs as i32).into(),
                (timers.arrive_secs as i32).into(),
                received.into(),
                Some(located).into(),
                dispatched.into(),
                acked.into(),
                onscene.into(),
                released.into(),
                confirmed.into(),
                closed.into(),
                last.into(),
                Option::<DateTime<Utc>>::None.into(),
                Option::<DateTime<Utc>>::None.into(),
                Option::<DateTime<Utc>>::None.into(),
                false.into(),
                false.into(),
                cause_code.into(),
                Option::<String>::None.into(),
                Option::<String>::None.into(),
                (channel == "iot").then(|| "02".to_string()).into(),
                secs(dispatched, acked).into(),
                secs(dispatched, onscene).into(),
                secs(onscene, released).into(),
                local_hour(received).into(),
                "demo".into(),
            ]);
            for (seq, (at, from, to, actor, note)) in ev.into_iter().enumerate() {
                events.push(vec![
                    cid.into(),
                    id.into(),
                    (seq as i32 + 1).into(),
                    at.into(),
                    "transition".into(),
                    (!from.is_empty()).then(|| from.to_string()).into(),
                    to.into(),
                    actor.into(),
                    if seq == 0 { channel } else { "web" }.into(),
                    note.into(),
                ]);
            }
        }
        insert_many(
            &txn,
            "eq_incidents",
            &[
                "city_id",
                "id",
                "equipment_id",
                "region_code",
                "rescue_code",
                "channel",
                "caller_phone",
                "state",
                "level",
                "l1_company_id",
                "company_id",
                "version",
                "dispatch_secs",
                "ack_limit_secs",
                "arrive_limit_secs",
                "received_at",
                "located_at",
                "dispatched_at",
                "acknowledged_at",
                "on_scene_at",
                "released_at",
                "confirmed_at",
                "closed_at",
                "last_event_at",
                "dispatch_by",
                "ack_by",
                "arrive_by",
                "arrival_alerted",
                "propose_l3",
                "cause_code",
                "idem_key",
                "open_guard",
                "alarm_code",
                "ack_secs",
                "arrive_secs",
                "rescue_secs",
                "received_hour",
                "created_by",
            ],
            incs,
            200,
        )
        .await?;
        insert_many(
            &txn,
            "eq_incident_events",
            &[
                "city_id",
                "incident_id",
                "seq",
                "at",
                "kind",
                "from_state",
                "to_state",
                "actor",
                "channel",
                "note",
            ],
            events,
            1000,
        )
        .await?;
        exec(
            &txn,
            "DELETE FROM eq_settings WHERE city_id = ? AND key = 'demo_history_month'",
            vec![cid.into()],
        )
        .await?;
        exec(
            &txn,
            "INSERT INTO eq_settings (city_id, key, value) VALUES (?, 'demo_history_month', ?)",
            vec![cid.into(), m.to_string().into()],
        )
        .await?;
        txn.commit().await?;
        job.set_done((m + 1) as u64);
        tokio::task::yield_now().await;
    }
    exec(
        db,
        "INSERT INTO eq_settings (city_id, key, value) VALUES (?, 'demo_history_done', '1')",
        vec![cid.into()],
    )
    .await?;
    Ok(())
}

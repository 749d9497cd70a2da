//! Demo data: the three built-in frameworks, five years (2021–2025) of city-quality values for
//! the demo districts (with gaps, a few outliers, mostly published, some drafts) and one stored
//! index run per year so the report has results. Idempotent and deterministic.

use crate::entity::value;
use crate::runs::{self, NewRun};
use crate::store::{self, EvalError};
use chrono::Utc;
use qcity_platform::DemoContext;
use qcity_platform::audit::Actor;
use qcity_platform::auth::{AuthVia, Principal, RegionScope, Role};
use qcity_platform::db::BeginWrite;
use qcity_platform::demo::DemoRng;
use qcity_platform::ids::new_id;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

pub const YEARS: std::ops::RangeInclusive<i32> = 2021..=2025;

fn system_principal(ctx: &DemoContext) -> Principal {
    Principal {
        city_id: ctx.city_id,
        city_code: ctx.city_code.clone(),
        user_id: 0,
        username: "demo-seed".into(),
        display_name: "demo seed".into(),
        role: Role::Analyst,
        scope: RegionScope::new(ctx.city_id, &ctx.city_code),
        company_id: None,
        enterprise_id: None,
        via: AuthVia::Session {
            csrf_token: String::new(),
        },
    }
}

/// The generator's name in `demo_progress` (the index runs, one step per year).
pub const GENERATOR: &str = "evaluation.runs";

/// The framework of a built-in catalogue, installed if missing.
async fn ensure_catalogue(
    ctx: &DemoContext,
    actor: &Actor,
    key: &str,
) -> Result<crate::entity::framework::Model, EvalError> {
    let code = crate::catalog::by_key(key)
        .map(|c| c.code)
        .ok_or_else(|| EvalError::invalid("catalogue", format!("unknown catalogue `{key}`")))?;
    match store::framework_by_code(&ctx.db, ctx.city_id, code).await? {
        Some(fw) => Ok(fw),
        None => store::install_catalogue(&ctx.db, ctx.city_id, actor, key).await,
    }
}

/// Seeds the demo, or finishes what an interrupted run left. The values are written at once
/// (about a thousand rows, one transaction); the index runs are computed in a background task
/// reporting as a job.
pub async fn seed(ctx: &DemoContext) -> Result<(), EvalError> {
    seed_with(ctx, true).await
}

/// As [`seed`]; the index runs are computed in a spawned task when `background`, else before
/// returning (tests).
pub async fn seed_with(ctx: &DemoContext, background: bool) -> Result<(), EvalError> {
    if qcity_platform::demo_progress::load(&ctx.db, ctx.city_id, GENERATOR)
        .await?
        .is_some_and(|p| p.finished)
    {
        return Ok(());
    }
    let actor = Actor::System("demo".into());
    let fw = ensure_catalogue(ctx, &actor, "city_quality").await?;
    ensure_catalogue(ctx, &actor, "satisfaction").await?;
    ensure_catalogue(ctx, &actor, "iso37120").await?;
    let have_values = value::Entity::find()
        .filter(value::Column::CityId.eq(ctx.city_id))
        .filter(value::Column::FrameworkId.eq(fw.id))
        .one(&ctx.db)
        .await?
        .is_some();
    if !have_values {
        seed_values(ctx, fw.id).await?;
    }
    let Some(tracker) = qcity_platform::demo_progress::Tracker::start(
        &ctx.db,
        &ctx.jobs,
        ctx.city_id,
        GENERATOR,
        "evaluation demo index runs",
        YEARS.count() as u64,
    )
    .await?
    else {
        return Ok(());
    };
    let p = system_principal(ctx);
    let db = ctx.db.clone();
    let fid = fw.id;
    let task = async move {
        let mut tracker = tracker;
        let r = index_runs(&db, &p, fid, &mut tracker).await;
        let r = match r {
            Ok(()) => tracker.finish(&db).await.map_err(EvalError::from),
            Err(e) => Err(e),
        };
        if let Err(e) = r {
            tracing::error!(error = %e, "evaluation demo index runs failed");
            tracker.fail(&e.to_string());
        }
    };
    if background {
        tokio::spawn(task);
    } else {
        task.await;
    }
    Ok(())
}

/// One index run per year; a run an earlier start made is kept if it finished and computed
/// again from its stored inputs if it did not.
async fn index_runs(
    db: &sea_orm::DatabaseConnection,
    p: &Principal,
    fid: i64,
    tracker: &mut qcity_platform::demo_progress::Tracker,
) -> Result<(), EvalError> {
    for (k, y) in YEARS.enumerate() {
        let k = k as u64;
        if tracker.is_done(k) {
            continue;
        }
        let name = format!("CQ {y}");
        let earlier = runs::list_runs(db, p.city_id)
            .await?
            .into_iter()
            .find(|r| r.framework_id == fid && r.name == name);
        match earlier {
            Some(r) if r.status == "finished" => {}
            Some(r) => {
                runs::execute(db, &r, None).await?;
            }
            None => {
                let req = NewRun {
                    framework_id: fid,
                    name,
                    years: (2021..=y).collect(),
                    regions: Vec::new(),
                    spec_toml: None,
                    statuses: vec![
                        store::APPROVED.into(),
                        store::PUBLISHED.into(),
                        store::SUBMITTED.into(),
                    ],
                    uncertainty_n: Some(200),
                    seed: Some(y as i64),
                };
                let m = runs::create_run(db, p, &req).await?;
                runs::execute(db, &m, None).await?;
            }
        }
        tracker.step(db, k + 1).await?;
    }
    Ok(())
}

/// Five years of values for the city-quality framework `fw_id`, in one transaction.
async fn seed_values(ctx: &DemoContext, fw_id: i64) -> Result<(), EvalError> {
    let fw = store::framework_by_code(&ctx.db, ctx.city_id, "CQ")
        .await?
        .filter(|f| f.id == fw_id)
        .ok_or_else(|| EvalError::NotFound("framework CQ".into()))?;
    let nodes = store::nodes(&ctx.db, ctx.city_id, fw.id).await?;
    let mut rng = DemoRng::stream(ctx.seed, "evaluation.values");
    let txn = ctx.db.begin_write().await?;
    let now = Utc::now();
    for (di, d) in ctx.districts.iter().enumerate() {
        // district quality: urban districts a little ahead, each with its own pace
        let q = if d.urban { 0.1 } else { -0.25 } + rng.range(-0.25, 0.25);
        let pace = rng.range(0.015, 0.05);
        for n in nodes.iter().filter(|n| n.level == 1) {
            let (Some(lo), Some(hi)) = (n.band_low, n.band_high) else {
                continue;
            };
            let ind_q = rng.range(-0.12, 0.12);
            for y in YEARS {
                if rng.chance(0.04) {
                    continue; // a gap
                }
                let t = (y - 2021) as f64;
                let mut s =
                    (0.5 + 0.35 * q + ind_q + pace * t + 0.04 * rng.normal()).clamp(0.03, 0.97);
                if rng.chance(0.006) {
                    s = if s > 0.5 { 0.02 } else { 0.99 }; // an outlier
                }
                let mut x = if n.direction < 0 {
                    hi - s * (hi - lo)
                } else {
                    lo + s * (hi - lo)
                };
                let mut num = None;
                let mut den = None;
                if n.computation == "ratio" {
                    let area = d.area_km2.unwrap_or(100.0);
                    num = Some(((x * area) * 10.0).round() / 10.0);
                    den = Some(area);
                    x = num.unwrap_or(0.0) / area;
                }
                x = if n.unit == "项" {
                    x.round()
                } else {
                    (x * 100.0).round() / 100.0
                };
                let status = match y {
                    2025 if d.code.ends_with("02") => store::DRAFT,
                    2025 if di % 3 == 0 => store::SUBMITTED,
                    2025 => store::APPROVED,
                    _ => store::PUBLISHED,
                };
                value::ActiveModel {
                    city_id: Set(ctx.city_id),
                    id: Set(new_id()),
                    framework_id: Set(fw.id),
                    indicator_code: Set(n.code.clone()),
                    region_code: Set(d.code.clone()),
                    year: Set(y),
                    value: Set(x),
                    numerator: Set(num),
                    denominator: Set(den),
                    source: Set(n.source_zh.clone()),
                    note: Set(String::new()),
                    status: Set(status.into()),
                    origin: Set("demo".into()),
                    updated_by: Set("demo".into()),
                    updated_at: Set(now),
                }
                .insert(&txn)
                .await?;
            }
        }
    }
    txn.commit().await?;
    Ok(())
}

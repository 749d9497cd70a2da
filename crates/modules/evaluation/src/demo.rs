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
use qcity_platform::demo::DemoRng;
use qcity_platform::ids::new_id;
use sea_orm::{ActiveModelTrait, Set, TransactionTrait};

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

/// Seeds the demo (nothing when the city quality framework already exists). The values are
/// written at once (about a thousand rows); the index runs are computed in a background task
/// reporting as a job.
pub async fn seed(ctx: &DemoContext) -> Result<(), EvalError> {
    if store::framework_by_code(&ctx.db, ctx.city_id, "CQ")
        .await?
        .is_some()
    {
        return Ok(());
    }
    let actor = Actor::System("demo".into());
    let fw = store::install_catalogue(&ctx.db, ctx.city_id, &actor, "city_quality").await?;
    store::install_catalogue(&ctx.db, ctx.city_id, &actor, "satisfaction").await?;
    store::install_catalogue(&ctx.db, ctx.city_id, &actor, "iso37120").await?;
    let nodes = store::nodes(&ctx.db, ctx.city_id, fw.id).await?;
    let mut rng = DemoRng::stream(ctx.seed, "evaluation.values");
    let txn = ctx.db.begin().await?;
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
    let p = system_principal(ctx);
    let job = ctx
        .jobs
        .start("evaluation demo index runs", YEARS.count() as u64);
    let db = ctx.db.clone();
    let fid = fw.id;
    tokio::spawn(async move {
        for (k, y) in YEARS.enumerate() {
            let req = NewRun {
                framework_id: fid,
                name: format!("CQ {y}"),
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
            let res = match runs::create_run(&db, &p, &req).await {
                Ok(m) => runs::execute(&db, &m, None).await.map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = res {
                job.fail(&e.to_string());
                return;
            }
            job.set_done(k as u64 + 1);
        }
        job.finish();
    });
    Ok(())
}

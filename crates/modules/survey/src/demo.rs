//! Demo data: the standard questionnaire; waves 2024 and 2025 (published) of about 2,000
//! fieldwork responses each with a district and demographic skew (so weighting matters) and
//! Chinese suggestions; a 2026 wave collecting on the open link with quotas. Deterministic
//! (`DemoRng`) and idempotent; responses are generated in a background job.

use crate::builtin;
use crate::collect::{self, Submission};
use crate::model::RawAnswer;
use crate::store::{self, MarginCell, NewWave, QuotaCell};
use chrono::{TimeZone, Utc};
use qcity_platform::db::BeginWrite;
use qcity_platform::demo::DemoRng;
use qcity_platform::module::{DemoContext, HookError};
use std::collections::BTreeMap;

const AGE: [(&str, f64); 4] = [
    ("18-29", 0.22),
    ("30-44", 0.30),
    ("45-59", 0.28),
    ("60+", 0.20),
];
const SEX: [(&str, f64); 2] = [("m", 0.51), ("f", 0.49)];
const EDU: [(&str, f64); 3] = [("low", 0.45), ("mid", 0.30), ("high", 0.25)];
const RES: [(&str, f64); 3] = [("lt1", 0.10), ("1-5", 0.25), ("gt5", 0.65)];

/// Respondents over-represent the young, the educated and women (web and street intercepts).
const AGE_S: [f64; 4] = [0.34, 0.33, 0.22, 0.11];
const SEX_S: [f64; 2] = [0.44, 0.56];
const EDU_S: [f64; 3] = [0.25, 0.32, 0.43];

const SUGGESTIONS: &[&str] = &[
    "希望加强食品安全监管，菜市场的农产品要多抽检",
    "小区附近道路施工时间太长，噪音很大，影响休息",
    "医院排队时间太长，希望改善预约服务",
    "垃圾分类做得不够好，有些小区垃圾乱堆",
    "网购买到假货投诉很难，希望投诉处理更快",
    "老旧小区电梯经常坏，希望尽快更新改造",
    "公交车班次太少，高峰期太挤",
    "河道污水有异味，希望加强治理",
    "政务窗口服务态度好了很多，办事效率提高",
    "希望质量信息公开更及时，抽检结果要公布",
    "新建楼盘漏水问题严重，开发商不负责",
    "空气质量有所改善，希望继续保持",
    "商场售后服务差，退换货很难",
    "希望多建公园绿化，增加休闲空间",
    "执法部门对假冒伪劣商品要加大处罚力度",
    "路面井盖松动，存在安全隐患",
    "餐饮店卫生状况需要加强检查",
    "药品价格偏高，希望加强药品质量和价格监管",
    "快递服务质量参差不齐，包裹经常损坏",
    "热线电话打不通，投诉渠道不畅",
];

fn pick_weighted(rng: &mut DemoRng, ws: &[f64]) -> usize {
    let total: f64 = ws.iter().sum();
    let mut x = rng.f64() * total;
    for (i, w) in ws.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    ws.len() - 1
}

fn margins_for(ctx: &DemoContext) -> Vec<MarginCell> {
    let pops: Vec<(String, f64)> = ctx
        .districts
        .iter()
        .map(|d| {
            (
                d.code.clone(),
                d.population.unwrap_or(100_000).max(1) as f64,
            )
        })
        .collect();
    let total: f64 = pops.iter().map(|p| p.1).sum();
    let mut m: Vec<MarginCell> = pops
        .iter()
        .map(|(c, p)| MarginCell {
            variable: "district".into(),
            category: c.clone(),
            total: *p,
        })
        .collect();
    for (var, shares) in [
        ("age_group", &AGE[..]),
        ("sex", &SEX[..]),
        ("education", &EDU[..]),
    ] {
        for (c, s) in shares {
            m.push(MarginCell {
                variable: var.into(),
                category: c.to_string(),
                total: total * s,
            });
        }
    }
    m
}

/// A fixed per-indicator shift of the demo's ratings (±0.3), so that indicators within a domain
/// differ (the importance–performance chart has spread).
fn item_offset(j: usize) -> f64 {
    ((j * 7919) % 13) as f64 / 12.0 * 0.6 - 0.3
}

/// One synthetic respondent of `year` (deterministic per stream).
fn respondent(rng: &mut DemoRng, ctx: &DemoContext, year: i32, i: usize) -> Submission {
    let n_d = ctx.districts.len().max(1);
    // Urban core districts are over-sampled (easier fieldwork); counties under-sampled.
    let dw: Vec<f64> = ctx
        .districts
        .iter()
        .enumerate()
        .map(|(k, d)| {
            if d.urban {
                if k < 3 { 2.2 } else { 1.2 }
            } else {
                0.5
            }
        })
        .collect();
    let di = pick_weighted(rng, &dw);
    let district = &ctx.districts[di.min(n_d - 1)];
    let age = pick_weighted(rng, &AGE_S);
    let sex = pick_weighted(rng, &SEX_S);
    let edu = pick_weighted(rng, &EDU_S);
    let res = pick_weighted(rng, &RES.iter().map(|x| x.1).collect::<Vec<_>>());
    // Latent satisfaction (1–5 scale): older and less educated residents are more satisfied;
    // counties less; the city improves a little each year.
    let base = 3.55 + 0.12 * age as f64 - 0.10 * edu as f64
        + if district.urban { 0.05 } else { -0.25 }
        + (di as f64 * 0.37).sin() * 0.2
        + (year - 2024) as f64 * 0.08;
    let person = base + rng.normal() * 0.45;
    let effects: BTreeMap<&str, f64> = [
        ("product", 0.05),
        ("construction", -0.25),
        ("service", 0.15),
        ("environment", -0.05),
        ("public", -0.1),
    ]
    .into_iter()
    .collect();
    let mut raw: BTreeMap<String, RawAnswer> = BTreeMap::new();
    raw.insert("D1".into(), RawAnswer::Text(district.code.clone()));
    raw.insert("D2".into(), RawAnswer::Text(AGE[age].0.into()));
    raw.insert("D3".into(), RawAnswer::Text(SEX[sex].0.into()));
    raw.insert("D4".into(), RawAnswer::Text(EDU[edu].0.into()));
    raw.insert("D5".into(), RawAnswer::Text(RES[res].0.into()));
    let straight = rng.chance(0.015);
    let mut domain_level: BTreeMap<&str, f64> = BTreeMap::new();
    for (j, (domain, code, _, _, _)) in builtin::ITEMS.iter().enumerate() {
        if *domain == "overall" {
            continue;
        }
        let lvl = *domain_level
            .entry(domain)
            .or_insert_with(|| person + effects[domain] + rng.normal() * 0.35);
        let v = if straight {
            4.0
        } else {
            (lvl + item_offset(j) + rng.normal() * 0.6)
                .round()
                .clamp(1.0, 5.0)
        };
        let ans = if !straight && rng.chance(0.03) {
            "dk".to_string()
        } else {
            format!("{}", v as i64)
        };
        raw.insert(code.to_string(), RawAnswer::Text(ans));
    }
    // Overall satisfaction driven mostly by services, products and public management.
    let drive = 0.35 * domain_level["service"]
        + 0.25 * domain_level["product"]
        + 0.2 * domain_level["public"]
        + 0.12 * domain_level["environment"]
        + 0.08 * domain_level["construction"];
    for code in ["O01", "O02"] {
        let v = if straight {
            4.0
        } else {
            (drive + rng.normal() * 0.45 - if code == "O02" { 0.2 } else { 0.0 })
                .round()
                .clamp(1.0, 5.0)
        };
        raw.insert(code.into(), RawAnswer::Text(format!("{}", v as i64)));
    }
    let problems = ["fake", "food", "housing", "service"];
    let mut had = Vec::new();
    for p in problems {
        if rng.chance(0.12) {
            had.push(p.to_string());
        }
    }
    if had.is_empty() {
        had.push("none".into());
    }
    raw.insert("X1".into(), RawAnswer::Many(had));
    let complained = rng.chance(0.15);
    raw.insert(
        "X2".into(),
        RawAnswer::Text(if complained { "yes" } else { "no" }.into()),
    );
    if complained {
        raw.insert(
            "X3".into(),
            RawAnswer::Text(format!(
                "{}",
                (person - 0.4 + rng.normal() * 0.8).round().clamp(1.0, 5.0) as i64
            )),
        );
    }
    if rng.chance(0.32) {
        raw.insert(
            "T1".into(),
            RawAnswer::Text(rng.pick(SUGGESTIONS).to_string()),
        );
    }
    let mode = ["phone", "phone", "onsite", "web"][rng.below(4) as usize];
    let duration = if rng.chance(0.02) {
        25.0
    } else {
        240.0 + rng.f64() * 600.0
    };
    Submission {
        raw,
        mode: mode.into(),
        source: "import",
        invitation: None,
        respondent_key: None,
        external_id: Some(format!("F{year}-{:05}", i + 1)),
        started_at: Utc
            .with_ymd_and_hms(year, 9, 1, 8, 0, 0)
            .single()
            .unwrap_or_else(Utc::now),
        duration_s: Some(duration),
    }
}

/// The generator's name in `demo_progress`.
pub const GENERATOR: &str = "survey.responses";

/// Responses per transaction (one step of the generator).
const CHUNK: usize = 500;

/// The fieldwork waves (year, responses) and the answers on the open 2026 wave.
const WAVES: [(i32, usize); 2] = [(2024, 1900), (2025, 2100)];
const OPEN_ANSWERS: usize = 60;

/// Steps: the fieldwork waves' chunks, then the open wave's answers.
fn steps() -> u64 {
    WAVES
        .iter()
        .map(|(_, n)| n.div_ceil(CHUNK) as u64)
        .sum::<u64>()
        + 1
}

/// Seeds the survey demo (idempotent), or finishes the responses an interrupted run left.
pub async fn seed(ctx: &DemoContext) -> Result<(), HookError> {
    seed_with(ctx, true).await
}

/// As [`seed`]; the responses are generated in a spawned task when `background`, else before
/// returning (tests).
pub async fn seed_with(ctx: &DemoContext, background: bool) -> Result<(), HookError> {
    if ctx.districts.is_empty()
        || qcity_platform::demo_progress::load(&ctx.db, ctx.city_id, GENERATOR)
            .await?
            .is_some_and(|p| p.finished)
    {
        return Ok(());
    }
    let def = builtin::standard();
    let existing = demo_waves(ctx).await?;
    let legacy = !existing.is_empty();
    let (waves, open) = match existing {
        found if found.len() == WAVES.len() + 1 => {
            let open = found[WAVES.len()];
            let waves = WAVES
                .iter()
                .zip(&found)
                .map(|((year, n), id)| (*id, *year, *n))
                .collect::<Vec<_>>();
            (waves, open)
        }
        found if !found.is_empty() => {
            tracing::warn!(
                found = found.len(),
                "survey demo: only some demo waves exist; leaving them as they are"
            );
            return Ok(());
        }
        _ => create_waves(ctx, &def).await?,
    };
    // A database seeded before progress was recorded: what its waves hold says how far it got.
    let mut done_before = 0;
    if legacy
        && qcity_platform::demo_progress::load(&ctx.db, ctx.city_id, GENERATOR)
            .await?
            .is_none()
    {
        let mut all_full = true;
        for (id, _, n) in &waves {
            let have = store::count_complete(&ctx.db, ctx.city_id, *id)
                .await?
                .max(0) as usize;
            let chunks = if have >= *n {
                n.div_ceil(CHUNK)
            } else {
                have / CHUNK
            };
            done_before += chunks as u64;
            if have < *n {
                all_full = false;
                break;
            }
        }
        if all_full
            && store::count_complete(&ctx.db, ctx.city_id, open).await? >= OPEN_ANSWERS as i64
        {
            done_before += 1;
        }
    }
    let Some(mut tracker) = qcity_platform::demo_progress::Tracker::start_at(
        &ctx.db,
        &ctx.jobs,
        ctx.city_id,
        GENERATOR,
        "survey demo responses",
        steps(),
        done_before,
    )
    .await?
    else {
        return Ok(());
    };
    let ctx2 = ctx.clone();
    let task = async move {
        let r = generate(&ctx2, &def, &waves, open, &mut tracker).await;
        let r = match r {
            Ok(()) => tracker.finish(&ctx2.db).await.map_err(HookError::from),
            Err(e) => Err(e),
        };
        if let Err(e) = r {
            tracing::error!(error = %e, "survey demo failed");
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

/// The demo's waves (2024, 2025, 2026 in that order) where they exist.
async fn demo_waves(ctx: &DemoContext) -> Result<Vec<i64>, HookError> {
    let mut ids = Vec::new();
    for year in WAVES.iter().map(|w| w.0).chain([2026]) {
        let row = store::one(
            &ctx.db,
            "SELECT id FROM survey_waves WHERE city_id = ? AND year = ? ORDER BY id LIMIT 1",
            vec![ctx.city_id.into(), year.into()],
        )
        .await?;
        match row {
            Some(r) => ids.push(r.try_get::<i64>("", "id")?),
            None => break,
        }
    }
    Ok(ids)
}

/// Creates the questionnaire, the fieldwork waves and the open wave with its quotas.
#[allow(clippy::type_complexity)]
async fn create_waves(
    ctx: &DemoContext,
    def: &crate::model::QuestionnaireDef,
) -> Result<(Vec<(i64, i32, usize)>, i64), HookError> {
    let def = def.clone();
    let qid = store::create_questionnaire(&ctx.db, ctx.city_id, &def).await?;
    let margins = margins_for(ctx);
    let mut waves = Vec::new();
    for (year, n) in WAVES {
        let id = store::create_wave(
            &ctx.db,
            ctx.city_id,
            &ctx.city_code,
            &NewWave {
                questionnaire_id: qid,
                year,
                name_zh: format!("{year}年市民质量满意度测评"),
                name_en: format!("Citizen quality satisfaction survey {year}"),
                modes: vec!["web".into(), "phone".into(), "onsite".into()],
                target_n: n as i32,
                conversion: "linear".into(),
            },
        )
        .await?;
        store::set_margins(&ctx.db, ctx.city_id, id, &margins).await?;
        waves.push((id, year, n));
    }
    // The current wave collects on the open link, with quotas per district.
    let open = store::create_wave(
        &ctx.db,
        ctx.city_id,
        &ctx.city_code,
        &NewWave {
            questionnaire_id: qid,
            year: 2026,
            name_zh: "2026年市民质量满意度测评".into(),
            name_en: "Citizen quality satisfaction survey 2026".into(),
            modes: vec!["web".into(), "phone".into()],
            target_n: 2000,
            conversion: "linear".into(),
        },
    )
    .await?;
    store::set_margins(&ctx.db, ctx.city_id, open, &margins).await?;
    let total_pop: f64 = ctx
        .districts
        .iter()
        .map(|d| d.population.unwrap_or(100_000) as f64)
        .sum();
    let mut quotas = Vec::new();
    for d in &ctx.districts {
        let share = d.population.unwrap_or(100_000) as f64 / total_pop;
        let t = (2000.0 * share).round().max(30.0) as i32;
        quotas.push(QuotaCell {
            district: d.code.clone(),
            variable: String::new(),
            category: String::new(),
            target: t,
        });
        for (c, s) in AGE {
            quotas.push(QuotaCell {
                district: d.code.clone(),
                variable: "age_group".into(),
                category: c.into(),
                target: ((t as f64) * s).ceil() as i32,
            });
        }
    }
    store::set_quotas(&ctx.db, ctx.city_id, open, &quotas).await?;
    store::set_wave_status(&ctx.db, ctx.city_id, open, "collecting").await?;

    Ok((waves, open))
}

/// Generates the responses, skipping the steps an earlier run committed.
async fn generate(
    ctx: &DemoContext,
    def: &crate::model::QuestionnaireDef,
    waves: &[(i64, i32, usize)],
    open: i64,
    tracker: &mut qcity_platform::demo_progress::Tracker,
) -> Result<(), HookError> {
    let codes: Vec<String> = ctx.districts.iter().map(|d| d.code.clone()).collect();
    let mut step = 0u64;
    for (id, year, n) in waves {
        let chunks = n.div_ceil(CHUNK) as u64;
        if tracker.is_done(step + chunks - 1) {
            // Stored whole by an earlier run (which may have stopped before publishing it).
            store::set_wave_status(&ctx.db, ctx.city_id, *id, "published").await?;
            step += chunks;
            continue;
        }
        store::set_wave_status(&ctx.db, ctx.city_id, *id, "collecting").await?;
        let w = store::get_wave(&ctx.db, ctx.city_id, *id)
            .await?
            .ok_or("wave")?;
        let mut rng = DemoRng::stream(ctx.seed, &format!("survey.wave.{year}"));
        for chunk_start in (0..*n).step_by(CHUNK) {
            // Respondents of committed chunks are drawn again (same stream), not stored again.
            let subs: Vec<Submission> = (chunk_start..(*n).min(chunk_start + CHUNK))
                .map(|i| respondent(&mut rng, ctx, *year, i))
                .collect();
            if tracker.is_done(step) {
                step += 1;
                continue;
            }
            let txn = ctx.db.begin_write().await?;
            let (_ids, errors) =
                collect::complete_batch(&txn, ctx.city_id, &w, def, &codes, &subs).await?;
            if let Some(e) = errors.first() {
                txn.rollback().await?;
                return Err(format!("demo row {}: {}: {}", e.row, e.field, e.message).into());
            }
            tracker.record(&txn, step + 1).await?;
            txn.commit().await?;
            step += 1;
            tracker.committed(step)?;
        }
        store::set_wave_status(&ctx.db, ctx.city_id, *id, "published").await?;
    }
    if !tracker.is_done(step) {
        // A few web answers on the open wave so quotas show progress.
        let w = store::get_wave(&ctx.db, ctx.city_id, open)
            .await?
            .ok_or("wave")?;
        let mut rng = DemoRng::stream(ctx.seed, "survey.wave.2026");
        let subs: Vec<Submission> = (0..OPEN_ANSWERS)
            .map(|i| {
                let mut s = respondent(&mut rng, ctx, 2026, i);
                s.mode = "web".into();
                s.source = "web";
                s.external_id = None;
                s.respondent_key = Some(format!("demo-{i:04}-{}", ctx.seed));
                s
            })
            .collect();
        let txn = ctx.db.begin_write().await?;
        collect::complete_batch(&txn, ctx.city_id, &w, def, &codes, &subs).await?;
        tracker.record(&txn, step + 1).await?;
        txn.commit().await?;
        tracker.committed(step + 1)?;
    }
    Ok(())
}

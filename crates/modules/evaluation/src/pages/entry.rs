//! The data-entry grid (数据填报) of a region and year: saving drafts and applying a bulk
//! workflow action (submit, approve, reject, publish, return).

use super::{EntryQuery, choose_fw, current_year, enc};
use crate::store::{self, Action, FrameworkView, NodeView, ValueFilter, Warning};
use askama::Template;
use axum::Form;
use axum::extract::Query;
use axum::response::{Html, IntoResponse, Redirect, Response};
use qcity_platform::auth::Capability;
use qcity_platform::db::BeginWrite;
use qcity_platform::web::Page;
use qcity_platform::web::render::{page_ctx, render};
use qcity_platform::web::{AppError, PageCtx, PageError};
use std::collections::BTreeMap;

/// One row of the entry grid.
struct EntryRow {
    node: NodeView,
    dimension: String,
    value: String,
    previous: String,
    source: String,
    note: String,
    status: String,
    value_id: i64,
    warnings: Vec<Warning>,
}

#[derive(Template)]
#[template(path = "evaluation_entry.html")]
struct EntryPage {
    ctx: PageCtx,
    frameworks: Vec<FrameworkView>,
    fw_id: i64,
    regions: Vec<(String, String)>,
    region: String,
    year: i32,
    years: Vec<i32>,
    departments: Vec<String>,
    department: String,
    status: String,
    rows: Vec<EntryRow>,
    can_approve: bool,
    can_enter: bool,
    counts: Vec<(String, usize)>,
    msg: String,
    err: String,
}

pub(super) async fn entry_page(
    Page(st, p, lang, csrf): Page,
    Query(q): Query<EntryQuery>,
) -> Result<Html<String>, PageError> {
    p.require_any(crate::READERS)?;
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/evaluation/entry",
        "evaluation-entry-title",
    )
    .await?;
    let t = lang.tr();
    let frameworks = store::list_frameworks(&st.db, p.city_id).await?;
    let Some(fw) = choose_fw(&frameworks, q.framework_id) else {
        return Err(PageError(AppError::NotFound(
            "framework (install one on the evaluation page)".into(),
        )));
    };
    let regs = store::entry_regions(&st.db, &p).await?;
    let regions: Vec<(String, String)> = regs
        .iter()
        .map(|r| (r.code.clone(), t.pick(&r.name_zh, &r.name_en).to_string()))
        .collect();
    let region = q
        .region
        .clone()
        .filter(|r| regions.iter().any(|x| &x.0 == r))
        .or_else(|| {
            regs.iter()
                .find(|r| r.level == "district")
                .map(|r| r.code.clone())
        })
        .or_else(|| regions.first().map(|r| r.0.clone()))
        .unwrap_or_default();
    let year = q.year.unwrap_or(current_year() - 1);
    let nodes = store::nodes(&st.db, p.city_id, fw.id).await?;
    let mut departments: Vec<String> = nodes
        .iter()
        .filter(|n| n.level == 1 && !n.department.is_empty())
        .map(|n| n.department.clone())
        .collect();
    departments.sort();
    departments.dedup();
    let department = q.department.clone().unwrap_or_default();
    let status = q.status.clone().unwrap_or_default();
    let cur = store::list_values(
        &st.db,
        &p,
        &ValueFilter {
            framework_id: Some(fw.id),
            year: Some(year),
            region: Some(region.clone()),
            ..Default::default()
        },
    )
    .await?;
    let prev = store::list_values(
        &st.db,
        &p,
        &ValueFilter {
            framework_id: Some(fw.id),
            year: Some(year - 1),
            region: Some(region.clone()),
            ..Default::default()
        },
    )
    .await?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for v in &cur {
        *counts.entry(v.status.clone()).or_default() += 1;
    }
    let names: BTreeMap<String, String> = nodes
        .iter()
        .map(|n| (n.code.clone(), t.pick(&n.name_zh, &n.name_en).to_string()))
        .collect();
    let mut rows = Vec::new();
    for n in nodes.iter().filter(|n| n.level == 1) {
        if !department.is_empty() && n.department != department {
            continue;
        }
        let v = cur.iter().find(|v| v.indicator_code == n.code);
        if !status.is_empty() && v.map(|v| v.status.as_str()) != Some(status.as_str()) {
            continue;
        }
        let warnings = match v {
            Some(v) => store::check_value(&st.db, p.city_id, v).await?,
            None => Vec::new(),
        };
        rows.push(EntryRow {
            node: NodeView::from(n),
            dimension: n
                .parent_code
                .as_ref()
                .and_then(|c| names.get(c))
                .cloned()
                .unwrap_or_default(),
            value: v.map(|v| v.value.to_string()).unwrap_or_default(),
            previous: prev
                .iter()
                .find(|x| x.indicator_code == n.code)
                .map(|x| x.value.to_string())
                .unwrap_or_default(),
            source: v
                .map(|v| v.source.clone())
                .unwrap_or_else(|| t.pick(&n.source_zh, &n.source_en).to_string()),
            note: v.map(|v| v.note.clone()).unwrap_or_default(),
            status: v.map(|v| v.status.clone()).unwrap_or_default(),
            value_id: v.map(|v| v.id).unwrap_or(0),
            warnings,
        });
    }
    let years = (current_year() - 8..=current_year()).rev().collect();
    render(&EntryPage {
        ctx,
        frameworks,
        fw_id: fw.id,
        regions,
        region,
        year,
        years,
        departments,
        department,
        status,
        rows,
        can_approve: p.can(Capability::ApproveData),
        can_enter: p.can(Capability::EnterData),
        counts: store::STATUSES
            .iter()
            .map(|s| (s.to_string(), counts.get(*s).copied().unwrap_or(0)))
            .collect(),
        msg: q.msg.unwrap_or_default(),
        err: q.err.unwrap_or_default(),
    })
}

/// Saves the grid (drafts) and applies a bulk workflow action to the region-year's values.
pub(super) async fn entry_save(
    Page(st, p, lang, ..): Page,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let t = lang.tr();
    let get = |k: &str| {
        fields
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, b)| b.clone())
            .unwrap_or_default()
    };
    let fw_id: i64 = get("framework_id")
        .parse()
        .map_err(|_| AppError::validation("framework_id", "missing"))?;
    let region = get("region");
    let year: i32 = get("year")
        .parse()
        .map_err(|_| AppError::validation("year", "missing"))?;
    let op = get("op");
    let ack = get("acknowledge") == "1";
    let back = |msg: &str, err: &str| {
        Redirect::to(&format!(
            "/app/evaluation/entry?framework_id={fw_id}&region={}&year={year}&department={}&msg={}&err={}",
            enc(&region), enc(&get("department")), enc(msg), enc(err)
        ))
        .into_response()
    };
    let txn = st.db.begin_write().await?;
    let mut saved = 0;
    let mut errors = Vec::new();
    if op == "save" || op == "submit" {
        for (k, v) in fields.iter().filter(|(k, _)| k.starts_with("v:")) {
            let code = &k[2..];
            let raw = v.trim();
            if raw.is_empty() {
                continue;
            }
            let value = match raw.replace(',', "").parse::<f64>() {
                Ok(x) => x,
                Err(_) => {
                    errors.push(format!(
                        "{code}: `{raw}` {}",
                        t.t("evaluation-not-a-number")
                    ));
                    continue;
                }
            };
            // unchanged values (same number, same source and note) are not rewritten
            let existing = store::list_values(
                &txn,
                &p,
                &ValueFilter {
                    framework_id: Some(fw_id),
                    year: Some(year),
                    region: Some(region.clone()),
                    indicator: Some(code.to_string()),
                    ..Default::default()
                },
            )
            .await?;
            let source = get(&format!("s:{code}"));
            let note = get(&format!("n:{code}"));
            if existing
                .first()
                .is_some_and(|e| e.value == value && e.source == source && e.note == note)
            {
                continue;
            }
            let input = store::ValueInput {
                framework_id: fw_id,
                indicator: code.to_string(),
                region_code: region.clone(),
                year,
                value: Some(value),
                numerator: None,
                denominator: None,
                source,
                note,
            };
            match store::save_value(&txn, &p, &input, "manual").await {
                Ok(_) => saved += 1,
                Err(e) => errors.push(format!("{code}: {e}")),
            }
        }
    }
    if !errors.is_empty() {
        txn.rollback().await?;
        return Ok(back("", &errors.join("; ")));
    }
    let action = match op.as_str() {
        "submit" => Some((Action::Submit, store::DRAFT)),
        "approve" => Some((Action::Approve, store::SUBMITTED)),
        "publish" => Some((Action::Publish, store::APPROVED)),
        _ => None,
    };
    let mut moved = 0;
    if let Some((a, from)) = action {
        let vals = store::list_values(
            &txn,
            &p,
            &ValueFilter {
                framework_id: Some(fw_id),
                year: Some(year),
                region: Some(region.clone()),
                status: Some(from.into()),
                ..Default::default()
            },
        )
        .await?;
        for v in vals {
            match store::transition(&txn, &p, v.id, a, ack, None).await {
                Ok(_) => moved += 1,
                Err(e) => errors.push(format!("{}: {e}", v.indicator_code)),
            }
        }
    }
    if !errors.is_empty() {
        txn.rollback().await?;
        return Ok(back("", &errors.join("; ")));
    }
    txn.commit().await?;
    Ok(back(
        &t.ta(
            "evaluation-entry-done",
            &[
                ("saved", (saved as i64).into()),
                ("moved", (moved as i64).into()),
            ],
        ),
        "",
    ))
}

//! Staff pages: waves and questionnaires, a wave's fieldwork (quota progress, invitations,
//! import, cleaning), the analysis (scores with CIs, district map, satisfaction model, 四分图,
//! suggestions) and the questionnaire view/editor.

use crate::analysis::Analysis;
use crate::api::{self, wave_for};
use crate::model::{DOMAINS, domain_names};
use crate::service;
use crate::store::{self, NewWave, QuotaProgress, Wave};
use askama::Template;
use axum::extract::Path;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::web::Page;
use qcity_platform::web::layout::PageCtx;
use qcity_platform::web::render::{embed_json, page_ctx, render};
use qcity_platform::web::{AppError, AppState, CsrfToken, PageError, ReqLang};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/survey", get(index))
        .route("/app/survey/waves", post(create_wave))
        .route("/app/survey/questionnaires/standard", post(create_standard))
        .route("/app/survey/waves/{id}", get(wave_page))
        .route("/app/survey/waves/{id}/status", post(wave_status))
        .route("/app/survey/waves/{id}/invitations", post(wave_invitations))
        .route("/app/survey/waves/{id}/analysis", get(analysis_page))
        .route("/app/survey/responses/{id}/decision", post(decision))
}

/// Chinese label of an IPA quadrant.
pub fn quadrant_zh(q: &str) -> &'static str {
    match q {
        "concentrate_here" => "重点改进区",
        "keep_up_the_good_work" => "继续保持区",
        "low_priority" => "次要改进区",
        "possible_overkill" => "锦上添花区",
        _ => "",
    }
}

fn status_key(s: &str) -> String {
    format!("survey-status-{s}")
}

#[derive(Template)]
#[template(path = "survey_index.html")]
struct IndexPage {
    ctx: PageCtx,
    waves: Vec<(Wave, String, u32)>,
    questionnaires: Vec<store::Questionnaire>,
    manage: bool,
    year: i32,
}

async fn index(Page(st, p, lang, csrf): Page) -> Result<Html<String>, PageError> {
    p.require_any(crate::READERS)?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/survey", "survey-title").await?;
    let t = lang.tr();
    let waves = store::list_waves(&st.db, &p.scope)
        .await?
        .into_iter()
        .map(|w| {
            let pct = if w.target_n > 0 {
                ((w.completed as f64 / w.target_n as f64) * 100.0).min(100.0) as u32
            } else {
                0
            };
            let s = t.t(&status_key(&w.status));
            (w, s, pct)
        })
        .collect();
    let questionnaires = store::list_questionnaires(&st.db, p.city_id).await?;
    render(&IndexPage {
        ctx,
        waves,
        questionnaires,
        manage: p.can(Capability::ManageSurvey),
        year: chrono::Utc::now()
            .format("%Y")
            .to_string()
            .parse()
            .unwrap_or(2026),
    })
}

#[derive(Deserialize)]
struct WaveForm {
    questionnaire_id: i64,
    year: i32,
    name_zh: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    target_n: i32,
    #[serde(default)]
    conversion: String,
    #[serde(default)]
    mode_web: Option<String>,
    #[serde(default)]
    mode_phone: Option<String>,
    #[serde(default)]
    mode_onsite: Option<String>,
}

async fn create_wave(
    Page(st, p, ..): Page,
    Form(f): Form<WaveForm>,
) -> Result<Response, PageError> {
    p.require(Capability::ManageSurvey)?;
    let mut modes = Vec::new();
    for (on, m) in [
        (&f.mode_web, "web"),
        (&f.mode_phone, "phone"),
        (&f.mode_onsite, "onsite"),
    ] {
        if on.is_some() {
            modes.push(m.to_string());
        }
    }
    let nw = NewWave {
        questionnaire_id: f.questionnaire_id,
        year: f.year,
        name_zh: f.name_zh,
        name_en: f.name_en,
        modes,
        target_n: f.target_n,
        conversion: if f.conversion.is_empty() {
            "linear".into()
        } else {
            f.conversion
        },
    };
    let w = service::create_wave(&st.db, &p, &nw).await?;
    Ok(Redirect::to(&format!("/app/survey/waves/{}", w.id)).into_response())
}

async fn create_standard(Page(st, p, ..): Page) -> Result<Response, PageError> {
    p.require(Capability::ManageSurvey)?;
    let q = service::create_questionnaire(&st.db, &p, &crate::builtin::standard()).await?;
    Ok(Redirect::to(&format!("/app/survey/questionnaires/{}", q.id)).into_response())
}

/// One row of the district progress table.
struct DistrictProgress {
    code: String,
    name: String,
    target: i64,
    achieved: i64,
    pct: u32,
    cells: Vec<QuotaProgress>,
}

#[derive(Template)]
#[template(path = "survey_wave.html")]
struct WavePage {
    ctx: PageCtx,
    w: Wave,
    status_label: String,
    q: store::Questionnaire,
    manage: bool,
    progress: Vec<DistrictProgress>,
    margins: Vec<store::MarginCell>,
    flagged: Vec<store::Response>,
    flagged_total: i64,
    partial_total: i64,
    pct: u32,
    invitations: Vec<String>,
    chart_progress: String,
}

async fn wave_page(
    Page(st, p, lang, csrf): Page,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    wave_view(&st, &p, lang, &csrf, id, Vec::new()).await
}

/// The wave page; `invitations` are links just minted (shown once, never put in a URL).
async fn wave_view(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    id: i64,
    invitations: Vec<String>,
) -> Result<Html<String>, PageError> {
    let (_, q) = wave_for(st, p, id).await?;
    let w = store::get_wave(&st.db, p.city_id, id)
        .await?
        .ok_or_else(|| AppError::NotFound("wave".into()))?;
    let ctx = page_ctx(st, p, lang, csrf, "/app/survey", "survey-wave-title").await?;
    let t = lang.tr();
    let quotas = store::quota_progress(&st.db, p.city_id, id, &p.scope.prefix).await?;
    let districts = api::districts(st, p.city_id).await?;
    let (all_complete, _) = store::list_responses(
        &st.db,
        &p.scope,
        id,
        &store::ResponseFilter {
            status: Some("complete".into()),
            limit: Some(10_000),
            ..Default::default()
        },
    )
    .await?;
    let mut progress = Vec::new();
    for (code, zh, en) in districts
        .iter()
        .filter(|d| p.scope.contains(p.city_id, &d.0))
    {
        let cells: Vec<QuotaProgress> = quotas
            .iter()
            .filter(|c| &c.cell.district == code)
            .cloned()
            .collect();
        let target = cells
            .iter()
            .find(|c| c.cell.variable.is_empty())
            .map(|c| c.cell.target as i64)
            .unwrap_or(0);
        let achieved = all_complete
            .iter()
            .filter(|r| r.region_code.as_deref() == Some(code))
            .count() as i64;
        let pct = if target > 0 {
            ((achieved as f64 / target as f64) * 100.0).min(100.0) as u32
        } else {
            0
        };
        progress.push(DistrictProgress {
            code: code.clone(),
            name: t.pick(zh, en).to_string(),
            target,
            achieved,
            pct,
            cells: cells
                .into_iter()
                .filter(|c| !c.cell.variable.is_empty())
                .collect(),
        });
    }
    let (flagged, flagged_total) = store::list_responses(
        &st.db,
        &p.scope,
        id,
        &store::ResponseFilter {
            status: Some("complete".into()),
            flagged: Some(true),
            limit: Some(50),
            ..Default::default()
        },
    )
    .await?;
    let (_, partial_total) = store::list_responses(
        &st.db,
        &p.scope,
        id,
        &store::ResponseFilter {
            status: Some("partial".into()),
            limit: Some(1),
            ..Default::default()
        },
    )
    .await?;
    let chart = json!({
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 50, "right": 20, "top": 30, "bottom": 70},
        "xAxis": {"type": "category", "data": progress.iter().map(|d| d.name.clone()).collect::<Vec<_>>(), "axisLabel": {"rotate": 30}},
        "yAxis": {"type": "value"},
        "series": [
            {"type": "bar", "name": t.t("survey-achieved"), "data": progress.iter().map(|d| d.achieved).collect::<Vec<_>>(), "itemStyle": {"color": "#2f6db5"}},
            {"type": "line", "name": t.t("survey-target"), "data": progress.iter().map(|d| d.target).collect::<Vec<_>>(), "itemStyle": {"color": "#c0392b"}}
        ]
    });
    let pct = if w.target_n > 0 {
        ((w.completed as f64 / w.target_n as f64) * 100.0).min(100.0) as u32
    } else {
        0
    };
    let margins = store::margins(&st.db, p.city_id, id).await?;
    render(&WavePage {
        ctx,
        status_label: t.t(&status_key(&w.status)),
        manage: api::manages(p, &w),
        w,
        q,
        progress,
        margins,
        flagged,
        flagged_total,
        partial_total,
        pct,
        invitations,
        chart_progress: embed_json(&chart),
    })
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
}

async fn wave_status(
    Page(st, p, ..): Page,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Result<Response, PageError> {
    api::wave_to_manage(&st, &p, id).await?;
    service::set_wave_status(&st.db, &p, id, &f.status).await?;
    Ok(Redirect::to(&format!("/app/survey/waves/{id}")).into_response())
}

#[derive(Deserialize)]
struct InviteForm {
    count: usize,
    #[serde(default)]
    label: String,
}

async fn wave_invitations(
    Page(st, p, lang, csrf): Page,
    Path(id): Path<i64>,
    Form(f): Form<InviteForm>,
) -> Result<Response, PageError> {
    api::wave_to_manage(&st, &p, id).await?;
    if f.count == 0 || f.count > 200 {
        return Err(AppError::validation(
            "count",
            "between 1 and 200 links from this page (use the API for more)",
        )
        .into());
    }
    let label = (!f.label.trim().is_empty()).then(|| f.label.trim().to_string());
    let tokens = service::invite(&st.db, &p, id, f.count, label.as_deref()).await?;
    // The links are shown in this response, not carried in a redirect URL (where they would
    // land in browser history, proxy logs and Referer headers).
    let links = tokens.iter().map(|t| format!("/s/{t}")).collect();
    Ok(wave_view(&st, &p, lang, &csrf, id, links)
        .await?
        .into_response())
}

#[derive(Deserialize)]
struct DecisionForm {
    decision: String,
    reason: String,
    wave_id: i64,
}

async fn decision(
    Page(st, p, ..): Page,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, PageError> {
    p.require(Capability::ManageSurvey)?;
    service::decide(&st.db, &p, id, &f.decision, &f.reason).await?;
    Ok(Redirect::to(&format!("/app/survey/waves/{}#cleaning", f.wave_id)).into_response())
}

/// A formatted score row.
struct SRow {
    label: String,
    score: String,
    ci: String,
    n: usize,
    n_eff: String,
    change: String,
    significant: bool,
}

fn srow(label: String, s: &crate::analysis::Score) -> SRow {
    SRow {
        label,
        score: format!("{:.2}", s.score),
        ci: format!("{:.2} – {:.2}", s.ci_low, s.ci_high),
        n: s.n,
        n_eff: format!("{:.0}", s.n_eff),
        change: s
            .change
            .map(|c| format!("{:+.2} (p={:.3})", c.change, c.p_value))
            .unwrap_or_default(),
        significant: s.change.is_some_and(|c| c.significant),
    }
}

#[derive(Template)]
#[template(path = "survey_analysis.html")]
struct AnalysisPage {
    ctx: PageCtx,
    w: Wave,
    a: Analysis,
    overall: Option<SRow>,
    domains: Vec<SRow>,
    indicators: Vec<(String, SRow)>,
    districts: Vec<(String, Option<SRow>, Vec<String>)>,
    domain_heads: Vec<String>,
    ipa_rows: Vec<(String, String, String, String)>,
    sugg_rows: Vec<(String, usize, String)>,
    suggestions: Vec<(String, String, String)>,
    chart_domains: String,
    chart_map: String,
    chart_model: String,
    chart_ipa: String,
    chart_words: String,
    has_model: bool,
    has_ipa: bool,
    has_map: bool,
    conversion_label: String,
}

async fn analysis_page(
    Page(st, p, lang, csrf): Page,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/survey", "survey-analysis-title").await?;
    let t = lang.tr();
    let (w, a) = match api::scoped_analysis(&st, &p, id).await {
        Ok(x) => x,
        Err(AppError::Conflict { detail: m, .. }) => {
            #[derive(Template)]
            #[template(path = "survey_message_app.html")]
            struct Msg {
                ctx: PageCtx,
                message: String,
            }
            return Ok(render(&Msg { ctx, message: m })?.into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let lbl = |d: &str| t.pick(domain_names(d).0, domain_names(d).1).to_string();
    let overall = a.overall.as_ref().map(|o| srow(t.t("survey-overall"), o));
    let domains: Vec<SRow> = a.domains.iter().map(|d| srow(lbl(&d.key), d)).collect();
    let indicators = a
        .indicators
        .iter()
        .map(|i| {
            (
                lbl(&i.domain),
                srow(
                    format!(
                        "{} {}",
                        i.question,
                        t.pick(&i.score.label_zh, &i.score.label_en)
                    ),
                    &i.score,
                ),
            )
        })
        .collect();
    let domain_heads: Vec<String> = DOMAINS.iter().map(|d| lbl(d)).collect();
    let districts = a
        .districts
        .iter()
        .map(|d| {
            let cells = DOMAINS
                .iter()
                .map(|k| {
                    d.domains
                        .iter()
                        .find(|s| s.key == *k)
                        .map(|s| format!("{:.1}", s.score))
                        .unwrap_or_default()
                })
                .collect();
            (
                t.pick(&d.name_zh, &d.name_en).to_string(),
                d.overall.as_ref().map(|o| srow(String::new(), o)),
                cells,
            )
        })
        .collect();
    let names: Vec<String> = a.domains.iter().map(|d| lbl(&d.key)).collect();
    let chart_domains = json!({
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 50, "right": 20, "top": 40, "bottom": 40},
        "xAxis": {"type": "category", "data": names, "axisLabel": {"interval": 0}},
        "yAxis": {"type": "value", "min": 0, "max": 100, "name": t.t("survey-score")},
        "series": [
            {"type": "bar", "name": w.year.to_string(), "data": a.domains.iter().map(|d| r2(d.score)).collect::<Vec<_>>(), "itemStyle": {"color": "#2f6db5"}, "label": {"show": true, "position": "top"}},
            {"type": "bar", "name": (w.year - 1).to_string(), "data": a.domains.iter().map(|d| d.previous.map(r2)).collect::<Vec<_>>(), "itemStyle": {"color": "#9db7d9"}},
            {"type": "boxplot", "name": "95% CI", "boxWidth": [4, 8], "itemStyle": {"color": "#1f4e79", "borderColor": "#1f4e79"}, "data": a.domains.iter().map(|d| json!([r2(d.ci_low), r2(d.ci_low), r2(d.score), r2(d.ci_high), r2(d.ci_high)])).collect::<Vec<_>>()}
        ]
    });
    let map_data: Vec<_> = a.districts.iter().filter_map(|d| d.overall.as_ref().map(|o| json!({"name": d.region_code, "value": r2(o.score), "label": t.pick(&d.name_zh, &d.name_en)}))).collect();
    let (mn, mx) = a
        .districts
        .iter()
        .filter_map(|d| d.overall.as_ref().map(|o| o.score))
        .fold((100.0_f64, 0.0_f64), |(a, b), x| (a.min(x), b.max(x)));
    let chart_map = json!({
        "tooltip": {"trigger": "item"},
        "visualMap": {"min": mn.floor(), "max": mx.ceil().max(mn.floor() + 1.0), "left": "left", "bottom": 10, "calculable": true, "inRange": {"color": ["#f4e2c8", "#7fb3d5", "#1f4e79"]}},
        "series": [{"type": "map", "map": "districts", "nameProperty": "code", "roam": true, "data": map_data, "label": {"show": false}}]
    });
    let (chart_model, has_model) = match &a.model {
        Some(m) => {
            let mut nodes = Vec::new();
            let n = m.paths.len().max(1) as f64;
            for (i, pth) in m.paths.iter().enumerate() {
                nodes.push(json!({"name": lbl(&pth.from), "x": 100, "y": 60.0 + i as f64 * 400.0 / n, "symbolSize": 92, "itemStyle": {"color": "#7fb3d5"}, "value": m.indices.get(&pth.from).map(|x| r2(*x))}));
            }
            let r2o = m.r2.get("overall").copied().unwrap_or(f64::NAN);
            nodes.push(json!({"name": format!("{}\nR²={:.3}", lbl("overall"), r2o), "x": 500, "y": 260, "symbolSize": 110, "itemStyle": {"color": "#1f4e79"}, "value": m.indices.get("overall").map(|x| r2(*x))}));
            let target = format!("{}\nR²={:.3}", lbl("overall"), r2o);
            let links: Vec<_> = m.paths.iter().map(|pth| json!({"source": lbl(&pth.from), "target": target, "value": (pth.coefficient * 1000.0).round() / 1000.0, "label": {"show": true, "formatter": format!("{:.3}", pth.coefficient)}, "lineStyle": {"width": 1.0 + 8.0 * pth.coefficient.abs()}})).collect();
            (
                json!({
                    "tooltip": {},
                    "series": [{"type": "graph", "layout": "none", "roam": false, "edgeSymbol": ["none", "arrow"], "edgeSymbolSize": 12, "label": {"show": true, "color": "#fff", "fontSize": 11}, "edgeLabel": {"show": true, "fontSize": 13}, "data": nodes, "links": links}]
                }),
                true,
            )
        }
        None => (json!({}), false),
    };
    let (chart_ipa, has_ipa, ipa_rows) = match &a.ipa {
        Some(i) => {
            let pts: Vec<_> = i.points.iter().map(|pt| json!({"name": t.pick(&pt.label_zh, &pt.label_en), "value": [(pt.importance * 1000.0).round() / 1000.0, r2(pt.performance)]})).collect();
            let rows = i
                .points
                .iter()
                .map(|pt| {
                    (
                        t.pick(&pt.label_zh, &pt.label_en).to_string(),
                        format!("{:.3}", pt.importance),
                        format!("{:.2}", pt.performance),
                        t.t(&format!("survey-quadrant-{}", pt.quadrant)),
                    )
                })
                .collect();
            (
                json!({
                    "tooltip": {"trigger": "item"},
                    "grid": {"left": 60, "right": 30, "top": 30, "bottom": 50},
                    "xAxis": {"type": "value", "name": t.t("survey-importance"), "nameLocation": "middle", "nameGap": 30, "scale": true},
                    "yAxis": {"type": "value", "name": t.t("survey-performance"), "scale": true},
                    "series": [{"type": "scatter", "symbolSize": 18, "data": pts, "label": {"show": true, "position": "right", "formatter": "{b}"},
                        "markLine": {"silent": true, "symbol": "none", "lineStyle": {"type": "dashed"}, "data": [{"xAxis": (i.crosshair_importance * 1000.0).round() / 1000.0}, {"yAxis": r2(i.crosshair_performance)}]}}]
                }),
                true,
                rows,
            )
        }
        None => (json!({}), false, vec![]),
    };
    let sugg_rows = DOMAINS
        .iter()
        .map(|d| {
            (
                lbl(d),
                a.suggestions.by_domain.get(*d).copied().unwrap_or(0),
                a.suggestions
                    .keywords_by_domain
                    .get(*d)
                    .map(|k| {
                        k.iter()
                            .take(6)
                            .map(|(w, n)| format!("{w}({n})"))
                            .collect::<Vec<_>>()
                            .join("、")
                    })
                    .unwrap_or_default(),
            )
        })
        .collect();
    let top: Vec<&(String, usize)> = a.suggestions.keywords.iter().take(20).collect();
    let chart_words = json!({
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 90, "right": 20, "top": 10, "bottom": 30},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "inverse": true, "data": top.iter().map(|(w, _)| w.clone()).collect::<Vec<_>>()},
        "series": [{"type": "bar", "data": top.iter().map(|(_, n)| *n).collect::<Vec<_>>(), "itemStyle": {"color": "#2f6db5"}}]
    });
    let suggestions = a
        .suggestions
        .items
        .iter()
        .take(100)
        .map(|s| {
            (
                s.region_code.clone().unwrap_or_default(),
                s.domains
                    .iter()
                    .map(|d| lbl(d))
                    .collect::<Vec<_>>()
                    .join("、"),
                s.text.clone(),
            )
        })
        .collect();
    let conversion_label = t.t(&format!("survey-conversion-{}", a.method.conversion));
    // The district map needs boundaries (the demo city has them; a bare region list does not).
    let has_map = store::one(
        &st.db,
        "SELECT COUNT(*) AS n FROM regions WHERE city_id = ? AND level = 'district' AND boundary IS NOT NULL",
        vec![p.city_id.into()],
    )
    .await?
    .map(|r| store::get::<i64>(&r, "n"))
    .transpose()?
    .unwrap_or(0)
        > 0;
    Ok(render(&AnalysisPage {
        ctx,
        w,
        overall,
        domains,
        indicators,
        districts,
        domain_heads,
        ipa_rows,
        sugg_rows,
        suggestions,
        chart_domains: embed_json(&chart_domains),
        chart_map: embed_json(&chart_map),
        chart_model: embed_json(&chart_model),
        chart_ipa: embed_json(&chart_ipa),
        chart_words: embed_json(&chart_words),
        has_model,
        has_ipa,
        has_map,
        conversion_label,
        a,
    })?
    .into_response())
}

fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

//! The home dashboard: module tiles, charts, and the progress of background jobs.

use crate::auth::Principal;
use crate::entity::region;
use crate::module::Tile;
use crate::web::error::PageError;
use crate::web::extract::Page;
use crate::web::layout::PageCtx;
use crate::web::render::{embed_json, format_thousands, page_ctx, render};
use crate::web::state::AppState;
use askama::Template;
use axum::Router;
use axum::response::Html;
use axum::routing::get;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/app", get(home))
        .route("/app/jobs", get(jobs_fragment))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    tiles: Vec<Tile>,
    chart_bar: String,
    chart_map: String,
    has_map: bool,
}

async fn home(Page(st, p, lang, csrf): Page) -> Result<Html<String>, PageError> {
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app", "home-title").await?;
    let t = lang.tr();
    let regions = st.visible_regions(&p.scope).await?;
    let districts: Vec<&region::Model> = regions.iter().filter(|r| r.level == "district").collect();
    let streets = regions.iter().filter(|r| r.level == "street").count();
    let population: i64 = districts.iter().filter_map(|r| r.population).sum();
    let mut tiles = vec![
        Tile {
            title: t.t("home-tile-districts"),
            value: districts.len().to_string(),
            note: t.t("home-tile-districts-note"),
            href: Some("/app/admin/regions".into()),
        },
        Tile {
            title: t.t("home-tile-streets"),
            value: streets.to_string(),
            note: String::new(),
            href: None,
        },
        Tile {
            title: t.t("home-tile-population"),
            value: format_thousands(population),
            note: t.t("home-tile-population-note"),
            href: None,
        },
    ];
    tiles.extend(module_tiles(&st, &p, t).await);
    let names: Vec<String> = districts
        .iter()
        .map(|r| t.pick(&r.name_zh, &r.name_en).to_string())
        .collect();
    let pops: Vec<f64> = districts
        .iter()
        .map(|r| r.population.unwrap_or(0) as f64 / 10_000.0)
        .collect();
    let bar = serde_json::json!({
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 60, "right": 20, "top": 30, "bottom": 60},
        "xAxis": {"type": "category", "data": names, "axisLabel": {"rotate": 30}},
        "yAxis": {"type": "value", "name": t.t("home-chart-population-unit")},
        "series": [{"type": "bar", "name": t.t("home-tile-population"), "data": pops, "itemStyle": {"color": "#2f6db5"}}]
    });
    let has_map = districts.iter().any(|r| r.boundary.is_some());
    let density: Vec<serde_json::Value> = districts
        .iter()
        .map(|r| {
            let d = match (r.population, r.area_km2) {
                (Some(p), Some(a)) if a > 0.0 => (p as f64 / a).round(),
                _ => 0.0,
            };
            serde_json::json!({"name": r.code, "value": d, "label": t.pick(&r.name_zh, &r.name_en)})
        })
        .collect();
    let max = density
        .iter()
        .filter_map(|v| v["value"].as_f64())
        .fold(0.0_f64, f64::max);
    let map = serde_json::json!({
        "title": {"text": t.t("home-chart-density"), "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "item"},
        "visualMap": {"min": 0, "max": max, "left": "left", "bottom": 10, "calculable": true, "inRange": {"color": ["#e8f1fb", "#2f6db5", "#12325c"]}},
        "series": [{"type": "map", "map": "districts", "nameProperty": "code", "roam": true, "data": density, "label": {"show": false}}]
    });
    let page = HomePage {
        ctx,
        tiles,
        chart_bar: embed_json(&bar),
        chart_map: embed_json(&map),
        has_map,
    };
    render(&page)
}

/// The modules' dashboard tiles for this principal, reused for `server.dashboard_cache_seconds`
/// (the key holds everything that scopes them: city, role, region scope, company, enterprise,
/// language).
async fn module_tiles(st: &AppState, p: &Principal, t: crate::i18n::Tr) -> Vec<Tile> {
    let key = format!(
        "{}|{:?}|{}|{:?}|{:?}|{}",
        p.city_id,
        p.role,
        p.scope.prefix,
        p.company_id,
        p.enterprise_id,
        t.code()
    );
    let (st2, p2) = (st.clone(), p.clone());
    st.dashboard_tiles
        .get_or_compute(key, move || async move {
            let mut tiles = Vec::new();
            for m in st2.modules.iter() {
                tiles.extend(m.dashboard_tiles(&st2, &p2, &t).await);
            }
            tiles
        })
        .await
}

/// Progress of background jobs (polled by htmx while any runs).
#[derive(Template)]
#[template(path = "jobs_fragment.html")]
struct JobsFragment {
    t: crate::i18n::Tr,
    jobs: Vec<crate::jobs::JobStatus>,
    running: bool,
}

async fn jobs_fragment(Page(st, _p, lang, ..): Page) -> Result<Html<String>, PageError> {
    let jobs = st.jobs.snapshot();
    let running = jobs
        .iter()
        .any(|j| j.state == crate::jobs::JobState::Running);
    render(&JobsFragment {
        t: lang.tr(),
        jobs,
        running,
    })
}

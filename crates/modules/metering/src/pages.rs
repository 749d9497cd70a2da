//! Pages of the metering module (zh-CN / en): city overview, unit (coverage, energy, meter tree
//! Sankey, savings with baseline vs actual and CUSUM), meter (load curve, hour × day heat map,
//! completeness and consistency checks, VEE edit trail) and alerts with acknowledgement.

use crate::analysis::{self, Alert};
use crate::domain;
use crate::service;
use crate::store::{self, Meter, Scope, Unit};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use qcity_platform::auth::{Capability, Principal, Role};
use qcity_platform::store::StoreError;
use qcity_platform::web::Page;
use qcity_platform::web::render::{embed_json, page_ctx, render};
use qcity_platform::web::{AppError, AppState, CsrfToken, PageCtx, PageError, ReqLang};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

mod settings;
use settings::{settings_page, settings_save};

type PageResult = Result<Response, PageError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/metering", get(overview))
        .route("/app/metering/units/{id}", get(unit_page))
        .route("/app/metering/units/{id}/hours", post(unit_hours))
        .route("/app/metering/meters/{id}", get(meter_page))
        .route("/app/metering/meters/{id}/vee", post(meter_vee))
        .route("/app/metering/meters/{id}/detect", post(meter_detect))
        .route("/app/metering/alerts", get(alerts_page))
        .route("/app/metering/alerts/{id}/ack", post(alert_ack))
        .route(
            "/app/metering/settings",
            get(settings_page).post(settings_save),
        )
}

fn scope(p: &Principal) -> Result<Scope, PageError> {
    crate::store::scope_of(p).ok_or(PageError(AppError::Forbidden))
}

fn f1(v: f64) -> String {
    format!("{v:.1}")
}
fn opt(v: Option<f64>, d: usize) -> String {
    v.map(|x| format!("{x:.d$}")).unwrap_or_else(|| "—".into())
}

pub struct AlertRow {
    pub a: Alert,
    pub start: String,
    pub end: String,
    pub magnitude: String,
}

fn alert_rows(v: Vec<Alert>) -> Vec<AlertRow> {
    v.into_iter()
        .map(|a| AlertRow {
            start: domain::fmt_local(a.start_ts),
            end: domain::fmt_local(a.end_ts),
            magnitude: format!("{:.2}", a.magnitude),
            a,
        })
        .collect()
}

// ---------------------------------------------------------------- overview

pub struct OverviewRow {
    pub code: String,
    pub name: String,
    pub units: usize,
    pub tce: String,
    pub intensity: String,
    pub coverage: String,
    pub alerts: usize,
}

pub struct UnitRow {
    pub u: Unit,
    pub region: String,
}

#[derive(Template)]
#[template(path = "metering_overview.html")]
struct OverviewTpl {
    ctx: PageCtx,
    year: i32,
    rows: Vec<OverviewRow>,
    units: Vec<UnitRow>,
    chart_map: String,
    chart_bar: String,
    /// Administrators see the link to the settings page.
    is_admin: bool,
}

/// The latest year with data in scope (falls back to the current year).
async fn data_year(st: &AppState, s: &Scope) -> i32 {
    let mut v = Vec::new();
    let c = crate::store::unit_clause(s, "m", "unit_id", &mut v);
    let r = crate::sql::one(&st.db, &format!("SELECT MAX(r.bucket) AS t FROM mt_rollups r JOIN mt_meters m ON m.city_id = r.city_id AND m.id = r.meter_id WHERE{c} AND r.grain = 'm'"), v).await.ok().flatten();
    let t: Option<i64> = r.and_then(|r| r.try_get("", "t").ok().flatten());
    let t = t.unwrap_or_else(domain::now_ts);
    domain::local_date(t)
        .format("%Y")
        .to_string()
        .parse()
        .unwrap_or(2025)
}

async fn overview(Page(st, p, lang, csrf): Page) -> PageResult {
    let s = scope(&p)?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/metering", "metering-title").await?;
    let year = data_year(&st, &s).await;
    let city = crate::city_rows(&st.db, &s, year).await?;
    let rows: Vec<OverviewRow> = city
        .iter()
        .filter(|r| r.units > 0)
        .map(|r| OverviewRow {
            code: r.region_code.clone(),
            name: ctx.t.pick(&r.name_zh, &r.name_en).to_string(),
            units: r.units,
            tce: format!("{:.0}", r.total_tce),
            intensity: opt(r.tce_per_10k_yuan, 3),
            coverage: opt(r.coverage, 1),
            alerts: r.open_alerts,
        })
        .collect();
    let districts: Vec<_> = city.iter().skip(1).collect();
    let max = districts.iter().map(|r| r.total_tce).fold(1.0, f64::max);
    let chart_map = embed_json(&json!({
        "tooltip": {"trigger": "item"},
        "visualMap": {"min": 0, "max": max.round(), "calculable": true, "text": ["tce", ""]},
        "series": [{"type": "map", "map": "districts", "nameProperty": "code", "data": districts.iter().map(|r| json!({"name": r.region_code, "value": r.total_tce.round()})).collect::<Vec<_>>()}]
    }));
    let chart_bar = embed_json(&json!({
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 60, "right": 20, "bottom": 60},
        "xAxis": {"type": "category", "data": districts.iter().map(|r| ctx.t.pick(&r.name_zh, &r.name_en).to_string()).collect::<Vec<_>>(), "axisLabel": {"rotate": 30}},
        "yAxis": {"type": "value", "name": "tce/万元"},
        "series": [{"type": "bar", "data": districts.iter().map(|r| r.tce_per_10k_yuan.map(|v| (v * 1000.0).round() / 1000.0)).collect::<Vec<_>>()}]
    }));
    let units = store::units(&st.db, &s)
        .await?
        .into_iter()
        .map(|u| UnitRow {
            region: u.region_code.clone(),
            u,
        })
        .collect();
    let tpl = OverviewTpl {
        ctx,
        year,
        rows,
        units,
        chart_map,
        chart_bar,
        is_admin: p.role == Role::Admin,
    };
    Ok(render(&tpl)?.into_response())
}

// ---------------------------------------------------------------- unit

pub struct MeterRow {
    pub m: Meter,
    pub depth: usize,
    pub last: String,
    pub month: String,
}

pub struct CovRow {
    pub energy: String,
    pub tier: usize,
    pub installed: i64,
    pub required: i64,
    pub rate: String,
    pub required_rate: String,
    pub ok: bool,
}

pub struct LineRow {
    pub energy: String,
    pub quantity: String,
    pub unit: String,
    pub tce: String,
}

pub struct ProjectView {
    pub name: String,
    pub baseline: String,
    pub reporting: String,
    pub error: String,
    pub expected: String,
    pub actual: String,
    pub savings: String,
    pub improvement: String,
    pub cvrmse: String,
    pub r2: String,
    pub g14_ok: bool,
    pub chart_id: String,
    pub chart: String,
    pub cusum_id: String,
    pub cusum: String,
}

#[derive(Template)]
#[template(path = "metering_unit.html")]
struct UnitTpl {
    ctx: PageCtx,
    u: Unit,
    year: i32,
    meters: Vec<MeterRow>,
    coverage: Vec<CovRow>,
    overall: String,
    compliant: bool,
    lines: Vec<LineRow>,
    total_tce: String,
    per_output: String,
    basis_note: String,
    chart_daily: String,
    chart_sankey: String,
    projects: Vec<ProjectView>,
    alerts: Vec<AlertRow>,
    temp: TempView,
    hours: Vec<(usize, u8, u8)>,
    can_edit_hours: bool,
}

/// The CalTRACK temperature baseline section of the unit page.
#[derive(Default)]
pub struct TempView {
    pub meter: String,
    pub error: String,
    pub model: String,
    pub baseline_period: String,
    pub reporting_period: String,
    pub actual: String,
    pub baseline: String,
    pub avoided: String,
    pub fraction: String,
    pub fsu: String,
    pub cvrmse: String,
    pub r2: String,
    pub balance: String,
    pub unit: String,
    pub chart: String,
}

fn energy_label(t: &qcity_platform::i18n::Tr, e: &str) -> String {
    t.t(&format!("metering-energy-{e}"))
}

async fn unit_page(Page(st, p, lang, csrf): Page, Path(id): Path<i64>) -> PageResult {
    let s = scope(&p)?;
    let u = store::unit(&st.db, &s, id)
        .await?
        .ok_or_else(|| AppError::NotFound("unit".into()))?;
    let mut ctx = page_ctx(&st, &p, lang, &csrf, "/app/metering", "metering-unit-title").await?;
    ctx.title = format!("{} · {}", ctx.title, ctx.t.pick(&u.name_zh, &u.name_en));
    let ms = store::meters(&st.db, &s, Some(id)).await?;
    let cov = store::coverage_of(&ms);
    // Latest data decides the windows shown.
    let mut last = 0;
    for m in &ms {
        if let Some(t) = store::last_ts(&st.db, p.city_id, m.id).await? {
            last = last.max(t);
        }
    }
    let end = if last > 0 {
        domain::day_bucket(last) + 86400
    } else {
        domain::day_bucket(domain::now_ts()) + 86400
    };
    let year: i32 = domain::local_date(end - 1)
        .format("%Y")
        .to_string()
        .parse()
        .unwrap_or(2025);
    let (ys, ye) = (domain::year_start(year), domain::year_start(year + 1));
    let energy = analysis::unit_energy(&st.db, &s, id, ys, ye).await?;
    // Meter tree in depth-first order with the last 30 days per node.
    let mut month_val: BTreeMap<i64, f64> = BTreeMap::new();
    for m in &ms {
        let v: f64 = store::rollup_series(&st.db, p.city_id, m.id, "d", end - 30 * 86400, end)
            .await?
            .iter()
            .map(|x| x.value)
            .sum();
        month_val.insert(m.id, v);
    }
    let mut meters = Vec::new();
    fn walk(ms: &[Meter], parent: Option<i64>, depth: usize, out: &mut Vec<(Meter, usize)>) {
        for m in ms.iter().filter(|m| m.parent_id == parent) {
            out.push((m.clone(), depth));
            walk(ms, Some(m.id), depth + 1, out);
        }
    }
    let mut ordered = Vec::new();
    walk(&ms, None, 0, &mut ordered);
    for (m, depth) in ordered {
        let lt = store::last_ts(&st.db, p.city_id, m.id).await?;
        meters.push(MeterRow {
            depth,
            last: lt.map(domain::fmt_local).unwrap_or_else(|| "—".into()),
            month: format!("{:.1}", month_val.get(&m.id).copied().unwrap_or(0.0)),
            m,
        });
    }
    // Sankey: site → child nodes by 30-day kgce (children of installed nodes), plus unmetered rest.
    let mut nodes = Vec::new();
    let mut links = Vec::new();
    let name_of = |m: &Meter| format!("{} ({})", ctx.t.pick(&m.name_zh, &m.name_en), m.code);
    for m in &ms {
        if m.status == "installed" {
            nodes.push(json!({"name": name_of(m)}));
        }
    }
    for m in ms.iter().filter(|m| m.status == "installed") {
        let kids: Vec<&Meter> = ms
            .iter()
            .filter(|c| {
                c.parent_id == Some(m.id)
                    && c.status == "installed"
                    && c.energy_type == m.energy_type
            })
            .collect();
        if kids.is_empty() {
            continue;
        }
        let pv =
            analysis::kgce(&m.energy_type, month_val.get(&m.id).copied().unwrap_or(0.0)) / 1000.0;
        let mut sum = 0.0;
        for c in &kids {
            let v = analysis::kgce(&c.energy_type, month_val.get(&c.id).copied().unwrap_or(0.0))
                / 1000.0;
            sum += v;
            links.push(json!({"source": name_of(m), "target": name_of(c), "value": (v * 100.0).round() / 100.0}));
        }
        if pv - sum > 0.005 {
            let rest = format!("{} · {}", name_of(m), ctx.t.t("metering-unmetered"));
            nodes.push(json!({"name": rest}));
            links.push(json!({"source": name_of(m), "target": rest, "value": ((pv - sum) * 100.0).round() / 100.0}));
        }
    }
    let chart_sankey = embed_json(&json!({
        "tooltip": {"trigger": "item"},
        "series": [{"type": "sankey", "emphasis": {"focus": "adjacency"}, "data": nodes, "links": links, "lineStyle": {"color": "gradient", "curveness": 0.5}}]
    }));
    let daily = analysis::unit_daily_kgce(&st.db, &s, id, end - 400 * 86400, end).await?;
    let prod = analysis::production(&st.db, p.city_id, id, end - 400 * 86400, end).await?;
    let chart_daily = embed_json(&json!({
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "dataZoom": [{"type": "inside"}, {"type": "slider"}],
        "xAxis": {"type": "category", "data": daily.keys().map(|d| domain::local_date(*d).to_string()).collect::<Vec<_>>()},
        "yAxis": [{"type": "value", "name": "tce"}, {"type": "value", "name": u.output_unit}],
        "series": [
            {"name": ctx.t.t("metering-tce"), "type": "line", "showSymbol": false, "data": daily.values().map(|v| (v / 10.0).round() / 100.0).collect::<Vec<_>>()},
            {"name": ctx.t.t("metering-output"), "type": "line", "yAxisIndex": 1, "showSymbol": false, "data": daily.keys().map(|d| prod.get(d).copied()).collect::<Vec<_>>()}
        ]
    }));
    let mut projects = Vec::new();
    for (i, pr) in analysis::projects(&st.db, &s, Some(id))
        .await?
        .into_iter()
        .enumerate()
    {
        let period =
            |a: i64, b: i64| format!("{} – {}", domain::local_date(a), domain::local_date(b - 1));
        let mut v = ProjectView {
            name: ctx.t.pick(&pr.name_zh, &pr.name_en).to_string(),
            baseline: period(pr.baseline_from, pr.baseline_to),
            reporting: period(pr.reporting_from, pr.reporting_to),
            error: String::new(),
            expected: String::new(),
            actual: String::new(),
            savings: String::new(),
            improvement: String::new(),
            cvrmse: String::new(),
            r2: String::new(),
            g14_ok: false,
            chart_id: format!("chart-savings-{i}"),
            chart: "{}".into(),
            cusum_id: format!("chart-cusum-{i}"),
            cusum: "{}".into(),
        };
        match analysis::savings(&st.db, &s, &pr).await {
            Ok(sv) => {
                v.expected = format!("{:.0}", sv.expected_tce);
                v.actual = format!("{:.0}", sv.actual_tce);
                v.savings = format!("{:.0}", sv.savings_tce);
                v.improvement = format!("{:.1}", sv.improvement * 100.0);
                v.cvrmse = format!("{:.1}", sv.cvrmse * 100.0);
                v.r2 = format!("{:.3}", sv.r2_adj);
                v.g14_ok = sv.g14_ok;
                let days: Vec<String> = sv
                    .daily
                    .iter()
                    .map(|d| domain::local_date(d.0).to_string())
                    .collect();
                v.chart = embed_json(&json!({
                    "tooltip": {"trigger": "axis"}, "legend": {}, "dataZoom": [{"type": "inside"}],
                    "xAxis": {"type": "category", "data": days},
                    "yAxis": {"type": "value", "name": "tce"},
                    "series": [
                        {"name": ctx.t.t("metering-baseline"), "type": "line", "showSymbol": false, "data": sv.daily.iter().map(|d| (d.2 / 10.0).round() / 100.0).collect::<Vec<_>>()},
                        {"name": ctx.t.t("metering-actual"), "type": "line", "showSymbol": false, "data": sv.daily.iter().map(|d| (d.1 / 10.0).round() / 100.0).collect::<Vec<_>>()}
                    ]
                }));
                let cs = analysis::cusum_series(&sv);
                v.cusum = embed_json(&json!({
                    "tooltip": {"trigger": "axis"},
                    "xAxis": {"type": "category", "data": cs.iter().map(|d| domain::local_date(d.0).to_string()).collect::<Vec<_>>()},
                    "yAxis": {"type": "value", "name": "Σ tce"},
                    "series": [{"name": "CUSUM", "type": "line", "showSymbol": false, "areaStyle": {}, "data": cs.iter().map(|d| (d.1 * 100.0).round() / 100.0).collect::<Vec<_>>()}]
                }));
            }
            Err(e) => v.error = e.to_string(),
        }
        projects.push(v);
    }
    let alerts = alert_rows(analysis::alerts(&st.db, &s, true, Some(id), 50).await?);
    let mut temp = TempView {
        chart: "{}".into(),
        ..TempView::default()
    };
    if let Some(m) = crate::weather::default_meter(&st.db, p.city_id, &ms).await? {
        temp.meter = format!("{} ({})", ctx.t.pick(&m.name_zh, &m.name_en), m.code);
        temp.unit = m.measure_unit.clone();
        let rep = (end - 365 * 86400, end);
        let base = (rep.0 - 365 * 86400, rep.0);
        let period =
            |a: i64, b: i64| format!("{} – {}", domain::local_date(a), domain::local_date(b - 1));
        temp.baseline_period = period(base.0, base.1);
        temp.reporting_period = period(rep.0, rep.1);
        match crate::weather::baseline(&st.db, p.city_id, m, base, rep).await {
            Ok(b) => {
                temp.model = b.model_type.clone();
                temp.actual = format!("{:.0}", b.actual);
                temp.baseline = format!("{:.0}", b.baseline);
                temp.avoided = format!("{:.0}", b.avoided);
                temp.fraction = format!("{:.1}", b.fractional_savings * 100.0);
                temp.fsu = opt(b.fsu.map(|f| f * 100.0), 1);
                temp.cvrmse = format!("{:.1}", b.cvrmse * 100.0);
                temp.r2 = format!("{:.3}", b.r2_adj);
                temp.balance = [
                    b.heating_balance_point_c.map(|v| format!("HDD {v:.1} °C")),
                    b.cooling_balance_point_c.map(|v| format!("CDD {v:.1} °C")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
                temp.chart = embed_json(&json!({
                    "tooltip": {"trigger": "axis"}, "legend": {}, "dataZoom": [{"type": "inside"}, {"type": "slider"}],
                    "xAxis": {"type": "category", "data": b.daily.iter().map(|d| domain::local_date(d.day).to_string()).collect::<Vec<_>>()},
                    "yAxis": [{"type": "value", "name": m.measure_unit}, {"type": "value", "name": "°C"}],
                    "series": [
                        {"name": ctx.t.t("metering-temp-baseline"), "type": "line", "showSymbol": false, "data": b.daily.iter().map(|d| (d.baseline * 10.0).round() / 10.0).collect::<Vec<_>>()},
                        {"name": ctx.t.t("metering-actual"), "type": "line", "showSymbol": false, "data": b.daily.iter().map(|d| (d.actual * 10.0).round() / 10.0).collect::<Vec<_>>()},
                        {"name": ctx.t.t("metering-temperature"), "type": "line", "yAxisIndex": 1, "showSymbol": false, "lineStyle": {"type": "dotted"}, "data": b.daily.iter().map(|d| d.temperature_c.map(|t| (t * 10.0).round() / 10.0)).collect::<Vec<_>>()}
                    ]
                }));
            }
            Err(e) => temp.error = e.to_string(),
        }
    }
    let hours = analysis::operating_hours(&st.db, p.city_id, id)
        .await?
        .iter()
        .enumerate()
        .map(|(i, d)| (i, d.open_hour, d.close_hour))
        .collect();
    let tpl = UnitTpl {
        temp,
        hours,
        can_edit_hours: p.can(Capability::ManageMetering),
        coverage: cov
            .rows
            .iter()
            .map(|r| CovRow {
                energy: energy_label(&ctx.t, &r.energy_type),
                tier: r.tier,
                installed: r.installed,
                required: r.required,
                rate: f1(r.rate),
                required_rate: f1(r.required_rate),
                ok: r.ok,
            })
            .collect(),
        overall: opt(cov.overall, 1),
        compliant: cov.compliant,
        lines: energy
            .lines
            .iter()
            .map(|l| LineRow {
                energy: energy_label(&ctx.t, &l.energy_type),
                quantity: format!("{:.0}", l.quantity),
                unit: l.measure_unit.clone(),
                tce: format!("{:.1}", l.tce),
            })
            .collect(),
        total_tce: format!("{:.1}", energy.total_tce),
        per_output: opt(energy.kgce_per_output, 2),
        basis_note: energy.coal_table_version.clone(),
        u,
        year,
        meters,
        chart_daily,
        chart_sankey,
        projects,
        alerts,
        ctx,
    };
    Ok(render(&tpl)?.into_response())
}

// ---------------------------------------------------------------- meter

/// (time, rule, before, after, quality, actor) of an edit-trail row.
pub type EditView = (String, String, String, String, String, String);

pub struct CheckRow {
    pub label: String,
    pub a: String,
    pub b: String,
    pub ok: bool,
}

#[derive(Template)]
#[template(path = "metering_meter.html")]
struct MeterTpl {
    ctx: PageCtx,
    m: Meter,
    unit_name: String,
    energy: String,
    window: String,
    chart_load: String,
    chart_heat: String,
    completeness: Vec<CheckRow>,
    consistency: Vec<CheckRow>,
    edits: Vec<EditView>,
    alerts: Vec<AlertRow>,
    can_run: bool,
    message: String,
}

#[derive(Deserialize, Default)]
struct Msg {
    msg: Option<String>,
}

async fn meter_page(
    Page(st, p, lang, csrf): Page,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<Msg>,
) -> PageResult {
    let s = scope(&p)?;
    let m = store::meter(&st.db, &s, id)
        .await?
        .ok_or_else(|| AppError::NotFound("meter".into()))?;
    let u = store::unit(&st.db, &s, m.unit_id)
        .await?
        .ok_or_else(|| AppError::NotFound("unit".into()))?;
    let mut ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/metering",
        "metering-meter-title",
    )
    .await?;
    ctx.title = format!(
        "{} · {} ({})",
        ctx.title,
        ctx.t.pick(&m.name_zh, &m.name_en),
        m.code
    );
    let end = data_end(&st, p.city_id, m.id).await?;
    // Load curve: 7 days of validated intervals, raw beside it.
    let rs = store::readings(&st.db, p.city_id, m.id, end - 7 * 86400, end).await?;
    let chart_load = embed_json(&json!({
        "tooltip": {"trigger": "axis"}, "legend": {}, "dataZoom": [{"type": "inside"}, {"type": "slider"}],
        "xAxis": {"type": "category", "data": rs.iter().map(|r| domain::fmt_local(r.ts)).collect::<Vec<_>>()},
        "yAxis": {"type": "value", "name": m.measure_unit},
        "series": [
            {"name": ctx.t.t("metering-validated"), "type": "line", "showSymbol": false, "data": rs.iter().map(|r| r.value).collect::<Vec<_>>()},
            {"name": ctx.t.t("metering-raw"), "type": "line", "showSymbol": false, "lineStyle": {"type": "dotted"}, "data": rs.iter().map(|r| r.raw_value.map(|v| v * m.multiplier)).collect::<Vec<_>>()}
        ]
    }));
    // Heat map: hour of day × day over 28 days (hourly rollups).
    let hs = store::rollup_series(&st.db, p.city_id, m.id, "h", end - 28 * 86400, end).await?;
    let days: Vec<String> = (0..28)
        .map(|i| {
            domain::local_date(end - (28 - i) * 86400)
                .format("%m-%d")
                .to_string()
        })
        .collect();
    let mut max: f64 = 0.0;
    let cells: Vec<serde_json::Value> = hs
        .iter()
        .map(|h| {
            let day = ((h.ts - (end - 28 * 86400)) / 86400).clamp(0, 27);
            let hour = ((h.ts + domain::LOCAL_OFFSET).rem_euclid(86400)) / 3600;
            max = max.max(h.value);
            json!([day, hour, (h.value * 100.0).round() / 100.0])
        })
        .collect();
    let chart_heat = embed_json(&json!({
        "tooltip": {"position": "top"},
        "grid": {"left": 50, "bottom": 80},
        "xAxis": {"type": "category", "data": days, "splitArea": {"show": true}},
        "yAxis": {"type": "category", "data": (0..24).map(|h| format!("{h:02}:00")).collect::<Vec<_>>(), "splitArea": {"show": true}},
        "visualMap": {"min": 0, "max": max.max(1e-9), "calculable": true, "orient": "horizontal", "left": "center", "bottom": 0},
        "series": [{"type": "heatmap", "data": cells}]
    }));
    let completeness = analysis::completeness(&st.db, p.city_id, &m, end - 14 * 86400, end)
        .await?
        .into_iter()
        .rev()
        .map(|d| CheckRow {
            label: d.day,
            a: format!("{} / {}", d.valid, d.expected),
            b: format!("{:.1} %", d.fraction * 100.0),
            ok: d.ok,
        })
        .collect();
    let consistency = analysis::consistency(&st.db, p.city_id, m.id, end - 400 * 86400, end)
        .await?
        .into_iter()
        .rev()
        .map(|c| CheckRow {
            label: c.month,
            a: format!("{:.1} / {:.1}", c.monthly, c.daily_sum),
            b: format!("{:.2} %", c.deviation * 100.0),
            ok: c.ok,
        })
        .collect();
    let edits = analysis::edits(&st.db, p.city_id, m.id, 50)
        .await?
        .into_iter()
        .map(|e| {
            (
                domain::fmt_local(e.ts),
                e.rule_id,
                opt(e.before_value, 3),
                opt(e.after_value, 3),
                e.quality,
                e.actor,
            )
        })
        .collect();
    let alerts = alert_rows(
        analysis::alerts(&st.db, &s, false, Some(m.unit_id), 200)
            .await?
            .into_iter()
            .filter(|a| a.meter_id == m.id)
            .collect(),
    );
    let tpl = MeterTpl {
        unit_name: ctx.t.pick(&u.name_zh, &u.name_en).to_string(),
        energy: energy_label(&ctx.t, &m.energy_type),
        window: format!(
            "{} – {}",
            domain::local_date(end - 7 * 86400),
            domain::local_date(end - 1)
        ),
        chart_load,
        chart_heat,
        completeness,
        consistency,
        edits,
        alerts,
        can_run: p.can(Capability::ManageMetering),
        message: q.msg.unwrap_or_default(),
        m,
        ctx,
    };
    Ok(render(&tpl)?.into_response())
}

/// The meter a manager runs VEE or detection on from its page, and [`data_end`] (the runs
/// cover the days before it).
async fn meter_to_run(st: &AppState, p: &Principal, id: i64) -> Result<(Meter, i64), PageError> {
    let s = scope(p)?;
    p.require(Capability::ManageMetering)?;
    let m = store::meter(&st.db, &s, id)
        .await?
        .ok_or_else(|| AppError::NotFound("meter".into()))?;
    let end = data_end(st, p.city_id, m.id).await?;
    Ok((m, end))
}

/// The end of the day of a meter's latest data (of today when it has none).
async fn data_end(st: &AppState, city_id: i64, meter_id: i64) -> Result<i64, StoreError> {
    let last = store::last_ts(&st.db, city_id, meter_id)
        .await?
        .unwrap_or_else(domain::now_ts);
    Ok(domain::day_bucket(last) + 86400)
}

async fn meter_vee(Page(st, p, ..): Page, Path(id): Path<i64>) -> PageResult {
    let (m, end) = meter_to_run(&st, &p, id).await?;
    let r = service::run_vee(&st.db, &p, &m, end - 7 * 86400, end).await?;
    Ok(Redirect::to(&format!(
        "/app/metering/meters/{id}?msg=vee-{}-{}",
        r.estimated, r.edits
    ))
    .into_response())
}

async fn meter_detect(Page(st, p, ..): Page, Path(id): Path<i64>) -> PageResult {
    let (m, end) = meter_to_run(&st, &p, id).await?;
    let n = service::detect(&st.db, &p, &m, end - 30 * 86400, end).await?;
    Ok(Redirect::to(&format!("/app/metering/meters/{id}?msg=detect-{n}")).into_response())
}

// ---------------------------------------------------------------- alerts

#[derive(Template)]
#[template(path = "metering_alerts.html")]
struct AlertsTpl {
    ctx: PageCtx,
    alerts: Vec<AlertRow>,
    can_ack: bool,
}

async fn alerts_page(Page(st, p, lang, csrf): Page) -> PageResult {
    let s = scope(&p)?;
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/metering/alerts",
        "metering-alerts-title",
    )
    .await?;
    let alerts = alert_rows(analysis::alerts(&st.db, &s, false, None, 300).await?);
    let tpl = AlertsTpl {
        ctx,
        alerts,
        can_ack: p.can(Capability::ManageMetering),
    };
    Ok(render(&tpl)?.into_response())
}

#[derive(Deserialize)]
struct AckForm {
    #[serde(default)]
    note: String,
}

async fn alert_ack(
    Page(st, p, ..): Page,
    Path(id): Path<i64>,
    Form(f): Form<AckForm>,
) -> PageResult {
    scope(&p)?;
    p.require(Capability::ManageMetering)?;
    service::ack_alert(&st.db, &p, id, &f.note).await?;
    Ok(Redirect::to("/app/metering/alerts").into_response())
}

/// The operating-hours form: `open_0`…`open_6`, `close_0`…`close_6` (hours, Monday first).
async fn unit_hours(
    Page(st, p, ..): Page,
    Path(id): Path<i64>,
    Form(f): Form<BTreeMap<String, String>>,
) -> PageResult {
    scope(&p)?;
    p.require(Capability::ManageMetering)?;
    let mut days = Vec::with_capacity(7);
    for i in 0..7 {
        let get = |k: &str| -> Result<u8, AppError> {
            let name = format!("{k}_{i}");
            f.get(&name)
                .map(|v| v.trim())
                .unwrap_or("")
                .parse::<u8>()
                .map_err(|_| {
                    AppError::validation(&name, "须为0–24的整数 / must be a whole hour 0–24")
                })
        };
        days.push(analysis::DayHours {
            open_hour: get("open")?,
            close_hour: get("close")?,
        });
    }
    service::set_hours(&st.db, &p, id, &days).await?;
    Ok(Redirect::to(&format!("/app/metering/units/{id}")).into_response())
}

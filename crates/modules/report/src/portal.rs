//! The public quality portal (城市质量公开门户): no sign-in, published data only.
//!
//! Addresses (a contract): `/` (the portal when one city is served, else a chooser),
//! `/p/{city}`, `/p/{city}/reports/{year}`, `/p/{city}/reports/{year}.pdf`, `/p/{city}/data`,
//! `/p/{city}/data/{key}.{csv|json|xlsx}`, `/p/{city}/data/all.zip`,
//! `/p/{city}/districts.geojson` and `/api/v1/public/{city}/indicators`.

use crate::opendata::{self, safe_key};
use crate::store::{self, Version};
use crate::view::{FigureView, ReportView};
use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qcity_platform::entity::city;
use qcity_platform::feeds::{OpenDataset, PublicLink};
use qcity_platform::i18n::Lang;
use qcity_platform::web::shell::{embed_json, render};
use qcity_platform::web::{ApiError, AppError, AppState, CsrfToken, PageCtx, PageError, ReqLang};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

type Fingerprint = (usize, Option<i64>);

/// Published versions per city, re-read only when what is published changes.
type PublishedCache = HashMap<i64, (Fingerprint, Arc<Vec<Version>>)>;
static PUBLISHED: LazyLock<Mutex<PublishedCache>> = LazyLock::new(Default::default);

/// The current published version of every year (newest first), cached by fingerprint.
pub async fn published(st: &AppState, city_id: i64) -> Result<Arc<Vec<Version>>, AppError> {
    let fp = store::published_fingerprint(&st.db, city_id).await?;
    if let Ok(c) = PUBLISHED.lock()
        && let Some((f, v)) = c.get(&city_id)
        && *f == fp
    {
        return Ok(v.clone());
    }
    let v = Arc::new(store::published_all(&st.db, city_id).await?);
    if let Ok(mut c) = PUBLISHED.lock() {
        c.insert(city_id, (fp, v.clone()));
    }
    Ok(v)
}

async fn city_by_code(st: &AppState, code: &str) -> Result<city::Model, AppError> {
    qcity_platform::store::cities::by_code(&st.db, code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("city {code}")))
}

fn public_ctx(
    lang: ReqLang,
    csrf: &CsrfToken,
    path: &str,
    title: String,
    c: &city::Model,
) -> PageCtx {
    let mut ctx = PageCtx::public(lang.0, &csrf.0, path, title);
    ctx.city_name = lang.tr().pick(&c.name_zh, &c.name_en).to_string();
    ctx
}

fn is_en(lang: ReqLang) -> bool {
    lang.0 == Lang::En
}

// ---------- city chooser ----------

#[derive(Template)]
#[template(path = "portal_cities.html")]
struct CitiesPage {
    ctx: PageCtx,
    cities: Vec<(String, String)>,
}

pub async fn root(
    State(st): State<AppState>,
    lang: ReqLang,
    csrf: CsrfToken,
) -> Result<Response, PageError> {
    let cities = qcity_platform::store::cities::list_all_cities(&st.db).await?;
    if cities.len() == 1 {
        return Ok(Redirect::to(&format!("/p/{}", cities[0].code)).into_response());
    }
    let t = lang.tr();
    let page = CitiesPage {
        ctx: PageCtx::public(lang.0, &csrf.0, "/", t.t("report-portal-choose")),
        cities: cities
            .iter()
            .map(|c| (c.code.clone(), t.pick(&c.name_zh, &c.name_en).to_string()))
            .collect(),
    };
    Ok(render(&page)?.into_response())
}

// ---------- portal home ----------

struct PillarCard {
    name: String,
    figures: Vec<FigureView>,
}

struct TrendChart {
    id: String,
    title: String,
    json: String,
}

struct MapView {
    title: String,
    json: String,
}

struct ArchiveRow {
    year: i32,
    version: i32,
    published: String,
    change_note: String,
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct HomePage {
    ctx: PageCtx,
    city_code: String,
    latest_year: Option<i32>,
    headlines: Vec<FigureView>,
    overview: String,
    pillars: Vec<PillarCard>,
    trends: Vec<TrendChart>,
    map: Option<MapView>,
    name_prop: &'static str,
    archive: Vec<ArchiveRow>,
    links: Vec<(String, String)>,
}

/// Which of the four pillars a section belongs to, by its module prefix.
fn pillar_of(section_key: &str) -> usize {
    match section_key.split('.').next().unwrap_or("") {
        "equipment" | "inspection" | "safety" => 1,
        "metering" | "metrology" => 2,
        "tips" | "complaints" => 3,
        _ => 0,
    }
}

const PILLAR_KEYS: [&str; 4] = [
    "nav-pillar-develop",
    "nav-pillar-safety",
    "nav-pillar-foundation",
    "nav-pillar-cogovernance",
];

/// Line charts of each headline figure across the published years.
fn trends(versions: &[Version], en: bool) -> Vec<TrendChart> {
    let Some(latest) = versions.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, head) in latest
        .snapshot
        .sections
        .iter()
        .filter_map(|s| s.figures.first())
        .take(4)
        .enumerate()
    {
        let mut points: Vec<(i32, f64)> = Vec::new();
        for v in versions.iter().rev() {
            let f = v
                .snapshot
                .sections
                .iter()
                .flat_map(|s| s.figures.iter())
                .find(|f| f.key == head.key);
            if let Some(f) = f {
                let y = v.snapshot.year;
                if let Some(p) = f.previous
                    && !points.iter().any(|(py, _)| *py == y - 1)
                {
                    points.push((y - 1, p));
                }
                if let Some(x) = f.value {
                    points.retain(|(py, _)| *py != y);
                    points.push((y, x));
                }
            }
        }
        points.sort_by_key(|p| p.0);
        if points.is_empty() {
            continue;
        }
        let label = if en { &head.label_en } else { &head.label_zh };
        let opt = json!({
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 50, "right": 20, "top": 20, "bottom": 30},
            "xAxis": {"type": "category", "data": points.iter().map(|p| p.0.to_string()).collect::<Vec<_>>()},
            "yAxis": {"type": "value", "scale": true},
            "series": [{"type": "line", "name": label, "data": points.iter().map(|p| p.1).collect::<Vec<_>>(), "label": {"show": true}, "itemStyle": {"color": "#2f6db5"}}]
        });
        out.push(TrendChart {
            id: format!("trend-{}", i + 1),
            title: label.clone(),
            json: embed_json(&opt),
        });
    }
    out
}

pub async fn home(
    State(st): State<AppState>,
    lang: ReqLang,
    csrf: CsrfToken,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    let c = city_by_code(&st, &code).await?;
    let t = lang.tr();
    let en = is_en(lang);
    let versions = published(&st, c.id).await?;
    let latest = versions.first();
    let mut pillars: Vec<PillarCard> = PILLAR_KEYS
        .iter()
        .map(|k| PillarCard {
            name: t.t(k),
            figures: Vec::new(),
        })
        .collect();
    let mut map = None;
    if let Some(v) = latest {
        for s in &v.snapshot.sections {
            if let Some(f) = s.figures.first() {
                pillars[pillar_of(&s.key)]
                    .figures
                    .push(FigureView::new(f, en));
            }
            if map.is_none()
                && let Some(ch) = s.charts.iter().find(|c| c.needs_map)
            {
                map = Some(MapView {
                    title: if en {
                        ch.title_en.clone()
                    } else {
                        ch.title_zh.clone()
                    },
                    json: embed_json(&ch.option),
                });
            }
        }
    }
    let links: Vec<PublicLink> = store::module_public_links(&st.db, &st.modules, c.id).await;
    // Other modules' open data can be slow to compute: the home page only links to it.

    let page = HomePage {
        ctx: public_ctx(
            lang,
            &csrf,
            &format!("/p/{code}"),
            t.t("report-portal-title"),
            &c,
        ),
        city_code: c.code.clone(),
        latest_year: latest.map(|v| v.snapshot.year),
        headlines: latest
            .map(|v| {
                v.snapshot
                    .sections
                    .iter()
                    .filter_map(|s| s.figures.first())
                    .take(4)
                    .map(|f| FigureView::new(f, en))
                    .collect()
            })
            .unwrap_or_default(),
        overview: latest
            .and_then(|v| v.block("overview"))
            .map(|b| b.text(en).to_string())
            .unwrap_or_default(),
        pillars,
        trends: trends(&versions, en),
        map,
        name_prop: if en { "name_en" } else { "name_zh" },
        archive: versions
            .iter()
            .map(|v| ArchiveRow {
                year: v.snapshot.year,
                version: v.row.version,
                published: v
                    .row
                    .published_at
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                change_note: v.row.change_note.clone(),
            })
            .collect(),
        links: links
            .iter()
            .filter(|l| l.href.starts_with('/'))
            .map(|l| (l.href.clone(), t.pick(&l.title_zh, &l.title_en).to_string()))
            .collect(),
    };
    render(&page)
}

/// District boundaries of the city as public GeoJSON (for the portal map).
pub async fn districts_geojson(
    State(st): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let c = city_by_code(&st, &code).await?;
    let scope = qcity_platform::auth::RegionScope::new(c.id, &c.code);
    let rs = qcity_platform::store::regions::list_visible(&st.db, &scope).await?;
    let fc =
        qcity_platform::web::api::feature_collection(rs.iter().filter(|r| r.level == "district"));
    let mut resp = Json(fc).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(resp)
}

// ---------- published report ----------

#[derive(Template)]
#[template(path = "portal_report.html")]
struct ReportPage {
    ctx: PageCtx,
    r: ReportView,
    city_code: String,
    corrections: Vec<(i32, String, String)>,
    datasets: Vec<(String, String)>,
}

/// `/p/{city}/reports/{year}` (HTML) and `/p/{city}/reports/{year}.pdf`.
pub async fn report(
    State(st): State<AppState>,
    lang: ReqLang,
    csrf: CsrfToken,
    Path((code, file)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (year_s, pdf) = match file.strip_suffix(".pdf") {
        Some(y) => (y, true),
        None => (file.as_str(), false),
    };
    let year: i32 = year_s
        .parse()
        .map_err(|_| AppError::NotFound(format!("report {file}")))?;
    let c = city_by_code(&st, &code).await?;
    let versions = published(&st, c.id).await?;
    let Some(v) = versions.iter().find(|v| v.snapshot.year == year) else {
        return Err(AppError::NotFound(format!("report {year}")).into());
    };
    let en = is_en(lang);
    if pdf {
        let name = format!(
            "{}-quality-report-{year}-v{}{}.pdf",
            c.code,
            v.row.version,
            if en { "-en" } else { "" }
        );
        return Ok(crate::web::pdf_response(&st, v.clone(), en, name).await?);
    }
    let t = lang.tr();
    // Earlier published versions of the year (corrections history).
    let corrections = store::list(&st.db, c.id)
        .await?
        .into_iter()
        .filter(|r| r.year == year && r.status == "published")
        .map(|r| {
            (
                r.version,
                r.published_at
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                r.change_note,
            )
        })
        .collect();
    let datasets = opendata::report_datasets(v, &HashMap::new())
        .into_iter()
        .map(|d| (safe_key(&d.key), if en { d.title_en } else { d.title_zh }))
        .collect();
    let r = ReportView::new(v, en, &format!("/p/{code}/districts.geojson"));
    let page = ReportPage {
        ctx: public_ctx(
            lang,
            &csrf,
            &format!("/p/{code}/reports/{year}"),
            r.title.clone(),
            &c,
        ),
        r,
        city_code: c.code.clone(),
        corrections,
        datasets,
    };
    let _ = t;
    Ok(render(&page)?.into_response())
}

// ---------- open data ----------

/// Every published dataset of the city: the modules' open data and the published reports'.
pub async fn all_datasets(
    st: &AppState,
    c: &city::Model,
    en: bool,
) -> Result<Vec<OpenDataset>, AppError> {
    let mut out = store::module_open_data(&st.db, &st.modules, c.id).await;
    let names = crate::web::region_names(st, c.id, en).await?;
    for v in published(st, c.id).await?.iter() {
        out.extend(opendata::report_datasets(v, &names));
    }
    // One dataset per file name (two modules may offer the same indicator).
    let mut seen = std::collections::HashSet::new();
    out.retain(|d| seen.insert(safe_key(&d.key)));
    Ok(out)
}

struct DatasetRow {
    key: String,
    title: String,
    definition: String,
    unit: String,
    source: String,
    rows: usize,
}

#[derive(Template)]
#[template(path = "portal_data.html")]
struct DataPage {
    ctx: PageCtx,
    city_code: String,
    datasets: Vec<DatasetRow>,
}

fn passport_text(p: &serde_json::Value, field: &str, en: bool) -> String {
    let lang_key = format!("{field}_{}", if en { "en" } else { "zh" });
    p.get(&lang_key)
        .or_else(|| p.get(field))
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            o => o.to_string(),
        })
        .unwrap_or_default()
}

pub async fn data_page(
    State(st): State<AppState>,
    lang: ReqLang,
    csrf: CsrfToken,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    let c = city_by_code(&st, &code).await?;
    let en = is_en(lang);
    let t = lang.tr();
    let ds = all_datasets(&st, &c, en).await?;
    let page = DataPage {
        ctx: public_ctx(
            lang,
            &csrf,
            &format!("/p/{code}/data"),
            t.t("report-data-title"),
            &c,
        ),
        city_code: c.code.clone(),
        datasets: ds
            .iter()
            .map(|d| DatasetRow {
                key: safe_key(&d.key),
                title: t.pick(&d.title_zh, &d.title_en).to_string(),
                definition: passport_text(&d.passport, "definition", en),
                unit: passport_text(&d.passport, "unit", en),
                source: passport_text(&d.passport, "source", en),
                rows: d.rows.len(),
            })
            .collect(),
    };
    render(&page)
}

fn download(bytes: Vec<u8>, ctype: &'static str, name: &str) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// `/p/{city}/data/{key}.{csv|json|xlsx}` and `/p/{city}/data/all.zip`.
pub async fn data_file(
    State(st): State<AppState>,
    lang: ReqLang,
    Path((code, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let c = city_by_code(&st, &code).await?;
    let ds = all_datasets(&st, &c, is_en(lang)).await?;
    if file == "all.zip" {
        let bytes = tokio::task::spawn_blocking(move || opendata::zip_all(&ds))
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)?;
        return Ok(download(
            bytes,
            "application/zip",
            &format!("{}-open-data.zip", c.code),
        ));
    }
    let (key, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| AppError::NotFound(format!("dataset {file}")))?;
    let d = ds
        .into_iter()
        .find(|d| safe_key(&d.key) == key)
        .ok_or_else(|| AppError::NotFound(format!("dataset {key}")))?;
    match ext {
        "csv" => Ok(download(
            opendata::to_csv(&d).map_err(AppError::internal)?,
            "text/csv; charset=utf-8",
            &file,
        )),
        "json" => Ok(Json(opendata::to_json(&d)).into_response()),
        "xlsx" => {
            let bytes = tokio::task::spawn_blocking(move || opendata::to_xlsx(&d))
                .await
                .map_err(AppError::internal)?
                .map_err(AppError::internal)?;
            Ok(download(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &file,
            ))
        }
        _ => Err(AppError::NotFound(format!("format {ext}")).into()),
    }
}

/// Every published dataset of a city with its passport, rows and download links.
#[utoipa::path(get, path = "/api/v1/public/{city_code}/indicators", tag = "report",
    params(("city_code" = String, Path, description = "six-digit city code")),
    responses((status = 200, description = "published datasets with passports"), (status = 404, description = "unknown city")))]
pub async fn api_indicators(
    State(st): State<AppState>,
    lang: ReqLang,
    Path(code): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let c = city_by_code(&st, &code).await?;
    let ds = all_datasets(&st, &c, is_en(lang)).await?;
    let items: Vec<serde_json::Value> = ds
        .iter()
        .map(|d| {
            let k = safe_key(&d.key);
            let mut j = opendata::to_json(d);
            j["downloads"] = json!({
                "csv": format!("/p/{code}/data/{k}.csv"),
                "json": format!("/p/{code}/data/{k}.json"),
                "xlsx": format!("/p/{code}/data/{k}.xlsx"),
            });
            j
        })
        .collect();
    let reports: Vec<serde_json::Value> = published(&st, c.id)
        .await?
        .iter()
        .map(|v| {
            json!({
                "year": v.snapshot.year,
                "version": v.row.version,
                "published_at": v.row.published_at,
                "html": format!("/p/{code}/reports/{}", v.snapshot.year),
                "pdf": format!("/p/{code}/reports/{}.pdf", v.snapshot.year),
            })
        })
        .collect();
    Ok(Json(json!({
        "city": {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en},
        "reports": reports,
        "datasets": items,
        "all_zip": format!("/p/{code}/data/all.zip"),
    })))
}

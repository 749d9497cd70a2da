//! The public quality portal (城市质量公开门户): no sign-in, published data only.
//!
//! Addresses (a contract): `/` (the portal when one city is served, else a chooser),
//! `/p/{city}`, `/p/{city}/reports/{year}`, `/p/{city}/reports/{year}.pdf`, `/p/{city}/data`,
//! `/p/{city}/data/{key}.{csv|json|xlsx}`, `/p/{city}/data/all.zip`,
//! `/p/{city}/districts.geojson` and `/api/v1/public/{city}/indicators`.

use crate::cache::{self, CSRF_SLOT};
use crate::opendata::{self, safe_key};
use crate::store::{self, Version};
use crate::view::{FigureView, ReportView};
use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qcity_platform::entity::city;
use qcity_platform::feeds::{OpenDataset, PublicLink};
use qcity_platform::i18n::Lang;
use qcity_platform::web::render::{embed_json, render};
use qcity_platform::web::{
    ApiError, ApiPath, AppError, AppState, CsrfToken, PageCtx, PageError, ReqLang,
};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// The current published version of every year (newest first), from the portal cache.
pub async fn published(st: &AppState, city_id: i64) -> Result<Arc<Vec<Version>>, AppError> {
    let db = st.db.clone();
    cache::get(
        st,
        city_id,
        "published",
        cache::PUBLISHED_TTL,
        move || async move { Ok(store::published_all(&db, city_id).await?) },
    )
    .await
}

/// A city by its code (a code that cannot be one is 404 without a query).
async fn city_by_code(st: &AppState, code: &str) -> Result<Arc<city::Model>, AppError> {
    if code.is_empty() || code.len() > 12 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::NotFound(format!("city {code}")));
    }
    let db = st.db.clone();
    let owned = code.to_string();
    cache::get(
        st,
        0,
        &format!("city:{code}"),
        cache::PUBLISHED_TTL,
        move || async move {
            qcity_platform::store::cities::by_code(&db, &owned)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("city {owned}")))
        },
    )
    .await
}

/// The frame of a public page, with [`CSRF_SLOT`] for the visitor's token (the page is cached
/// and shared; [`cache::personalise`] puts the token in).
fn public_ctx(lang: ReqLang, path: &str, title: String, c: &city::Model) -> PageCtx {
    let mut ctx = PageCtx::public(lang.0, CSRF_SLOT, path, title);
    ctx.city_name = lang.tr().pick(&c.name_zh, &c.name_en).to_string();
    ctx
}

fn is_en(lang: ReqLang) -> bool {
    lang.0 == Lang::En
}

/// A cached public page, rendered by `make` when needed, with the visitor's CSRF token.
async fn cached_page<F, Fut>(
    st: &AppState,
    city_id: i64,
    item: String,
    ttl: std::time::Duration,
    csrf: &CsrfToken,
    make: F,
) -> Result<Html<String>, PageError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<String, AppError>> + Send + 'static,
{
    let page = cache::get(st, city_id, &item, ttl, make).await?;
    Ok(Html(cache::personalise(&page, &csrf.0)))
}

fn html<T: Template>(t: &T) -> Result<String, AppError> {
    t.render().map_err(AppError::internal)
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
    let item = format!("page:home:{}", lang.0.code());
    let st2 = st.clone();
    let c2 = c.clone();
    // The public links (an open survey) are live: the page lives LIVE_TTL.
    cached_page(
        &st,
        c.id,
        item,
        cache::LIVE_TTL,
        &csrf,
        move || async move { home_page(&st2, &c2, lang).await },
    )
    .await
}

/// Renders the portal home of a city (published data only).
async fn home_page(st: &AppState, c: &city::Model, lang: ReqLang) -> Result<String, AppError> {
    let t = lang.tr();
    let en = is_en(lang);
    let code = &c.code;
    let versions = published(st, c.id).await?;
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
        ctx: public_ctx(lang, &format!("/p/{code}"), t.t("report-portal-title"), c),
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
    html(&page)
}

/// District boundaries of the city as public GeoJSON (for the portal map).
pub async fn districts_geojson(
    State(st): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let c = city_by_code(&st, &code).await?;
    let db = st.db.clone();
    let (city_id, city_code) = (c.id, c.code.clone());
    let body: Arc<Bytes> = cache::get(
        &st,
        c.id,
        "geojson",
        cache::PUBLISHED_TTL,
        move || async move {
            let scope = qcity_platform::auth::RegionScope::new(city_id, &city_code);
            let rs = qcity_platform::store::regions::list_visible(&db, &scope).await?;
            let fc = qcity_platform::web::api::feature_collection(
                rs.iter().filter(|r| r.level == "district"),
            );
            Ok(Bytes::from(
                serde_json::to_vec(&fc).map_err(AppError::internal)?,
            ))
        },
    )
    .await?;
    let mut resp = Bytes::clone(&body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
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
        // A published version is immutable: its PDF is typeset once per language.
        let item = format!("pdf:{}:{}", v.row.id, lang.0.code());
        let (st2, v2) = (st.clone(), v.clone());
        let bytes: Arc<Bytes> = cache::get(&st, c.id, &item, cache::PDF_TTL, move || async move {
            crate::web::pdf_bytes(&st2, v2, en).await.map(Bytes::from)
        })
        .await?;
        return Ok(crate::web::pdf_response(Bytes::clone(&bytes), &name));
    }
    let item = format!("page:report:{year}:{}", lang.0.code());
    let (st2, v2) = (st.clone(), v.clone());
    let page = cached_page(
        &st,
        c.id,
        item,
        cache::PUBLISHED_TTL,
        &csrf,
        move || async move { report_page(&st2, &c, &v2, lang).await },
    )
    .await?;
    Ok(page.into_response())
}

/// Renders a published report version as a public page.
async fn report_page(
    st: &AppState,
    c: &city::Model,
    v: &Version,
    lang: ReqLang,
) -> Result<String, AppError> {
    let en = is_en(lang);
    let code = &c.code;
    let year = v.snapshot.year;
    // Published versions of the year (corrections history).
    let corrections = store::published_history(&st.db, c.id, year)
        .await?
        .into_iter()
        .map(|(version, published_at, note)| {
            (
                version,
                published_at
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                note,
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
            &format!("/p/{code}/reports/{year}"),
            r.title.clone(),
            c,
        ),
        r,
        city_code: c.code.clone(),
        corrections,
        datasets,
    };
    html(&page)
}

// ---------- open data ----------

/// Every published dataset of the city: the modules' open data and the published reports'
/// (cached: other modules' data for [`cache::OPEN_DATA_TTL`], and dropped at a publication).
pub async fn all_datasets(
    st: &AppState,
    c: &city::Model,
    en: bool,
) -> Result<Arc<Vec<OpenDataset>>, AppError> {
    let st2 = st.clone();
    let city_id = c.id;
    let item = format!("open-data:{}", if en { "en" } else { "zh" });
    cache::get(
        st,
        city_id,
        &item,
        cache::OPEN_DATA_TTL,
        move || async move {
            let st = st2;
            let mut out = store::module_open_data(&st.db, &st.modules, city_id).await;
            let names = crate::web::region_names(&st, city_id, en).await?;
            for v in published(&st, city_id).await?.iter() {
                out.extend(opendata::report_datasets(v, &names));
            }
            // One dataset per file name (two modules may offer the same indicator).
            let mut seen = std::collections::HashSet::new();
            out.retain(|d| seen.insert(safe_key(&d.key)));
            Ok(out)
        },
    )
    .await
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
    let item = format!("page:data:{}", lang.0.code());
    let (st2, c2) = (st.clone(), c.clone());
    cached_page(
        &st,
        c.id,
        item,
        cache::OPEN_DATA_TTL,
        &csrf,
        move || async move {
            let en = is_en(lang);
            let t = lang.tr();
            let ds = all_datasets(&st2, &c2, en).await?;
            let page = DataPage {
                ctx: public_ctx(
                    lang,
                    &format!("/p/{}/data", c2.code),
                    t.t("report-data-title"),
                    &c2,
                ),
                city_code: c2.code.clone(),
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
            html(&page)
        },
    )
    .await
}

fn download(bytes: impl Into<Bytes>, ctype: &'static str, name: &str) -> Response {
    let mut resp = bytes.into().into_response();
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
    let en = is_en(lang);
    if file == "all.zip" {
        let (st2, c2) = (st.clone(), c.clone());
        let item = format!("zip:{}", lang.0.code());
        let bytes: Arc<Bytes> =
            cache::get(&st, c.id, &item, cache::OPEN_DATA_TTL, move || async move {
                let ds = all_datasets(&st2, &c2, en).await?;
                tokio::task::spawn_blocking(move || opendata::zip_all(&ds))
                    .await
                    .map_err(AppError::internal)?
                    .map(Bytes::from)
                    .map_err(AppError::internal)
            })
            .await?;
        return Ok(download(
            Bytes::clone(&bytes),
            "application/zip",
            &format!("{}-open-data.zip", c.code),
        ));
    }
    let (key, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| AppError::NotFound(format!("dataset {file}")))?;
    let ds = all_datasets(&st, &c, en).await?;
    let d = ds
        .iter()
        .find(|d| safe_key(&d.key) == key)
        .ok_or_else(|| AppError::NotFound(format!("dataset {key}")))?;
    match ext {
        "csv" => Ok(download(
            opendata::to_csv(d).map_err(AppError::internal)?,
            "text/csv; charset=utf-8",
            &file,
        )),
        "json" => Ok(Json(opendata::to_json(d)).into_response()),
        "xlsx" => {
            let d = d.clone();
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
    security(()),
    responses((status = 200, description = "published datasets with passports", body = Object), (status = 404, description = "unknown city")))]
pub async fn api_indicators(
    State(st): State<AppState>,
    lang: ReqLang,
    ApiPath(code): ApiPath<String>,
) -> Result<Response, ApiError> {
    let c = city_by_code(&st, &code).await?;
    let (st2, c2) = (st.clone(), c.clone());
    let item = format!("api:indicators:{}", lang.0.code());
    let body: Arc<Bytes> = cache::get(&st, c.id, &item, cache::OPEN_DATA_TTL, move || async move {
        let (st, c) = (st2, c2);
        let code = &c.code;
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
        let doc = json!({
            "city": {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en},
            "reports": reports,
            "datasets": items,
            "all_zip": format!("/p/{code}/data/all.zip"),
        });
        serde_json::to_vec(&doc)
            .map(Bytes::from)
            .map_err(AppError::internal)
    })
    .await?;
    let mut resp = Bytes::clone(&body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

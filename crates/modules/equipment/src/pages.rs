//! Pages of the equipment module (zh-CN / en): registry, intake, live board, engineer jobs,
//! incident detail, inspections, risk, KPIs.

use crate::api::{self, KpiQuery};
use crate::fsm::State as FsmState;
use crate::incidents::{self, Incident, IncidentFilter, IntakeOpts, NewIncident, TransitionReq};
use crate::registry::{self, Equipment, EquipmentFilter};
use crate::service;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use qcity_platform::audit::Actor;
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::web::render::{embed_json, page_ctx, render};
use qcity_platform::web::{AppError, AppState, Page, PageCtx, PageError, ReqLang};
use qcity_platform::{Owner, Scope};
use serde::{Deserialize, Serialize};

mod oversight;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/app/equipment",
            get(|| async { Redirect::to("/app/equipment/registry") }),
        )
        .route("/app/equipment/registry", get(registry_page))
        .route("/app/equipment/registry/{id}", get(detail_page))
        .route(
            "/app/equipment/registry/{id}/inspections",
            post(inspection_submit),
        )
        .route(
            "/app/equipment/registry/{id}/maintenance",
            post(maintenance_submit),
        )
        .route(
            "/app/equipment/intake",
            get(intake_page).post(intake_submit),
        )
        .route("/app/equipment/board", get(board_page))
        .route(
            "/app/equipment/board/stream",
            get(crate::board::board_stream),
        )
        .route("/app/equipment/jobs", get(jobs_page))
        .route("/app/equipment/incidents/{id}", get(incident_page))
        .route(
            "/app/equipment/incidents/{id}/transition",
            post(transition_submit),
        )
        .merge(oversight::routes())
}

type PageResult = Result<Response, PageError>;

fn d(x: Option<chrono::NaiveDate>) -> String {
    x.map(|d| d.to_string()).unwrap_or_default()
}

fn local(t: Option<DateTime<Utc>>) -> String {
    t.map(qcity_platform::time::format_local)
        .unwrap_or_default()
}

/// Districts (and the city) the principal may pick.
async fn region_options(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
) -> Result<Vec<(String, String)>, PageError> {
    let t = lang.tr();
    let rs = qcity_platform::store::regions::list_visible(&st.db, &p.scope).await?;
    Ok(rs
        .into_iter()
        .filter(|r| r.level == "city" || r.level == "district")
        .map(|r| {
            (
                r.code.clone(),
                format!("{} {}", r.code, t.pick(&r.name_zh, &r.name_en)),
            )
        })
        .collect())
}

// ---------------------------------------------------------------- registry

#[derive(Template)]
#[template(path = "equipment_registry.html")]
struct RegistryTpl {
    ctx: PageCtx,
    items: Vec<Row>,
    total: u64,
    page: u64,
    pages: u64,
    f: FilterEcho,
    regions: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    query: String,
    can_import: bool,
}

struct Row {
    id: i64,
    rescue_code: String,
    equipment_code: String,
    category: String,
    name: String,
    address: String,
    use_unit: String,
    company: String,
    next_due: String,
    status: String,
    must_not_use: bool,
    age: String,
}

#[derive(Default)]
struct FilterEcho {
    category: String,
    region: String,
    status: String,
    due: String,
    q: String,
}

fn row(e: &Equipment, lang: ReqLang) -> Row {
    let t = lang.tr();
    Row {
        id: e.id,
        rescue_code: e.rescue_code.clone().unwrap_or_default(),
        equipment_code: e.equipment_code.clone().unwrap_or_default(),
        category: t.pick(&e.category_name_zh, &e.category_name_en).to_string(),
        name: e.name.clone(),
        address: e.address.clone(),
        use_unit: e.use_unit.clone(),
        company: t
            .pick(
                e.company_name_zh.as_deref().unwrap_or(""),
                e.company_name_en.as_deref().unwrap_or(""),
            )
            .to_string(),
        next_due: d(e.next_inspection_due),
        status: t.t(&format!("equipment-status-{}", e.status)),
        must_not_use: e.must_not_use,
        age: e.age_years.map(|a| a.to_string()).unwrap_or_default(),
    }
}

fn categories(lang: ReqLang) -> Vec<(String, String)> {
    let t = lang.tr();
    crate::domain::Category::ALL
        .iter()
        .map(|c| {
            (
                c.code().to_string(),
                format!("{} {}", c.code(), t.pick(c.name_zh(), c.name_en())),
            )
        })
        .collect()
}

fn qs(f: &EquipmentFilter) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("category", &f.category),
        ("region", &f.region),
        ("status", &f.status),
        ("due", &f.due),
        ("q", &f.q),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", qcity_platform::web::urlencode(v)));
        }
    }
    parts.join("&")
}

async fn registry_page(
    Page(st, p, lang, csrf): Page,
    Query(mut f): Query<EquipmentFilter>,
) -> PageResult {
    let s = api::view(&p)?;
    f.limit = Some(50);
    let (items, total) = registry::list_equipment(&st.db, &s, &f).await?;
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/equipment/registry",
        "equipment-registry-title",
    )
    .await?;
    let tpl = RegistryTpl {
        items: items.iter().map(|e| row(e, lang)).collect(),
        total,
        page: u64::from(f.page.unwrap_or(0)),
        pages: total.div_ceil(50).max(1),
        f: FilterEcho {
            category: f.category.clone().unwrap_or_default(),
            region: f.region.clone().unwrap_or_default(),
            status: f.status.clone().unwrap_or_default(),
            due: f.due.clone().unwrap_or_default(),
            q: f.q.clone().unwrap_or_default(),
        },
        regions: region_options(&st, &p, lang).await?,
        categories: categories(lang),
        query: qs(&f),
        can_import: p.can(Capability::ManageEquipment),
        ctx,
    };
    Ok(render(&tpl)?.into_response())
}

#[derive(Template)]
#[template(path = "equipment_detail.html")]
struct DetailTpl {
    ctx: PageCtx,
    e: Equipment,
    r: Row,
    attributes: Vec<(String, String)>,
    inspections: Vec<registry::Inspection>,
    plan: Option<registry::InspectionPlan>,
    incidents: Vec<IncidentRow>,
    can_inspect: bool,
    can_maintain: bool,
    today: String,
    message: String,
}

#[derive(Deserialize, Default)]
struct Msg {
    msg: Option<String>,
}

async fn detail_page(
    Page(st, p, lang, csrf): Page,
    Path(id): Path<i64>,
    Query(m): Query<Msg>,
) -> PageResult {
    let s = api::view(&p)?;
    let e = registry::equipment(&st.db, &s, id)
        .await?
        .ok_or_else(|| AppError::NotFound("equipment".into()))?;
    let attributes = match &e.attributes {
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string().trim_matches('"').to_string()))
            .collect(),
        _ => Vec::new(),
    };
    let inspections = registry::inspections_of(&st.db, p.city_id, id).await?;
    let plan = registry::inspection_plan(&st.db, p.city_id, &e).await?;
    let incs = crate::sql::all(&st.db, "SELECT id FROM eq_incidents WHERE city_id = ? AND equipment_id = ? ORDER BY received_at DESC LIMIT 20", vec![p.city_id.into(), id.into()]).await?;
    let mut incidents = Vec::new();
    for r in incs {
        let iid: i64 = r.try_get("", "id").map_err(AppError::internal)?;
        if let Some(i) = incidents::get(&st.db, &s, iid, false).await? {
            incidents.push(incident_row(&i, lang));
        }
    }
    let mut ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/equipment/registry",
        "equipment-detail-title",
    )
    .await?;
    ctx.title = format!("{} · {}", ctx.title, e.name);
    let tpl = DetailTpl {
        r: row(&e, lang),
        e,
        attributes,
        inspections,
        plan,
        incidents,
        can_inspect: p.can(Capability::RecordInspections),
        can_maintain: p.can(Capability::RecordMaintenance),
        today: registry::today().to_string(),
        message: m.msg.unwrap_or_default(),
        ctx,
    };
    Ok(render(&tpl)?.into_response())
}

/// A form's `YYYY-MM-DD` date field.
fn form_date(v: &str, field: &str) -> Result<chrono::NaiveDate, AppError> {
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| AppError::validation(field, "YYYY-MM-DD"))
}

#[derive(Deserialize)]
struct InspectionForm {
    inspected_on: String,
    conclusion: String,
    #[serde(default)]
    defects: String,
    #[serde(default)]
    inspector: String,
    #[serde(default)]
    kind: Option<String>,
}

async fn inspection_submit(
    Page(st, p, ..): Page,
    Path(id): Path<i64>,
    Form(f): Form<InspectionForm>,
) -> PageResult {
    p.require(Capability::RecordInspections)?;
    let n = registry::NewInspection {
        inspected_on: form_date(&f.inspected_on, "inspected_on")?,
        conclusion: f.conclusion,
        defects: f.defects.lines().map(str::to_string).collect(),
        inspector: f.inspector,
        kind: f.kind.filter(|k| !k.is_empty()),
    };
    service::record_inspection(&st.db, &p, id, &n).await?;
    Ok(Redirect::to(&format!("/app/equipment/registry/{id}?msg=saved")).into_response())
}

#[derive(Deserialize)]
struct MaintenanceForm {
    done_on: String,
    kind: String,
    #[serde(default)]
    engineer: String,
    #[serde(default)]
    notes: String,
}

async fn maintenance_submit(
    Page(st, p, ..): Page,
    Path(id): Path<i64>,
    Form(f): Form<MaintenanceForm>,
) -> PageResult {
    p.require(Capability::RecordMaintenance)?;
    let n = registry::NewMaintenance {
        done_on: form_date(&f.done_on, "done_on")?,
        kind: f.kind,
        engineer: f.engineer,
        notes: f.notes,
    };
    service::record_maintenance(&st.db, &p, id, &n).await?;
    Ok(Redirect::to(&format!("/app/equipment/registry/{id}?msg=saved")).into_response())
}

// ---------------------------------------------------------------- intake

#[derive(Template)]
#[template(path = "equipment_intake.html")]
struct IntakeTpl {
    ctx: PageCtx,
    q: String,
    results: Vec<Row>,
    chosen: Option<(Row, Equipment)>,
    open: Vec<IncidentRow>,
    error: String,
    idem: String,
}

#[derive(Deserialize, Default)]
struct IntakeQuery {
    q: Option<String>,
    id: Option<i64>,
    error: Option<String>,
}

async fn intake_page(Page(st, p, lang, csrf): Page, Query(q): Query<IntakeQuery>) -> PageResult {
    p.require(Capability::DispatchIncidents)?;
    let s = Scope::of(&p);
    let text = q.q.clone().unwrap_or_default().trim().to_string();
    let mut results = Vec::new();
    let mut chosen = None;
    if let Some(id) = q.id {
        chosen = registry::equipment(&st.db, &s, id).await?;
    } else if !text.is_empty() {
        if let Some(e) = registry::by_rescue_code(&st.db, &s, &text).await? {
            chosen = Some(e);
        } else {
            let f = EquipmentFilter {
                q: Some(text.clone()),
                category: Some("3000".into()),
                limit: Some(20),
                ..Default::default()
            };
            let (items, _) = registry::list_equipment(&st.db, &s, &f).await?;
            if items.len() == 1 {
                chosen = items.into_iter().next();
            } else {
                results = items.iter().map(|e| row(e, lang)).collect();
            }
        }
    }
    let mut open = Vec::new();
    if let Some(e) = &chosen {
        for i in incidents::list(&st.db, &s, &IncidentFilter::default()).await? {
            if i.equipment_id == e.id {
                open.push(incident_row(&i, lang));
            }
        }
    }
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/equipment/intake",
        "equipment-intake-title",
    )
    .await?;
    let tpl = IntakeTpl {
        ctx,
        q: text,
        results,
        chosen: chosen.map(|e| (row(&e, lang), e)),
        open,
        error: q.error.unwrap_or_default(),
        idem: qcity_platform::ids::random_token(12),
    };
    Ok(render(&tpl)?.into_response())
}

#[derive(Deserialize)]
struct IntakeForm {
    rescue_code: String,
    channel: String,
    #[serde(default)]
    caller_phone: String,
    /// One per form render, so a double submit creates one incident.
    #[serde(default)]
    idem: String,
}

async fn intake_submit(Page(st, p, ..): Page, Form(f): Form<IntakeForm>) -> PageResult {
    p.require(Capability::DispatchIncidents)?;
    let n = NewIncident {
        rescue_code: f.rescue_code.clone(),
        channel: f.channel,
        caller_phone: f.caller_phone,
    };
    let opts = IntakeOpts {
        idem_key: (!f.idem.is_empty()).then(|| format!("web:{}", f.idem)),
        ..Default::default()
    };
    let gc = incidents::intake_writer(&st);
    match incidents::create_grouped(&gc, &st.db, &Scope::of(&p), &Actor::from(&p), &n, &opts).await
    {
        Ok((i, _)) => {
            Ok(Redirect::to(&format!("/app/equipment/incidents/{}", i.id)).into_response())
        }
        Err(qcity_platform::store::StoreError::Invalid { field, message }) => {
            Ok(Redirect::to(&format!(
                "/app/equipment/intake?q={}&error={}",
                qcity_platform::web::urlencode(&f.rescue_code),
                qcity_platform::web::urlencode(&format!("{field}: {message}"))
            ))
            .into_response())
        }
        Err(e) => Err(AppError::from(e).into()),
    }
}

// ---------------------------------------------------------------- board and incidents

/// What the board shows per incident (also the SSE payload).
#[derive(Debug, Clone, Serialize)]
pub struct IncidentRow {
    pub id: i64,
    pub version: i32,
    pub rescue_code: String,
    pub address: String,
    pub state: String,
    pub state_label: String,
    pub channel: String,
    pub level: i32,
    pub company: String,
    pub duty_phone: String,
    pub received: String,
    /// The running timer: what it measures and when it runs out.
    pub timer_label: String,
    pub deadline: Option<DateTime<Utc>>,
    pub propose_l3: bool,
    pub next: Vec<(String, String)>,
}

pub(crate) fn incident_row(i: &Incident, lang: ReqLang) -> IncidentRow {
    let t = lang.tr();
    let st = FsmState::parse(&i.state);
    let (label, deadline) = match st {
        Some(FsmState::Received | FsmState::Located | FsmState::Reassured) => {
            ("equipment-timer-dispatch", i.deadlines.dispatch_by)
        }
        Some(FsmState::Dispatched | FsmState::EscalatedL2) if i.deadlines.ack_by.is_some() => {
            ("equipment-timer-ack", i.deadlines.ack_by)
        }
        Some(s) if s.awaits_arrival() => ("equipment-timer-arrive", i.deadlines.arrive_by),
        _ => ("", None),
    };
    IncidentRow {
        id: i.id,
        version: i.version,
        rescue_code: i.rescue_code.clone(),
        address: i.address.clone(),
        state: i.state.clone(),
        state_label: t.t(&format!("equipment-state-{}", i.state)),
        channel: t.t(&format!("equipment-channel-{}", i.channel)),
        level: i.level,
        company: t
            .pick(
                i.company_name_zh.as_deref().unwrap_or(""),
                i.company_name_en.as_deref().unwrap_or(""),
            )
            .to_string(),
        duty_phone: i.company_duty_phone.clone().unwrap_or_default(),
        received: local(i.times.received_at),
        timer_label: if label.is_empty() {
            String::new()
        } else {
            t.t(label)
        },
        deadline,
        propose_l3: i.propose_l3,
        next: i
            .next
            .iter()
            .map(|n| (n.clone(), t.t(&format!("equipment-state-{n}"))))
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "equipment_board.html")]
struct BoardTpl {
    ctx: PageCtx,
    rows: Vec<IncidentRow>,
    initial: String,
}

pub(crate) fn board_json(rows: &[IncidentRow], iot: &[i64]) -> serde_json::Value {
    serde_json::json!({"now": Utc::now(), "incidents": rows, "iot": iot})
}

async fn board_rows(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
) -> Result<(Vec<IncidentRow>, Vec<i64>), AppError> {
    let list = incidents::list(&st.db, &Scope::of(p), &IncidentFilter::default()).await?;
    let iot = list
        .iter()
        .filter(|i| i.channel == "iot")
        .map(|i| i.id)
        .collect();
    Ok((list.iter().map(|i| incident_row(i, lang)).collect(), iot))
}

async fn board_page(Page(st, p, lang, csrf): Page) -> PageResult {
    p.require(Capability::DispatchIncidents)?;
    let (rows, iot) = board_rows(&st, &p, lang).await?;
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/equipment/board",
        "equipment-board-title",
    )
    .await?;
    let initial = embed_json(&board_json(&rows, &iot));
    Ok(render(&BoardTpl { ctx, rows, initial })?.into_response())
}

#[derive(Template)]
#[template(path = "equipment_incident.html")]
struct IncidentTpl {
    ctx: PageCtx,
    r: IncidentRow,
    i: Incident,
    timeline: Vec<(String, String, String, String, String, String)>,
    causes: Vec<(String, String)>,
    companies: Vec<(i64, String)>,
    maintainer: bool,
    message: String,
}

async fn incident_page(
    Page(st, p, lang, csrf): Page,
    Path(id): Path<i64>,
    Query(m): Query<Msg>,
) -> PageResult {
    let s = api::view(&p)?;
    let i = incidents::get(&st.db, &s, id, true)
        .await?
        .ok_or_else(|| AppError::NotFound("incident".into()))?;
    let t = lang.tr();
    let timeline = i
        .timeline
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            (
                local(Some(e.at)),
                if e.kind == "alert" {
                    t.t("equipment-alert")
                } else {
                    e.from
                        .as_deref()
                        .map(|f| t.t(&format!("equipment-state-{f}")))
                        .unwrap_or_default()
                },
                t.t(&format!("equipment-state-{}", e.to)),
                e.actor,
                e.channel,
                e.note,
            )
        })
        .collect();
    let causes = incidents::CAUSES
        .iter()
        .map(|(k, zh, en)| (k.to_string(), t.pick(zh, en).to_string()))
        .collect();
    let companies = registry::companies(&st.db, p.city_id)
        .await?
        .into_iter()
        .map(|c| (c.id, t.pick(&c.name_zh, &c.name_en).to_string()))
        .collect();
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/equipment/board",
        "equipment-incident-title",
    )
    .await?;
    let mut r = incident_row(&i, lang);
    if p.role == qcity_platform::auth::Role::Maintainer {
        r.next.retain(|(n, _)| {
            matches!(
                n.as_str(),
                "acknowledged" | "on_scene" | "released" | "cause_reported"
            )
        });
    }
    Ok(render(&IncidentTpl {
        ctx,
        r,
        i,
        timeline,
        causes,
        companies,
        maintainer: p.role == qcity_platform::auth::Role::Maintainer,
        message: m.msg.unwrap_or_default(),
    })?
    .into_response())
}

#[derive(Deserialize)]
struct TransitionForm {
    to: String,
    version: i32,
    #[serde(default)]
    note: String,
    cause_code: Option<String>,
    company_id: Option<String>,
    back: Option<String>,
}

async fn transition_submit(
    Page(st, p, ..): Page,
    Path(id): Path<i64>,
    Form(f): Form<TransitionForm>,
) -> PageResult {
    p.require_any(&[Capability::DispatchIncidents, Capability::RespondIncidents])?;
    let req = TransitionReq {
        to: f.to,
        version: Some(f.version),
        note: f.note,
        cause_code: f.cause_code.filter(|c| !c.is_empty()),
        company_id: f.company_id.and_then(|c| c.parse().ok()),
    };
    let back = match f.back.as_deref() {
        Some("jobs") => "/app/equipment/jobs".to_string(),
        _ => format!("/app/equipment/incidents/{id}"),
    };
    let actor = incidents::Actor::of(&p, "web");
    match incidents::transition(&st.db, &Scope::of(&p), &actor, id, &req).await {
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(qcity_platform::store::StoreError::Conflict { detail: m, .. })
        | Err(qcity_platform::store::StoreError::Invalid { message: m, .. }) => {
            let sep = if back.contains('?') { '&' } else { '?' };
            Ok(Redirect::to(&format!(
                "{back}{sep}msg={}",
                qcity_platform::web::urlencode(&m)
            ))
            .into_response())
        }
        Err(e) => Err(AppError::from(e).into()),
    }
}

#[derive(Template)]
#[template(path = "equipment_jobs.html")]
struct JobsTpl {
    ctx: PageCtx,
    rows: Vec<IncidentRow>,
    causes: Vec<(String, String)>,
    bound: bool,
    message: String,
}

async fn jobs_page(Page(st, p, lang, csrf): Page, Query(m): Query<Msg>) -> PageResult {
    p.require(Capability::RespondIncidents)?;
    let s = Scope::of(&p);
    let mut list = incidents::list(&st.db, &s, &IncidentFilter::default()).await?;
    list.retain(|i| !matches!(i.state.as_str(), "received" | "located" | "reassured"));
    let t = lang.tr();
    let rows = list
        .iter()
        .map(|i| {
            let mut r = incident_row(i, lang);
            r.next.retain(|(n, _)| {
                matches!(
                    n.as_str(),
                    "acknowledged" | "on_scene" | "released" | "cause_reported"
                )
            });
            r
        })
        .collect();
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/equipment/jobs",
        "equipment-jobs-title",
    )
    .await?;
    let causes = incidents::CAUSES
        .iter()
        .map(|(k, zh, en)| (k.to_string(), t.pick(zh, en).to_string()))
        .collect();
    Ok(render(&JobsTpl {
        ctx,
        rows,
        causes,
        bound: s.owner != Owner::Nobody,
        message: m.msg.unwrap_or_default(),
    })?
    .into_response())
}

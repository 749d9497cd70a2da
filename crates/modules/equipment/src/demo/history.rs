//! The demo's year of history: trappings, inspections and maintenance month by month, resumable
//! (each finished month is recorded), with progress on the demo job.

use super::*;

pub(super) async fn load_plans(db: &DatabaseConnection, cid: i64) -> R<Vec<ElevatorPlan>> {
    let companies = company_ids(db, cid).await?;
    let t = today();
    let rows = all(db, "SELECT id, company_id, region_code, rescue_code, manufacture_date, last_inspection_on, last_conclusion, next_inspection_due FROM eq_equipment WHERE city_id = ? AND category = '3000' ORDER BY id", vec![cid.into()]).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let comp: Option<i64> = r.try_get("", "company_id")?;
        let m: Option<NaiveDate> = r.try_get("", "manufacture_date")?;
        let c: Option<String> = r.try_get("", "last_conclusion")?;
        out.push(ElevatorPlan {
            id: r.try_get("", "id")?,
            company: comp
                .and_then(|c| companies.iter().position(|x| *x == c))
                .unwrap_or(0),
            region: r.try_get("", "region_code")?,
            rescue: r
                .try_get::<Option<String>>("", "rescue_code")?
                .unwrap_or_default(),
            age: m.map(|m| crate::registry::years_between(m, t)).unwrap_or(0),
            last_inspection: r.try_get("", "last_inspection_on")?,
            next_due: r.try_get("", "next_inspection_due")?,
            conclusion: match c.as_deref() {
                Some("fail") => "fail",
                Some("recheck_pass") => "recheck_pass",
                _ => "pass",
            },
        });
    }
    Ok(out)
}

/// Hour of day (China Standard Time) skewed as in Qingdao: 06–12 and 18–22 carry ~75 %.
fn trapping_hour(rng: &mut DemoRng) -> u32 {
    let r = rng.f64();
    if r < 0.45 {
        6 + rng.below(6) as u32
    } else if r < 0.75 {
        18 + rng.below(4) as u32
    } else {
        let others = [0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17, 22, 23];
        *rng.pick(&others)
    }
}

fn cause(rng: &mut DemoRng) -> &'static str {
    let r = rng.f64();
    let cum = [
        (0.52, 0),
        (0.66, 1),
        (0.74, 2),
        (0.79, 3),
        (0.91, 4),
        (0.95, 5),
        (1.0, 6),
    ];
    let i = cum.iter().find(|(p, _)| r < *p).map(|x| x.1).unwrap_or(6);
    CAUSES[i].0
}

pub(super) async fn seed_history(
    db: &DatabaseConnection,
    cid: i64,
    seed: u64,
    plans: &[ElevatorPlan],
    companies: &[i64],
    job: &qcity_platform::jobs::JobHandle,
) -> R<()> {
    let t = today();
    let start_month = t
        .with_day0(0)
        .unwrap_or(t)
        .checked_sub_months(Months::new(11))
        .unwrap_or(t);
    let done_month: i32 = one(
        db,
        "SELECT value FROM eq_settings WHERE city_id = ? AND key = 'demo_history_month'",
        vec![cid.into()],
    )
    .await?
    .and_then(|r| r.try_get::<String>("", "value").ok())
    .and_then(|v| v.parse().ok())
    .unwrap_or(-1);
    // Company positions for level-2 escalation.
    let cpos: Vec<(f64, f64)> = {
        let mut v = Vec::new();
        for id in companies {
            let r = one(
                db,
                "SELECT lon, lat FROM eq_companies WHERE city_id = ? AND id = ?",
                vec![cid.into(), (*id).into()],
            )
            .await?;
            v.push(
                r.map(|r| {
                    (
                        r.try_get::<Option<f64>>("", "lon")
                            .ok()
                            .flatten()
                            .unwrap_or(0.0),
                        r.try_get::<Option<f64>>("", "lat")
                            .ok()
                            .flatten()
                            .unwrap_or(0.0),
                    )
                })
                .unwrap_or((0.0, 0.0)),
            );
        }
        v
    };
    let urban: std::collections::HashMap<String, bool> = all(
        db,
        "SELECT code, urban FROM regions WHERE city_id = ? AND level = 'district'",
        vec![cid.into()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.try_get("", "code")?, r.try_get("", "urban")?)))
    .collect::<R<_>>()?;
    for m in 0..12i32 {
        if m <= done_month {
            job.set_done((m + 1) as u64);
            continue;
        }
        let mut rng = DemoRng::stream(seed, &format!("equipment.history.{m}"));
        let month_start = start_month
            .checked_add_months(Months::new(m as u32))
            .unwrap_or(t);
        let month_end = month_start
            .checked_add_months(Months::new(1))
            .unwrap_or(t)
            .min(t + Duration::days(1));
        let days = (month_end - month_start).num_days().max(1);
        let txn = db.begin_write().await?;
        // Inspections whose date falls in this month.
        let mut insp = Vec::new();
        for (p, on) in plans
            .iter()
            .filter_map(|p| Some((p, p.last_inspection?)))
            .filter(|(_, d)| *d >= month_start && *d < month_end)
        {
            let defects = if p.conclusion == "pass" {
                Vec::new()
            } else {
                vec![
                    "层门门锁啮合长度不足".to_string(),
                    "轿厢应急照明失效".to_string(),
                ]
            };
            let rect = if defects.is_empty() {
                "none"
            } else if p.conclusion == "recheck_pass" {
                "closed"
            } else {
                "open"
            };
            insp.push(vec![
                cid.into(),
                qcity_platform::ids::new_id().into(),
                p.id.into(),
                on.into(),
                p.conclusion.into(),
                serde_json::to_string(&defects).unwrap_or_default().into(),
                rect.into(),
                (rect == "closed").then(|| on + Duration::days(20)).into(),
                "示范市特种设备检验院".into(),
                p.next_due.into(),
                sql::now().into(),
            ]);
        }
        insert_many(
            &txn,
            "eq_inspections",
            &[
                "city_id",
                "id",
                "equipment_id",
                "inspected_on",
                "conclusion",
                "defects",
                "rectification",
                "rectified_on",
                "inspector",
                "next_due",
                "created_at",
            ],
            insp,
            500,
        )
        .await?;
        // Half-monthly maintenance (the negligent company skips many).
        let mut maint = Vec::new();
        for p in plans {
            for half in 0..2 {
                let day = month_start + Duration::days(half * 15 + rng.below(10) as i64);
                if day >= t || day >= month_end {
                    continue;
                }
                if p.company == NEGLIGENT && rng.chance(0.4) {
                    continue;
                }
                let kind = if half == 0 && m % 3 == 0 {
                    "quarter"
                } else {
                    "half_month"
                };
                maint.push(vec![
                    cid.into(),
                    qcity_platform::ids::new_id().into(),
                    p.id.into(),
                    companies[p.company].into(),
                    day.into(),
                    kind.into(),
                    format!("工程师{:03}", p.company * 40 + rng.below(40) as usize).into(),
                    "".into(),
                    sql::now().into(),
                ]);
            }
        }
        insert_many(
            &txn,
            "eq_maintenance",
            &[
                "city_id",
                "id",
                "equipment_id",
                "company_id",
                "done_on",
                "kind",
                "engineer",
                "notes",
                "created_at",
            ],
            maint,
            1000,
        )
        .await?;
        // 96333 incidents: ~1 trapping per 100 elevators per month, old elevators more often.
        let mut incs = Vec::new();
        let mut events = Vec::new();
        for p in plans {
            let rate = 0.01 * days as f64 / 30.0
                * if p.age >= 15 { 1.6 } else { 0.85 }
                * if p.company == NEGLIGENT { 1.5 } else { 1.0 };
            if !rng.chance(rate * 1.15) {
                continue;
            }
            let day = month_start + Duration::days(rng.below(days as u64) as i64);
            let hour = trapping_hour(&mut rng);
            let Some(local) = day.and_hms_opt(hour, rng.below(60) as u32, rng.below(60) as u32)
            else {
                continue;
            };
            let received: DateTime<Utc> =
                qcity_platform::time::from_local(local).unwrap_or_else(Utc::now);
            if received >= sql::now() - Duration::hours(2) {
                continue;
            }
            let urban_d = urban
                .get(&p.region.chars().take(6).collect::<String>())
                .copied()
                .unwrap_or(true);
            let timers = crate::fsm::Timers::default_for(urban_d);
            let id = qcity_platform::ids::new_id();
            let negligent = p.company == NEGLIGENT;
            let channel = if rng.chance(0.2) {
                "iot"
            } else if rng.chance(0.15) {
                "in_car"
            } else {
                "phone"
            };
            let side = rng.f64();
            let mut ev: Vec<(DateTime<Utc>, &str, &str, String, String)> = Vec::new();
            let dispatcher = "dispatcher".to_string();
            ev.push((received, "", "received", dispatcher.clone(), String::new()));
            let located = received + Duration::seconds(20 + rng.below(60) as i64);
            ev.push((
                located,
                "received",
                "located",
                dispatcher.clone(),
                String::new(),
            ));
            let mut state = "closed";
            let mut level = 1;
            let mut company = companies[p.company];
            let (mut dispatched, mut acked, mut onscene, mut released, mut confirmed) =
                (None, None, None, None, None);
            let closed;
            let mut cause_code = None;
            if side < 0.06 {
                state = if side < 0.03 {
                    "cancelled"
                } else {
                    "false_alarm"
                };
                let at = located + Duration::seconds(60 + rng.below(200) as i64);
                ev.push((
                    at,
                    "located",
                    state,
                    dispatcher.clone(),
                    "自行恢复 / 误报".into(),
                ));
                closed = Some(at);
            } else if side < 0.13 {
                state = "not_trapped";
                let at = located + Duration::seconds(60 + rng.below(120) as i64);
                ev.push((
                    at,
                    "located",
                    state,
                    dispatcher.clone(),
                    "无人被困, 转维修工单".into(),
                ));
                closed = Some(at);
            } else {
                let d = located + Duration::seconds(30 + rng.below(150) as i64);
                dispatched = Some(d);
                ev.push((
                    d,
                    "located",
                    "dispatched",
                    dispatcher.clone(),
                    String::new(),
                ));
                let slow = negligent && rng.chance(0.35) || rng.chance(0.01);
                let mut from = "dispatched";
                let mut ack_at = d + Duration::seconds(if slow {
                    200 + rng.below(200) as i64
                } else {
                    20 + rng.below(140) as i64
                });
                if slow && rng.chance(0.6) {
                    // Missed acknowledgement: level 2, the nearest other unit.
                    let esc = d + Duration::seconds(timers.ack_secs);
                    level = 2;
                    let (ex, ey) = cpos[p.company];
                    let other = (0..companies.len())
                        .filter(|i| *i != p.company)
                        .min_by(|a, b| {
                            let da = (cpos[*a].0 - ex).powi(2) + (cpos[*a].1 - ey).powi(2);
                            let db = (cpos[*b].0 - ex).powi(2) + (cpos[*b].1 - ey).powi(2);
                            da.total_cmp(&db)
                        })
                        .unwrap_or(0);
                    company = companies[other];
                    ev.push((
                        esc,
                        "dispatched",
                        "escalated_l2",
                        "system".into(),
                        "确认超时, 自动升级".into(),
                    ));
                    from = "escalated_l2";
                    ack_at = esc + Duration::seconds(30 + rng.below(100) as i64);
                }
                acked = Some(ack_at);
                ev.push((
                    ack_at,
                    from,
                    "acknowledged",
                    "maintainer".into(),
                    String::new(),
                ));
                let mean_min = if negligent { 22.0 } else { 11.0 };
                let arr_min = (mean_min * (0.35 * rng.normal()).exp()).clamp(3.0, 90.0);
                let arr = (d + Duration::seconds((arr_min * 60.0) as i64))
                    .max(ack_at + Duration::seconds(60));
                onscene = Some(arr);
                ev.push((
                    arr,
                    "acknowledged",
                    "on_scene",
                    "maintainer".into(),
                    String::new(),
                ));
                let rel = arr
                    + Duration::seconds(
                        (60.0 * (5.0 * (0.4 * rng.normal()).exp()).clamp(1.0, 40.0)) as i64,
                    );
                released = Some(rel);
                ev.push((
                    rel,
                    "on_scene",
                    "released",
                    "maintainer".into(),
                    String::new(),
                ));
                let conf = rel + Duration::seconds(120 + rng.below(600) as i64);
                confirmed = Some(conf);
                ev.push((
                    conf,
                    "released",
                    "confirmed",
                    dispatcher.clone(),
                    "已回访".into(),
                ));
                let cc = cause(&mut rng);
                cause_code = Some(cc.to_string());
                let cr = conf + Duration::hours(2 + rng.below(20) as i64);
                ev.push((
                    cr,
                    "confirmed",
                    "cause_reported",
                    "maintainer".into(),
                    cc.into(),
                ));
                let cl = cr + Duration::minutes(5 + rng.below(60) as i64);
                ev.push((
                    cl,
                    "cause_reported",
                    "closed",
                    dispatcher.clone(),
                    String::new(),
                ));
                closed = Some(cl);
            }
            let secs = |a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>| match (a, b) {
                (Some(a), Some(b)) => Some((b - a).num_seconds() as i32),
                _ => None,
            };
            let last = ev.last().map(|e| e.0).unwrap_or(received);
            incs.push(vec![
                cid.into(),
                id.into(),
                p.id.into(),
                p.region.clone().into(),
                p.rescue.clone().into(),
                channel.into(),
                if channel == "phone" {
                    format!("139{:08}", rng.below(100_000_000))
                } else {
                    String::new()
                }
                .into(),
                state.into(),
                level.into(),
                Some(companies[p.company]).into(),
                Some(company).into(),
                (ev.len() as i32 - 1).into(),
                (timers.dispatch_secs as i32).into(),
                (timers.ack_secs as i32).into(),
                (timers.arrive_secs as i32).into(),
                received.into(),
                Some(located).into(),
                dispatched.into(),
                acked.into(),
                onscene.into(),
                released.into(),
                confirmed.into(),
                closed.into(),
                last.into(),
                Option::<DateTime<Utc>>::None.into(),
                Option::<DateTime<Utc>>::None.into(),
                Option::<DateTime<Utc>>::None.into(),
                false.into(),
                false.into(),
                cause_code.into(),
                Option::<String>::None.into(),
                Option::<String>::None.into(),
                (channel == "iot").then(|| "02".to_string()).into(),
                secs(dispatched, acked).into(),
                secs(dispatched, onscene).into(),
                secs(onscene, released).into(),
                local_hour(received).into(),
                "demo".into(),
            ]);
            for (seq, (at, from, to, actor, note)) in ev.into_iter().enumerate() {
                events.push(vec![
                    cid.into(),
                    id.into(),
                    (seq as i32 + 1).into(),
                    at.into(),
                    "transition".into(),
                    (!from.is_empty()).then(|| from.to_string()).into(),
                    to.into(),
                    actor.into(),
                    if seq == 0 { channel } else { "web" }.into(),
                    note.into(),
                ]);
            }
        }
        insert_many(
            &txn,
            "eq_incidents",
            &[
                "city_id",
                "id",
                "equipment_id",
                "region_code",
                "rescue_code",
                "channel",
                "caller_phone",
                "state",
                "level",
                "l1_company_id",
                "company_id",
                "version",
                "dispatch_secs",
                "ack_limit_secs",
                "arrive_limit_secs",
                "received_at",
                "located_at",
                "dispatched_at",
                "acknowledged_at",
                "on_scene_at",
                "released_at",
                "confirmed_at",
                "closed_at",
                "last_event_at",
                "dispatch_by",
                "ack_by",
                "arrive_by",
                "arrival_alerted",
                "propose_l3",
                "cause_code",
                "idem_key",
                "open_guard",
                "alarm_code",
                "ack_secs",
                "arrive_secs",
                "rescue_secs",
                "received_hour",
                "created_by",
            ],
            incs,
            200,
        )
        .await?;
        insert_many(
            &txn,
            "eq_incident_events",
            &[
                "city_id",
                "incident_id",
                "seq",
                "at",
                "kind",
                "from_state",
                "to_state",
                "actor",
                "channel",
                "note",
            ],
            events,
            1000,
        )
        .await?;
        exec(
            &txn,
            "DELETE FROM eq_settings WHERE city_id = ? AND key = 'demo_history_month'",
            vec![cid.into()],
        )
        .await?;
        exec(
            &txn,
            "INSERT INTO eq_settings (city_id, key, value) VALUES (?, 'demo_history_month', ?)",
            vec![cid.into(), m.to_string().into()],
        )
        .await?;
        txn.commit().await?;
        job.set_done((m + 1) as u64);
        tokio::task::yield_now().await;
    }
    exec(
        db,
        "INSERT INTO eq_settings (city_id, key, value) VALUES (?, 'demo_history_done', '1')",
        vec![cid.into()],
    )
    .await?;
    Ok(())
}

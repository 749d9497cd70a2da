//! 96333 KPIs of a region and period: trapping rate, acknowledgement within 3 minutes, arrival
//! within 30 minutes, arrival and rescue times (mean, 90th percentile), the level, cause and
//! hour mixes, the ranking of maintenance companies, and inspection on time; with the China
//! Standard Time month, year and hour they count in.

use super::R;
use crate::registry::{self, EQUIPMENT_OWNER};
use crate::sql::{all, like, one};
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use qcity_platform::store::StoreError;
use qcity_platform::{OwnerColumns, Scope};
use sea_orm::{ConnectionTrait, Value};
use serde::Serialize;
use std::collections::BTreeMap;

/// Local (China Standard Time) hour of a UTC time.
pub fn local_hour(t: DateTime<Utc>) -> i32 {
    qcity_platform::time::local(t).hour() as i32
}

/// A month `YYYY-MM` as a UTC range of China Standard Time days.
pub fn month_range(month: &str) -> R<(DateTime<Utc>, DateTime<Utc>)> {
    let d = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_err(|_| StoreError::invalid("month", "YYYY-MM"))?;
    let years = qcity_platform::web::api_extract::YEARS;
    if !years.contains(&d.year()) {
        return Err(StoreError::invalid(
            "month",
            format!("the year must lie in {}–{}", years.start(), years.end()),
        ));
    }
    let out_of_range = || StoreError::invalid("month", "out of range");
    let next = d
        .checked_add_months(chrono::Months::new(1))
        .ok_or_else(out_of_range)?;
    let start = |d: NaiveDate| qcity_platform::time::start_of_day(d).ok_or_else(out_of_range);
    Ok((start(d)?, start(next)?))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyKpi {
    pub company_id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub trappings: i64,
    pub ack_3min_rate: Option<f64>,
    pub arrive_30min_rate: Option<f64>,
    pub mean_arrival_min: Option<f64>,
    /// Rank 1 = best (arrival rate, then acknowledgement rate, then mean arrival).
    pub rank: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ElevatorKpis {
    pub region: String,
    /// The period: `YYYY-MM`, or `YYYY` for a year.
    pub period: String,
    pub elevators: i64,
    pub incidents: i64,
    pub trappings: i64,
    /// Trappings per 10,000 elevators per month.
    pub trapping_rate_per_10k: Option<f64>,
    /// Share of dispatches acknowledged within 3 minutes (%).
    pub ack_3min_rate: Option<f64>,
    /// Share of trappings with the rescuer on scene within 30 minutes of dispatch (%).
    pub arrive_30min_rate: Option<f64>,
    pub mean_arrival_min: Option<f64>,
    pub p90_arrival_min: Option<f64>,
    pub mean_rescue_min: Option<f64>,
    pub p90_rescue_min: Option<f64>,
    /// Level 1/2/3 counts.
    pub level_mix: BTreeMap<String, i64>,
    pub cause_mix: BTreeMap<String, i64>,
    /// Trappings by local hour 0–23.
    pub hour_mix: Vec<i64>,
    pub companies: Vec<CompanyKpi>,
}

fn pct(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| (n as f64 * 1000.0 / d as f64).round() / 10.0)
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let k = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[k.clamp(1, sorted.len()) - 1])
}

fn r1(x: Option<f64>) -> Option<f64> {
    x.map(|v| (v * 10.0).round() / 10.0)
}

/// `AND {col} >= prefix AND {col} < next` for a prefix of digits (region codes are): the range
/// equivalent to the scope clause's `LIKE 'prefix%'`, which an index on the column can use on
/// both backends (SQLite's `LIKE` is case-insensitive and PostgreSQL's follows the collation, so
/// neither uses a plain index for it). Nothing for another prefix.
fn region_range(col: &str, prefix: &str, v: &mut Vec<Value>) -> String {
    let mut w = String::new();
    if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()) {
        w.push_str(&format!(" AND {col} >= ?"));
        v.push(prefix.into());
        // The smallest string above every string starting with `prefix`: drop trailing 9s and
        // increment the last other digit (none left: no upper bound).
        let t = prefix.trim_end_matches('9');
        if let Some(last) = t.bytes().last() {
            let next = format!("{}{}", &t[..t.len() - 1], (last + 1) as char);
            w.push_str(&format!(" AND {col} < ?"));
            v.push(next.into());
        }
    }
    w
}

/// The owner column of the KPIs' incidents: a maintenance company's staff see the incidents of
/// the elevators it is contracted for (level 1), as the company ranking counts them.
const KPI_OWNER: OwnerColumns<'static> = OwnerColumns {
    company: Some("l1_company_id"),
    enterprise: None,
};

/// States that end an incident without anyone trapped: not counted as trappings.
const NOT_TRAPPED: &str = "('cancelled','false_alarm','not_trapped')";

/// KPIs for a region prefix over `[from, to)` spanning `months` months.
///
/// Computed in the database in a few passes over the period's incidents (index
/// `ix_eq_incidents_kpi` covers every column they read): one grouped by contracted company
/// (counts, rates, sums), one grouped by level, cause and hour (the mixes), and the nearest-rank
/// 90th percentiles of arrival and rescue times (`ORDER BY … LIMIT 1 OFFSET k-1`). The
/// elevator count reads only `ix_eq_equipment_kpi`.
pub async fn kpis(
    db: &impl ConnectionTrait,
    s: &Scope,
    region: &str,
    period: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    months: i64,
) -> R<ElevatorKpis> {
    let s = &s
        .within(region)
        .ok_or_else(|| StoreError::NotFound("region".into()))?;
    let mut v: Vec<Value> = Vec::new();
    let mut w = format!(
        "FROM eq_equipment e WHERE{} AND e.category = '3000' AND e.status = 'in_use'",
        s.clause("e", EQUIPMENT_OWNER, &mut v)
    );
    w.push_str(&region_range("e.region_code", s.prefix(), &mut v));
    let elevators: i64 = one(db, &format!("SELECT COUNT(*) AS n {w}"), v)
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);

    // The period's incidents in scope: `FROM eq_incidents i WHERE …` and its values.
    let mut v: Vec<Value> = Vec::new();
    let mut w = format!(
        "FROM eq_incidents i WHERE{}",
        s.clause("i", KPI_OWNER, &mut v)
    );
    w.push_str(" AND i.received_at >= ? AND i.received_at < ?");
    v.push(from.into());
    v.push(to.into());
    w.push_str(&region_range("i.region_code", s.prefix(), &mut v));

    // Per contracted company, in one pass.
    let rows = all(
        db,
        &format!(
            "SELECT l1_company_id AS comp, COUNT(*) AS n, SUM(tr) AS trappings, \
             SUM(CASE WHEN tr = 1 AND dispatched_at IS NOT NULL THEN 1 ELSE 0 END) AS dispatched, \
             SUM(CASE WHEN tr = 1 AND dispatched_at IS NOT NULL AND ack_secs <= 180 THEN 1 ELSE 0 END) AS ack_ok, \
             SUM(CASE WHEN tr = 1 AND arrive_secs IS NOT NULL THEN 1 ELSE 0 END) AS arr_n, \
             SUM(CASE WHEN tr = 1 AND arrive_secs <= 1800 THEN 1 ELSE 0 END) AS arr_ok, \
             SUM(CASE WHEN tr = 1 THEN arrive_secs END) AS arr_sum, \
             SUM(CASE WHEN tr = 1 AND rescue_secs IS NOT NULL THEN 1 ELSE 0 END) AS res_n, \
             SUM(CASE WHEN tr = 1 THEN rescue_secs END) AS res_sum \
             FROM (SELECT l1_company_id, dispatched_at, ack_secs, arrive_secs, rescue_secs, \
             CASE WHEN state IN {NOT_TRAPPED} THEN 0 ELSE 1 END AS tr {w}) x GROUP BY l1_company_id"
        ),
        v.clone(),
    )
    .await?;
    let mut incidents = 0;
    let mut trappings = 0;
    let (mut dispatched, mut ack_ok, mut arr_n, mut arr_ok) = (0i64, 0i64, 0i64, 0i64);
    let (mut arr_sum, mut res_n, mut res_sum) = (0i64, 0i64, 0i64);
    // company → (trappings, dispatched, ack ok, arrival n, arrival ok, arrival sum in s)
    let mut per: BTreeMap<i64, (i64, i64, i64, i64, i64, i64)> = BTreeMap::new();
    for r in rows {
        let n = |c: &str| -> R<i64> { Ok(r.try_get::<Option<i64>>("", c)?.unwrap_or(0)) };
        incidents += n("n")?;
        let e = (
            n("trappings")?,
            n("dispatched")?,
            n("ack_ok")?,
            n("arr_n")?,
            n("arr_ok")?,
            n("arr_sum")?,
        );
        trappings += e.0;
        dispatched += e.1;
        ack_ok += e.2;
        arr_n += e.3;
        arr_ok += e.4;
        arr_sum += e.5;
        res_n += n("res_n")?;
        res_sum += n("res_sum")?;
        if e.0 > 0 {
            let comp: Option<i64> = r.try_get("", "comp")?;
            let t = per.entry(comp.unwrap_or(0)).or_insert((0, 0, 0, 0, 0, 0));
            t.0 += e.0;
            t.1 += e.1;
            t.2 += e.2;
            t.3 += e.3;
            t.4 += e.4;
            t.5 += e.5;
        }
    }

    // Level, cause and hour mixes of the trappings, in one pass.
    let mut level_mix = BTreeMap::new();
    let mut cause_mix = BTreeMap::new();
    let mut hours = vec![0i64; 24];
    if trappings > 0 {
        for r in all(
            db,
            &format!("SELECT level, cause_code, received_hour, COUNT(*) AS n {w} AND state NOT IN {NOT_TRAPPED} GROUP BY level, cause_code, received_hour"),
            v.clone(),
        )
        .await?
        {
            let n: i64 = r.try_get("", "n")?;
            let level: i32 = r.try_get("", "level")?;
            *level_mix.entry(format!("L{level}")).or_insert(0) += n;
            if let Some(c) = r.try_get::<Option<String>>("", "cause_code")? {
                *cause_mix.entry(c).or_insert(0) += n;
            }
            let h: i32 = r.try_get("", "received_hour")?;
            hours[h.clamp(0, 23) as usize] += n;
        }
    }

    // Nearest-rank 90th percentile (minutes) of a duration column over the trappings.
    let p90 = async |col: &str, n: i64| -> R<Option<f64>> {
        if n == 0 {
            return Ok(None);
        }
        let k = ((0.9 * n as f64).ceil() as i64).clamp(1, n);
        let r = one(
            db,
            &format!("SELECT {col} AS v {w} AND state NOT IN {NOT_TRAPPED} AND {col} IS NOT NULL ORDER BY {col} LIMIT 1 OFFSET {}", k - 1),
            v.clone(),
        )
        .await?;
        Ok(r.map(|r| r.try_get::<i32>("", "v"))
            .transpose()?
            .map(|x| x as f64 / 60.0))
    };
    let p90_arrival = p90("arrive_secs", arr_n).await?;
    let p90_rescue = p90("rescue_secs", res_n).await?;
    let mean_min = |sum: i64, n: i64| (n > 0).then(|| sum as f64 / 60.0 / n as f64);

    let names: BTreeMap<i64, (String, String)> = registry::companies(db, s.region.city_id)
        .await?
        .into_iter()
        .map(|c| (c.id, (c.name_zh, c.name_en)))
        .collect();
    let mut companies: Vec<CompanyKpi> = per
        .into_iter()
        .filter(|(id, _)| *id != 0)
        .map(|(id, e)| {
            let (zh, en) = names.get(&id).cloned().unwrap_or_default();
            CompanyKpi {
                company_id: id,
                name_zh: zh,
                name_en: en,
                trappings: e.0,
                ack_3min_rate: pct(e.2, e.1),
                arrive_30min_rate: pct(e.4, e.3),
                mean_arrival_min: r1(mean_min(e.5, e.3)),
                rank: 0,
            }
        })
        .collect();
    companies.sort_by(|a, b| {
        b.arrive_30min_rate
            .unwrap_or(0.0)
            .total_cmp(&a.arrive_30min_rate.unwrap_or(0.0))
            .then(
                b.ack_3min_rate
                    .unwrap_or(0.0)
                    .total_cmp(&a.ack_3min_rate.unwrap_or(0.0)),
            )
            .then(
                a.mean_arrival_min
                    .unwrap_or(f64::MAX)
                    .total_cmp(&b.mean_arrival_min.unwrap_or(f64::MAX)),
            )
            .then(a.company_id.cmp(&b.company_id))
    });
    for (i, c) in companies.iter_mut().enumerate() {
        c.rank = i + 1;
    }
    Ok(ElevatorKpis {
        region: region.to_string(),
        period: period.to_string(),
        elevators,
        incidents,
        trappings,
        trapping_rate_per_10k: (elevators > 0 && months > 0).then(|| {
            ((trappings as f64 * 10_000.0 / elevators as f64 / months as f64) * 100.0).round()
                / 100.0
        }),
        ack_3min_rate: pct(ack_ok, dispatched),
        arrive_30min_rate: pct(arr_ok, arr_n),
        mean_arrival_min: r1(mean_min(arr_sum, arr_n)),
        p90_arrival_min: r1(p90_arrival),
        mean_rescue_min: r1(mean_min(res_sum, res_n)),
        p90_rescue_min: r1(p90_rescue),
        level_mix,
        cause_mix,
        hour_mix: hours,
        companies,
    })
}

/// KPIs for a calendar year.
pub async fn kpis_year(
    db: &impl ConnectionTrait,
    s: &Scope,
    region: &str,
    year: i32,
) -> R<ElevatorKpis> {
    let (a, _) = month_range(&format!("{year:04}-01"))?;
    let (_, b) = month_range(&format!("{year:04}-12"))?;
    kpis(db, s, region, &year.to_string(), a, b, 12).await
}

/// Share (%) of in-use special equipment not overdue for inspection at the end of `year`
/// (or today, for the current year), for a region prefix.
pub async fn inspected_on_time(
    db: &impl ConnectionTrait,
    city_id: i64,
    prefix: &str,
    year: i32,
) -> R<Option<f64>> {
    let end = NaiveDate::from_ymd_opt(year, 12, 31)
        .unwrap_or_else(registry::today)
        .min(registry::today());
    let r = one(db, "SELECT COUNT(*) AS n, SUM(CASE WHEN next_inspection_due < ? THEN 1 ELSE 0 END) AS overdue FROM eq_equipment WHERE city_id = ? AND region_code LIKE ? AND status = 'in_use'", vec![end.into(), city_id.into(), like(prefix).into()]).await?;
    let Some(r) = r else { return Ok(None) };
    let n: i64 = r.try_get("", "n")?;
    let o: i64 = r.try_get::<Option<i64>>("", "overdue")?.unwrap_or(0);
    Ok(pct(n - o, n))
}

/// Does the year have data at all?
pub fn year_of(t: DateTime<Utc>) -> i32 {
    qcity_platform::time::local(t).year()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&v, 90.0), Some(9.0));
        assert_eq!(percentile(&v, 100.0), Some(10.0));
        assert_eq!(percentile(&[], 90.0), None);
        assert_eq!(percentile(&[3.0], 90.0), Some(3.0));
    }

    #[test]
    fn months_are_china_standard_time() {
        let (a, b) = month_range("2026-03").unwrap();
        assert_eq!(a.to_rfc3339(), "2026-02-28T16:00:00+00:00");
        assert_eq!(b.to_rfc3339(), "2026-03-31T16:00:00+00:00");
        assert!(month_range("2026-13").is_err());
        assert_eq!(local_hour(a), 0);
    }
}

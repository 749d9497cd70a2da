//! The equipment module and the platform's register of market entities (市场主体): maintenance
//! companies (`eq_companies.enterprise_id`) and use units (`eq_equipment.use_unit_enterprise_id`)
//! reference enterprises by id; the enterprise's page shows the equipment it uses and maintains.

use crate::sql::{all, exec, one};
use qcity_platform::audit::Actor;
use qcity_platform::enterprise::store::{LinkReport, link, link_existing};
use qcity_platform::enterprise::{EnterpriseItem, EnterpriseSection};
use qcity_platform::i18n::Tr;
use qcity_platform::store::StoreError;
use sea_orm::ConnectionTrait;

type R<T> = Result<T, StoreError>;

/// Items listed per section of the enterprise page (the total is shown too).
const SHOWN: u64 = 20;

/// What linking today's rows did: companies (one by one) and use units (by distinct name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EquipmentLinks {
    pub companies: LinkReport,
    /// Equipment rows whose use unit was linked by name.
    pub use_units_linked: u64,
    /// Use-unit names left unlinked, with how many equipment rows carry each.
    pub use_units_unlinked: Vec<(String, i64)>,
}

/// Links every company and use unit not yet linked, by exact name (the equipment tables carry
/// no credit code): a name that is the name of exactly one enterprise of the city. The rest
/// stays NULL and is reported (and logged, with the counts).
pub async fn link_by_name(db: &impl ConnectionTrait, actor: &Actor) -> R<EquipmentLinks> {
    let mut out = EquipmentLinks::default();
    for r in all(
        db,
        "SELECT city_id, id, name_zh, region_code FROM eq_companies WHERE enterprise_id IS NULL ORDER BY city_id, id",
        vec![],
    )
    .await?
    {
        let city: i64 = r.try_get("", "city_id")?;
        let id: i64 = r.try_get("", "id")?;
        let name: String = r.try_get("", "name_zh")?;
        let region: String = r.try_get("", "region_code")?;
        let l = link_existing(db, city, actor, None, &name, &region).await?;
        if let Some(e) = l.id() {
            exec(
                db,
                "UPDATE eq_companies SET enterprise_id = ? WHERE city_id = ? AND id = ?",
                vec![e.into(), city.into(), id.into()],
            )
            .await?;
        }
        out.companies.add(l, id, &name);
    }
    // One statement for every use unit: the enterprise of the city with exactly that name.
    exec(
        db,
        "UPDATE eq_equipment SET use_unit_enterprise_id = (SELECT MIN(en.id) FROM enterprises en WHERE en.city_id = eq_equipment.city_id AND en.name = eq_equipment.use_unit HAVING COUNT(*) = 1) WHERE use_unit_enterprise_id IS NULL",
        vec![],
    )
    .await?;
    // Rows the statement left NULL (no single enterprise of the name) are not links.
    let linked: i64 = one(
        db,
        "SELECT COUNT(*) AS n FROM eq_equipment WHERE use_unit_enterprise_id IS NOT NULL",
        vec![],
    )
    .await?
    .map(|r| r.try_get("", "n"))
    .transpose()?
    .unwrap_or(0);
    out.use_units_linked = u64::try_from(linked).unwrap_or(0);
    for r in all(
        db,
        "SELECT use_unit, COUNT(*) AS n FROM eq_equipment WHERE use_unit_enterprise_id IS NULL GROUP BY use_unit ORDER BY use_unit",
        vec![],
    )
    .await?
    {
        out.use_units_unlinked
            .push((r.try_get("", "use_unit")?, r.try_get("", "n")?));
    }
    Ok(out)
}

impl EquipmentLinks {
    /// Logs the counts (info) and what stayed unlinked (warn; at most 200 use-unit names).
    pub fn log(&self) {
        self.companies.log("eq_companies");
        tracing::info!(
            equipment_linked_by_use_unit = self.use_units_linked,
            use_units_unlinked = self.use_units_unlinked.len(),
            "linked use units to the register of market entities"
        );
        for (name, n) in self.use_units_unlinked.iter().take(200) {
            tracing::warn!(
                use_unit = name.as_str(),
                equipment = n,
                "use unit not linked to the register (no single enterprise of this name); use_unit_enterprise_id stays NULL"
            );
        }
        if self.use_units_unlinked.len() > 200 {
            tracing::warn!(
                more = self.use_units_unlinked.len() - 200,
                "further unlinked use units not listed"
            );
        }
    }
}

/// Links a new company: by its credit code when given (found or registered by `actor`), else
/// by its exact name.
pub async fn link_company(
    db: &impl ConnectionTrait,
    city_id: i64,
    actor: &Actor,
    company_id: i64,
    credit_code: Option<&str>,
) -> R<Option<i64>> {
    let Some(c) = crate::registry::company(db, city_id, company_id).await? else {
        return Ok(None);
    };
    let e = link(
        db,
        city_id,
        actor,
        credit_code,
        "credit_code",
        &c.name_zh,
        &c.region_code,
    )
    .await?;
    exec(
        db,
        "UPDATE eq_companies SET enterprise_id = ? WHERE city_id = ? AND id = ?",
        vec![e.into(), city_id.into(), company_id.into()],
    )
    .await?;
    Ok(e)
}

/// Links a new piece of equipment's use unit: by the use unit's credit code when given (found
/// or registered by `actor`), else by its exact name.
pub async fn link_use_unit(
    db: &impl ConnectionTrait,
    city_id: i64,
    actor: &Actor,
    equipment_id: i64,
    use_unit: &str,
    region_code: &str,
    credit_code: Option<&str>,
) -> R<Option<i64>> {
    let e = link(
        db,
        city_id,
        actor,
        credit_code,
        "use_unit_credit_code",
        use_unit,
        region_code,
    )
    .await?;
    exec(
        db,
        "UPDATE eq_equipment SET use_unit_enterprise_id = ? WHERE city_id = ? AND id = ?",
        vec![e.into(), city_id.into(), equipment_id.into()],
    )
    .await?;
    Ok(e)
}

/// The demo city's companies and use units in the register: each gets a valid credit code made
/// from its district (deterministic), is registered, and linked. Idempotent (only rows still
/// unlinked are looked at).
pub async fn seed_demo(db: &impl ConnectionTrait, city_id: i64) -> R<usize> {
    use qcity_platform::enterprise::store::{NewEnterprise, find_or_create};
    use qcity_platform::enterprise::uscc::with_check_char;
    let actor = Actor::System("demo".into());
    let mut n = 0;
    let code = |region: &str, seq: usize| {
        let district: String = region.chars().take(6).collect();
        with_check_char(&format!("91{district:0<6}MA{seq:07}"))
    };
    let companies = all(
        db,
        "SELECT id, name_zh, license_no, address, region_code FROM eq_companies WHERE city_id = ? AND enterprise_id IS NULL ORDER BY license_no",
        vec![city_id.into()],
    )
    .await?;
    for (i, r) in companies.iter().enumerate() {
        let id: i64 = r.try_get("", "id")?;
        let region: String = r.try_get("", "region_code")?;
        let Some(c) = code(&region, 1 + i) else {
            continue;
        };
        let e = find_or_create(
            db,
            city_id,
            &actor,
            &NewEnterprise {
                credit_code: c.as_str().into(),
                name: r.try_get("", "name_zh")?,
                region_code: region,
                address: Some(r.try_get("", "address")?),
                kind: Some("有限责任公司".into()),
                industry: Some("O8111".into()),
                ..Default::default()
            },
        )
        .await?;
        exec(
            db,
            "UPDATE eq_companies SET enterprise_id = ? WHERE city_id = ? AND id = ?",
            vec![e.into(), city_id.into(), id.into()],
        )
        .await?;
        n += 1;
    }
    let units = all(
        db,
        "SELECT use_unit, MIN(region_code) AS region_code, MIN(address) AS address FROM eq_equipment WHERE city_id = ? AND use_unit_enterprise_id IS NULL GROUP BY use_unit ORDER BY use_unit",
        vec![city_id.into()],
    )
    .await?;
    for (i, r) in units.iter().enumerate() {
        let region: String = r.try_get("", "region_code")?;
        let Some(c) = code(&region, 10_000 + i) else {
            continue;
        };
        find_or_create(
            db,
            city_id,
            &actor,
            &NewEnterprise {
                credit_code: c.as_str().into(),
                name: r.try_get("", "use_unit")?,
                region_code: region,
                address: Some(r.try_get("", "address")?),
                kind: Some("有限责任公司".into()),
                industry: Some("K7020".into()),
                ..Default::default()
            },
        )
        .await?;
        n += 1;
    }
    if !units.is_empty() {
        link_use_units_by_name(db, city_id).await?;
    }
    Ok(n)
}

/// Links the city's equipment whose use unit is not linked yet to the one enterprise of the
/// city with exactly that name (one statement; a name with no or several enterprises stays NULL).
pub async fn link_use_units_by_name(db: &impl ConnectionTrait, city_id: i64) -> R<()> {
    exec(
        db,
        "UPDATE eq_equipment SET use_unit_enterprise_id = (SELECT MIN(en.id) FROM enterprises en WHERE en.city_id = eq_equipment.city_id AND en.name = eq_equipment.use_unit HAVING COUNT(*) = 1) WHERE city_id = ? AND use_unit_enterprise_id IS NULL",
        vec![city_id.into()],
    )
    .await?;
    Ok(())
}

fn item(r: &sea_orm::QueryResult, t: &Tr) -> R<EnterpriseItem> {
    let id: i64 = r.try_get("", "id")?;
    let name: String = r.try_get("", "name")?;
    let category: String = r.try_get("", "category")?;
    let rescue: Option<String> = r.try_get("", "rescue_code")?;
    let address: String = r.try_get("", "address")?;
    let cat = crate::domain::Category::parse(&category)
        .map(|c| t.pick(c.name_zh(), c.name_en()).to_string())
        .unwrap_or(category);
    Ok(EnterpriseItem {
        label: name,
        detail: match rescue {
            Some(rc) => format!("{cat} · {rc} · {address}"),
            None => format!("{cat} · {address}"),
        },
        href: Some(format!("/app/equipment/registry/{id}")),
    })
}

async fn section(
    db: &impl ConnectionTrait,
    from_where: &str,
    vals: Vec<sea_orm::Value>,
    title: String,
    t: &Tr,
) -> R<Option<EnterpriseSection>> {
    let total: i64 = one(
        db,
        &format!("SELECT COUNT(*) AS n {from_where}"),
        vals.clone(),
    )
    .await?
    .map(|r| r.try_get("", "n"))
    .transpose()?
    .unwrap_or(0);
    if total == 0 {
        return Ok(None);
    }
    let rows = all(
        db,
        &format!(
            "SELECT e.id, e.name, e.category, e.rescue_code, e.address {from_where} ORDER BY e.name, e.id LIMIT {SHOWN}"
        ),
        vals,
    )
    .await?;
    Ok(Some(EnterpriseSection {
        title,
        total: u64::try_from(total).unwrap_or(0),
        items: rows.iter().map(|r| item(r, t)).collect::<R<_>>()?,
    }))
}

/// The enterprise page's sections: equipment it uses, equipment it maintains (inside the
/// reader's region subtree).
pub async fn sections(
    db: &impl ConnectionTrait,
    city_id: i64,
    region_prefix: &str,
    enterprise_id: i64,
    t: &Tr,
) -> R<Vec<EnterpriseSection>> {
    let like = format!("{region_prefix}%");
    let mut out = Vec::new();
    if let Some(s) = section(
        db,
        "FROM eq_equipment e WHERE e.city_id = ? AND e.use_unit_enterprise_id = ? AND e.region_code LIKE ?",
        vec![city_id.into(), enterprise_id.into(), like.clone().into()],
        t.t("equipment-enterprise-uses"),
        t,
    )
    .await?
    {
        out.push(s);
    }
    if let Some(s) = section(
        db,
        "FROM eq_equipment e JOIN eq_companies c ON c.city_id = e.city_id AND c.id = e.company_id WHERE e.city_id = ? AND c.enterprise_id = ? AND e.region_code LIKE ?",
        vec![city_id.into(), enterprise_id.into(), like.into()],
        t.t("equipment-enterprise-maintains"),
        t,
    )
    .await?
    {
        out.push(s);
    }
    Ok(out)
}

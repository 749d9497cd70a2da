//! `qcity migrate`, `qcity user …`, `qcity token …`.

use crate::modules;
use anyhow::{Context, Result, anyhow, bail};
use qcity_platform::audit::{self, Actor};
use qcity_platform::auth::{Role, password, token};
use qcity_platform::config::Config;
use qcity_platform::db::BeginWrite;
use qcity_platform::entity::{api_token, city};
use qcity_platform::store::{
    self,
    users::{NewUser, Username},
};
use qcity_platform::{db, migration};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

async fn open(cfg: &Config) -> Result<DatabaseConnection> {
    let dbc = db::connect(cfg)
        .await
        .context("connecting to the database")?;
    let migs = modules::migrations(&modules::all());
    migration::check_schema(&dbc, &migs).await?;
    Ok(dbc)
}

/// The city a command acts on: `--city CODE`, or the only city of the deployment.
async fn pick_city(dbc: &DatabaseConnection, code: Option<&str>) -> Result<city::Model> {
    if let Some(c) = code {
        return store::cities::by_code(dbc, c)
            .await?
            .ok_or_else(|| anyhow!("no city with code {c}"));
    }
    let all = store::cities::list_all_cities(dbc).await?;
    match all.len() {
        0 => bail!("no city yet: run `qcity demo` or create one first"),
        1 => Ok(all.into_iter().next().ok_or_else(|| anyhow!("no city"))?),
        _ => bail!("this deployment serves several cities: pass --city CODE"),
    }
}

fn cli_actor() -> Actor {
    Actor::System(format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    ))
}

pub async fn migrate(cfg: &Config) -> Result<()> {
    let dbc = db::connect(cfg)
        .await
        .context("connecting to the database")?;
    let ran = migration::migrate(&dbc, &modules::migrations(&modules::all())).await?;
    if ran.is_empty() {
        println!("database is up to date");
    } else {
        for m in ran {
            println!("applied {m}");
        }
    }
    Ok(())
}

pub async fn user_add(
    cfg: &Config,
    name: &str,
    role: &str,
    region: Option<&str>,
    city: Option<&str>,
    display: Option<&str>,
    pw: String,
) -> Result<()> {
    let dbc = open(cfg).await?;
    let c = pick_city(&dbc, city).await?;
    let role: Role = role.parse()?;
    let username = Username::parse(name)?;
    let region = region.unwrap_or(&c.code).to_string();
    let hash = password::hash_async(pw).await?;
    let u = qcity_platform::admin::create_user(
        &dbc,
        &cli_actor(),
        c.id,
        NewUser {
            username,
            display_name: display.unwrap_or("").to_string(),
            password_hash: hash,
            role,
            region_code: region,
            company_id: None,
            enterprise_id: None,
        },
    )
    .await?;
    println!(
        "created user {} ({}, region {})",
        u.username, u.role, u.region_code
    );
    Ok(())
}

pub async fn user_passwd(cfg: &Config, name: &str, city: Option<&str>, pw: String) -> Result<()> {
    let dbc = open(cfg).await?;
    let c = pick_city(&dbc, city).await?;
    let u = store::users::by_username(&dbc, c.id, name)
        .await?
        .ok_or_else(|| anyhow!("no user {name}"))?;
    let hash = password::hash_async(pw).await?;
    qcity_platform::admin::reset_password(&dbc, &cli_actor(), c.id, u.id, hash).await?;
    println!("password of {name} changed; its sessions ended");
    Ok(())
}

pub async fn user_list(cfg: &Config, city: Option<&str>) -> Result<()> {
    let dbc = open(cfg).await?;
    let c = pick_city(&dbc, city).await?;
    let scope = qcity_platform::auth::RegionScope::new(c.id, &c.code);
    println!("{:<20} {:<16} {:<14} status", "user", "role", "region");
    for u in store::users::list_visible(&dbc, &scope).await? {
        println!(
            "{:<20} {:<16} {:<14} {}",
            u.username,
            u.role,
            u.region_code,
            if u.disabled { "disabled" } else { "active" }
        );
    }
    Ok(())
}

pub async fn user_disable(cfg: &Config, name: &str, city: Option<&str>) -> Result<()> {
    let dbc = open(cfg).await?;
    let c = pick_city(&dbc, city).await?;
    let u = store::users::by_username(&dbc, c.id, name)
        .await?
        .ok_or_else(|| anyhow!("no user {name}"))?;
    qcity_platform::admin::set_disabled(&dbc, &cli_actor(), &u, true).await?;
    println!("disabled {name}");
    Ok(())
}

pub async fn token_create(cfg: &Config, user: &str, name: &str, city: Option<&str>) -> Result<()> {
    let dbc = open(cfg).await?;
    let c = pick_city(&dbc, city).await?;
    let u = store::users::by_username(&dbc, c.id, user)
        .await?
        .ok_or_else(|| anyhow!("no user {user}"))?;
    if u.disabled {
        bail!("user {user} is disabled");
    }
    let (_, secret) = qcity_platform::admin::issue_token(&dbc, &cli_actor(), &u, name).await?;
    println!("{secret}");
    Ok(())
}

pub async fn token_revoke(cfg: &Config, tok: &str, city: Option<&str>) -> Result<()> {
    let dbc = open(cfg).await?;
    let c = pick_city(&dbc, city).await?;
    let id = if let Ok(id) = tok.parse::<i64>() {
        id
    } else {
        let bt =
            token::BearerToken::parse(tok).ok_or_else(|| anyhow!("not a token id or token"))?;
        api_token::Entity::find()
            .filter(api_token::Column::CityId.eq(c.id))
            .filter(api_token::Column::TokenHash.eq(qcity_platform::ids::sha256_hex(&bt.full)))
            .one(&dbc)
            .await?
            .ok_or_else(|| anyhow!("no such token"))?
            .id
    };
    if !qcity_platform::admin::revoke_token(&dbc, &cli_actor(), c.id, id).await? {
        bail!("no live token with id {id}");
    }
    println!("revoked token {id}");
    Ok(())
}

pub async fn city_add(cfg: &Config, code: &str, name_zh: &str, name_en: &str) -> Result<()> {
    let dbc = open(cfg).await?;
    let txn = dbc.begin_write().await?;
    let c = store::cities::ensure_city(&txn, code, name_zh, name_en).await?;
    store::regions::upsert(
        &txn,
        c.id,
        &store::regions::NewRegion {
            code: code.to_string(),
            parent_code: None,
            name_zh: name_zh.to_string(),
            name_en: name_en.to_string(),
            urban: true,
            population: None,
            area_km2: None,
            boundary: None,
        },
    )
    .await?;
    audit::record(
        &txn,
        c.id,
        &cli_actor(),
        "platform.city.create",
        "city",
        code,
        None,
        Some(serde_json::json!({"name_zh": name_zh, "name_en": name_en})),
    )
    .await?;
    txn.commit().await?;
    println!("city {code} {name_zh} / {name_en}");
    Ok(())
}

pub async fn city_list(cfg: &Config) -> Result<()> {
    let dbc = open(cfg).await?;
    for c in store::cities::list_all_cities(&dbc).await? {
        println!("{}\t{}\t{}", c.code, c.name_zh, c.name_en);
    }
    Ok(())
}

/// The columns of a region import (`code` and `name_zh` required).
const REGION_COLUMNS: [&str; 8] = [
    "code",
    "parent_code",
    "name_zh",
    "name_en",
    "urban",
    "population",
    "area_km2",
    "boundary",
];

fn parse_opt<T: std::str::FromStr>(
    v: Option<&str>,
    file: &str,
    row: usize,
    col: &str,
) -> Result<Option<T>> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| anyhow!("{file}: row {row}, column {col}: `{s}` is not a number")),
    }
}

/// Imports regions from a CSV (UTF-8 or GBK) or XLSX file through the platform's upload
/// reader (its limits from `[upload]`); all or nothing, errors naming row and column.
pub async fn region_import(cfg: &Config, file: &std::path::Path, city: Option<&str>) -> Result<()> {
    let dbc = open(cfg).await?;
    let c = pick_city(&dbc, city).await?;
    let name = file.display().to_string();
    let limits = qcity_platform::upload::Limits::from_config(&cfg.upload);
    let table = qcity_platform::upload::read_file_table(file, &limits)
        .map_err(|e| anyhow!("{name}: {e}"))?;
    let header: Vec<String> = table
        .header()
        .unwrap_or_default()
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let col = |c: &str| header.iter().position(|h| h == c);
    let cols: Vec<Option<usize>> = REGION_COLUMNS.iter().map(|c| col(c)).collect();
    for required in ["code", "name_zh"] {
        if col(required).is_none() {
            bail!("{name}: row 1: the header has no column `{required}`");
        }
    }
    let mut rows = Vec::new();
    for (row, cells) in table.data_rows() {
        let get = |i: usize| cols[i].and_then(|c| cells.get(c)).map(String::as_str);
        let text = |i: usize| get(i).map(str::trim).unwrap_or_default().to_string();
        let urban = match get(4).map(str::trim) {
            None | Some("") | Some("1") | Some("true") | Some("yes") => true,
            Some("0") | Some("false") | Some("no") => false,
            Some(other) => bail!("{name}: row {row}, column urban: `{other}` is not true/false"),
        };
        rows.push((
            row,
            store::regions::NewRegion {
                code: text(0),
                parent_code: Some(text(1)).filter(|p| !p.is_empty()),
                name_zh: text(2),
                name_en: text(3),
                urban,
                population: parse_opt(get(5), &name, row, "population")?,
                area_km2: parse_opt(get(6), &name, row, "area_km2")?,
                boundary: get(7).filter(|b| !b.trim().is_empty()).map(str::to_string),
            },
        ));
    }
    // Parents before children, whatever the file's order.
    rows.sort_by_key(|(_, r)| r.code.len());
    let txn = dbc.begin_write().await?;
    for (row, r) in &rows {
        store::regions::upsert(&txn, c.id, r)
            .await
            .map_err(|e| match e {
                store::StoreError::Invalid { field, message } => {
                    anyhow!("{name}: row {row}, column {field}: {message}")
                }
                other => anyhow!("{name}: row {row}: {other}"),
            })?;
    }
    audit::record(
        &txn,
        c.id,
        &cli_actor(),
        "platform.region.import",
        "regions",
        &name,
        None,
        Some(serde_json::json!({"rows": rows.len()})),
    )
    .await?;
    txn.commit().await?;
    println!("imported {} regions into {}", rows.len(), c.code);
    Ok(())
}

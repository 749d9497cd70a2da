//! Column, key and index builders shared by every module's migrations, so that all tables are
//! declared the same way on SQLite and PostgreSQL.
//!
//! Tenant convention (Citus-ready): every tenant table leads its primary key with `city_id`
//! ([`tenant_pk`]), every foreign key between tenant tables carries `city_id` first
//! ([`tenant_fk`]), and every table has a foreign key from `city_id` to `cities` ([`fk_city`]).

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

/// An identifier (table or column name).
pub fn ident(name: &str) -> Alias {
    Alias::new(name)
}

fn col(name: &str) -> ColumnDef {
    ColumnDef::new(ident(name))
}

/// `BIGINT NOT NULL` (ids, epoch seconds, counters).
pub fn id(name: &str) -> ColumnDef {
    col(name).big_integer().not_null().to_owned()
}
/// `BIGINT NULL`.
pub fn id_null(name: &str) -> ColumnDef {
    col(name).big_integer().null().to_owned()
}
/// `INTEGER NOT NULL`.
pub fn int(name: &str) -> ColumnDef {
    col(name).integer().not_null().to_owned()
}
/// `INTEGER NULL`.
pub fn int_null(name: &str) -> ColumnDef {
    col(name).integer().null().to_owned()
}
/// `TEXT NOT NULL`.
pub fn text(name: &str) -> ColumnDef {
    col(name).text().not_null().to_owned()
}
/// `TEXT NULL`.
pub fn text_null(name: &str) -> ColumnDef {
    col(name).text().null().to_owned()
}
/// `DOUBLE NOT NULL`.
pub fn dbl(name: &str) -> ColumnDef {
    col(name).double().not_null().to_owned()
}
/// `DOUBLE NULL`.
pub fn dbl_null(name: &str) -> ColumnDef {
    col(name).double().null().to_owned()
}
/// `TIMESTAMP WITH TIME ZONE NOT NULL`.
pub fn ts(name: &str) -> ColumnDef {
    col(name).timestamp_with_time_zone().not_null().to_owned()
}
/// `TIMESTAMP WITH TIME ZONE NULL`.
pub fn ts_null(name: &str) -> ColumnDef {
    col(name).timestamp_with_time_zone().null().to_owned()
}
/// `DATE NULL`.
pub fn date_null(name: &str) -> ColumnDef {
    col(name).date().null().to_owned()
}
/// `BOOLEAN NOT NULL DEFAULT false`.
pub fn boolean(name: &str) -> ColumnDef {
    col(name).boolean().not_null().default(false).to_owned()
}

/// A primary key over `cols`, in order (for `Table::create().primary_key(..)`).
pub fn pk(cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create();
    for c in cols {
        i.col(ident(c));
    }
    i.to_owned()
}
/// The usual tenant primary key `(city_id, col)`.
pub fn tenant_pk(col: &str) -> IndexCreateStatement {
    pk(&["city_id", col])
}

/// A foreign key `table(from_cols) → to_table(to_cols)`; pass `city_id` first for tenant tables.
pub fn fk(
    name: &str,
    table: &str,
    from_cols: &[&str],
    to_table: &str,
    to_cols: &[&str],
) -> ForeignKeyCreateStatement {
    let mut f = ForeignKey::create();
    f.name(name).from_tbl(ident(table)).to_tbl(ident(to_table));
    for (from, to) in from_cols.iter().zip(to_cols) {
        f.from_col(ident(from)).to_col(ident(to));
    }
    f.to_owned()
}
/// The usual tenant foreign key `table(city_id, col) → to_table(city_id, to_col)`.
pub fn tenant_fk(
    name: &str,
    table: &str,
    col: &str,
    to_table: &str,
    to_col: &str,
) -> ForeignKeyCreateStatement {
    fk(
        name,
        table,
        &["city_id", col],
        to_table,
        &["city_id", to_col],
    )
}
/// `table(city_id) → cities(id)`, named `fk_{table}_city`.
pub fn fk_city(table: &str) -> ForeignKeyCreateStatement {
    fk(
        &format!("fk_{table}_city"),
        table,
        &["city_id"],
        "cities",
        &["id"],
    )
}

/// A named (optionally unique) index on `table(cols)`.
pub fn index(name: &str, table: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(ident(table));
    for c in cols {
        i.col(ident(c));
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

/// SQL that makes a table append-only on both backends (no UPDATE, no DELETE).
pub fn append_only_triggers(backend: DbBackend, table: &str) -> Vec<String> {
    match backend {
        DbBackend::Postgres => vec![
            "CREATE OR REPLACE FUNCTION qcity_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME; END $$".to_string(),
            format!("CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION qcity_append_only()"),
        ],
        _ => vec![
            format!("CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"),
            format!("CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"),
        ],
    }
}

//! The one set of helpers for raw, backend-neutral SQL, which modules use where sea-query would
//! cost more than it gives (bulk inserts, hot-path aggregates, `INSERT … ON CONFLICT`): statements
//! are written with `?` placeholders and renumbered to `$n` on PostgreSQL.
//!
//! The renumbering skips quoted text (`'it''s?'`, `"col?"`), comments (`-- ?`, `/* ? */`) and
//! dollar-quoted bodies (`$$ ? $$`); `??` stands for PostgreSQL's own `?` operator (a jsonb key
//! test), written once, never a placeholder.

use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, SqlErr, Statement, Value,
};

/// The statement for `sql` (with `?` placeholders) on `db`'s backend.
pub fn stmt(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        numbered(sql)
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `sql` with its `?` placeholders renumbered `$1`, `$2`, … (PostgreSQL's syntax); see the module
/// documentation for what is not a placeholder.
pub fn numbered(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut i = 0;
    // Copies `sql[from..to]` unchanged.
    let copy =
        |out: &mut String, from: usize, to: usize| out.push_str(&sql[from..to.min(sql.len())]);
    while i < b.len() {
        match b[i] {
            b'?' if b.get(i + 1) == Some(&b'?') => {
                out.push('?');
                i += 2;
            }
            b'?' => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
                i += 1;
            }
            q @ (b'\'' | b'"') => {
                // A quote ends at the next one not doubled (`''` is a quote inside the text).
                let mut j = i + 1;
                while j < b.len() {
                    if b[j] == q {
                        if b.get(j + 1) == Some(&q) {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                copy(&mut out, i, j + 1);
                i = j + 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                let end = sql[i..].find('\n').map_or(b.len(), |k| i + k);
                copy(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = sql[i + 2..].find("*/").map_or(b.len(), |k| i + 2 + k + 2);
                copy(&mut out, i, end);
                i = end;
            }
            b'$' => {
                // `$tag$ … $tag$` (the tag may be empty); a `$1` is not a quote.
                let tag_end = sql[i + 1..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map(|k| i + 1 + k);
                match tag_end {
                    Some(t)
                        if b[t] == b'$' && !b[i + 1..t].first().is_some_and(u8::is_ascii_digit) =>
                    {
                        let tag = &sql[i..=t];
                        let end = sql[t + 1..]
                            .find(tag)
                            .map_or(b.len(), |k| t + 1 + k + tag.len());
                        copy(&mut out, i, end);
                        i = end;
                    }
                    _ => {
                        out.push('$');
                        i += 1;
                    }
                }
            }
            _ => {
                // Copy the whole UTF-8 character.
                let len = sql[i..].chars().next().map_or(1, char::len_utf8);
                copy(&mut out, i, i + len);
                i += len;
            }
        }
    }
    out
}

/// Whether a database error is a unique-constraint (or primary-key) violation, on either backend:
/// read from the driver's error code, not its message.
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

pub async fn all(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>, DbErr> {
    db.query_all_raw(stmt(db, sql, values)).await
}

pub async fn one(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<QueryResult>, DbErr> {
    db.query_one_raw(stmt(db, sql, values)).await
}

pub async fn exec(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<ExecResult, DbErr> {
    db.execute_raw(stmt(db, sql, values)).await
}

/// `LIKE` pattern for a region code prefix.
pub fn like(prefix: &str) -> String {
    format!("{prefix}%")
}

/// `IS DISTINCT FROM` on PostgreSQL, `IS NOT` on SQLite (null-safe inequality).
pub fn distinct(db: &impl ConnectionTrait) -> &'static str {
    if db.get_database_backend() == DbBackend::Postgres {
        "IS DISTINCT FROM"
    } else {
        "IS NOT"
    }
}

/// Now, truncated to milliseconds (stored text timestamps then sort correctly on SQLite).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(3)
}

/// `(?, ?, …)` with `n` placeholders.
pub fn placeholders(n: usize) -> String {
    let mut s = String::from("(");
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s.push(')');
    s
}

/// Inserts many rows with one statement per `chunk` rows.
pub async fn insert_many(
    db: &impl ConnectionTrait,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<Value>>,
    chunk: usize,
) -> Result<(), DbErr> {
    let one_row = placeholders(cols.len());
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<Vec<Value>> = rows.by_ref().take(chunk).collect();
        let mut s = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
        for i in 0..batch.len() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&one_row);
        }
        let values: Vec<Value> = batch.into_iter().flatten().collect();
        exec(db, &s, values).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::numbered;
    use proptest::prelude::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
    }

    #[test]
    fn quoted_text_and_comments_are_left_alone() {
        assert_eq!(
            numbered("SELECT 'why?', 'it''s ?', \"q?\" FROM t WHERE x = ? -- and ?\nAND y = ?"),
            "SELECT 'why?', 'it''s ?', \"q?\" FROM t WHERE x = $1 -- and ?\nAND y = $2"
        );
        assert_eq!(numbered("/* ? */ SELECT ?"), "/* ? */ SELECT $1");
        assert_eq!(
            numbered("SELECT $$ ? $$, $f$?$f$, ?"),
            "SELECT $$ ? $$, $f$?$f$, $1"
        );
    }

    #[test]
    fn double_question_mark_is_the_postgres_operator() {
        assert_eq!(
            numbered("SELECT * FROM t WHERE doc ?? 'key' AND id = ?"),
            "SELECT * FROM t WHERE doc ? 'key' AND id = $1"
        );
    }

    #[test]
    fn chinese_text_and_concatenation_survive() {
        assert_eq!(
            numbered("SELECT '电梯？' || name FROM t WHERE code LIKE ?||'%'"),
            "SELECT '电梯？' || name FROM t WHERE code LIKE $1||'%'"
        );
    }

    proptest! {
        /// Outside quotes every lone `?` becomes the next `$n`, and nothing else changes.
        #[test]
        fn unquoted_text_keeps_everything_but_placeholders(
            parts in proptest::collection::vec("[a-z0-9 ,()=<>|+*.电梯]{1,12}", 1..8)
        ) {
            let sql = parts.join("?");
            let expect: String = parts
                .iter()
                .enumerate()
                .map(|(i, p)| if i == 0 { p.clone() } else { format!("${i}{p}") })
                .collect();
            prop_assert_eq!(numbered(&sql), expect);
        }
    }
}

//! The dead-letter table: frames a consumer durably refused, with why and where from.

use crate::db::BeginWrite;
use crate::store::sql;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Value};
use serde::Serialize;

/// Rows per page of the admin listing.
pub const PAGE_SIZE: u64 = 50;

/// A refused frame to record.
#[derive(Debug, Clone)]
pub struct NewDeadLetter {
    pub received_at: DateTime<Utc>,
    /// Which consumer refused it (`equipment`, `metering`).
    pub consumer: String,
    pub topic: String,
    pub payload: Vec<u8>,
    pub reason: String,
    /// The city code of the topic, when the topic has one.
    pub city_code: Option<String>,
    /// The tenant, when the code names a known city.
    pub city_id: Option<i64>,
}

/// A recorded frame as the admin page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub consumer: String,
    pub topic: String,
    /// The payload as text when it is UTF-8, else `None` (see `payload_len`).
    pub payload_text: Option<String>,
    pub payload_len: i64,
    pub reason: String,
    pub city_code: Option<String>,
}

/// Records refused frames in one transaction (all or nothing, so a caller that acks after this
/// returns `Ok` never acks an unrecorded frame).
pub async fn record(db: &DatabaseConnection, rows: &[NewDeadLetter]) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let txn = db.begin_write().await?;
    for r in rows {
        let text = std::str::from_utf8(&r.payload).ok().map(str::to_string);
        sql::exec(
            &txn,
            "INSERT INTO mqtt_dead_letters (id, received_at, consumer, topic, payload, payload_text, reason, city_code, city_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                crate::ids::new_id().into(),
                r.received_at.into(),
                r.consumer.clone().into(),
                r.topic.clone().into(),
                Value::Bytes(Some(r.payload.clone())),
                text.into(),
                r.reason.clone().into(),
                r.city_code.clone().into(),
                r.city_id.into(),
            ],
        )
        .await?;
    }
    txn.commit().await
}

/// One page of the frames an administrator of `city_id` sees: the city's own and those no
/// known city claims (unknown city codes, unreadable topics), newest first; and their total.
pub async fn browse(
    db: &impl ConnectionTrait,
    city_id: i64,
    page: u64,
) -> Result<(Vec<DeadLetter>, u64), DbErr> {
    let filter = "WHERE city_id = ? OR city_id IS NULL";
    let total: i64 = sql::one(
        db,
        &format!("SELECT COUNT(*) AS n FROM mqtt_dead_letters {filter}"),
        vec![city_id.into()],
    )
    .await?
    .map(|r| r.try_get("", "n"))
    .transpose()?
    .unwrap_or(0);
    let rows = sql::all(
        db,
        &format!(
            "SELECT id, received_at, consumer, topic, payload_text, CAST(LENGTH(payload) AS BIGINT) AS payload_len, reason, city_code \
             FROM mqtt_dead_letters {filter} ORDER BY received_at DESC, id DESC LIMIT ? OFFSET ?"
        ),
        vec![
            city_id.into(),
            (PAGE_SIZE as i64).into(),
            (page.saturating_mul(PAGE_SIZE).min(i64::MAX as u64) as i64).into(),
        ],
    )
    .await?;
    let entries = rows
        .iter()
        .map(|r| {
            Ok(DeadLetter {
                id: r.try_get("", "id")?,
                received_at: r.try_get("", "received_at")?,
                consumer: r.try_get("", "consumer")?,
                topic: r.try_get("", "topic")?,
                payload_text: r.try_get("", "payload_text")?,
                payload_len: r.try_get("", "payload_len")?,
                reason: r.try_get("", "reason")?,
                city_code: r.try_get("", "city_code")?,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok((entries, total.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Backend, TestDb};

    #[tokio::test]
    async fn recorded_frames_are_listed_for_their_city_and_unclaimed_ones_for_all() {
        let t = TestDb::migrated(Backend::Sqlite, &[]).await;
        let row = |city_id: Option<i64>, payload: &[u8]| NewDeadLetter {
            received_at: Utc::now(),
            consumer: "equipment".into(),
            topic: "qcity/x/elevator/1/alarm".into(),
            payload: payload.to_vec(),
            reason: "payload is not JSON".into(),
            city_code: Some("x".into()),
            city_id,
        };
        record(
            &t.db,
            &[
                row(None, b"not json"),
                row(Some(7), &[0xff, 0xfe]),
                row(Some(8), b"{}"),
            ],
        )
        .await
        .unwrap();
        let (list, total) = browse(&t.db, 7, 0).await.unwrap();
        assert_eq!(total, 2);
        assert_eq!(list.len(), 2);
        let bin = list.iter().find(|d| d.payload_text.is_none()).unwrap();
        assert_eq!(bin.payload_len, 2, "non-UTF-8 payloads keep their bytes");
        assert!(
            list.iter()
                .any(|d| d.payload_text.as_deref() == Some("not json"))
        );
        assert_eq!(browse(&t.db, 8, 0).await.unwrap().1, 2);
        assert_eq!(browse(&t.db, 7, 1).await.unwrap().0.len(), 0);
    }
}

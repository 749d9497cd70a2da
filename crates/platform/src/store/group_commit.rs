//! Group commit (成组提交): many small durable writes share one transaction and one fsync.
//!
//! With `synchronous = FULL` (SQLite) or `synchronous_commit = on` (PostgreSQL) every commit
//! waits for the disk; when hundreds of clients each commit their own small transaction, the
//! disk, not the work, sets the latency. A [`GroupCommit`] is one writer task that takes every
//! job waiting at that moment (up to [`MAX_GROUP`]), runs each in its own savepoint of one
//! transaction, commits once, and only then answers each job's caller.
//!
//! Guarantees:
//! - **Nobody hears "done" before the data is durable.** A job that keeps its writes gets its
//!   value only after the group's commit has succeeded; if the commit fails, every kept job of
//!   the group gets the commit's error (and none of their writes is stored).
//! - **A refused job affects no other.** A job that returns an error, or a value with
//!   `keep = false`, has its own savepoint rolled back; the others of its group are unaffected.
//!   Its answer also waits for the end of the group (it comes from the same task).
//! - **A job that panics** is rolled back like a refusal, its caller gets an error, and the
//!   writer carries on with the rest of the group.
//! - Jobs of one writer run one after another, in arrival order, so a job sees the writes of
//!   the jobs before it in its group (for example an idempotency key inserted by an earlier
//!   retry). A job whose answer depends on such a write must return `keep = true` (even with
//!   nothing written in its own savepoint), so that its answer too waits for the commit.
//!
//! On SQLite the group's transaction is `BEGIN IMMEDIATE`, so writers outside the group (other
//! lanes, direct transactions) queue on the busy timeout instead of failing the group.
//!
//! Jobs should be short: they run serially. Do validation and reads that need no isolation
//! before [`GroupCommit::run`], and only the writes (and the checks that must see them) inside.
//!
//! One writer per lane per server, kept in [`AppState::extensions`] ([`GroupCommit::for_server`]);
//! dropping the server state closes the queues and ends the tasks.

use crate::db::BeginWrite;
use crate::web::AppState;
use futures::FutureExt;
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// A boxed future borrowing the group's transaction (a job's return type).
pub type TxFuture<'t, T> = Pin<Box<dyn Future<Output = T> + Send + 't>>;

/// Most jobs committed together.
pub const MAX_GROUP: usize = 128;

/// Jobs waiting for the writer before [`GroupCommit::run`] waits for room.
const QUEUE: usize = 1024;

/// Called after the group's commit (`Ok`) or failure (`Err`).
type Finish = Box<dyn FnOnce(Result<(), DbErr>) + Send>;
/// One unit of work: runs in a savepoint, says whether to keep it, and how to answer.
type Job = Box<dyn for<'t> FnOnce(&'t DatabaseTransaction) -> TxFuture<'t, (bool, Finish)> + Send>;

/// A group-commit writer: a queue and the task that drains it.
pub struct GroupCommit {
    tx: mpsc::Sender<Job>,
}

/// The writers of one server, by lane.
#[derive(Default)]
struct Lanes(Mutex<HashMap<&'static str, Arc<GroupCommit>>>);

impl GroupCommit {
    /// Starts a writer on `db` (needs a Tokio runtime). It runs until the last handle is dropped.
    pub fn start(db: DatabaseConnection) -> GroupCommit {
        let (tx, rx) = mpsc::channel::<Job>(QUEUE);
        tokio::spawn(run(db, rx));
        GroupCommit { tx }
    }

    /// The writer of `lane` on this server (e.g. `"survey"`, `"equipment.incidents"`), started on
    /// first use. Lanes are independent writers: a long job of one module (a survey import)
    /// does not hold up another's (a 96333 intake) while the database can take both.
    pub fn for_server(st: &AppState, lane: &'static str) -> Arc<GroupCommit> {
        let lanes = st.extensions.get_or_init(Lanes::default);
        let mut map = lanes.0.lock().unwrap_or_else(|p| p.into_inner());
        let w = map
            .entry(lane)
            .or_insert_with(|| Arc::new(GroupCommit::start(st.db.clone())));
        // A writer whose task is gone (its runtime ended: one test's server state reused in
        // another runtime) is replaced.
        if w.tx.is_closed() {
            *w = Arc::new(GroupCommit::start(st.db.clone()));
        }
        w.clone()
    }

    /// Jobs waiting for the writer (not counting the group being written).
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Runs `work` in the writer's next group and returns its value.
    ///
    /// `work` gets the transaction (a savepoint when the group has more than one job) and
    /// returns `Ok((value, keep))` or an error:
    /// - `keep == true`: the savepoint is kept; the value is returned once the group is
    ///   committed, or the commit's error if it is not;
    /// - `keep == false` or an error: the savepoint is rolled back; the value (or error) is
    ///   returned after the group whatever its fate (a refusal needs no durability).
    ///
    /// If the writer is gone or the job panicked, the error is a [`DbErr::Custom`].
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbErr> + Send + 'static,
        F: for<'t> FnOnce(&'t DatabaseTransaction) -> TxFuture<'t, Result<(T, bool), E>>
            + Send
            + 'static,
    {
        let (reply, rx) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |txn| {
            Box::pin(async move {
                let r = work(txn).await;
                let keep = matches!(r, Ok((_, true)));
                let finish: Finish = Box::new(move |committed| {
                    let out = match r {
                        Ok((v, true)) => committed.map(|_| v).map_err(E::from),
                        Ok((v, false)) => Ok(v),
                        Err(e) => Err(e),
                    };
                    // The caller may have gone away (client disconnected): nothing to tell.
                    let _ = reply.send(out);
                });
                (keep, finish)
            })
        });
        self.tx
            .send(job)
            .await
            .map_err(|_| E::from(abandoned("the group-commit writer stopped")))?;
        rx.await.map_err(|_| {
            E::from(abandoned(
                "the job was abandoned (it panicked, or the group-commit writer stopped)",
            ))
        })?
    }
}

fn abandoned(why: &str) -> DbErr {
    DbErr::Custom(why.to_string())
}

async fn run(db: DatabaseConnection, mut rx: mpsc::Receiver<Job>) {
    let mut group: Vec<Job> = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        commit_group(&db, std::mem::take(&mut group)).await;
    }
}

/// Runs one job on `txn`; `None` if it panicked (its reply sender is then dropped).
async fn run_job(job: Job, txn: &DatabaseTransaction) -> Option<(bool, Finish)> {
    match AssertUnwindSafe(job(txn)).catch_unwind().await {
        Ok(r) => Some(r),
        Err(_) => {
            tracing::error!("group commit: a job panicked; its writes are rolled back");
            None
        }
    }
}

async fn commit_group(db: &DatabaseConnection, group: Vec<Job>) {
    // On SQLite the write lock is taken at BEGIN (IMMEDIATE): a deferred transaction that
    // reads first could not upgrade to a writer after another connection's commit
    // (SQLITE_BUSY_SNAPSHOT, which no busy timeout cures) and would fail the whole group.
    let opts = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let outer = match db.begin_with_options(opts).await {
        Ok(t) => t,
        Err(e) => {
            // Cannot even start: run nothing; dropping a job drops its reply sender, so its
            // caller gets an error.
            tracing::error!(error = %e, jobs = group.len(), "group commit: could not begin a transaction");
            return;
        }
    };
    // Per job: `Some(err)` when its own savepoint failed, whatever the group's fate.
    let mut finishes: Vec<(Option<DbErr>, Finish)> = Vec::with_capacity(group.len());
    let mut any_kept = false;
    if group.len() == 1 {
        // A group of one needs no savepoint: the transaction is the job's own.
        for job in group {
            if let Some((keep, finish)) = run_job(job, &outer).await {
                any_kept |= keep;
                finishes.push((None, finish));
            }
        }
    } else {
        for job in group {
            let sp = match outer.begin_write().await {
                Ok(sp) => sp,
                Err(e) => {
                    tracing::error!(error = %e, "group commit: could not open a savepoint");
                    drop(job);
                    continue;
                }
            };
            let Some((keep, finish)) = run_job(job, &sp).await else {
                if let Err(e) = sp.rollback().await {
                    tracing::error!(error = %e, "group commit: rolling back a panicked job failed");
                }
                continue;
            };
            let own = if keep {
                match sp.commit().await {
                    Ok(()) => {
                        any_kept = true;
                        None
                    }
                    Err(e) => Some(e),
                }
            } else {
                sp.rollback().await.err()
            };
            finishes.push((own, finish));
        }
    }
    let res = if any_kept {
        outer.commit().await
    } else {
        outer.rollback().await
    };
    if let Err(e) = &res {
        tracing::error!(error = %e, jobs = finishes.len(), "group commit failed; every job of the group is told");
    }
    for (own, finish) in finishes {
        finish(match own {
            Some(e) => Err(e),
            None => res.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;
    use sea_orm::{ConnectionTrait, Statement};
    use std::time::Duration;

    fn q(db: &impl ConnectionTrait, sql: &str) -> Statement {
        Statement::from_string(db.get_database_backend(), sql.to_string())
    }

    async fn setup(db: &DatabaseConnection) {
        let deferred = "REFERENCES gc_parent(id) DEFERRABLE INITIALLY DEFERRED";
        db.execute_raw(q(db, "CREATE TABLE gc_parent (id BIGINT PRIMARY KEY)"))
            .await
            .unwrap();
        db.execute_raw(q(
            db,
            &format!("CREATE TABLE gc_rows (id BIGINT PRIMARY KEY, parent BIGINT {deferred})"),
        ))
        .await
        .unwrap();
        db.execute_raw(q(db, "INSERT INTO gc_parent (id) VALUES (1)"))
            .await
            .unwrap();
    }

    async fn ids(db: &DatabaseConnection) -> Vec<i64> {
        db.query_all_raw(q(db, "SELECT id FROM gc_rows ORDER BY id"))
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<i64>("", "id").unwrap())
            .collect()
    }

    /// What a test job does.
    #[derive(Clone, Copy)]
    enum Act {
        /// Insert the row and keep it.
        Insert,
        /// Insert the row, then refuse (error).
        InsertThenFail,
        /// Insert the row, then refuse (keep = false).
        InsertThenDiscard,
        /// Insert a row whose parent does not exist: the deferred foreign key fails the commit.
        InsertOrphan,
        /// Insert the row, then panic.
        InsertThenPanic,
    }

    fn job(
        gc: &Arc<GroupCommit>,
        id: i64,
        act: Act,
    ) -> tokio::task::JoinHandle<Result<i64, DbErr>> {
        let gc = gc.clone();
        tokio::spawn(async move {
            gc.run(move |txn| {
                Box::pin(async move {
                    let parent = if matches!(act, Act::InsertOrphan) {
                        99
                    } else {
                        1
                    };
                    txn.execute_raw(q(
                        txn,
                        &format!("INSERT INTO gc_rows (id, parent) VALUES ({id}, {parent})"),
                    ))
                    .await?;
                    match act {
                        Act::InsertThenFail => Err(DbErr::Custom(format!("refused {id}"))),
                        Act::InsertThenDiscard => Ok((id, false)),
                        Act::InsertThenPanic => panic!("job {id} panics"),
                        _ => Ok((id, true)),
                    }
                })
            })
            .await
        })
    }

    /// Holds the writer busy until the returned sender fires, so that the jobs sent meanwhile
    /// form the next group together.
    async fn hold(gc: &Arc<GroupCommit>) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
        let (go, wait) = oneshot::channel::<()>();
        let (started, is_started) = oneshot::channel::<()>();
        let g = gc.clone();
        let h = tokio::spawn(async move {
            let r: Result<(), DbErr> = g
                .run(move |_txn| {
                    Box::pin(async move {
                        let _ = started.send(());
                        let _ = wait.await;
                        Ok(((), false))
                    })
                })
                .await;
            r.unwrap();
        });
        is_started.await.unwrap();
        (go, h)
    }

    async fn until_queued(gc: &GroupCommit, n: usize) {
        for _ in 0..500 {
            if gc.queued() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("jobs never queued");
    }

    async fn groups(t: &TestDb) {
        let db = &t.db;
        setup(db).await;
        let gc = Arc::new(GroupCommit::start(db.clone()));

        // 1. One group: kept, refused by error, refused by keep = false, panicking, kept.
        let (go, h) = hold(&gc).await;
        let a = job(&gc, 10, Act::Insert);
        until_queued(&gc, 1).await;
        let b = job(&gc, 11, Act::InsertThenFail);
        until_queued(&gc, 2).await;
        let c = job(&gc, 12, Act::InsertThenDiscard);
        until_queued(&gc, 3).await;
        let d = job(&gc, 13, Act::InsertThenPanic);
        until_queued(&gc, 4).await;
        let e = job(&gc, 14, Act::Insert);
        until_queued(&gc, 5).await;
        go.send(()).unwrap();
        h.await.unwrap();
        assert_eq!(a.await.unwrap().unwrap(), 10);
        assert_eq!(
            b.await.unwrap().unwrap_err().to_string(),
            DbErr::Custom("refused 11".into()).to_string()
        );
        assert_eq!(
            c.await.unwrap().unwrap(),
            12,
            "a refusal still gets its value"
        );
        assert!(d.await.unwrap().is_err(), "a panicked job gets an error");
        assert_eq!(e.await.unwrap().unwrap(), 14);
        assert_eq!(ids(db).await, vec![10, 14], "only the kept jobs are stored");

        // 2. A failed commit fails every kept job of the group and stores none of them; the
        // refused job keeps its own answer.
        let (go, h) = hold(&gc).await;
        let a = job(&gc, 20, Act::Insert);
        until_queued(&gc, 1).await;
        let orphan = job(&gc, 21, Act::InsertOrphan);
        until_queued(&gc, 2).await;
        let c = job(&gc, 22, Act::InsertThenDiscard);
        until_queued(&gc, 3).await;
        let d = job(&gc, 23, Act::Insert);
        until_queued(&gc, 4).await;
        go.send(()).unwrap();
        h.await.unwrap();
        assert!(
            a.await.unwrap().is_err(),
            "the commit failed: job 20 must not succeed"
        );
        assert!(orphan.await.unwrap().is_err());
        assert_eq!(c.await.unwrap().unwrap(), 22);
        assert!(
            d.await.unwrap().is_err(),
            "the commit failed: job 23 must not succeed"
        );
        assert_eq!(
            ids(db).await,
            vec![10, 14],
            "nothing of the failed group is stored"
        );

        // 3. The writer carries on after a failed group and after a panic in a group of one.
        assert!(job(&gc, 30, Act::InsertThenPanic).await.unwrap().is_err());
        assert_eq!(job(&gc, 31, Act::Insert).await.unwrap().unwrap(), 31);
        assert!(job(&gc, 32, Act::InsertOrphan).await.unwrap().is_err());
        assert_eq!(ids(db).await, vec![10, 14, 31]);
    }

    #[tokio::test]
    async fn refusals_are_alone_and_a_failed_commit_fails_everyone_sqlite() {
        groups(&TestDb::sqlite().await).await;
    }

    #[tokio::test]
    #[cfg_attr(not(qcity_pg), ignore = "needs QCITY_TEST_POSTGRES_URL")]
    async fn refusals_are_alone_and_a_failed_commit_fails_everyone_postgres() {
        groups(&TestDb::postgres().await).await;
    }

    /// Results arrive only after the commit: while the group's transaction is open (held by a
    /// job of the same group that has not finished), an earlier job of the group has no answer
    /// yet, and another connection does not see its row.
    async fn answers_after_commit(t: &TestDb) {
        let db = &t.db;
        setup(db).await;
        let gc = Arc::new(GroupCommit::start(db.clone()));
        let (go, h) = hold(&gc).await;
        let a = job(&gc, 40, Act::Insert);
        until_queued(&gc, 1).await;
        // The second job of the group waits until released, after job 40 has run.
        let (release, wait) = oneshot::channel::<()>();
        let (ran, has_run) = oneshot::channel::<()>();
        let g = gc.clone();
        let b = tokio::spawn(async move {
            g.run(move |txn| {
                Box::pin(async move {
                    txn.execute_raw(q(txn, "INSERT INTO gc_rows (id, parent) VALUES (41, 1)"))
                        .await?;
                    let _ = ran.send(());
                    let _ = wait.await;
                    Ok::<_, DbErr>((41, true))
                })
            })
            .await
        });
        until_queued(&gc, 2).await;
        go.send(()).unwrap();
        h.await.unwrap();
        has_run.await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !a.is_finished(),
            "job 40 must not be answered before the group commits"
        );
        assert!(ids(db).await.is_empty(), "uncommitted rows are invisible");
        release.send(()).unwrap();
        assert_eq!(a.await.unwrap().unwrap(), 40);
        assert_eq!(b.await.unwrap().unwrap(), 41);
        assert_eq!(ids(db).await, vec![40, 41]);
    }

    #[tokio::test]
    async fn results_arrive_only_after_commit_sqlite() {
        answers_after_commit(&TestDb::sqlite().await).await;
    }

    #[tokio::test]
    #[cfg_attr(not(qcity_pg), ignore = "needs QCITY_TEST_POSTGRES_URL")]
    async fn results_arrive_only_after_commit_postgres() {
        answers_after_commit(&TestDb::postgres().await).await;
    }
}

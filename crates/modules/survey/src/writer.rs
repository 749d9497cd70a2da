//! Group commit for collection writes (答卷落盘): one writer task per server takes every
//! submission waiting at that moment, runs each in its own savepoint of one transaction, commits
//! once (one fsync for the group) and only then answers each submitter. A submission that is
//! refused (invalid, quota full, duplicate) rolls back its savepoint alone; if the group's commit
//! fails every accepted submitter gets the error, so nobody hears "accepted" before the data is
//! durable.

use crate::store::{Result, SurveyStoreError};
use qcity_platform::web::AppState;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// A boxed future borrowing the transaction.
pub type TxFuture<'t, T> = Pin<Box<dyn Future<Output = T> + Send + 't>>;

/// Called after the group's commit (`Ok`) or failure (`Err(message)`).
type Finish = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;
/// One unit of work: runs in a savepoint, says whether to keep it, and how to answer.
type Job = Box<dyn for<'t> FnOnce(&'t DatabaseTransaction) -> TxFuture<'t, (bool, Finish)> + Send>;

/// Most submissions committed together.
const MAX_GROUP: usize = 128;

/// The writer task's queue; one per server, kept in [`AppState::extensions`]. Dropping the
/// server state closes the queue and ends the task.
struct Writer(mpsc::Sender<Job>);

/// The writer of this server, started on first use.
fn sender(st: &AppState) -> mpsc::Sender<Job> {
    st.extensions
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>(1024);
            tokio::spawn(run(st.db.clone(), rx));
            Writer(tx)
        })
        .0
        .clone()
}

async fn run(db: DatabaseConnection, mut rx: mpsc::Receiver<Job>) {
    let mut group: Vec<Job> = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        commit_group(&db, std::mem::take(&mut group)).await;
    }
}

async fn commit_group(db: &DatabaseConnection, group: Vec<Job>) {
    let outer = match db.begin().await {
        Ok(t) => t,
        Err(e) => {
            // Cannot even start: run nothing, tell everyone.
            let msg = e.to_string();
            for job in group {
                fail_unrun(job, &msg);
            }
            return;
        }
    };
    // Per job: `Some(err)` when its own savepoint failed, whatever the group's fate.
    let mut finishes: Vec<(Option<String>, Finish)> = Vec::with_capacity(group.len());
    let mut any_kept = false;
    if group.len() == 1 {
        for job in group {
            let (keep, finish) = job(&outer).await;
            any_kept |= keep;
            finishes.push((None, finish));
        }
    } else {
        for job in group {
            let sp = match outer.begin().await {
                Ok(sp) => sp,
                Err(e) => {
                    fail_unrun(job, &e.to_string());
                    continue;
                }
            };
            let (keep, finish) = job(&sp).await;
            let own = if keep {
                match sp.commit().await {
                    Ok(()) => {
                        any_kept = true;
                        None
                    }
                    Err(e) => Some(e.to_string()),
                }
            } else {
                sp.rollback().await.err().map(|e| e.to_string())
            };
            finishes.push((own, finish));
        }
    }
    let res = if any_kept {
        outer.commit().await.map_err(|e| e.to_string())
    } else {
        outer.rollback().await.map_err(|e| e.to_string())
    };
    for (own, finish) in finishes {
        finish(match own {
            Some(e) => Err(e),
            None => res.clone(),
        });
    }
}

/// Answers a job that never ran with an error.
fn fail_unrun(job: Job, msg: &str) {
    // A job answers through its `Finish`, which exists only once it has run; dropping the job
    // drops its reply sender, so the submitter sees the writer as gone (an internal error).
    drop(job);
    tracing::error!(error = %msg, "survey writer: could not start a transaction");
}

/// Runs `work` in the writer's next group and returns its value once the group is committed.
/// `work` returns `(value, keep)`: with `keep == false` its savepoint is rolled back and the
/// value returned at once after the group (a refusal needs no durability).
pub async fn submit<T, F>(st: &AppState, work: F) -> Result<T>
where
    T: Send + 'static,
    F: for<'t> FnOnce(&'t DatabaseTransaction) -> TxFuture<'t, Result<(T, bool)>> + Send + 'static,
{
    let (reply, rx) = oneshot::channel::<Result<T>>();
    let job: Job = Box::new(move |txn| {
        Box::pin(async move {
            let r = work(txn).await;
            let keep = matches!(r, Ok((_, true)));
            let finish: Finish = Box::new(move |committed| {
                let out = match r {
                    Ok((v, true)) => committed
                        .map(|_| v)
                        .map_err(|e| SurveyStoreError::Db(DbErr::Custom(e))),
                    Ok((v, false)) => Ok(v),
                    Err(e) => Err(e),
                };
                let _ = reply.send(out);
            });
            (keep, finish)
        })
    });
    let tx = sender(st);
    tx.send(job).await.map_err(|_| writer_gone())?;
    rx.await.map_err(|_| writer_gone())?
}

fn writer_gone() -> SurveyStoreError {
    SurveyStoreError::Db(DbErr::Custom("the survey writer stopped".into()))
}

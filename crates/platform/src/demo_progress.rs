//! Durable progress of the demo's background generators, so that a demo stopped half-way
//! finishes on its next start.
//!
//! A generator counts its work in steps (a month of one meter's readings, a chunk of survey
//! answers, one index run), each deterministic from the seed and idempotent. After step `k` is
//! committed it records `done = k + 1` — in the step's own transaction where it has one, else
//! right after it (a crash in between redoes one idempotent step). On start, a generator whose
//! row is not finished skips the steps done (replaying their random draws, not their writes)
//! and goes on, reporting through the jobs registry so the dashboard shows it resuming.

use crate::jobs::{JobHandle, Jobs};
use crate::store::sql;
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::HashMap;
use std::sync::Mutex;

/// What a generator has recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub finished: bool,
}

/// The recorded progress of `generator` in `city_id`, if it ever started.
pub async fn load(
    db: &impl ConnectionTrait,
    city_id: i64,
    generator: &str,
) -> Result<Option<Progress>, DbErr> {
    let Some(r) = sql::one(
        db,
        "SELECT done, total, finished FROM demo_progress WHERE city_id = ? AND generator = ?",
        vec![city_id.into(), generator.into()],
    )
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(Progress {
        done: r.try_get::<i64>("", "done")?.max(0) as u64,
        total: r.try_get::<i64>("", "total")?.max(0) as u64,
        finished: r.try_get("", "finished")?,
    }))
}

async fn save(
    c: &impl ConnectionTrait,
    city_id: i64,
    generator: &str,
    p: Progress,
) -> Result<(), DbErr> {
    sql::exec(
        c,
        "INSERT INTO demo_progress (city_id, generator, done, total, finished, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (city_id, generator) DO UPDATE SET \
         done = excluded.done, total = excluded.total, finished = excluded.finished, \
         updated_at = excluded.updated_at",
        vec![
            city_id.into(),
            generator.into(),
            (p.done as i64).into(),
            (p.total as i64).into(),
            p.finished.into(),
            chrono::Utc::now().into(),
        ],
    )
    .await?;
    Ok(())
}

/// A generator's run: its durable progress and its job on the dashboard.
pub struct Tracker {
    city_id: i64,
    generator: String,
    total: u64,
    done: u64,
    job: JobHandle,
    _running: RunGuard,
}

static RUNNING: Mutex<Vec<(i64, String)>> = Mutex::new(Vec::new());

/// Marks a generator running in this process until dropped.
struct RunGuard(i64, String);

impl RunGuard {
    fn take(city_id: i64, generator: &str) -> Option<RunGuard> {
        let mut r = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        if r.iter().any(|(c, g)| *c == city_id && g == generator) {
            return None;
        }
        r.push((city_id, generator.to_string()));
        Some(RunGuard(city_id, generator.to_string()))
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        RUNNING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(c, g)| !(*c == self.0 && *g == self.1));
    }
}

impl Tracker {
    /// Starts (or resumes) `generator`: `None` when it already finished, else the tracker, whose
    /// [`Tracker::done`] says how many steps to skip. The job `label` shows from now on.
    pub async fn start(
        db: &impl ConnectionTrait,
        jobs: &Jobs,
        city_id: i64,
        generator: &str,
        label: &str,
        total: u64,
    ) -> Result<Option<Tracker>, DbErr> {
        Self::start_at(db, jobs, city_id, generator, label, total, 0).await
    }

    /// As [`Tracker::start`]; a generator never recorded starts with `done_if_new` steps done
    /// (what the data of a run from before progress was recorded shows).
    pub async fn start_at(
        db: &impl ConnectionTrait,
        jobs: &Jobs,
        city_id: i64,
        generator: &str,
        label: &str,
        total: u64,
        done_if_new: u64,
    ) -> Result<Option<Tracker>, DbErr> {
        // One run per generator and city in this process (a second `seed` while the first
        // one's task is still going leaves it alone).
        let Some(guard) = RunGuard::take(city_id, generator) else {
            return Ok(None);
        };
        let before = load(db, city_id, generator).await?;
        if before.is_some_and(|p| p.finished) {
            return Ok(None);
        }
        let done = before.map_or(done_if_new, |p| p.done).min(total);
        if before.is_none() {
            save(
                db,
                city_id,
                generator,
                Progress {
                    done,
                    total,
                    finished: false,
                },
            )
            .await?;
        } else {
            tracing::info!(generator, done, total, "resuming demo generation");
        }
        let job = jobs.start(label, total);
        job.set_done(done);
        Ok(Some(Tracker {
            city_id,
            generator: generator.to_string(),
            total,
            done,
            job,
            _running: guard,
        }))
    }

    /// Steps already done (to skip).
    pub fn done(&self) -> u64 {
        self.done
    }

    /// Whether step `k` (0-based) was done by an earlier run.
    pub fn is_done(&self, k: u64) -> bool {
        k < self.done
    }

    /// Records `done` steps, on `c` — pass the step's transaction so both commit together.
    pub async fn record(&self, c: &impl ConnectionTrait, done: u64) -> Result<(), DbErr> {
        save(
            c,
            self.city_id,
            &self.generator,
            Progress {
                done,
                total: self.total,
                finished: false,
            },
        )
        .await
    }

    /// After the step's commit: shows the progress, and stops the run when a test asked to
    /// interrupt it here (see [`interrupt_after`]).
    pub fn committed(&mut self, done: u64) -> Result<(), DbErr> {
        self.done = done;
        self.job.set_done(done);
        if take_interrupt(self.city_id, &self.generator) {
            return Err(DbErr::Custom(format!(
                "demo generator {} interrupted after {done} steps (test hook)",
                self.generator
            )));
        }
        Ok(())
    }

    /// Records the step and shows it, outside any transaction of the step.
    pub async fn step(&mut self, db: &impl ConnectionTrait, done: u64) -> Result<(), DbErr> {
        self.record(db, done).await?;
        self.committed(done)
    }

    /// Marks the generator finished (durably) and the job done.
    pub async fn finish(&self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        save(
            db,
            self.city_id,
            &self.generator,
            Progress {
                done: self.total,
                total: self.total,
                finished: true,
            },
        )
        .await?;
        self.job.finish();
        Ok(())
    }

    /// Shows a failure on the dashboard (the durable progress stays for the next start).
    pub fn fail(&self, message: &str) {
        self.job.fail(message);
    }
}

type InterruptKey = (i64, String);

static INTERRUPTS: Mutex<Option<HashMap<InterruptKey, u64>>> = Mutex::new(None);

/// Test hook: the next run of `generator` in `city_id` stops with an error after `steps` more
/// steps, as if the process had been killed there (its committed work and progress stay).
pub fn interrupt_after(city_id: i64, generator: &str, steps: u64) {
    INTERRUPTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert((city_id, generator.to_string()), steps);
}

fn take_interrupt(city_id: i64, generator: &str) -> bool {
    let mut g = INTERRUPTS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(map) = g.as_mut() else {
        return false;
    };
    let key = (city_id, generator.to_string());
    let Some(left) = map.get_mut(&key) else {
        return false;
    };
    *left = left.saturating_sub(1);
    if *left == 0 {
        map.remove(&key);
        return true;
    }
    false
}

//! Background jobs with visible progress (bulky demo data, long index runs), and the
//! server's periodic housekeeping.

use serde::Serialize;
use std::sync::{Arc, Mutex};

/// Progress of one job.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobStatus {
    pub name: String,
    pub done: u64,
    pub total: u64,
    pub state: JobState,
    pub message: String,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Finished,
    Failed,
}

impl JobStatus {
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            if self.state == JobState::Finished {
                1.0
            } else {
                0.0
            }
        } else {
            self.done as f64 / self.total as f64
        }
    }
    pub fn is_failed(&self) -> bool {
        self.state == JobState::Failed
    }
    pub fn percent(&self) -> u32 {
        (self.fraction() * 100.0).round() as u32
    }
}

/// The registry of jobs of this process.
#[derive(Clone, Default)]
pub struct Jobs(Arc<Mutex<Vec<JobStatus>>>);

/// A handle a job reports its progress through.
#[derive(Clone)]
pub struct JobHandle {
    jobs: Jobs,
    name: String,
}

impl Jobs {
    pub fn start(&self, name: &str, total: u64) -> JobHandle {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        v.retain(|j| j.name != name);
        v.push(JobStatus {
            name: name.to_string(),
            done: 0,
            total,
            state: JobState::Running,
            message: String::new(),
        });
        JobHandle {
            jobs: self.clone(),
            name: name.to_string(),
        }
    }
    pub fn snapshot(&self) -> Vec<JobStatus> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    fn update(&self, name: &str, f: impl FnOnce(&mut JobStatus)) {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(j) = v.iter_mut().find(|j| j.name == name) {
            f(j);
        }
    }
}

impl JobHandle {
    pub fn set_done(&self, done: u64) {
        self.jobs
            .update(&self.name, |j| j.done = done.min(j.total.max(done)));
    }
    pub fn set_total(&self, total: u64) {
        self.jobs.update(&self.name, |j| j.total = total);
    }
    pub fn finish(&self) {
        self.jobs.update(&self.name, |j| {
            j.done = j.total;
            j.state = JobState::Finished;
        });
    }
    pub fn fail(&self, message: &str) {
        let m = message.to_string();
        self.jobs.update(&self.name, |j| {
            j.state = JobState::Failed;
            j.message = m;
        });
    }
}

/// How often [`start_housekeeping`] purges ended sessions.
pub const SESSION_PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Starts the server's housekeeping: ended sessions are deleted at start and then hourly,
/// until the server's shutdown signal.
pub fn start_housekeeping(st: &crate::web::AppState) -> tokio::task::JoinHandle<()> {
    let (db, policy, shutdown) = (st.db.clone(), st.session_policy(), st.shutdown.clone());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SESSION_PURGE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = shutdown.triggered() => return,
            }
            match crate::auth::session::purge_expired_all_cities(&db, policy, chrono::Utc::now())
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "purged ended sessions"),
                Err(e) => {
                    tracing::warn!(error = %e, "purging ended sessions failed; next try in an hour")
                }
            }
        }
    })
}

//! The writer: takes a batch, has the handler store it group by group (retrying a failed group
//! with capped exponential back-off for as long as it takes), records rejected frames in the
//! dead-letter table, and only then acknowledges the batch's frames.

use super::ack::PendingAck;
use super::connection::Link;
use super::consumer::{Frame, Handler, Options, Outcome};
use super::dead_letter::{self, NewDeadLetter};
use sea_orm::DatabaseConnection;
use std::time::Duration;
use tokio::sync::mpsc;

pub(crate) async fn write<H: Handler>(
    db: DatabaseConnection,
    mut handler: H,
    opts: Options,
    links: Vec<Link>,
    mut rx: mpsc::Receiver<Frame<H::Parsed>>,
) {
    // Per connection: stored frames whose ack did not fit in the client's queue yet.
    let mut unacked: Vec<Vec<PendingAck>> = links.iter().map(|_| Vec::new()).collect();
    loop {
        send_acks(&links, &mut unacked);
        let wait = if unacked.iter().all(Vec::is_empty) {
            Duration::from_secs(3600)
        } else {
            Duration::from_millis(10)
        };
        let Some(batch) = next_batch::<H>(&mut rx, wait, &opts).await else {
            return;
        };
        if batch.is_empty() {
            continue;
        }
        let outcomes = store(&db, &mut handler, &opts, &links, &mut unacked, &batch).await;
        opts.count("messages", batch.len());
        for (f, o) in batch.into_iter().zip(outcomes) {
            if let Outcome::Rejected(r) = &o {
                tracing::warn!(consumer = %opts.name, topic = %f.publish.topic, reason = %r.reason, "MQTT frame dead-lettered");
            }
            unacked[f.connection].push(PendingAck {
                generation: f.generation,
                publish: f.publish,
            });
        }
    }
}

/// Stores a batch: each group through the handler until it succeeds, then the rejected frames
/// in the dead-letter table until that succeeds. Returns one outcome per frame.
async fn store<H: Handler>(
    db: &DatabaseConnection,
    handler: &mut H,
    opts: &Options,
    links: &[Link],
    unacked: &mut [Vec<PendingAck>],
    batch: &[Frame<H::Parsed>],
) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; batch.len()];
    for idx in groups::<H>(batch) {
        let frames: Vec<&Frame<H::Parsed>> = idx.iter().map(|&i| &batch[i]).collect();
        let mut backoff = Backoff::new(opts);
        let got = loop {
            let r = match tokio::time::timeout(opts.attempt_timeout, handler.handle(&frames)).await
            {
                Ok(r) => r.map_err(|t| t.0),
                Err(_) => Err(format!(
                    "no answer within {} s",
                    opts.attempt_timeout.as_secs_f64()
                )),
            };
            match r {
                Ok(v) => break v,
                Err(e) => backoff.failed(opts, links, unacked, "handle", &e).await,
            }
        };
        backoff.done(opts);
        if got.len() != idx.len() {
            tracing::error!(consumer = %opts.name, expected = idx.len(), got = got.len(), "MQTT handler returned the wrong number of outcomes");
        }
        let mut got = got.into_iter();
        for &i in &idx {
            outcomes[i] = Some(got.next().unwrap_or_else(|| {
                Outcome::rejected("the handler gave no outcome for this frame", None)
            }));
        }
    }
    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Stored))
        .collect();
    let dead: Vec<NewDeadLetter> = batch
        .iter()
        .zip(&outcomes)
        .filter_map(|(f, o)| match o {
            Outcome::Rejected(r) => Some(NewDeadLetter {
                received_at: f.received_at,
                consumer: opts.name.clone(),
                topic: f.publish.topic.clone(),
                payload: f.publish.payload.to_vec(),
                reason: r.reason.clone(),
                city_code: r.city_code.clone(),
                city_id: r.city_id,
            }),
            Outcome::Stored => None,
        })
        .collect();
    if !dead.is_empty() {
        let mut backoff = Backoff::new(opts);
        loop {
            let r =
                tokio::time::timeout(opts.attempt_timeout, dead_letter::record(db, &dead)).await;
            match r {
                Ok(Ok(())) => break,
                Ok(Err(e)) => {
                    backoff
                        .failed(opts, links, unacked, "dead-letter", &e.to_string())
                        .await
                }
                Err(_) => {
                    backoff
                        .failed(opts, links, unacked, "dead-letter", "no answer")
                        .await
                }
            }
        }
        backoff.done(opts);
        opts.count("dead_letters", dead.len());
    }
    outcomes
}

/// Capped exponential back-off between attempts at the same frames.
struct Backoff {
    wait: Duration,
    tries: u64,
}

impl Backoff {
    fn new(opts: &Options) -> Self {
        Self {
            wait: opts.backoff.0,
            tries: 0,
        }
    }

    /// After a failed attempt: logs, sends the acks of earlier batches, and waits.
    async fn failed(
        &mut self,
        opts: &Options,
        links: &[Link],
        unacked: &mut [Vec<PendingAck>],
        step: &str,
        error: &str,
    ) {
        self.tries += 1;
        opts.count("retries", 1);
        tracing::error!(consumer = %opts.name, step, error, tries = self.tries, "MQTT batch not stored; retrying in {} ms (its frames stay unacknowledged)", self.wait.as_millis());
        send_acks(links, unacked);
        tokio::time::sleep(self.wait).await;
        self.wait = (self.wait * 2).min(opts.backoff.1);
    }

    fn done(&self, opts: &Options) {
        if self.tries > 0 {
            tracing::info!(consumer = %opts.name, tries = self.tries, "MQTT batch stored after retrying");
        }
    }
}

/// Indices of the batch by group, groups in order of first appearance.
fn groups<H: Handler>(batch: &[Frame<H::Parsed>]) -> Vec<Vec<usize>> {
    let mut keys: Vec<&str> = Vec::new();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, f) in batch.iter().enumerate() {
        let k = H::group(&f.parsed);
        match keys.iter().position(|x| *x == k) {
            Some(j) => out[j].push(i),
            None => {
                keys.push(k);
                out.push(vec![i]);
            }
        }
    }
    out
}

fn send_acks(links: &[Link], unacked: &mut [Vec<PendingAck>]) {
    for (l, pending) in links.iter().zip(unacked.iter_mut()) {
        l.gate.send(&l.client, pending);
    }
}

/// Takes the next batch: waits up to `wait` for a first frame, then takes what has arrived,
/// waiting at most `linger` for more. `None` when every connection is gone.
async fn next_batch<H: Handler>(
    rx: &mut mpsc::Receiver<Frame<H::Parsed>>,
    wait: Duration,
    opts: &Options,
) -> Option<Vec<Frame<H::Parsed>>> {
    let first = match tokio::time::timeout(wait, rx.recv()).await {
        Ok(Some(f)) => f,
        Ok(None) => return None,
        Err(_) => return Some(Vec::new()),
    };
    let mut weight = H::weight(&first.parsed);
    let mut out = vec![first];
    let deadline = tokio::time::Instant::now() + opts.linger;
    while out.len() < opts.max_frames && weight < opts.max_weight {
        let f = match rx.try_recv() {
            Ok(f) => f,
            Err(mpsc::error::TryRecvError::Disconnected) => break,
            Err(mpsc::error::TryRecvError::Empty) if opts.linger.is_zero() => break,
            // recv is cancel-safe: a timeout loses nothing.
            Err(mpsc::error::TryRecvError::Empty) => {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(f)) => f,
                    _ => break,
                }
            }
        };
        weight += H::weight(&f.parsed);
        out.push(f);
    }
    Some(out)
}

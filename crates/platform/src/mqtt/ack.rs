//! Acknowledgements bound to the connection that delivered the frame.
//!
//! After a reconnect the broker redelivers every unacknowledged QoS 1 frame of the persistent
//! session, and packet ids are per connection: an ack computed for a frame of an earlier
//! connection must never go out on the new one (it could acknowledge a different frame the broker
//! has put under that id, which would then be lost). Each connection has a generation, bumped at
//! every disconnect; the writer sends acks only for frames of the current generation, and the
//! check and the send happen under the same lock as the bump and the purge of queued acks, so no
//! ack can slip between them. Stale frames are simply dropped: the broker redelivers them.

use rumqttc::{AsyncClient, Publish};
use std::collections::HashSet;
use std::sync::Mutex;

/// Something acks can be queued on without waiting (rumqttc's client; a recorder in tests).
pub trait AckSink {
    /// Queues the ack of `p`; `false` when the queue is full (try again later).
    fn try_ack(&self, p: &Publish) -> bool;
}

impl AckSink for AsyncClient {
    fn try_ack(&self, p: &Publish) -> bool {
        AsyncClient::try_ack(self, p).is_ok()
    }
}

/// The generation of one broker connection.
#[derive(Debug, Default)]
pub struct AckGate {
    generation: Mutex<u64>,
}

/// A stored or durably rejected frame waiting for its ack.
#[derive(Debug, Clone)]
pub struct PendingAck {
    pub generation: u64,
    pub publish: Publish,
}

impl AckGate {
    /// The current generation (stamped on every frame as it arrives).
    pub fn current(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks a disconnect: bumps the generation and, under the same lock, runs `purge` (which
    /// drops acks already queued for the old connection).
    pub fn disconnected(&self, purge: impl FnOnce()) {
        let mut g = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        *g += 1;
        purge();
    }

    /// Sends what it can of `pending`: frames of an earlier generation are dropped (the broker
    /// redelivers them), each packet id is acked once, and what did not fit in the sink stays in
    /// `pending`, in order.
    pub fn send(&self, sink: &impl AckSink, pending: &mut Vec<PendingAck>) {
        if pending.is_empty() {
            return;
        }
        let g = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        let mut seen = HashSet::new();
        let mut rest = Vec::new();
        let mut full = false;
        for d in pending.drain(..) {
            if d.generation != *g || !seen.insert(d.publish.pkid) {
                continue;
            }
            if full || !sink.try_ack(&d.publish) {
                full = true;
                rest.push(d);
            }
        }
        *pending = rest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumqttc::QoS;
    use std::cell::RefCell;

    /// Records acked packet ids; refuses after `room` acks.
    struct Recorder {
        acked: RefCell<Vec<u16>>,
        room: usize,
    }
    impl AckSink for Recorder {
        fn try_ack(&self, p: &Publish) -> bool {
            let mut a = self.acked.borrow_mut();
            if a.len() >= self.room {
                return false;
            }
            a.push(p.pkid);
            true
        }
    }

    fn frame(generation: u64, pkid: u16) -> PendingAck {
        let mut p = Publish::new("t", QoS::AtLeastOnce, vec![]);
        p.pkid = pkid;
        PendingAck {
            generation,
            publish: p,
        }
    }

    #[test]
    fn acks_of_an_earlier_connection_are_never_sent() {
        let gate = AckGate::default();
        let sink = Recorder {
            acked: RefCell::new(vec![]),
            room: 100,
        };
        // Frames 1 and 2 arrive on generation 0; the connection drops before they are stored.
        let mut pending = vec![frame(gate.current(), 1), frame(gate.current(), 2)];
        let mut purged = false;
        gate.disconnected(|| purged = true);
        assert!(purged, "queued acks are purged under the lock");
        assert_eq!(gate.current(), 1);
        // The broker redelivers frame 1 under the same id on the new connection.
        pending.push(frame(gate.current(), 1));
        gate.send(&sink, &mut pending);
        assert_eq!(
            *sink.acked.borrow(),
            vec![1],
            "only the redelivery is acked"
        );
        assert!(pending.is_empty(), "stale frames are dropped, not kept");
    }

    #[test]
    fn a_full_queue_keeps_the_rest_and_ids_are_acked_once() {
        let gate = AckGate::default();
        let sink = Recorder {
            acked: RefCell::new(vec![]),
            room: 2,
        };
        let mut pending = vec![frame(0, 5), frame(0, 5), frame(0, 6), frame(0, 7)];
        gate.send(&sink, &mut pending);
        assert_eq!(*sink.acked.borrow(), vec![5, 6]);
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].publish.pkid, 7);
    }
}

//! The 96333 incident state machine (电梯应急处置流程), pure: no IO, no clock. The store feeds it
//! the current state and time and persists what it returns.
//!
//! Main line: received → located → (reassured) → dispatched (level 1, the contracted maintenance
//! unit) → acknowledged → on scene → released → confirmed (call-back) → cause reported → closed.
//! Escalation: level 2 (nearest other maintenance unit), level 3 (110/119 notified). Side exits:
//! cancelled (self-recovered), false alarm, not trapped (becomes a repair order).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// An incident state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Received,
    Located,
    Reassured,
    Dispatched,
    Acknowledged,
    EscalatedL2,
    EscalatedL3,
    OnScene,
    Released,
    Confirmed,
    CauseReported,
    Closed,
    Cancelled,
    FalseAlarm,
    NotTrapped,
}

impl State {
    pub const ALL: [State; 15] = [
        State::Received,
        State::Located,
        State::Reassured,
        State::Dispatched,
        State::Acknowledged,
        State::EscalatedL2,
        State::EscalatedL3,
        State::OnScene,
        State::Released,
        State::Confirmed,
        State::CauseReported,
        State::Closed,
        State::Cancelled,
        State::FalseAlarm,
        State::NotTrapped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Received => "received",
            State::Located => "located",
            State::Reassured => "reassured",
            State::Dispatched => "dispatched",
            State::Acknowledged => "acknowledged",
            State::EscalatedL2 => "escalated_l2",
            State::EscalatedL3 => "escalated_l3",
            State::OnScene => "on_scene",
            State::Released => "released",
            State::Confirmed => "confirmed",
            State::CauseReported => "cause_reported",
            State::Closed => "closed",
            State::Cancelled => "cancelled",
            State::FalseAlarm => "false_alarm",
            State::NotTrapped => "not_trapped",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    /// Final states: nothing follows.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            State::Closed | State::Cancelled | State::FalseAlarm | State::NotTrapped
        )
    }

    /// Still needs someone's action: the live board shows these.
    pub fn is_open(self) -> bool {
        !self.is_terminal()
    }

    /// Passengers may still be trapped.
    pub fn passengers_waiting(self) -> bool {
        !self.is_terminal()
            && !matches!(
                self,
                State::Released | State::Confirmed | State::CauseReported
            )
    }

    /// States whose rescuer has not yet accepted (the acknowledgement timer runs).
    pub fn awaits_ack(self) -> bool {
        matches!(self, State::Dispatched | State::EscalatedL2)
    }

    /// States whose rescuer is not yet on scene (the arrival timer runs).
    pub fn awaits_arrival(self) -> bool {
        matches!(
            self,
            State::Dispatched | State::Acknowledged | State::EscalatedL2 | State::EscalatedL3
        )
    }

    /// The legal next states.
    pub fn next(self) -> &'static [State] {
        use State::*;
        match self {
            Received => &[Located, Cancelled, FalseAlarm],
            Located => &[Reassured, Dispatched, Cancelled, FalseAlarm, NotTrapped],
            Reassured => &[Dispatched, Cancelled, FalseAlarm, NotTrapped],
            Dispatched => &[
                Acknowledged,
                EscalatedL2,
                EscalatedL3,
                OnScene,
                Cancelled,
                FalseAlarm,
                NotTrapped,
            ],
            Acknowledged => &[OnScene, EscalatedL2, EscalatedL3, Cancelled, NotTrapped],
            EscalatedL2 => &[Acknowledged, OnScene, EscalatedL3, Cancelled, NotTrapped],
            EscalatedL3 => &[OnScene, Released, Cancelled],
            OnScene => &[Released, EscalatedL3, NotTrapped],
            Released => &[Confirmed],
            Confirmed => &[CauseReported],
            CauseReported => &[Closed],
            Closed | Cancelled | FalseAlarm | NotTrapped => &[],
        }
    }

    pub fn can_go(self, to: State) -> bool {
        self.next().contains(&to)
    }
}

/// The limits a region sets (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Timers {
    /// Dispatch within this long after receipt (default 5 min).
    pub dispatch_secs: i64,
    /// The rescuer acknowledges within this long after dispatch (default 3 min).
    pub ack_secs: i64,
    /// On scene within this long after dispatch (30 min urban districts, 60 min elsewhere).
    pub arrive_secs: i64,
}

impl Timers {
    /// The defaults of TSG T5002-2017 art. 5(4) and the Hangzhou draft.
    pub fn default_for(urban: bool) -> Self {
        Self {
            dispatch_secs: 5 * 60,
            ack_secs: 3 * 60,
            arrive_secs: if urban { 30 * 60 } else { 60 * 60 },
        }
    }
}

/// Stored deadlines (the escalation scanner reads these, not in-memory timers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Deadlines {
    pub dispatch_by: Option<DateTime<Utc>>,
    pub ack_by: Option<DateTime<Utc>>,
    pub arrive_by: Option<DateTime<Utc>>,
}

/// Milestone times of one incident.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Milestones {
    pub received_at: Option<DateTime<Utc>>,
    pub located_at: Option<DateTime<Utc>>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub on_scene_at: Option<DateTime<Utc>>,
    pub released_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsmError {
    #[error("illegal transition {from} → {to}")]
    Illegal {
        from: &'static str,
        to: &'static str,
    },
    #[error("time {at} is before the last event {last}")]
    NotMonotone {
        at: DateTime<Utc>,
        last: DateTime<Utc>,
    },
}

/// The state-machine view of an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub state: State,
    /// Response level 1–3.
    pub level: i32,
    pub timers: Timers,
    pub deadlines: Deadlines,
    pub times: Milestones,
    /// Time of the last accepted event.
    pub last_at: DateTime<Utc>,
}

impl Machine {
    /// A new incident received at `at`.
    pub fn received(at: DateTime<Utc>, timers: Timers) -> Self {
        Self {
            state: State::Received,
            level: 1,
            timers,
            deadlines: Deadlines {
                dispatch_by: Some(at + Duration::seconds(timers.dispatch_secs)),
                ack_by: None,
                arrive_by: None,
            },
            times: Milestones {
                received_at: Some(at),
                ..Default::default()
            },
            last_at: at,
        }
    }

    /// Applies `to` at `at`; on success the state, level, milestones and deadlines are updated.
    pub fn apply(&mut self, to: State, at: DateTime<Utc>) -> Result<(), FsmError> {
        if !self.state.can_go(to) {
            return Err(FsmError::Illegal {
                from: self.state.as_str(),
                to: to.as_str(),
            });
        }
        if at < self.last_at {
            return Err(FsmError::NotMonotone {
                at,
                last: self.last_at,
            });
        }
        let t = self.timers;
        match to {
            State::Located => self.times.located_at = Some(at),
            State::Dispatched => {
                self.times.dispatched_at = Some(at);
                self.deadlines.dispatch_by = None;
                self.deadlines.ack_by = Some(at + Duration::seconds(t.ack_secs));
                self.deadlines.arrive_by = Some(at + Duration::seconds(t.arrive_secs));
            }
            State::Acknowledged => {
                self.times.acknowledged_at.get_or_insert(at);
                self.deadlines.ack_by = None;
            }
            State::EscalatedL2 => {
                self.level = self.level.max(2);
                // The new unit gets a fresh acknowledgement window; the arrival limit stands.
                self.deadlines.ack_by = Some(at + Duration::seconds(t.ack_secs));
            }
            State::EscalatedL3 => {
                self.level = 3;
                self.deadlines.ack_by = None;
            }
            State::OnScene => {
                self.times.on_scene_at = Some(at);
                self.deadlines.ack_by = None;
                self.deadlines.arrive_by = None;
            }
            State::Released => {
                self.times.released_at = Some(at);
                self.deadlines = Deadlines::default();
            }
            State::Confirmed => self.times.confirmed_at = Some(at),
            State::Closed | State::Cancelled | State::FalseAlarm | State::NotTrapped => {
                self.times.closed_at = Some(at);
                self.deadlines = Deadlines::default();
            }
            State::Received | State::Reassured | State::CauseReported => {}
        }
        self.state = to;
        self.last_at = at;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_760_000_000, 0).unwrap()
    }

    #[test]
    fn main_line_sets_deadlines_and_milestones() {
        let mut m = Machine::received(t0(), Timers::default_for(true));
        assert_eq!(m.deadlines.dispatch_by, Some(t0() + Duration::seconds(300)));
        let s = |x| t0() + Duration::seconds(x);
        m.apply(State::Located, s(20)).unwrap();
        m.apply(State::Dispatched, s(60)).unwrap();
        assert_eq!(m.deadlines.ack_by, Some(s(240)));
        assert_eq!(m.deadlines.arrive_by, Some(s(60 + 1800)));
        assert_eq!(m.deadlines.dispatch_by, None);
        m.apply(State::Acknowledged, s(100)).unwrap();
        assert_eq!(m.deadlines.ack_by, None);
        m.apply(State::OnScene, s(900)).unwrap();
        m.apply(State::Released, s(1200)).unwrap();
        m.apply(State::Confirmed, s(1300)).unwrap();
        m.apply(State::CauseReported, s(5000)).unwrap();
        m.apply(State::Closed, s(5001)).unwrap();
        assert!(m.state.is_terminal());
        assert!(m.apply(State::Located, s(6000)).is_err());
    }

    #[test]
    fn county_arrival_is_an_hour_and_escalation_raises_level() {
        let mut m = Machine::received(t0(), Timers::default_for(false));
        m.apply(State::Located, t0()).unwrap();
        m.apply(State::Dispatched, t0()).unwrap();
        assert_eq!(m.deadlines.arrive_by, Some(t0() + Duration::hours(1)));
        m.apply(State::EscalatedL2, t0() + Duration::minutes(4))
            .unwrap();
        assert_eq!(m.level, 2);
        assert_eq!(m.deadlines.ack_by, Some(t0() + Duration::minutes(7)));
        m.apply(State::EscalatedL3, t0() + Duration::minutes(8))
            .unwrap();
        assert_eq!(m.level, 3);
        assert_eq!(
            m.apply(State::Received, t0() + Duration::minutes(9)),
            Err(FsmError::Illegal {
                from: "escalated_l3",
                to: "received"
            })
        );
    }

    fn any_state() -> impl Strategy<Value = State> {
        (0..State::ALL.len()).prop_map(|i| State::ALL[i])
    }

    proptest! {
        /// Whatever sequence of requests arrives, only legal transitions are accepted, a refused
        /// request changes nothing, and accepted event times never go backwards.
        #[test]
        fn no_illegal_transition_is_accepted(steps in proptest::collection::vec((any_state(), -120i64..600), 1..60)) {
            let mut m = Machine::received(t0(), Timers::default_for(true));
            let mut now = t0();
            let mut accepted = vec![t0()];
            for (to, dt) in steps {
                now += Duration::seconds(dt);
                let before = m.clone();
                let legal = before.state.can_go(to) && now >= before.last_at;
                match m.apply(to, now) {
                    Ok(()) => {
                        prop_assert!(legal, "accepted {:?} -> {:?}", before.state, to);
                        prop_assert_eq!(m.state, to);
                        accepted.push(now);
                    }
                    Err(_) => {
                        prop_assert!(!legal);
                        prop_assert_eq!(&m, &before);
                    }
                }
                prop_assert!(m.level >= before.level);
            }
            prop_assert!(accepted.windows(2).all(|w| w[0] <= w[1]));
            let t = m.times;
            let seq = [t.received_at, t.located_at, t.dispatched_at, t.on_scene_at, t.released_at, t.confirmed_at, t.closed_at];
            let present: Vec<_> = seq.iter().flatten().collect();
            prop_assert!(present.windows(2).all(|w| w[0] <= w[1]), "{:?}", t);
        }

        /// Terminal states have no way out.
        #[test]
        fn terminal_states_are_final(s in any_state(), to in any_state()) {
            if s.is_terminal() {
                prop_assert!(!s.can_go(to));
            }
        }
    }
}

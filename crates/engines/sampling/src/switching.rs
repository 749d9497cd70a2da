//! ISO 2859-1:1999 clause 9 switching rules as a pure state machine over a lot history
//! (original inspection only; resubmitted lots must not be fed in). Applies per class of
//! nonconformity; the inspection level does not change.
//!
//! Rules [V: sqconline "Switching Rules (ISO 2859-1)", aqlrule.com, qualityinspection.org
//! quoting the standard]:
//! - normal → tightened when 2 lots out of 5 or fewer consecutive lots are not accepted;
//! - tightened → normal after 5 consecutive lots accepted;
//! - normal → reduced when the switching score reaches 30 (production steady and the
//!   responsible authority agreeing: [`Switching::reduced_allowed`]);
//! - reduced → normal as soon as a lot is not accepted (irregular production and "other
//!   conditions" are outside a lot history: call [`Switching::switch_to_normal`]);
//! - discontinue when the lots not accepted on one tightened period reach 5; inspection
//!   resumes (on tightened) only after corrective action: [`Switching::resume`].
//!
//! Switching score [M: the 1999 procedure as the brief describes it; IS 2500-1 confirms only
//! that the 1999 edition introduced "a new procedure for switching from normal to reduced"]:
//! 0 at the start of normal inspection; per lot on normal inspection, if the plan's Ac ≥ 2, +3
//! when the lot would have been accepted at the AQL one step tighter, else reset to 0; if
//! Ac is 0 or 1, +2 when the lot is accepted, else reset to 0.

use serde::Serialize;

/// Inspection state after a lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Normal,
    Tightened,
    Reduced,
    Discontinued,
}

/// Result of one lot on original inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LotOutcome {
    /// The lot was accepted.
    pub accepted: bool,
    /// For plans with Ac ≥ 2 on normal inspection: would it have been accepted at the AQL one
    /// step tighter? `None` when unknown: the score then counts like an Ac 0/1 plan (+2 per
    /// accepted lot).
    pub accepted_tighter: Option<bool>,
}

impl LotOutcome {
    /// An outcome with no tighter-AQL information.
    pub fn accepted(accepted: bool) -> Self {
        LotOutcome {
            accepted,
            accepted_tighter: None,
        }
    }
}

/// The switching state machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Switching {
    state: State,
    /// Whether steady production and the authority allow reduced inspection.
    pub reduced_allowed: bool,
    score: u32,
    /// Lots inspected on normal since the last non-accepted one (None: none yet this period).
    since_last_reject: Option<u32>,
    tightened_accepted_run: u32,
    tightened_rejects: u32,
}

impl Default for Switching {
    fn default() -> Self {
        Switching::new()
    }
}

impl Switching {
    /// Start on normal inspection with a zero switching score, reduced inspection allowed.
    pub fn new() -> Self {
        Switching {
            state: State::Normal,
            reduced_allowed: true,
            score: 0,
            since_last_reject: None,
            tightened_accepted_run: 0,
            tightened_rejects: 0,
        }
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Current switching score (meaningful on normal inspection).
    pub fn score(&self) -> u32 {
        self.score
    }

    /// Switch to normal inspection (from reduced on irregular production, or by decision).
    pub fn switch_to_normal(&mut self) {
        self.state = State::Normal;
        self.score = 0;
        self.since_last_reject = None;
    }

    fn switch_to_tightened(&mut self) {
        self.state = State::Tightened;
        self.tightened_accepted_run = 0;
        self.tightened_rejects = 0;
    }

    /// Resume on tightened inspection after discontinuation and corrective action.
    pub fn resume(&mut self) {
        if self.state == State::Discontinued {
            self.switch_to_tightened();
        }
    }

    /// Feeds one lot; returns the state that applies to the next lot.
    pub fn record(&mut self, lot: LotOutcome) -> State {
        match self.state {
            State::Normal => self.on_normal(lot),
            State::Tightened => {
                if lot.accepted {
                    self.tightened_accepted_run += 1;
                    if self.tightened_accepted_run >= 5 {
                        self.switch_to_normal();
                    }
                } else {
                    self.tightened_accepted_run = 0;
                    self.tightened_rejects += 1;
                    if self.tightened_rejects >= 5 {
                        self.state = State::Discontinued;
                    }
                }
            }
            State::Reduced => {
                if !lot.accepted {
                    self.switch_to_normal();
                }
            }
            State::Discontinued => {}
        }
        self.state
    }

    fn on_normal(&mut self, lot: LotOutcome) {
        if lot.accepted {
            self.since_last_reject = self.since_last_reject.map(|s| s + 1);
        } else {
            // 2 not accepted within 5 or fewer consecutive lots: the previous reject at most
            // 3 lots before the lot preceding this one.
            if matches!(self.since_last_reject, Some(s) if s <= 3) {
                self.switch_to_tightened();
                return;
            }
            self.since_last_reject = Some(0);
        }
        let gain = match (lot.accepted, lot.accepted_tighter) {
            (false, _) | (true, Some(false)) => None,
            (true, Some(true)) => Some(3),
            (true, None) => Some(2),
        };
        self.score = match gain {
            Some(g) => self.score + g,
            None => 0,
        };
        if self.score >= 30 && self.reduced_allowed {
            self.state = State::Reduced;
        }
    }
}

/// Runs a whole history from normal inspection: the state after each lot.
pub fn run_history(lots: &[LotOutcome]) -> Vec<State> {
    let mut m = Switching::new();
    lots.iter().map(|&l| m.record(l)).collect()
}

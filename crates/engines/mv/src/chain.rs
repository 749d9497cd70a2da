//! Per-channel processing chain before validation (Emoncms-style process list): scale,
//! offset, CT/PT multiplier, and cumulative register → interval increments with rollover
//! and meter-replacement handling.

use crate::error::{MvError, Result};
use crate::series::{Instant, Reading};
use serde::{Deserialize, Serialize};

/// How a channel reports.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ChannelKind {
    /// Each reading is already the interval's consumption (or a demand value).
    Interval,
    /// Readings are a cumulative register (total_increasing); increments are derived.
    Register {
        /// The register wraps to 0 at this value (e.g. 10⁶ for a 6-digit dial).
        rollover_at: Option<f64>,
        /// Largest plausible increment between two reads, in register units; larger jumps
        /// and decreases that fit neither rollover nor replacement are glitches.
        max_increment: f64,
    },
}

/// Channel processing settings. Engineering value of an interval reading is
/// `(raw × scale + offset) × ct_ratio × pt_ratio`; of a register increment
/// `Δraw × scale × ct_ratio × pt_ratio` (the offset cancels in a difference).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChannelChain {
    /// Interval or register.
    pub kind: ChannelKind,
    /// Multiplicative scale (e.g. pulse weight, 0.01 kWh/count).
    pub scale: f64,
    /// Additive offset (interval channels only).
    pub offset: f64,
    /// Current-transformer ratio (电流互感器变比), 1 if none.
    pub ct_ratio: f64,
    /// Voltage (potential) transformer ratio (电压互感器变比), 1 if none.
    pub pt_ratio: f64,
}

impl ChannelChain {
    /// An interval channel with unit scale and no transformers.
    pub fn interval() -> Self {
        ChannelChain {
            kind: ChannelKind::Interval,
            scale: 1.0,
            offset: 0.0,
            ct_ratio: 1.0,
            pt_ratio: 1.0,
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("scale", self.scale),
            ("ct_ratio", self.ct_ratio),
            ("pt_ratio", self.pt_ratio),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(MvError::config(name, format!("{v} must be finite and > 0")));
            }
        }
        if !self.offset.is_finite() {
            return Err(MvError::config("offset", "must be finite"));
        }
        if let ChannelKind::Register {
            rollover_at,
            max_increment,
        } = self.kind
        {
            if !(max_increment.is_finite() && max_increment > 0.0) {
                return Err(MvError::config("max_increment", "must be finite and > 0"));
            }
            if rollover_at.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
                return Err(MvError::config("rollover_at", "must be finite and > 0"));
            }
        }
        Ok(())
    }

    fn multiplier(&self) -> f64 {
        self.scale * self.ct_ratio * self.pt_ratio
    }
}

/// What happened where a register went down or jumped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegisterEventKind {
    /// The register wrapped past `rollover_at`; increment = rollover − previous + current.
    Rollover,
    /// A new meter started near zero; increment = current reading.
    Replacement,
    /// An implausible decrease or jump; the reading is ignored (no increment).
    Glitch,
}

/// A register discontinuity found by the chain.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegisterEvent {
    /// Start of the interval whose increment it affects (the previous accepted read).
    pub at: Instant,
    /// Classification.
    pub kind: RegisterEventKind,
    /// Previous accepted register value.
    pub previous: f64,
    /// This register value.
    pub current: f64,
}

/// Output of the chain: engineering values per interval (start = the earlier read for
/// registers) and the register events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainOutput {
    /// Processed interval values (`None` where no valid value could be derived).
    pub values: Vec<Reading>,
    /// Register discontinuities.
    pub events: Vec<RegisterEvent>,
}

/// Classifies a register decrease from `prev` to `cur` (Home Assistant treats any decrease
/// as a new cycle; here rollover needs the previous value in the top 10 % of the dial and a
/// plausible wrapped increment, replacement needs the new value to be a plausible first
/// increment, anything else is a glitch).
pub fn classify_decrease(
    prev: f64,
    cur: f64,
    rollover_at: Option<f64>,
    max_increment: f64,
) -> (RegisterEventKind, Option<f64>) {
    if let Some(r) = rollover_at {
        let wrapped = r - prev + cur;
        if prev >= 0.9 * r && cur < 0.1 * r && wrapped <= max_increment {
            return (RegisterEventKind::Rollover, Some(wrapped));
        }
    }
    if cur >= 0.0 && cur <= max_increment {
        return (RegisterEventKind::Replacement, Some(cur));
    }
    (RegisterEventKind::Glitch, None)
}

/// Runs the chain over readings (sorted by time by the caller).
pub fn process(chain: &ChannelChain, raw: &[Reading]) -> Result<ChainOutput> {
    chain.validate()?;
    let m = chain.multiplier();
    match chain.kind {
        ChannelKind::Interval => Ok(ChainOutput {
            values: raw
                .iter()
                .map(|r| Reading {
                    at: r.at,
                    value: r.value.map(|v| {
                        (v * chain.scale + chain.offset) * chain.ct_ratio * chain.pt_ratio
                    }),
                })
                .collect(),
            events: Vec::new(),
        }),
        ChannelKind::Register {
            rollover_at,
            max_increment,
        } => {
            let mut values = Vec::new();
            let mut events = Vec::new();
            let mut last: Option<(Instant, f64)> = None;
            for r in raw {
                let Some(cur) = r.value else { continue };
                let Some((t0, prev)) = last else {
                    last = Some((r.at, cur));
                    continue;
                };
                let (inc, event) = if cur >= prev {
                    if cur - prev <= max_increment {
                        (Some(cur - prev), None)
                    } else {
                        (None, Some(RegisterEventKind::Glitch))
                    }
                } else {
                    let (k, inc) = classify_decrease(prev, cur, rollover_at, max_increment);
                    (inc, Some(k))
                };
                if let Some(kind) = event {
                    events.push(RegisterEvent {
                        at: t0,
                        kind,
                        previous: prev,
                        current: cur,
                    });
                }
                values.push(Reading {
                    at: t0,
                    value: inc.map(|d| d * m),
                });
                if event != Some(RegisterEventKind::Glitch) {
                    last = Some((r.at, cur));
                } else {
                    last = Some((r.at, prev));
                }
            }
            Ok(ChainOutput { values, events })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::parse_instant;

    fn rd(h: u32, v: f64) -> Reading {
        Reading {
            at: parse_instant(&format!("2024-01-01T{h:02}:00:00+08:00")).unwrap(),
            value: Some(v),
        }
    }

    #[test]
    fn ct_pt_scale_offset() {
        let c = ChannelChain {
            scale: 2.0,
            offset: 1.0,
            ct_ratio: 40.0,
            pt_ratio: 100.0,
            ..ChannelChain::interval()
        };
        let out = process(&c, &[rd(0, 3.0)]).unwrap();
        assert_eq!(out.values[0].value, Some((3.0 * 2.0 + 1.0) * 4000.0));
    }

    #[test]
    fn rollover_replacement_glitch() {
        let c = ChannelChain {
            kind: ChannelKind::Register {
                rollover_at: Some(10_000.0),
                max_increment: 100.0,
            },
            ct_ratio: 10.0,
            ..ChannelChain::interval()
        };
        // 9990 → 10 wraps (+20); 10 → 5000 jump is a glitch (ignored);
        // 5000 glitch means 10 → 30 is +20; 30 → 2 is a replacement (+2).
        let raw = [
            rd(0, 9_990.0),
            rd(1, 10.0),
            rd(2, 5_000.0),
            rd(3, 30.0),
            rd(4, 2.0),
        ];
        let out = process(&c, &raw).unwrap();
        let v: Vec<Option<f64>> = out.values.iter().map(|r| r.value).collect();
        assert_eq!(v, vec![Some(200.0), None, Some(200.0), Some(20.0)]);
        let k: Vec<RegisterEventKind> = out.events.iter().map(|e| e.kind).collect();
        assert_eq!(
            k,
            vec![
                RegisterEventKind::Rollover,
                RegisterEventKind::Glitch,
                RegisterEventKind::Replacement
            ]
        );
    }
}

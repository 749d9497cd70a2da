//! VEE — validation, estimation and editing of interval data (数据校验、估算与编辑).
//!
//! The raw series is never modified: [`run_vee`] returns it untouched next to a validated
//! series on a regular grid, in which every value carries a quality flag, the rule ids that
//! fired and an edit trail (rule, before, after, actor).

use crate::chain::{RegisterEvent, RegisterEventKind};
use crate::error::{MvError, Result};
use crate::series::{Instant, Reading};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Quality of a validated value (Itron/Oracle style).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    /// Passed every rule.
    Valid,
    /// Kept but flagged for review (outlier, stuck, duplicate, replacement…).
    Suspect,
    /// Replaced or filled by an estimation method.
    Estimated,
    /// No usable value and no estimate.
    Missing,
}

/// Validation and estimation rules; [`Rule::id`] is the stable rule id stored with values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Interval missing against the expected grid.
    Gap,
    /// Above the high limit.
    HighLimit,
    /// Below the low limit.
    LowLimit,
    /// Jump versus the last valid interval.
    Spike,
    /// Negative consumption.
    Negative,
    /// Same non-zero value repeated.
    Stuck,
    /// Timestamp not on the interval grid.
    Misaligned,
    /// Timestamp later than the validation time (meter clock ahead; CA MDMA time check).
    FutureTimestamp,
    /// Same timestamp with different values.
    DuplicateConflict,
    /// Same timestamp and value repeated (one kept).
    DuplicateIdentical,
    /// Beyond median + k·IQR (review).
    Outlier,
    /// Register wrapped (increment derived across the wrap).
    RegisterRollover,
    /// Register reset by a meter replacement.
    RegisterReplacement,
    /// Register glitch (reading ignored).
    RegisterGlitch,
    /// Linear interpolation between valid neighbours.
    EstLinear,
    /// One-sided gap filled flat from the nearest valid value.
    EstFlat,
    /// Like-day: same time 1–2 weeks earlier.
    EstLikeDay,
    /// Profile: mean of valid values at the same time of week.
    EstProfile,
    /// Regression: value expected by a baseline model.
    EstRegression,
}

impl Rule {
    /// Stable rule id.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Gap => "V-GAP",
            Rule::HighLimit => "V-HIGH",
            Rule::LowLimit => "V-LOW",
            Rule::Spike => "V-SPIKE",
            Rule::Negative => "V-NEG",
            Rule::Stuck => "V-STUCK",
            Rule::Misaligned => "V-TS-ALIGN",
            Rule::FutureTimestamp => "V-TS-FUTURE",
            Rule::DuplicateConflict => "V-DUP-CONFLICT",
            Rule::DuplicateIdentical => "V-DUP",
            Rule::Outlier => "V-OUTLIER",
            Rule::RegisterRollover => "V-REG-ROLLOVER",
            Rule::RegisterReplacement => "V-REG-REPLACE",
            Rule::RegisterGlitch => "V-REG-GLITCH",
            Rule::EstLinear => "E-LIN",
            Rule::EstFlat => "E-FLAT",
            Rule::EstLikeDay => "E-LIKEDAY",
            Rule::EstProfile => "E-PROFILE",
            Rule::EstRegression => "E-REGRESSION",
        }
    }

    /// Whether the rule is an estimation rule.
    pub fn is_estimation(self) -> bool {
        matches!(
            self,
            Rule::EstLinear
                | Rule::EstFlat
                | Rule::EstLikeDay
                | Rule::EstProfile
                | Rule::EstRegression
        )
    }
}

/// One entry of a value's edit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edit {
    /// Rule that made the edit.
    pub rule: Rule,
    /// Value before.
    pub before: Option<f64>,
    /// Value after.
    pub after: Option<f64>,
    /// Who/what made it (process name or user).
    pub actor: String,
}

/// One interval of the validated series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatedInterval {
    /// Interval start.
    pub start: Instant,
    /// Raw value received for this slot (after duplicate resolution), if any.
    pub raw: Option<f64>,
    /// Validated value.
    pub value: Option<f64>,
    /// Quality.
    pub quality: Quality,
    /// Rules that fired.
    pub flags: Vec<Rule>,
    /// Edit trail.
    pub edits: Vec<Edit>,
}

/// How local days are determined for the expected-interval count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LocalDays {
    /// A fixed UTC offset (no DST).
    Fixed(FixedOffset),
    /// An IANA time zone (DST days have 23 or 25 hours).
    Zone(Tz),
}

impl LocalDays {
    fn date_of(&self, t: DateTime<Utc>) -> NaiveDate {
        match self {
            LocalDays::Fixed(o) => t.with_timezone(o).date_naive(),
            LocalDays::Zone(z) => t.with_timezone(z).date_naive(),
        }
    }

    /// Start of local day `d` in UTC.
    pub fn day_start(&self, d: NaiveDate) -> Option<DateTime<Utc>> {
        let naive = d.and_hms_opt(0, 0, 0)?;
        match self {
            LocalDays::Fixed(o) => o.from_local_datetime(&naive).earliest().map(|t| t.to_utc()),
            LocalDays::Zone(z) => z.from_local_datetime(&naive).earliest().map(|t| t.to_utc()),
        }
    }

    /// Expected intervals on local day `d` (e.g. 96 at 15 min; 92/100 on DST days).
    pub fn expected_intervals(&self, d: NaiveDate, interval_minutes: u32) -> usize {
        let (Some(a), Some(b)) = (
            self.day_start(d),
            d.succ_opt().and_then(|n| self.day_start(n)),
        ) else {
            return 0;
        };
        ((b - a).num_minutes() / i64::from(interval_minutes.max(1))) as usize
    }
}

/// Estimation methods, tried in the configured order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EstimationMethod {
    /// Linear interpolation within `max_linear_gap` (flat fill for one-sided gaps).
    Linear,
    /// Like-day history.
    LikeDay,
    /// Time-of-week profile of the series' own valid data.
    Profile,
    /// Expected values from a baseline model supplied by the caller.
    Regression,
}

/// VEE settings.
#[derive(Debug, Clone, PartialEq)]
pub struct VeeConfig {
    /// Interval length, minutes.
    pub interval_minutes: u32,
    /// Local-day definition for completeness.
    pub local_days: LocalDays,
    /// High limit per interval.
    pub high_limit: Option<f64>,
    /// Low limit per interval.
    pub low_limit: Option<f64>,
    /// Spike if value > ratio × last valid value and the jump exceeds `spike_min_delta`.
    pub spike_ratio: Option<f64>,
    /// Minimum absolute jump for a spike.
    pub spike_min_delta: f64,
    /// Accept negative values (net metering) instead of invalidating them.
    pub allow_negative: bool,
    /// Stuck when the same non-zero value repeats this many times (≥ 2).
    pub stuck_min_run: usize,
    /// Invalidate stuck values (else only flag them as suspect).
    pub invalidate_stuck: bool,
    /// Outlier multiplier k of median + k·IQR (CalTRACK 2.3.6: 3); `None` disables.
    pub outlier_k: Option<f64>,
    /// Longest gap (in intervals) filled by linear interpolation / flat fill.
    pub max_linear_gap: usize,
    /// Weeks back for like-day estimation.
    pub like_day_weeks: Vec<u32>,
    /// Estimation order.
    pub methods: Vec<EstimationMethod>,
    /// Actor recorded in edit trails.
    pub actor: String,
    /// Readings stamped after this instant are rejected (clock check); `None` disables.
    pub not_after: Option<Instant>,
}

impl VeeConfig {
    /// Defaults for an interval length: no limits, spike ×10 over 0, stuck run 3 (suspect),
    /// outliers at median + 3·IQR, linear fill up to 3 hours, like-day 1 and 2 weeks back.
    pub fn new(interval_minutes: u32, local_days: LocalDays) -> Self {
        let per_hour = (60 / interval_minutes.max(1)).max(1) as usize;
        VeeConfig {
            interval_minutes,
            local_days,
            high_limit: None,
            low_limit: None,
            spike_ratio: Some(10.0),
            spike_min_delta: 0.0,
            allow_negative: false,
            stuck_min_run: 3,
            invalidate_stuck: false,
            outlier_k: Some(3.0),
            max_linear_gap: 3 * per_hour,
            like_day_weeks: vec![1, 2],
            methods: vec![
                EstimationMethod::Linear,
                EstimationMethod::LikeDay,
                EstimationMethod::Profile,
                EstimationMethod::Regression,
            ],
            actor: "qcity-vee".to_string(),
            not_after: None,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.interval_minutes == 0 || 1440 % self.interval_minutes != 0 {
            return Err(MvError::config(
                "interval",
                format!("{} min does not divide a day", self.interval_minutes),
            ));
        }
        if self.stuck_min_run < 2 {
            return Err(MvError::config("stuck_min_run", "must be ≥ 2"));
        }
        Ok(())
    }
}

/// Completeness of one local day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DayCompleteness {
    /// Local date.
    pub date: NaiveDate,
    /// Intervals expected that day (DST aware).
    pub expected: usize,
    /// Intervals with a raw value that passed validation.
    pub valid: usize,
    /// Intervals with any raw value.
    pub present: usize,
}

impl DayCompleteness {
    /// Valid / expected intervals (the national online-monitoring scheme requires ≥ 0.9).
    pub fn fraction(&self) -> f64 {
        if self.expected == 0 {
            0.0
        } else {
            self.valid as f64 / self.expected as f64
        }
    }
}

/// Days whose completeness is below `min_fraction` (≥ 90 % rule of 重点用能单位能耗在线监测).
pub fn incomplete_days(days: &[DayCompleteness], min_fraction: f64) -> Vec<DayCompleteness> {
    days.iter()
        .filter(|d| d.fraction() < min_fraction)
        .copied()
        .collect()
}

/// A raw reading that could not be placed on the grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RejectedReading {
    /// Position in the raw input.
    pub index: usize,
    /// The reading.
    pub reading: Reading,
    /// Why.
    pub rule: Rule,
}

/// Counts by quality.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VeeCounts {
    /// Valid intervals.
    pub valid: usize,
    /// Suspect intervals.
    pub suspect: usize,
    /// Estimated intervals.
    pub estimated: usize,
    /// Missing intervals.
    pub missing: usize,
}

/// Result of [`run_vee`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VeeOutput {
    /// The raw input, unmodified.
    pub raw: Vec<Reading>,
    /// Validated regular series.
    pub validated: Vec<ValidatedInterval>,
    /// Raw readings not placed on the grid.
    pub rejected: Vec<RejectedReading>,
    /// Per-day completeness.
    pub days: Vec<DayCompleteness>,
    /// Counts by quality.
    pub counts: VeeCounts,
}

/// Median + k·IQR with linearly interpolated quartiles; `None` for fewer than 4 values.
pub fn outlier_limit(values: &[f64], k: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 4 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = p * (v.len() - 1) as f64;
        let lo = pos.floor() as usize;
        let hi = pos.ceil() as usize;
        v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
    };
    Some(q(0.5) + k * (q(0.75) - q(0.25)))
}

/// Runs validation and estimation. `expected` supplies model values for regression
/// estimation; `register_events` (from the processing chain) are attached as flags.
pub fn run_vee(
    raw: &[Reading],
    cfg: &VeeConfig,
    expected: Option<&dyn Fn(Instant) -> Option<f64>>,
    register_events: &[RegisterEvent],
) -> Result<VeeOutput> {
    cfg.validate()?;
    let step = i64::from(cfg.interval_minutes) * 60;
    let mut rejected = Vec::new();
    let mut slots: BTreeMap<i64, Vec<(usize, Reading)>> = BTreeMap::new();
    for (i, r) in raw.iter().enumerate() {
        let ts = r.at.timestamp();
        if cfg.not_after.is_some_and(|t| r.at > t) {
            rejected.push(RejectedReading {
                index: i,
                reading: *r,
                rule: Rule::FutureTimestamp,
            });
            continue;
        }
        if ts.rem_euclid(step) != 0 {
            rejected.push(RejectedReading {
                index: i,
                reading: *r,
                rule: Rule::Misaligned,
            });
            continue;
        }
        slots.entry(ts.div_euclid(step)).or_default().push((i, *r));
    }
    let offset = raw
        .first()
        .map(|r| *r.at.offset())
        .unwrap_or_else(|| Utc.fix());
    let (Some(first), Some(last)) = (
        slots.keys().next().copied(),
        slots.keys().next_back().copied(),
    ) else {
        return Ok(VeeOutput {
            raw: raw.to_vec(),
            validated: Vec::new(),
            rejected,
            days: Vec::new(),
            counts: VeeCounts::default(),
        });
    };
    // 1. Place readings, resolve duplicates.
    let mut out: Vec<ValidatedInterval> = Vec::with_capacity((last - first + 1) as usize);
    for s in first..=last {
        let utc = DateTime::<Utc>::from_timestamp(s * step, 0).unwrap_or_default();
        let start = match cfg.local_days {
            LocalDays::Zone(z) => utc.with_timezone(&z).fixed_offset(),
            LocalDays::Fixed(_) => utc.with_timezone(&offset),
        };
        let mut iv = ValidatedInterval {
            start,
            raw: None,
            value: None,
            quality: Quality::Valid,
            flags: Vec::new(),
            edits: Vec::new(),
        };
        match slots.get(&s) {
            None => {
                iv.quality = Quality::Missing;
                iv.flags.push(Rule::Gap);
            }
            Some(rs) => {
                let vals: Vec<f64> = rs.iter().filter_map(|(_, r)| r.value).collect();
                if vals.is_empty() {
                    iv.quality = Quality::Missing;
                    iv.flags.push(Rule::Gap);
                } else if vals.iter().all(|v| *v == vals[0]) {
                    iv.raw = Some(vals[0]);
                    iv.value = Some(vals[0]);
                    if rs.len() > 1 {
                        iv.flags.push(Rule::DuplicateIdentical);
                    }
                } else {
                    iv.raw = Some(vals[0]);
                    iv.value = Some(vals[0]);
                    iv.flags.push(Rule::DuplicateConflict);
                    invalidate(&mut iv, Rule::DuplicateConflict, &cfg.actor);
                }
            }
        }
        out.push(iv);
    }
    // 2. Register events from the chain.
    for e in register_events {
        let s = e.at.timestamp().div_euclid(step);
        let idx = s - first;
        if idx < 0 || idx as usize >= out.len() {
            continue;
        }
        let iv = &mut out[idx as usize];
        match e.kind {
            RegisterEventKind::Rollover => iv.flags.push(Rule::RegisterRollover),
            RegisterEventKind::Replacement => {
                iv.flags.push(Rule::RegisterReplacement);
                if iv.quality == Quality::Valid {
                    iv.quality = Quality::Suspect;
                }
            }
            RegisterEventKind::Glitch => iv.flags.push(Rule::RegisterGlitch),
        }
    }
    // 3. Point rules: limits, negative, spike vs last valid.
    let mut last_valid: Option<f64> = None;
    for iv in out.iter_mut() {
        let Some(v) = iv.value else { continue };
        let mut bad = None;
        if cfg.high_limit.is_some_and(|h| v > h) {
            bad = Some(Rule::HighLimit);
        } else if cfg.low_limit.is_some_and(|l| v < l) {
            bad = Some(Rule::LowLimit);
        } else if v < 0.0 && !cfg.allow_negative {
            bad = Some(Rule::Negative);
        } else if let (Some(ratio), Some(prev)) = (cfg.spike_ratio, last_valid)
            && v - prev > cfg.spike_min_delta
            && v > ratio * prev.abs()
            && prev != 0.0
        {
            bad = Some(Rule::Spike);
        }
        match bad {
            Some(rule) => {
                iv.flags.push(rule);
                invalidate(iv, rule, &cfg.actor);
            }
            None => last_valid = Some(v),
        }
    }
    // 4. Stuck runs.
    let mut i = 0;
    while i < out.len() {
        let Some(v) = out[i].value.filter(|v| *v != 0.0) else {
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while j < out.len() && out[j].value == Some(v) {
            j += 1;
        }
        if j - i >= cfg.stuck_min_run {
            for iv in &mut out[i..j] {
                iv.flags.push(Rule::Stuck);
                if cfg.invalidate_stuck {
                    invalidate(iv, Rule::Stuck, &cfg.actor);
                } else if iv.quality == Quality::Valid {
                    iv.quality = Quality::Suspect;
                }
            }
        }
        i = j;
    }
    // 5. Outliers (flag for review).
    if let Some(k) = cfg.outlier_k {
        let vals: Vec<f64> = out.iter().filter_map(|iv| iv.value).collect();
        if let Some(limit) = outlier_limit(&vals, k) {
            for iv in out.iter_mut() {
                if iv.value.is_some_and(|v| v > limit) {
                    iv.flags.push(Rule::Outlier);
                    if iv.quality == Quality::Valid {
                        iv.quality = Quality::Suspect;
                    }
                }
            }
        }
    }
    // 6. Completeness per local day (from raw values that passed validation).
    let days = completeness(&out, cfg);
    // 7. Estimation.
    estimate(&mut out, cfg, expected, first, step);
    let mut counts = VeeCounts::default();
    for iv in &out {
        match iv.quality {
            Quality::Valid => counts.valid += 1,
            Quality::Suspect => counts.suspect += 1,
            Quality::Estimated => counts.estimated += 1,
            Quality::Missing => counts.missing += 1,
        }
    }
    Ok(VeeOutput {
        raw: raw.to_vec(),
        validated: out,
        rejected,
        days,
        counts,
    })
}

fn invalidate(iv: &mut ValidatedInterval, rule: Rule, actor: &str) {
    if iv.value.is_some() {
        iv.edits.push(Edit {
            rule,
            before: iv.value,
            after: None,
            actor: actor.to_string(),
        });
    }
    iv.value = None;
    iv.quality = Quality::Missing;
}

fn completeness(out: &[ValidatedInterval], cfg: &VeeConfig) -> Vec<DayCompleteness> {
    let mut acc: BTreeMap<NaiveDate, (usize, usize)> = BTreeMap::new();
    for iv in out {
        let d = cfg.local_days.date_of(iv.start.to_utc());
        let e = acc.entry(d).or_insert((0, 0));
        if iv.raw.is_some() {
            e.1 += 1;
        }
        if iv.value.is_some() {
            e.0 += 1;
        }
    }
    acc.into_iter()
        .map(|(date, (valid, present))| DayCompleteness {
            date,
            expected: cfg
                .local_days
                .expected_intervals(date, cfg.interval_minutes),
            valid,
            present,
        })
        .collect()
}

fn set_estimate(iv: &mut ValidatedInterval, v: f64, rule: Rule, actor: &str) {
    iv.edits.push(Edit {
        rule,
        before: iv.value,
        after: Some(v),
        actor: actor.to_string(),
    });
    iv.flags.push(rule);
    iv.value = Some(v);
    iv.quality = Quality::Estimated;
}

#[allow(clippy::needless_range_loop)] // k indexes both the gap and the source series
fn estimate(
    out: &mut [ValidatedInterval],
    cfg: &VeeConfig,
    expected: Option<&dyn Fn(Instant) -> Option<f64>>,
    first: i64,
    step: i64,
) {
    let n = out.len();
    // Values usable as estimation sources: validated, not estimated.
    let source: Vec<Option<f64>> = out
        .iter()
        .map(|iv| iv.value.filter(|_| iv.quality != Quality::Estimated))
        .collect();
    let week = 7 * 86_400 / step;
    let mut profile: HashMap<i64, (f64, usize)> = HashMap::new();
    for (i, v) in source.iter().enumerate() {
        if let Some(v) = v {
            let e = profile
                .entry((first + i as i64).rem_euclid(week))
                .or_insert((0.0, 0));
            e.0 += v;
            e.1 += 1;
        }
    }
    let mut i = 0;
    while i < n {
        if source[i].is_some() {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < n && source[j].is_none() {
            j += 1;
        }
        let before = if i > 0 { source[i - 1] } else { None };
        let after = if j < n { source[j] } else { None };
        let len = j - i;
        for k in i..j {
            for m in &cfg.methods {
                let est = match m {
                    EstimationMethod::Linear if len <= cfg.max_linear_gap => {
                        match (before, after) {
                            (Some(a), Some(b)) => {
                                let f = (k - i + 1) as f64 / (len + 1) as f64;
                                Some((a + (b - a) * f, Rule::EstLinear))
                            }
                            (Some(a), None) | (None, Some(a)) => Some((a, Rule::EstFlat)),
                            (None, None) => None,
                        }
                    }
                    EstimationMethod::Linear => None,
                    EstimationMethod::LikeDay => {
                        let vals: Vec<f64> = cfg
                            .like_day_weeks
                            .iter()
                            .filter_map(|w| {
                                let back = i64::from(*w) * week;
                                let idx = k as i64 - back;
                                (idx >= 0).then(|| source[idx as usize]).flatten()
                            })
                            .collect();
                        (!vals.is_empty()).then(|| {
                            (
                                vals.iter().sum::<f64>() / vals.len() as f64,
                                Rule::EstLikeDay,
                            )
                        })
                    }
                    EstimationMethod::Profile => profile
                        .get(&(first + k as i64).rem_euclid(week))
                        .filter(|(_, c)| *c > 0)
                        .map(|(s, c)| (s / *c as f64, Rule::EstProfile)),
                    EstimationMethod::Regression => expected
                        .and_then(|f| f(out[k].start))
                        .map(|v| (v, Rule::EstRegression)),
                };
                if let Some((v, rule)) = est {
                    set_estimate(&mut out[k], v, rule, &cfg.actor);
                    break;
                }
            }
        }
        i = j;
    }
}

/// Result of a sum check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SumCheck {
    /// Sum of the validated intervals.
    pub intervals_total: f64,
    /// Reference total (register delta, parent meter, or monthly value).
    pub reference_total: f64,
    /// Relative difference (intervals − reference) / reference.
    pub relative_difference: f64,
    /// Whether |difference| ≤ tolerance.
    pub ok: bool,
}

/// Sum check of interval data against a reference total: the register delta over the same
/// span (CA MDMA), or a monthly value (China: daily vs monthly within 5 %).
pub fn sum_check(
    intervals: &[ValidatedInterval],
    reference_total: f64,
    tolerance: f64,
) -> SumCheck {
    let total: f64 = intervals.iter().filter_map(|iv| iv.value).sum();
    let rel = if reference_total != 0.0 {
        (total - reference_total) / reference_total
    } else if total == 0.0 {
        0.0
    } else {
        f64::INFINITY
    };
    SumCheck {
        intervals_total: total,
        reference_total,
        relative_difference: rel,
        ok: rel.abs() <= tolerance,
    }
}

/// Convenience: a [`VeeConfig`] for `interval` minutes and local days at the offset of the
/// first reading (no DST).
pub fn config_for(raw: &[Reading], interval_minutes: u32) -> VeeConfig {
    let off = raw
        .first()
        .map(|r| *r.at.offset())
        .unwrap_or_else(|| Utc.fix());
    VeeConfig::new(interval_minutes, LocalDays::Fixed(off))
}

/// Parses an interval such as `15m`, `15min`, `1h`, `60` (minutes) into minutes.
pub fn parse_interval(s: &str) -> Result<u32> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mult) = if let Some(n) = t.strip_suffix("min") {
        (n, 1)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 1)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 60)
    } else {
        (t.as_str(), 1)
    };
    let n: u32 = num
        .trim()
        .parse()
        .map_err(|_| MvError::config("interval", format!("`{s}` is not like 15m or 1h")))?;
    let m = n * mult;
    if m == 0 || 1440 % m != 0 {
        return Err(MvError::config(
            "interval",
            format!("`{s}` does not divide a day"),
        ));
    }
    Ok(m)
}

/// Duration of one interval.
pub fn interval_duration(cfg: &VeeConfig) -> Duration {
    Duration::minutes(i64::from(cfg.interval_minutes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::parse_instant;

    fn series(vals: &[Option<f64>]) -> Vec<Reading> {
        let t0 = parse_instant("2024-03-01T00:00:00+08:00").unwrap();
        vals.iter()
            .enumerate()
            .map(|(i, v)| Reading {
                at: t0 + Duration::minutes(15 * i as i64),
                value: *v,
            })
            .collect()
    }

    #[test]
    fn dst_days_expected_counts() {
        // US/Eastern 2024: DST starts 10 March (23 h → 92 quarter hours), ends 3 November
        // (25 h → 100) — the 92/100 figures of the domain brief §3 rule 1.
        let z = LocalDays::Zone(chrono_tz::America::New_York);
        let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap();
        assert_eq!(z.expected_intervals(d(3, 10), 15), 92);
        assert_eq!(z.expected_intervals(d(11, 3), 15), 100);
        assert_eq!(z.expected_intervals(d(6, 1), 15), 96);
        // Europe/Berlin 2024-03-31 and 2024-10-27.
        let b = LocalDays::Zone(chrono_tz::Europe::Berlin);
        assert_eq!(b.expected_intervals(d(3, 31), 60), 23);
        assert_eq!(b.expected_intervals(d(10, 27), 60), 25);
    }

    #[test]
    fn gap_linear_and_flags() {
        let raw = series(&[Some(1.0), None, None, Some(4.0), Some(5.0)]);
        let cfg = config_for(&raw, 15);
        let out = run_vee(&raw, &cfg, None, &[]).unwrap();
        let v: Vec<Option<f64>> = out.validated.iter().map(|iv| iv.value).collect();
        assert_eq!(
            v,
            vec![Some(1.0), Some(2.0), Some(3.0), Some(4.0), Some(5.0)]
        );
        assert_eq!(out.validated[1].quality, Quality::Estimated);
        assert!(out.validated[1].flags.contains(&Rule::Gap));
        assert!(out.validated[1].flags.contains(&Rule::EstLinear));
        assert_eq!(out.raw, raw);
    }

    #[test]
    fn spike_negative_duplicate_stuck() {
        let mut raw = series(&[
            Some(2.0),
            Some(50.0),
            Some(2.0),
            Some(-1.0),
            Some(3.0),
            Some(3.0),
            Some(3.0),
            Some(2.5),
        ]);
        raw.push(Reading {
            at: raw[7].at,
            value: Some(2.6),
        });
        let cfg = config_for(&raw, 15);
        let out = run_vee(&raw, &cfg, None, &[]).unwrap();
        let f = |i: usize| out.validated[i].flags.clone();
        assert!(f(7).contains(&Rule::DuplicateConflict));
        assert!(f(1).contains(&Rule::Spike));
        assert!(f(3).contains(&Rule::Negative));
        assert!(f(4).contains(&Rule::Stuck) && f(6).contains(&Rule::Stuck));
        assert_eq!(out.validated[1].quality, Quality::Estimated);
    }

    #[test]
    fn outlier_limit_matches_definition() {
        // values 1..=8: median 4.5, Q1 2.75, Q3 6.25 (linear quantiles) → 4.5 + 3·3.5 = 15.
        let v: Vec<f64> = (1..=8).map(f64::from).collect();
        assert_eq!(outlier_limit(&v, 3.0), Some(15.0));
    }

    fn hourly(vals: &[Option<f64>]) -> Vec<Reading> {
        let t0 = parse_instant("2024-03-04T00:00:00+08:00").unwrap();
        vals.iter()
            .enumerate()
            .map(|(i, v)| Reading {
                at: t0 + Duration::hours(i as i64),
                value: *v,
            })
            .collect()
    }

    #[test]
    fn like_day_profile_and_regression() {
        // Three weeks hourly, value = 10 + hour of week/100 in week 0 and +1 per week; a
        // 10-hour gap in week 2 (longer than the 3-hour linear limit) is filled like-day:
        // mean of the same hour 1 and 2 weeks back = value − 1.5.
        let n = 3 * 168;
        let f = |i: usize| 10.0 + (i % 168) as f64 / 100.0 + (i / 168) as f64;
        let mut vals: Vec<Option<f64>> = (0..n).map(|i| Some(f(i))).collect();
        for v in &mut vals[2 * 168 + 20..2 * 168 + 30] {
            *v = None;
        }
        let raw = hourly(&vals);
        let cfg = config_for(&raw, 60);
        let out = run_vee(&raw, &cfg, None, &[]).unwrap();
        let k = 2 * 168 + 25;
        assert!(out.validated[k].flags.contains(&Rule::EstLikeDay));
        assert!((out.validated[k].value.unwrap() - (f(k) - 1.5)).abs() < 1e-9);
        // Profile when there is no history: gap in week 0 → mean of the same hour of week
        // over the valid weeks 1 and 2 = value + 1.5.
        let mut vals2: Vec<Option<f64>> = (0..n).map(|i| Some(f(i))).collect();
        for v in &mut vals2[20..30] {
            *v = None;
        }
        let out = run_vee(&hourly(&vals2), &cfg, None, &[]).unwrap();
        assert!(out.validated[25].flags.contains(&Rule::EstProfile));
        assert!((out.validated[25].value.unwrap() - (f(25) + 1.5)).abs() < 1e-9);
        // Regression only: the model's expectation is used and recorded.
        let cfg_r = VeeConfig {
            methods: vec![EstimationMethod::Regression],
            ..cfg
        };
        let model = |_t: Instant| Some(42.0);
        let out = run_vee(&hourly(&vals2), &cfg_r, Some(&model), &[]).unwrap();
        assert_eq!(out.validated[25].value, Some(42.0));
        assert_eq!(
            out.validated[25].edits.last().unwrap().rule,
            Rule::EstRegression
        );
    }

    #[test]
    fn zone_output_and_completeness() {
        // 2024-03-10 in New York: 23 hours. Readings every hour of that local day
        // (05:00Z … 03:00Z next day) → 23/23 complete; timestamps shown in local offsets.
        let t0 = parse_instant("2024-03-10T05:00:00+00:00").unwrap();
        let raw: Vec<Reading> = (0..23)
            .map(|h| Reading {
                at: t0 + Duration::hours(h),
                value: Some(1.0),
            })
            .collect();
        let cfg = VeeConfig::new(60, LocalDays::Zone(chrono_tz::America::New_York));
        let out = run_vee(&raw, &cfg, None, &[]).unwrap();
        assert_eq!(
            out.validated[0].start.to_rfc3339(),
            "2024-03-10T00:00:00-05:00"
        );
        assert_eq!(
            out.validated[3].start.to_rfc3339(),
            "2024-03-10T04:00:00-04:00"
        );
        assert_eq!(out.days.len(), 1);
        assert_eq!((out.days[0].expected, out.days[0].valid), (23, 23));
        assert!(incomplete_days(&out.days, 0.9).is_empty());
    }

    #[test]
    fn future_timestamps_rejected() {
        let raw = series(&[Some(1.0), Some(2.0), Some(3.0)]);
        let mut cfg = config_for(&raw, 15);
        cfg.not_after = Some(raw[1].at);
        let out = run_vee(&raw, &cfg, None, &[]).unwrap();
        assert_eq!(out.validated.len(), 2);
        assert_eq!(out.rejected[0].rule, Rule::FutureTimestamp);
        assert_eq!(out.rejected[0].index, 2);
    }

    #[test]
    fn sum_checks() {
        let raw = series(&[Some(1.0), Some(2.0), Some(3.0)]);
        let out = run_vee(&raw, &config_for(&raw, 15), None, &[]).unwrap();
        assert!(sum_check(&out.validated, 6.1, 0.05).ok);
        assert!(!sum_check(&out.validated, 7.0, 0.05).ok);
    }
}

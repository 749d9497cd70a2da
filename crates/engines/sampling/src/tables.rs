//! ISO 2859-1:1999 (= IS 2500-1:2000, GB/T 2828.1-2012) single sampling by attributes:
//! Table 1 (sample-size code letters) and Tables 2-A, 2-B, 2-C (normal, tightened, reduced
//! single sampling plans).
//!
//! # Sources and what is confirmed
//! - **Table 1** [V]: two independent open reproductions of the standard agree
//!   (`shared/domain/safety.md` §1.2; also the AQL chart on pdfcoffee.com "ANSI/ASQC Z1.4 /
//!   MIL-STD-105E / BS 6001 / ISO 2859").
//! - **Table 2-A (normal)**: the cells at AQL 0.65–6.5 [V] (brief §1.3); the cells at AQL
//!   0.65–15 for letters A–Q match the MIL-STD-105E Table II-A transcription at
//!   nibs.org `FMOC/DPW_AC/AC-TABLE.ASC` [V]. The rest follows the table's diagonal structure
//!   [M, derived]: along a row, from the 0/1 cell at `letter + column = 14` (A at 6.5 … Q at
//!   0.010), the cells run 0/1, ↑, ↓, 1/2, 2/3, 3/4, 5/6, 7/8, 10/11, 14/15, 21/22, then ↑;
//!   only rows A–D continue with 30/31 and 44/45 (AQL ≥ 250, nonconformities per 100 units).
//! - **Table 2-B (tightened)**: the cells at AQL 0.65–15 for letters B–L match the
//!   MIL-STD-105E Table II-B transcription at the same nibs.org page [V] (same plans as
//!   ISO 2859-1): the 0/1 cell sits one column to the right of the normal one, followed by
//!   ↓, ↓, 1/2, 2/3, 3/4, 5/6, 8/9, 12/13, 18/19, then ↑. Rows A–D continuing with 27/28 and
//!   41/42, and the extra letter S (n = 3150) as the target of the R-row arrows, are [M].
//! - **Table 2-C (reduced, 1999 edition: Re = Ac + 1)** [M, derived]: sample sizes A2 B2 C2 D3
//!   E5 F8 G13 H20 J32 K50 L80 M125 N200 P315 Q500 R800 (brief §1.4); the Ac of each cell is
//!   taken as that of the *normal* plan with the same sample size and AQL (the 1989 edition's
//!   reduced Ac equal those of the same-n normal plans; the 1999 edition dropped the Re gap).
//!   Check against the standard before relying on a reduced plan.
//! - Cells whose arrow runs off the table get [`SamplingError::NoPlan`] rather than an
//!   invented plan [M: the standard prints a plan or a footnote there that no open source
//!   shows]: normal A at 10 (↑ above A, as the MIL-STD-105E transcription draws it) and R at
//!   0.015 (↓ below R); tightened R at 0.015 (↓ through S); reduced A–C at 10, every letter at
//!   0.010 and R at 0.040 (their same-n normal plan points to Q or R, n 1250/2000, which have no
//!   reduced row).
//!
//! Arrow rule [V]: ↓ means the first plan below the arrow, ↑ the first above, and **both** the
//! sample size and Ac/Re come from that plan. If the sample size reaches the lot size, the
//! whole lot is inspected (100 %) with the plan's Ac/Re.
//!
//! Double sampling plans (Tables 3-A…3-C) are not included: no open, checkable source for
//! their cells was found.

use crate::error::{Result, SamplingError};
use serde::Serialize;

/// Sample-size code letter (A … R, and S, which appears only in tightened Table 2-B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Letter(u8);

const LETTERS: [char; 17] = [
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P', 'Q', 'R', 'S',
];
/// Normal and tightened sample sizes by letter (S only in Table 2-B).
const NORMAL_N: [u32; 17] = [
    2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000, 3150,
];
/// Reduced sample sizes by letter A … R.
const REDUCED_N: [u32; 16] = [
    2, 2, 2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800,
];

impl Letter {
    /// Letter R, the last of Table 1.
    pub const R: Letter = Letter(15);

    /// The letter's character.
    pub fn as_char(self) -> char {
        LETTERS[self.0 as usize]
    }

    /// Letter from its character (A … S, no I or O).
    pub fn from_char(c: char) -> Option<Letter> {
        LETTERS
            .iter()
            .position(|&l| l == c.to_ascii_uppercase())
            .map(|i| Letter(i as u8))
    }

    /// Position in the table (A = 0).
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// All letters of Table 1 (A … R).
    pub fn all() -> impl Iterator<Item = Letter> {
        (0..16u8).map(Letter)
    }

    /// Sample size of the letter under `severity` (`None` for S outside tightened).
    pub fn sample_size(self, severity: Severity) -> Option<u32> {
        match severity {
            Severity::Normal if self.0 < 16 => Some(NORMAL_N[self.index()]),
            Severity::Normal => None,
            Severity::Tightened => Some(NORMAL_N[self.index()]),
            Severity::Reduced => REDUCED_N.get(self.index()).copied(),
        }
    }
}

/// Inspection level of Table 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    S1,
    S2,
    S3,
    S4,
    I,
    II,
    III,
}

impl Level {
    fn column(self) -> usize {
        self as usize
    }
}

/// Inspection severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Normal,
    Tightened,
    Reduced,
}

impl Severity {
    fn name(self) -> &'static str {
        match self {
            Severity::Normal => "normal",
            Severity::Tightened => "tightened",
            Severity::Reduced => "reduced",
        }
    }
}

/// Upper bounds of the lot-size classes of Table 1 (the last class is open).
const LOT_UPPER: [u64; 14] = [
    8, 15, 25, 50, 90, 150, 280, 500, 1200, 3200, 10_000, 35_000, 150_000, 500_000,
];
/// Table 1 [V], one string per lot class, columns S1 S2 S3 S4 I II III.
const TABLE_1: [&[u8; 7]; 15] = [
    b"AAAAAAB", b"AAAAABC", b"AABBBCD", b"ABBCCDE", b"BBCCCEF", b"BBCDDFG", b"BCDEEGH", b"BCDEFHJ",
    b"CCEFGJK", b"CDEGHKL", b"CDFGJLM", b"CDFHKMN", b"DEGJLNP", b"DEGJMPQ", b"DEHKNQR",
];

/// Table 1: the sample-size code letter for a lot of `lot` items (lot ≥ 2).
pub fn code_letter(lot: u64, level: Level) -> Result<Letter> {
    if lot < 2 {
        return Err(SamplingError::arg("lot", "a lot has at least 2 items"));
    }
    let class = LOT_UPPER
        .iter()
        .position(|&u| lot <= u)
        .unwrap_or(LOT_UPPER.len());
    let c = TABLE_1[class][level.column()] as char;
    Letter::from_char(c).ok_or_else(|| SamplingError::arg("lot", "table 1 corrupt"))
}

/// The preferred AQLs (columns of Tables 2-A…2-C), in percent nonconforming or
/// nonconformities per 100 items.
pub const AQLS: [f64; 26] = [
    0.010, 0.015, 0.025, 0.040, 0.065, 0.10, 0.15, 0.25, 0.40, 0.65, 1.0, 1.5, 2.5, 4.0, 6.5, 10.0,
    15.0, 25.0, 40.0, 65.0, 100.0, 150.0, 250.0, 400.0, 650.0, 1000.0,
];

/// Column index of a preferred AQL.
pub fn aql_column(aql: f64) -> Result<usize> {
    AQLS.iter()
        .position(|&a| (a - aql).abs() <= a * 1e-9)
        .ok_or(SamplingError::NotPreferredAql(aql))
}

/// One cell of a master table before arrows are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// Ac of the plan (Re = Ac + 1 in all three 1999 tables).
    Plan(u32),
    /// ↓: use the first plan below.
    Down,
    /// ↑: use the first plan above.
    Up,
}

const NORMAL_SERIES: [u32; 8] = [1, 2, 3, 5, 7, 10, 14, 21];
const TIGHTENED_SERIES: [u32; 7] = [1, 2, 3, 5, 8, 12, 18];

/// Table 2-A cell at letter row `i` (0 … 15) and AQL column `j`.
fn normal_cell(i: usize, j: usize) -> Cell {
    let k = i as i64 + j as i64 - 14;
    match k {
        ..0 => Cell::Down,
        0 => Cell::Plan(0),
        1 => Cell::Up,
        2 => Cell::Down,
        3..=10 => Cell::Plan(NORMAL_SERIES[(k - 3) as usize]),
        11 if i <= 3 => Cell::Plan(30),
        12 if i <= 3 => Cell::Plan(44),
        _ => Cell::Up,
    }
}

/// Table 2-B cell at letter row `i` (0 … 16, S = 16) and AQL column `j`.
fn tightened_cell(i: usize, j: usize) -> Cell {
    let k = i as i64 + j as i64 - 15;
    match k {
        ..0 => Cell::Down,
        0 if i < 16 => Cell::Plan(0),
        0..=2 => Cell::Down,
        3..=9 => Cell::Plan(TIGHTENED_SERIES[(k - 3) as usize]),
        10 if i <= 3 => Cell::Plan(27),
        11 if i <= 3 => Cell::Plan(41),
        _ => Cell::Up,
    }
}

/// Master-table cell (arrows unresolved) for `letter`, AQL column `j` and `severity`.
pub fn cell(letter: Letter, j: usize, severity: Severity) -> Cell {
    match severity {
        Severity::Normal => normal_cell(letter.index().min(15), j),
        Severity::Tightened => tightened_cell(letter.index(), j),
        // The same-n normal row: letter index − 2 (A, B, C all n = 2 → normal A).
        Severity::Reduced => normal_cell(letter.index().saturating_sub(2), j),
    }
}

/// Follows arrows in one master table: returns (row, Ac) of the plan used.
fn resolve(
    rows: usize,
    start: usize,
    j: usize,
    at: impl Fn(usize, usize) -> Cell,
) -> Option<(usize, u32)> {
    let mut i = start;
    loop {
        match at(i, j) {
            Cell::Plan(ac) => return Some((i, ac)),
            Cell::Down if i + 1 < rows => i += 1,
            Cell::Up if i > 0 => i -= 1,
            _ => return None,
        }
    }
}

/// A single sampling plan as looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SinglePlan {
    /// Table 1 letter of the lot.
    pub code_letter: char,
    /// Letter whose plan is used (differs from `code_letter` after an arrow).
    pub plan_letter: char,
    /// Items to inspect (the lot size when `hundred_percent`).
    pub n: u32,
    /// Acceptance number.
    pub ac: u32,
    /// Rejection number.
    pub re: u32,
    /// The plan's sample size reaches the lot size: inspect every item.
    pub hundred_percent: bool,
}

/// The single sampling plan of `letter` at `aql` under `severity`, arrows resolved
/// (`lot` decides 100 % inspection).
pub fn plan_for_letter(
    letter: Letter,
    aql: f64,
    severity: Severity,
    lot: u64,
) -> Result<SinglePlan> {
    let j = aql_column(aql)?;
    let no_plan = || SamplingError::NoPlan {
        severity: severity.name(),
        letter: letter.as_char(),
        aql,
    };
    let (plan_letter, ac) = match severity {
        Severity::Normal => {
            let (i, ac) = resolve(16, letter.index(), j, normal_cell).ok_or_else(no_plan)?;
            (Letter(i as u8), ac)
        }
        Severity::Tightened => {
            let (i, ac) = resolve(17, letter.index(), j, tightened_cell).ok_or_else(no_plan)?;
            (Letter(i as u8), ac)
        }
        Severity::Reduced => {
            // Reduced row r has the sample size of normal row r − 2; a normal plan in rows
            // Q/R (1250/2000) has no reduced counterpart.
            let start = letter.index().saturating_sub(2);
            let (i, ac) = resolve(14, start, j, normal_cell).ok_or_else(no_plan)?;
            let row = if i == start { letter.index() } else { i + 2 };
            (Letter(row as u8), ac)
        }
    };
    let n = plan_letter.sample_size(severity).ok_or_else(no_plan)?;
    let hundred_percent = u64::from(n) >= lot;
    Ok(SinglePlan {
        code_letter: letter.as_char(),
        plan_letter: plan_letter.as_char(),
        n: if hundred_percent { lot as u32 } else { n },
        ac,
        re: ac + 1,
        hundred_percent,
    })
}

/// Table 1 then Table 2-A/2-B/2-C: the single sampling plan for a lot.
pub fn single_plan(lot: u64, level: Level, aql: f64, severity: Severity) -> Result<SinglePlan> {
    let letter = code_letter(lot, level)?;
    plan_for_letter(letter, aql, severity, lot)
}

/// The preferred AQL one step tighter than `aql` (for the switching score), if any.
pub fn one_step_tighter(aql: f64) -> Result<Option<f64>> {
    let j = aql_column(aql)?;
    Ok(j.checked_sub(1).map(|k| AQLS[k]))
}

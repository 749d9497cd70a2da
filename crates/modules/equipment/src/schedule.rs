//! The elevator periodic-inspection schedule of TSG T7001-2023 (电梯监督检验和定期检验规则),
//! as a pure function of a cycle row and dates.
//!
//! Counted from the latest supervision-inspection pass (监督检验合格: installation, modification
//! or major repair), an elevator is inspected in the listed use years (default 1, 4, 7, 9, 11,
//! 13 and 15); after the last listed year every `interval_months` (default 12, "over 15 years:
//! every year", a configurable default). The due month is the month of that supervision pass;
//! a due date is stored as the last day of its due month. The years between are TSG T7008-2023
//! self-testing years (自行检测). A periodic inspection done up to `early_months` (default 2)
//! before its due month, on request, satisfies that due month without moving the next one.

use chrono::{Datelike, Months, NaiveDate};

/// The schedule part of a cycle row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Use years with a periodic inspection (定期检验), ascending, counted from the anchor.
    pub years: Vec<u32>,
    /// After the last listed year, one inspection every this many months.
    pub after_interval_months: u32,
    /// How early on request an inspection may be done without moving the next due date.
    pub early_months: u32,
}

/// What kind of year a use year is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearKind {
    /// 定期检验 by an inspection body.
    Periodic,
    /// 自行检测 (TSG T7008-2023) by the use or maintenance unit.
    SelfTest,
}

impl YearKind {
    pub fn as_str(self) -> &'static str {
        match self {
            YearKind::Periodic => "periodic",
            YearKind::SelfTest => "self_test",
        }
    }
}

/// Never look further than this many due dates (about a century of annual inspections).
const MAX_DUES: usize = 120;

impl Schedule {
    /// The T7001-2023 defaults: years 1, 4, 7, 9, 11, 13, 15, then yearly; 2 months early.
    pub fn t7001_2023() -> Self {
        Self {
            years: vec![1, 4, 7, 9, 11, 13, 15],
            after_interval_months: 12,
            early_months: 2,
        }
    }

    /// Parses a year list such as `1,4,7,9,11,13,15` (ascending, 1–50).
    pub fn parse_years(s: &str) -> Result<Vec<u32>, String> {
        let mut out: Vec<u32> = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let y: u32 = part
                .parse()
                .map_err(|_| format!("`{part}` is not a whole number of years"))?;
            if !(1..=50).contains(&y) {
                return Err(format!("year {y} must be 1–50"));
            }
            if out.last().is_some_and(|l| *l >= y) {
                return Err("years must be ascending without repeats".into());
            }
            out.push(y);
        }
        if out.is_empty() {
            return Err("at least one inspection year".into());
        }
        Ok(out)
    }

    /// The list as stored (`1,4,7,9,11,13,15`).
    pub fn years_text(&self) -> String {
        self.years
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Months after the anchor's month of each due month, ascending (unbounded, capped).
    fn due_offsets(&self) -> impl Iterator<Item = u32> + '_ {
        let last = self.years.last().copied().unwrap_or(0) * 12;
        let step = self.after_interval_months.max(1);
        self.years
            .iter()
            .map(|y| y * 12)
            .chain((1..).map(move |j| last + j * step))
            .take(MAX_DUES)
    }

    /// The due dates (last day of each due month) in order.
    pub fn dues(&self, anchor: NaiveDate) -> impl Iterator<Item = NaiveDate> + '_ {
        self.due_offsets()
            .filter_map(move |o| month_end(first_of_month(anchor), o))
    }

    /// Whether use year `k` (1 = the first year after the anchor) is an inspection or a
    /// self-testing year.
    pub fn year_kind(&self, k: u32) -> YearKind {
        let (lo, hi) = (12 * k.saturating_sub(1), 12 * k);
        if self.due_offsets().take_while(|o| *o <= hi).any(|o| o > lo) {
            YearKind::Periodic
        } else {
            YearKind::SelfTest
        }
    }

    /// The next due date: the first due month not yet satisfied by `last_pass`, the latest
    /// passing periodic inspection (an inspection satisfies a due month when it is done no
    /// earlier than `early_months` before that month; a late one satisfies it too).
    pub fn next_due(&self, anchor: NaiveDate, last_pass: Option<NaiveDate>) -> Option<NaiveDate> {
        let base = first_of_month(anchor);
        self.due_offsets().find_map(|o| {
            let window_opens =
                base.checked_add_months(Months::new(o.saturating_sub(self.early_months)))?;
            match last_pass {
                Some(d) if d >= window_opens => None,
                _ => month_end(base, o),
            }
        })
    }
}

/// The use year (1-based) that `on` falls in, counted from `anchor`; 0 before the anchor.
pub fn use_year(anchor: NaiveDate, on: NaiveDate) -> u32 {
    if on < anchor {
        return 0;
    }
    let mut y = on.year() - anchor.year();
    if (on.month(), on.day()) < (anchor.month(), anchor.day()) {
        y -= 1;
    }
    y.max(0) as u32 + 1
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The last day of the month `months` after the month starting at `first`.
fn month_end(first: NaiveDate, months: u32) -> Option<NaiveDate> {
    first
        .checked_add_months(Months::new(months + 1))?
        .pred_opt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dues_fall_in_the_supervision_month_of_years_1_4_7_9_11_13_15_then_yearly() {
        let s = Schedule::t7001_2023();
        // Passed supervision inspection on 2020-03-10: due months are March of 2021, 2024, …
        let dues: Vec<NaiveDate> = s.dues(d(2020, 3, 10)).take(10).collect();
        assert_eq!(
            dues,
            [
                d(2021, 3, 31),
                d(2024, 3, 31),
                d(2027, 3, 31),
                d(2029, 3, 31),
                d(2031, 3, 31),
                d(2033, 3, 31),
                d(2035, 3, 31),
                d(2036, 3, 31),
                d(2037, 3, 31),
                d(2038, 3, 31),
            ]
        );
        assert_eq!(s.next_due(d(2020, 3, 10), None), Some(d(2021, 3, 31)));
    }

    #[test]
    fn self_testing_years_lie_between() {
        let s = Schedule::t7001_2023();
        let kinds: Vec<&str> = (1..=18).map(|k| s.year_kind(k).as_str()).collect();
        let p = "periodic";
        let t = "self_test";
        assert_eq!(
            kinds,
            [p, t, t, p, t, t, p, t, p, t, p, t, p, t, p, p, p, p]
        );
        // Every other year after 15 when the interval is set to 24 months.
        let s2 = Schedule {
            after_interval_months: 24,
            ..Schedule::t7001_2023()
        };
        assert_eq!(s2.year_kind(16), YearKind::SelfTest);
        assert_eq!(s2.year_kind(17), YearKind::Periodic);
    }

    #[test]
    fn month_end_and_leap_day_anchors() {
        let s = Schedule::t7001_2023();
        // A leap-day pass: February's last day, 28 or 29 as the year has it.
        let dues: Vec<NaiveDate> = s.dues(d(2020, 2, 29)).take(3).collect();
        assert_eq!(dues, [d(2021, 2, 28), d(2024, 2, 29), d(2027, 2, 28)]);
        // A 31 January pass stays in January; a 30 November pass in November.
        assert_eq!(s.next_due(d(2019, 1, 31), None), Some(d(2020, 1, 31)));
        assert_eq!(s.next_due(d(2023, 11, 30), None), Some(d(2024, 11, 30)));
        // December anchors roll the year correctly.
        let dues: Vec<NaiveDate> = s.dues(d(2022, 12, 31)).take(2).collect();
        assert_eq!(dues, [d(2023, 12, 31), d(2026, 12, 31)]);
    }

    #[test]
    fn early_inspection_within_two_months_does_not_move_the_due_month() {
        let s = Schedule::t7001_2023();
        let anchor = d(2020, 3, 10);
        // Year-4 inspection due March 2024; done on 2024-01-05 (2 months early, on request).
        assert_eq!(
            s.next_due(anchor, Some(d(2024, 1, 5))),
            Some(d(2027, 3, 31))
        );
        // Done on the first day the window allows: 2024-01-01.
        assert_eq!(
            s.next_due(anchor, Some(d(2024, 1, 1))),
            Some(d(2027, 3, 31))
        );
        // More than 2 months early (2023-12-31) does not count: March 2024 is still due.
        assert_eq!(
            s.next_due(anchor, Some(d(2023, 12, 31))),
            Some(d(2024, 3, 31))
        );
        // Late (overdue, done in June 2024) satisfies March 2024 without moving the month.
        assert_eq!(
            s.next_due(anchor, Some(d(2024, 6, 20))),
            Some(d(2027, 3, 31))
        );
        // Year 15 (March 2035) done: year 16 is next; then yearly.
        assert_eq!(
            s.next_due(anchor, Some(d(2035, 3, 2))),
            Some(d(2036, 3, 31))
        );
        // The year-1 inspection due Feb 2021 of a leap-day anchor: early window opens 2020-12-01.
        assert_eq!(
            s.next_due(d(2020, 2, 29), Some(d(2020, 12, 1))),
            Some(d(2024, 2, 29))
        );
        assert_eq!(
            s.next_due(d(2020, 2, 29), Some(d(2020, 11, 30))),
            Some(d(2021, 2, 28))
        );
    }

    #[test]
    fn a_major_repair_restarts_the_count() {
        let s = Schedule::t7001_2023();
        // Installed 2010-05; major repair passed supervision inspection on 2025-08-15: the
        // count restarts, inspections before the new anchor do not count.
        assert_eq!(
            s.next_due(d(2025, 8, 15), Some(d(2025, 5, 20))),
            Some(d(2026, 8, 31))
        );
        assert_eq!(use_year(d(2025, 8, 15), d(2026, 8, 14)), 1);
        assert_eq!(use_year(d(2025, 8, 15), d(2026, 8, 15)), 2);
        assert_eq!(use_year(d(2025, 8, 15), d(2025, 8, 14)), 0);
    }

    #[test]
    fn year_lists_are_checked() {
        assert_eq!(
            Schedule::parse_years("1, 4,7,9,11,13,15").unwrap(),
            vec![1, 4, 7, 9, 11, 13, 15]
        );
        assert!(Schedule::parse_years("1,4,4").is_err());
        assert!(Schedule::parse_years("4,1").is_err());
        assert!(Schedule::parse_years("0").is_err());
        assert!(Schedule::parse_years("").is_err());
        assert!(Schedule::parse_years("a").is_err());
        assert_eq!(Schedule::t7001_2023().years_text(), "1,4,7,9,11,13,15");
    }
}

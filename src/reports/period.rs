//! A report's period: whole days of the support calendar's zone, both ends included, most
//! often a calendar month (`2026-11`).

use chrono::{Datelike, Months, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn month(year: i32, month: u32) -> Option<Period> {
        let from = NaiveDate::from_ymd_opt(year, month, 1)?;
        let to = from.checked_add_months(Months::new(1))?.pred_opt()?;
        Some(Period { from, to })
    }

    /// The calendar month before the one `today` is in.
    pub fn previous_month(today: NaiveDate) -> Period {
        let this = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).expect("the 1st exists");
        let last = this.pred_opt().expect("a day before");
        Period::month(last.year(), last.month()).expect("a month")
    }

    /// The month before this period's first.
    pub fn month_before(&self) -> Period {
        Period::previous_month(self.from)
    }

    /// Whether it is exactly one calendar month.
    pub fn is_month(&self) -> bool {
        Period::month(self.from.year(), self.from.month()) == Some(*self)
    }

    /// `2026-11` for a month, else `2026-11-01..2026-11-15`: what the ledger and `#report` use.
    pub fn key(&self) -> String {
        match self.is_month() {
            true => self.from.format("%Y-%m").to_string(),
            false => format!("{}..{}", self.from, self.to),
        }
    }

    /// `November 2026`, or `1 to 15 November 2026`-like days for people.
    pub fn label(&self) -> String {
        match self.is_month() {
            true => self.from.format("%B %Y").to_string(),
            false => format!("{} to {}", self.from.format("%-d %B %Y"), self.to.format("%-d %B %Y")),
        }
    }
}

impl std::str::FromStr for Period {
    type Err = String;

    /// `2026-11`, or `2026-11-01..2026-11-30`.
    fn from_str(s: &str) -> Result<Period, String> {
        let s = s.trim();
        let bad = || format!("{s:?}: expected a month (2026-11) or two days (2026-11-01..2026-11-30)");
        if let Some((a, b)) = s.split_once("..") {
            let from = a.trim().parse::<NaiveDate>().map_err(|_| bad())?;
            let to = b.trim().parse::<NaiveDate>().map_err(|_| bad())?;
            // A year at most: a report is read by people, and a longer one is a mistake.
            let plausible = |d: NaiveDate| (2000..=2200).contains(&d.year());
            if !plausible(from) || !plausible(to) {
                return Err(bad());
            }
            if to < from || (to - from).num_days() > 366 {
                return Err(format!("{s:?}: the last day must follow the first, within a year"));
            }
            return Ok(Period { from, to });
        }
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        let (year, month) = (y.parse::<i32>().map_err(|_| bad())?, m.parse::<u32>().map_err(|_| bad())?);
        if !(2000..=2200).contains(&year) {
            return Err(bad());
        }
        Period::month(year, month).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn months_and_ranges_parse() {
        let nov: Period = "2026-11".parse().unwrap();
        assert_eq!((nov.from, nov.to), (day("2026-11-01"), day("2026-11-30")));
        assert_eq!((nov.key(), nov.label()), ("2026-11".into(), "November 2026".into()));
        let feb: Period = "2028-02".parse().unwrap();
        assert_eq!(feb.to, day("2028-02-29"), "a leap year");
        let half: Period = "2026-11-01..2026-11-15".parse().unwrap();
        assert_eq!(
            (half.key(), half.label()),
            ("2026-11-01..2026-11-15".into(), "1 November 2026 to 15 November 2026".into())
        );
        assert!(!half.is_month());
        for bad in [
            "-262143-03-01..-262143-03-31",
            "2026-13",
            "2026",
            "november",
            "2026-11-30..2026-11-01",
            "2020-01-01..2026-01-01",
            "99999-01",
            "",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_previous_month_crosses_a_year() {
        assert_eq!(Period::previous_month(day("2027-01-01")).key(), "2026-12");
        assert_eq!(Period::previous_month(day("2026-12-31")).key(), "2026-11");
        assert_eq!("2026-03".parse::<Period>().unwrap().month_before().key(), "2026-02");
    }
}

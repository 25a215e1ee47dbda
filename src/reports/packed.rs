//! Pages of cases read as one row each, on SQLite. sqlx runs SQLite on a worker thread and
//! hands every row to the reader with a thread wake-up that costs more than the row: over
//! 100,000 cases, reading the SLA columns row by row takes 0.75 s, and as pages of JSON
//! arrays that SQLite builds itself 0.3 s, parsing included. Structs read this way derive
//! `Deserialize` from the array, fields in the order of [`json_array`]'s columns.
//!
//! The array is read in the order SQLite aggregates it, which is unspecified: the caller
//! sorts the page (asking SQLite to, `json_group_array(… ORDER BY …)`, costs a third of its
//! work). Times and enums are read without a copy of their text, and times stored as sqlx
//! writes them (RFC 3339 in UTC) without chrono's general parser: a case has eight times.

use std::str::FromStr;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryTrait, Statement};
use std::marker::PhantomData;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Timelike, Utc};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error, Visitor};

/// `json_array("a", "b", …)` of a query's output columns; `nested` goes last, as one more
/// array (a struct's nested struct).
pub fn json_array<'c>(columns: impl IntoIterator<Item = &'c str>, nested: Option<String>) -> String {
    let quoted = columns.into_iter().map(|c| format!("\"{c}\""));
    let all: Vec<String> = quoted.chain(nested).collect();
    format!("json_array({})", all.join(", "))
}

/// The rows of `query`, one JSON array each as `row` builds it, in no particular order.
pub async fn page<M: DeserializeOwned>(
    db: &DatabaseConnection,
    query: impl QueryTrait,
    row: &str,
) -> Result<Vec<M>, DbErr> {
    let inner = query.build(DbBackend::Sqlite);
    let sql = format!("SELECT json_group_array({row}) AS page FROM ({}) AS rows", inner.sql);
    let values = inner.values.map(|v| v.0).unwrap_or_default();
    let stmt = Statement::from_sql_and_values(DbBackend::Sqlite, sql, values);
    let Some(result) = db.query_one_raw(stmt).await? else { return Ok(Vec::new()) };
    let page: Option<String> = result.try_get("", "page")?;
    serde_json::from_str(page.as_deref().unwrap_or("[]"))
        .map_err(|e| DbErr::Type(format!("a page of cases SQLite built cannot be read: {e}")))
}

/// A column stored as its text and parsed (`Severity`, `Status`…).
pub fn parsed<'de, D: Deserializer<'de>, T: FromStr>(d: D) -> Result<T, D::Error>
where
    T::Err: std::fmt::Display,
{
    d.deserialize_str(Parsed(PhantomData))
}

/// A time column.
pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(Parsed(PhantomData::<Time>)).map(|t| t.0)
}

/// A time column that may be null.
pub fn maybe_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    d.deserialize_option(MaybeTime)
}

/// Parses the text it is given, borrowed or not, with `T`'s `FromStr`.
struct Parsed<T>(PhantomData<T>);

impl<T: FromStr> Visitor<'_> for Parsed<T>
where
    T::Err: std::fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("text")
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<T, E> {
        text.parse().map_err(E::custom)
    }
}

struct MaybeTime;

impl<'de> Visitor<'de> for MaybeTime {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a time or null")
    }

    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        time(d).map(Some)
    }
}

/// A stored time: `2026-11-03T10:00:00.25+00:00` (how sqlx writes one) read directly,
/// anything else by chrono, as `DateTime<Utc>`'s own `Deserialize` would.
struct Time(DateTime<Utc>);

impl FromStr for Time {
    type Err = chrono::ParseError;

    fn from_str(text: &str) -> Result<Time, Self::Err> {
        match utc_rfc3339(text.as_bytes()) {
            Some(t) => Ok(Time(t)),
            None => text.parse::<DateTime<FixedOffset>>().map(|t| Time(t.with_timezone(&Utc))),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](+00:00|Z)`; `None` for anything else, valid or not.
fn utc_rfc3339(b: &[u8]) -> Option<DateTime<Utc>> {
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0u32, |n, d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let punctuated = b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.get(10) == Some(&b'T')
        && b.get(13) == Some(&b':')
        && b.get(16) == Some(&b':');
    if !punctuated {
        return None;
    }
    let (mut nanos, mut at) = (0u32, 19);
    if b.get(at) == Some(&b'.') {
        let digits = b[at + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        nanos = num(at + 1..at + 1 + digits)? * 10u32.pow(9 - digits as u32);
        at += 1 + digits;
    }
    if !matches!(&b[at..], b"+00:00" | b"Z") {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time = NaiveTime::from_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)?;
    // A leap second (`:60`) is left to chrono.
    (time.second() < 60).then(|| date.and_time(time).and_utc())
}

/// SQLite's boolean, an integer.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(i64::deserialize(d)? != 0)
}

/// A case number, stored as its integer.
pub fn case_number<'de, D: Deserializer<'de>>(d: D) -> Result<crate::domain::CaseNumber, D::Error> {
    let n = i64::deserialize(d)?;
    crate::domain::CaseNumber::new(u64::try_from(n).map_err(D::Error::custom)?).map_err(D::Error::custom)
}

#[cfg(test)]
mod tests {
    use chrono::{SecondsFormat, TimeZone};
    use proptest::prelude::*;

    use super::*;

    fn chrono_reads(text: &str) -> Option<DateTime<Utc>> {
        text.parse::<DateTime<FixedOffset>>().ok().map(|t| t.with_timezone(&Utc))
    }

    fn read(text: &str) -> Option<DateTime<Utc>> {
        text.parse::<Time>().ok().map(|t| t.0)
    }

    #[test]
    fn times_are_read_as_chrono_reads_them() {
        for text in [
            "2026-11-03T10:00:00+00:00",
            "2026-11-03T10:00:00Z",
            "2026-11-03T10:00:00.5+00:00",
            "2026-11-03T10:00:00.123456789+00:00",
            "2026-11-03T10:00:00-05:00",
            "2026-11-03 10:00:00+00:00",
            "2016-12-31T23:59:60+00:00",
            "2026-02-30T10:00:00+00:00",
            "2026-11-03T25:00:00+00:00",
            "2026-11-03T10:00:00.+00:00",
            "2026-11-03T10:00:00.1234567891+00:00",
            "2026-11-03T10:00:00+00:0",
            "2026-11-03T10:00:00",
            "2026-1a-03T10:00:00+00:00",
            "",
        ] {
            assert_eq!(read(text), chrono_reads(text), "{text:?}");
        }
        assert_eq!(
            read("2026-11-03T10:00:00.25Z"),
            Some(Utc.with_ymd_and_hms(2026, 11, 3, 10, 0, 0).unwrap() + chrono::Duration::milliseconds(250))
        );
    }

    #[test]
    fn a_page_reads_times_enums_and_nulls() {
        #[derive(Deserialize)]
        struct Row(
            #[serde(deserialize_with = "time")] DateTime<Utc>,
            #[serde(deserialize_with = "maybe_time")] Option<DateTime<Utc>>,
            #[serde(deserialize_with = "maybe_time")] Option<DateTime<Utc>>,
            #[serde(deserialize_with = "parsed")] crate::domain::Severity,
        );
        let rows: Vec<Row> =
            serde_json::from_str(r#"[["2026-11-03T10:00:00Z", null, "2026-11-03T11:00:00+01:00", "S\u0032"]]"#)
                .unwrap();
        let ten = Utc.with_ymd_and_hms(2026, 11, 3, 10, 0, 0).unwrap();
        assert_eq!((rows[0].0, rows[0].1, rows[0].2, rows[0].3), (ten, None, Some(ten), crate::domain::Severity::S2));
        let bad: Result<Vec<Row>, _> = serde_json::from_str(r#"[["yesterday", null, null, "S2"]]"#);
        assert!(bad.is_err());
    }

    proptest! {
        #[test]
        fn stored_times_come_back_exactly(secs in 0i64..4_102_444_800, nanos in 0u32..1_000_000_000, z: bool) {
            let t = Utc.timestamp_opt(secs, nanos).unwrap();
            for format in [SecondsFormat::AutoSi, SecondsFormat::Secs, SecondsFormat::Millis, SecondsFormat::Nanos] {
                let text = t.to_rfc3339_opts(format, z);
                prop_assert_eq!(read(&text), chrono_reads(&text));
                prop_assert!(utc_rfc3339(text.as_bytes()).is_some(), "{} takes the direct path", text);
            }
        }
    }

    #[test]
    fn the_array_lists_the_columns_then_the_nested_array() {
        let inner = json_array(["b", "c"], None);
        assert_eq!(
            json_array(["number", "summary"], Some(inner)),
            r#"json_array("number", "summary", json_array("b", "c"))"#
        );
    }
}

//! Pages of cases read as one row each, on SQLite. sqlx runs SQLite on a worker thread and
//! hands every row to the reader with a thread wake-up that costs more than the row: over
//! 100,000 cases, reading the SLA columns row by row takes 0.75 s, and as pages of JSON
//! arrays that SQLite builds itself 0.3 s, parsing included. Structs read this way derive
//! `Deserialize` from the array, fields in the order of [`json_array`]'s columns.

use std::str::FromStr;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryTrait, Statement};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error};

/// `json_array("a", "b", …)` of a query's output columns; `nested` goes last, as one more
/// array (a struct's nested struct).
pub fn json_array<'c>(columns: impl IntoIterator<Item = &'c str>, nested: Option<String>) -> String {
    let quoted = columns.into_iter().map(|c| format!("\"{c}\""));
    let all: Vec<String> = quoted.chain(nested).collect();
    format!("json_array({})", all.join(", "))
}

/// The rows of `query`, one JSON array each as `row` builds it, in `order_by`'s order.
pub async fn page<M: DeserializeOwned>(
    db: &DatabaseConnection,
    query: impl QueryTrait,
    row: &str,
    order_by: Option<&str>,
) -> Result<Vec<M>, DbErr> {
    let inner = query.build(DbBackend::Sqlite);
    let order = order_by.map(|c| format!(" ORDER BY \"{c}\"")).unwrap_or_default();
    let sql = format!("SELECT json_group_array({row}{order}) AS page FROM ({}) AS rows", inner.sql);
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
    let text = String::deserialize(d)?;
    text.parse().map_err(D::Error::custom)
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
    use super::*;

    #[test]
    fn the_array_lists_the_columns_then_the_nested_array() {
        let inner = json_array(["b", "c"], None);
        assert_eq!(
            json_array(["number", "summary"], Some(inner)),
            r#"json_array("number", "summary", json_array("b", "c"))"#
        );
    }
}

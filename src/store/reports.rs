//! The complaint report (`GET /v1/reports`), computed in SQL on both stores: the queries are
//! written once here; a backend only says how it reads JSON inside a card and how it takes a
//! median ([`Dialect`]).

use super::queue::{Arg, Sql};
use super::{Millis, StoreError};
use serde::Serialize;

/// One cell of a report query's row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Int(i64),
    Text(String),
    Null,
}

impl Cell {
    fn int(&self) -> i64 {
        match self {
            Cell::Int(v) => *v,
            Cell::Text(t) => t.parse().unwrap_or(0),
            Cell::Null => 0,
        }
    }

    fn text(&self) -> String {
        match self {
            Cell::Int(v) => v.to_string(),
            Cell::Text(t) => t.clone(),
            Cell::Null => String::new(),
        }
    }

    fn opt_int(&self) -> Option<i64> {
        match self {
            Cell::Null => None,
            other => Some(other.int()),
        }
    }
}

/// A report row's cells: each an integer, else a text, else NULL (either backend's row).
pub(super) fn cells_of<R>(row: &R) -> Result<Vec<Cell>, StoreError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (0..row.len())
        .map(|i| {
            if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                return Ok(v.map_or(Cell::Null, Cell::Int));
            }
            match row.try_get::<Option<String>, _>(i) {
                Ok(v) => Ok(v.map_or(Cell::Null, Cell::Text)),
                Err(e) => Err(StoreError::Corrupt(format!("report column {i}: {e}"))),
            }
        })
        .collect()
}

/// How a backend's SQL reads the card's JSON and takes a median.
pub struct Dialect {
    /// The card's issue type, mood (text expressions over `h.card`).
    pub issue: &'static str,
    pub mood: &'static str,
    /// A FROM item expanding `h.card`'s threats into rows of `t.value` (text).
    pub threats: &'static str,
    /// A FROM item expanding `h.card`'s evidence into rows `e`, and the label and text of one.
    pub evidence: &'static str,
    pub evidence_label: &'static str,
    pub evidence_text: &'static str,
    /// The lower median of `{expr}` over the tickets in range (`{range}`: the WHERE
    /// conditions), as one row with one integer (or NULL).
    pub median: &'static str,
}

/// The time range (`from` inclusive, `to` exclusive), a shop (or all) and the clock that
/// decides where a day starts.
#[derive(Debug, Clone)]
pub struct ReportQuery {
    pub from: Millis,
    pub to: Millis,
    pub shop: Option<String>,
    pub utc_offset_ms: i64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Report {
    pub tickets: i64,
    /// Complaints per day (days since the epoch on the report's clock) by issue type.
    pub daily: Vec<DayCount>,
    pub by_shop: Vec<Count>,
    pub moods: Vec<Count>,
    pub threats: Vec<Count>,
    pub median_first_response_ms: Option<i64>,
    pub median_resolution_ms: Option<i64>,
    pub sla_breached: i64,
    pub repeats: i64,
    pub followed_up: i64,
    pub satisfied: i64,
    /// The ten most frequent evidence texts per issue type.
    pub top_terms: Vec<Terms>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DayCount {
    pub day: i64,
    pub issue_type: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Terms {
    pub issue_type: String,
    pub terms: Vec<Count>,
}

/// The tickets in range: opened in [$1, $2), of shop $3 ('' for all).
const RANGE: &str = "h.created_at >= $1 AND h.created_at < $2 AND ($3 = '' OR h.shop = $3)";

/// Runs every query of the report.
pub(super) async fn report(
    sql: &dyn Sql,
    d: &Dialect,
    q: &ReportQuery,
) -> Result<Report, StoreError> {
    let shop = q.shop.clone().unwrap_or_default();
    let args = [
        Arg::Int(q.from),
        Arg::Int(q.to),
        Arg::Text(&shop),
        Arg::Int(q.utc_offset_ms),
    ];
    // Each query binds the parameters it uses: $1–$3 (the range), and $4 for days.
    let run = |query: String| async move {
        let used = if query.contains("$4") { 4 } else { 3 };
        sql.cells(&query, &args[..used]).await
    };
    let mut report = Report::default();

    let totals = run(format!(
        "SELECT COUNT(*), SUM(CASE WHEN h.sla_breached THEN 1 ELSE 0 END),
           SUM(CASE WHEN h.repeat_count > 0 THEN 1 ELSE 0 END),
           SUM(CASE WHEN h.followup_sent_at IS NOT NULL THEN 1 ELSE 0 END),
           SUM(CASE WHEN h.followup_answer = 'satisfied' THEN 1 ELSE 0 END)
         FROM handoffs h WHERE {RANGE}"
    ))
    .await?;
    if let Some(row) = totals.first() {
        report.tickets = row[0].int();
        report.sla_breached = row[1].int();
        report.repeats = row[2].int();
        report.followed_up = row[3].int();
        report.satisfied = row[4].int();
    }
    report.daily = run(format!(
        "SELECT (h.created_at + $4) / 86400000, COALESCE({issue}, 'none'), COUNT(*)
         FROM handoffs h WHERE {RANGE} GROUP BY 1, 2 ORDER BY 1, 2",
        issue = d.issue
    ))
    .await?
    .iter()
    .map(|r| DayCount {
        day: r[0].int(),
        issue_type: r[1].text(),
        count: r[2].int(),
    })
    .collect();
    let counts = |rows: Vec<Vec<Cell>>| -> Vec<Count> {
        rows.iter()
            .map(|r| Count {
                key: r[0].text(),
                count: r[1].int(),
            })
            .collect()
    };
    let grouped = |expr: &str, from: &str| {
        format!(
            "SELECT {expr}, COUNT(*) FROM handoffs h{from} WHERE {RANGE}
             GROUP BY 1 ORDER BY 2 DESC, 1"
        )
    };
    report.by_shop = counts(run(grouped("h.shop", "")).await?);
    report.moods = counts(run(grouped(d.mood, "")).await?);
    report.threats = counts(run(grouped("t.value", &format!(", {}", d.threats))).await?);
    let median = |expr: &str, present: &str| {
        d.median
            .replace("{expr}", expr)
            .replace("{range}", &format!("{RANGE} AND {present} IS NOT NULL"))
    };
    let first = run(median(
        "h.first_response_at - h.created_at",
        "h.first_response_at",
    ))
    .await?;
    report.median_first_response_ms = first.first().and_then(|r| r[0].opt_int());
    let resolved = run(median("h.resolved_at - h.created_at", "h.resolved_at")).await?;
    report.median_resolution_ms = resolved.first().and_then(|r| r[0].opt_int());

    let (label, text) = (d.evidence_label, d.evidence_text);
    let terms = run(format!(
        "SELECT label, term, n FROM (
           SELECT {label} AS label, {text} AS term, COUNT(*) AS n,
             ROW_NUMBER() OVER (PARTITION BY {label} ORDER BY COUNT(*) DESC, {text}) AS r
           FROM handoffs h, {evidence}
           WHERE {RANGE} AND {label} LIKE 'issue_type:%'
           GROUP BY {label}, {text}) x
         WHERE r <= 10 ORDER BY label, n DESC, term",
        evidence = d.evidence
    ))
    .await?;
    for row in terms {
        let issue = row[0].text().trim_start_matches("issue_type:").to_string();
        let term = Count {
            key: row[1].text(),
            count: row[2].int(),
        };
        match report.top_terms.last_mut() {
            Some(t) if t.issue_type == issue => t.terms.push(term),
            _ => report.top_terms.push(Terms {
                issue_type: issue,
                terms: vec![term],
            }),
        }
    }
    Ok(report)
}

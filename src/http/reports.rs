//! `GET /v1/reports`: the complaint report over a date range and a shop, as JSON or CSV (the
//! same figures), and the console's report page that draws it.

use super::agent::{authorize, ApiError};
use crate::app::AppState;
use crate::domain::UtcOffset;
use crate::store::{now_ms, Count, Report, ReportQuery};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

const PAGE: &str = include_str!("console/reports.html");
const DAY_MS: i64 = 86_400_000;
/// The default range: the last 30 days, today included.
const DEFAULT_DAYS: i64 = 30;
/// A longer range is refused: a year of days is already a wide chart.
const MAX_DAYS: i64 = 366;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/reports", get(report))
        .route("/console/reports", get(page))
}

async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !super::console::has_session(&state, &headers) {
        return Redirect::to("/console/login").into_response();
    }
    Html(PAGE).into_response()
}

#[derive(Deserialize)]
struct ReportParams {
    /// First day, `YYYY-MM-DD` (default: 29 days before `to`).
    from: Option<String>,
    /// Last day, included (default: today).
    to: Option<String>,
    shop: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
    /// The clock days are counted on (default +08:00).
    tz: Option<String>,
}

/// The report as the API answers it: days as dates, durations in minutes, rates.
#[derive(Serialize)]
struct View {
    from: String,
    to: String,
    shop: Option<String>,
    tz: String,
    tickets: i64,
    daily: Vec<DayView>,
    by_shop: Vec<ShopView>,
    moods: Vec<Count>,
    threats: Vec<Count>,
    median_first_response_minutes: Option<f64>,
    median_resolution_minutes: Option<f64>,
    sla_breached: i64,
    sla_breach_rate: Option<f64>,
    repeats: i64,
    repeat_rate: Option<f64>,
    followed_up: i64,
    satisfied: i64,
    /// Satisfied answers among the follow-ups asked.
    satisfied_rate: Option<f64>,
    top_terms: Vec<crate::store::Terms>,
}

#[derive(Serialize)]
struct DayView {
    date: String,
    issue_type: String,
    count: i64,
}

#[derive(Serialize)]
struct ShopView {
    shop: String,
    name: String,
    count: i64,
}

fn bad(why: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, why)
}

fn date(text: &str, key: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| bad(format!("{key} `{text}`: expected a date like 2026-12-01")))
}

/// A day index (days since the epoch, on the report's clock) → its date.
fn day_date(day: i64) -> String {
    chrono::DateTime::from_timestamp_millis(day * DAY_MS)
        .map(|t| t.date_naive().to_string())
        .unwrap_or_default()
}

fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 1000.0).round() / 1000.0)
}

fn minutes(ms: Option<i64>) -> Option<f64> {
    ms.map(|ms| (ms as f64 / 60_000.0 * 10.0).round() / 10.0)
}

async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<ReportParams>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let tz = match p.tz.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => UtcOffset::parse(t).map_err(bad)?,
        None => UtcOffset::CHINA,
    };
    let offset_ms = tz.minutes * 60_000;
    let today = day_date((now_ms() + offset_ms).div_euclid(DAY_MS));
    let to = date(
        p.to.as_deref().filter(|t| !t.is_empty()).unwrap_or(&today),
        "to",
    )?;
    let from = match p.from.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => date(f, "from")?,
        None => to - chrono::Days::new(DEFAULT_DAYS as u64 - 1),
    };
    let days = (to - from).num_days() + 1;
    if days < 1 {
        return Err(bad(format!("from {from} is after to {to}")));
    }
    if days > MAX_DAYS {
        return Err(bad(format!("{days} days: at most {MAX_DAYS} at once")));
    }
    let start_of = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp_millis())
            - offset_ms
    };
    let shop = p.shop.filter(|s| !s.trim().is_empty());
    let query = ReportQuery {
        from: start_of(from),
        to: start_of(to) + DAY_MS,
        shop: shop.clone(),
        utc_offset_ms: offset_ms,
    };
    let r = state.store.report(&query).await?;
    let view = view(&state, r, from, to, shop, &tz);
    match p.format.as_deref().unwrap_or("json") {
        "json" | "" => Ok(Json(view).into_response()),
        "csv" => Ok(csv(&view)),
        other => Err(bad(format!("format `{other}`: expected json or csv"))),
    }
}

fn view(
    state: &AppState,
    r: Report,
    from: NaiveDate,
    to: NaiveDate,
    shop: Option<String>,
    tz: &UtcOffset,
) -> View {
    let name = |id: &str| {
        state
            .shop(id)
            .map_or(id.to_string(), |s| s.display_name().to_string())
    };
    let sign = if tz.minutes < 0 { '-' } else { '+' };
    View {
        from: from.to_string(),
        to: to.to_string(),
        shop,
        tz: format!(
            "{sign}{:02}:{:02}",
            tz.minutes.abs() / 60,
            tz.minutes.abs() % 60
        ),
        tickets: r.tickets,
        daily: r
            .daily
            .into_iter()
            .map(|d| DayView {
                date: day_date(d.day),
                issue_type: d.issue_type,
                count: d.count,
            })
            .collect(),
        by_shop: r
            .by_shop
            .into_iter()
            .map(|c| ShopView {
                name: name(&c.key),
                shop: c.key,
                count: c.count,
            })
            .collect(),
        moods: r.moods,
        threats: r.threats,
        median_first_response_minutes: minutes(r.median_first_response_ms),
        median_resolution_minutes: minutes(r.median_resolution_ms),
        sla_breached: r.sla_breached,
        sla_breach_rate: rate(r.sla_breached, r.tickets),
        repeats: r.repeats,
        repeat_rate: rate(r.repeats, r.tickets),
        followed_up: r.followed_up,
        satisfied: r.satisfied,
        satisfied_rate: rate(r.satisfied, r.followed_up),
        top_terms: r.top_terms,
    }
}

/// One row per figure: `section,key,detail,value`. A byte-order mark first, so that Excel
/// opens the Chinese text as UTF-8.
fn csv(v: &View) -> Response {
    let mut rows = vec![["section", "key", "detail", "value"].map(String::from)];
    let mut row = |section: &str, key: &str, detail: &str, value: String| {
        rows.push([section.into(), key.into(), detail.into(), value]);
    };
    let opt = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
    row("range", &v.from, &v.to, v.shop.clone().unwrap_or_default());
    row("total", "tickets", "", v.tickets.to_string());
    for d in &v.daily {
        row("daily", &d.date, &d.issue_type, d.count.to_string());
    }
    for s in &v.by_shop {
        row("shop", &s.shop, &s.name, s.count.to_string());
    }
    for m in &v.moods {
        row("mood", &m.key, "", m.count.to_string());
    }
    for t in &v.threats {
        row("threat", &t.key, "", t.count.to_string());
    }
    row(
        "median_minutes",
        "first_response",
        "",
        opt(v.median_first_response_minutes),
    );
    row(
        "median_minutes",
        "resolution",
        "",
        opt(v.median_resolution_minutes),
    );
    row(
        "rate",
        "sla_breach",
        &v.sla_breached.to_string(),
        opt(v.sla_breach_rate),
    );
    row("rate", "repeat", &v.repeats.to_string(), opt(v.repeat_rate));
    row(
        "rate",
        "satisfied",
        &v.satisfied.to_string(),
        opt(v.satisfied_rate),
    );
    for t in &v.top_terms {
        for term in &t.terms {
            row("term", &t.issue_type, &term.key, term.count.to_string());
        }
    }
    let mut out = String::from("\u{feff}");
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| quoted(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"anfu-report.csv\"",
            ),
        ],
        out,
    )
        .into_response()
}

/// RFC 4180 quoting, and a leading `=`, `+`, `-` or `@` neutralised so a buyer's words never
/// run as a spreadsheet formula.
fn quoted(cell: &str) -> String {
    let cell = if cell.starts_with(['=', '+', '-', '@']) && cell.parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell.to_string()
    };
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

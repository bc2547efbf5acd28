//! The agent console: one page served by anfu (no build step), a login form that trades the
//! agent token for a session cookie, and server-sent events for live updates.

use crate::app::AppState;
use crate::signing::{hmac_sha256, same};
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

const PAGE: &str = include_str!("console.html");
const LOGIN: &str = include_str!("login.html");
const COOKIE: &str = "anfu_session";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(page))
        .route("/console/login", get(login_form).post(login))
        .route("/console/logout", get(logout))
        .route("/v1/events", get(events))
}

/// The session value: derived from the token, so changing the token logs everyone out.
fn session_value(state: &AppState) -> String {
    hex::encode(hmac_sha256(
        state.config.server.agent_token.as_bytes(),
        b"anfu console session",
    ))
}

pub fn has_session(state: &AppState, headers: &HeaderMap) -> bool {
    let expected = session_value(state);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(&format!("{COOKIE}=")))
        .any(|value| same(value, &expected))
}

async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !has_session(&state, &headers) {
        return Redirect::to("/console/login").into_response();
    }
    Html(PAGE).into_response()
}

async fn login_form() -> Html<String> {
    Html(LOGIN.replace("{error}", ""))
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    if form.token.is_empty() || !same(form.token.trim(), &state.config.server.agent_token) {
        tracing::warn!("console login refused");
        let page = LOGIN.replace("{error}", "令牌不正确 / wrong token");
        return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
    }
    let cookie = format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200",
        session_value(&state)
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/console")).into_response()
}

async fn logout() -> Response {
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/console/login"),
    )
        .into_response()
}

/// Server-sent events: one `data:` line per change (a ticket opened, updated, claimed,
/// resolved, noted or breached); the page reloads its queue on each.
async fn events(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = super::agent::authorize(&state, &headers) {
        return e.into_response();
    }
    let receiver = state.events.subscribe();
    let stream = futures_util::stream::unfold(receiver, |mut rx| async move {
        let data = match rx.recv().await {
            Ok(data) => data,
            // A slow console missed some: one "resync" makes it reload everything.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                r#"{"type":"resync"}"#.to_string()
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok::<_, Infallible>(Event::default().data(data)), rx))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

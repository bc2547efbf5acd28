//! Rakuten poll mode: fetch new inquiries (`platform/rakuten/poll.rs` makes the call) from
//! a per-shop cursor kept in the store. The window overlaps the previous one and the store
//! drops duplicates, so a restart neither misses nor repeats a message.

use crate::app::AppState;
use crate::config::ShopConfig;
use crate::platform::rakuten;
use chrono::{DateTime, Duration as ChronoDuration, NaiveDateTime, TimeZone, Utc};
use std::time::Duration;
use tokio::sync::watch;

/// Overlap with the previous window: inquiries registered late are still seen.
const OVERLAP_MINUTES: i64 = 5;
/// Rakuten allows at most 31 days per query; a first poll looks back one day.
const MAX_RANGE_DAYS: i64 = 31;
const FIRST_LOOKBACK_HOURS: i64 = 24;

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("inquiries endpoint: {0}")]
    Http(String),
    #[error("licenseKey rejected (HTTP 401): renew it in RMS (keys expire every 90 days)")]
    Unauthorized,
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("the poll panicked (a bug; see the log)")]
    Panicked,
}

/// Where a shop's poll runs, for injected faults and panic alerts.
fn place(shop: &ShopConfig) -> String {
    format!("poll:{}", shop.id)
}

/// Polls once: every page from the cursor to now. Returns how many new messages were stored.
pub async fn poll_once(state: &AppState, shop: &ShopConfig) -> Result<usize, PollError> {
    state.faults.fire(&place(shop));
    let Some(keys) = shop.rakuten() else {
        return Ok(0);
    };
    let now = Utc::now();
    let from = match state.store.cursor(&shop.id).await? {
        Some(cursor) => {
            parse_cursor(&cursor).unwrap_or(now) - ChronoDuration::minutes(OVERLAP_MINUTES)
        }
        None => now - ChronoDuration::hours(FIRST_LOOKBACK_HOURS),
    }
    .max(now - ChronoDuration::days(MAX_RANGE_DAYS));
    let mut stored = 0;
    let mut page = 1;
    loop {
        let body = rakuten::poll::fetch_page(state.outbound.client(), shop, keys, from, now, page)
            .await
            .map_err(|e| match e {
                rakuten::poll::FetchError::Unauthorized => PollError::Unauthorized,
                rakuten::poll::FetchError::Http(why) => PollError::Http(why),
            })?;
        for inquiry in &body.list {
            for message in rakuten::messages(inquiry) {
                let new = state.store.accept(&shop.id, "rakuten", &message).await?;
                crate::http::webhooks::count_message(state, shop, new);
                stored += usize::from(new);
            }
        }
        if page >= body.total_page_count.max(1) {
            break;
        }
        page += 1;
    }
    // Only after every page is stored does the cursor move.
    state.store.set_cursor(&shop.id, &now.to_rfc3339()).await?;
    if stored > 0 {
        state.wake.notify_waiters();
    }
    Ok(stored)
}

fn parse_cursor(cursor: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(cursor)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(cursor, "%Y-%m-%dT%H:%M:%S")
                .ok()
                .and_then(|t| rakuten::japan().from_local_datetime(&t).single())
                .map(|t| t.with_timezone(&Utc))
        })
}

/// How long a poll lease lasts, in poll intervals: a stopped holder is replaced within that
/// (sooner when it stops cleanly and gives the lease up).
const LEASE_INTERVALS: u32 = 3;

/// Polls a shop every `poll_interval` until shutdown, while this instance holds the shop's
/// poll lease (several instances share one database: one of them polls, and another takes
/// over when its lease runs out); failures are logged and retried at the next tick, a
/// rejected licenseKey raises an alert.
pub async fn run(state: AppState, shop: ShopConfig, mut shutdown: watch::Receiver<bool>) {
    let every = shop
        .rakuten()
        .map_or(Duration::from_secs(60), |k| k.poll_interval)
        .max(Duration::from_millis(100));
    let lease_ms = i64::try_from((every * LEASE_INTERVALS).as_millis()).unwrap_or(i64::MAX);
    let holder = format!("{}-{:016x}", std::process::id(), fastrand::u64(..));
    loop {
        match state
            .store
            .take_poll_lease(&shop.id, &holder, lease_ms)
            .await
        {
            Ok(true) => poll_and_report(&state, &shop).await,
            Ok(false) => tracing::debug!(shop = %shop.id, "another instance polls this shop"),
            Err(e) => {
                state.store_failed(&e);
                tracing::warn!(shop = %shop.id, error = %e, "poll lease unavailable; next tick retries")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
    if let Err(e) = state.store.release_poll_lease(&shop.id, &holder).await {
        tracing::warn!(shop = %shop.id, error = %e, "giving up the poll lease failed; it runs out");
    }
}

async fn poll_and_report(state: &AppState, shop: &ShopConfig) {
    let polled = match crate::panics::catch(poll_once(state, shop)).await {
        Ok(polled) => polled,
        Err(panic) => {
            crate::panics::record(state, &place(shop), &panic);
            Err(PollError::Panicked)
        }
    };
    match polled {
        Ok(n) => {
            state.clear_alert(&shop.id);
            if n > 0 {
                tracing::info!(shop = %shop.id, new = n, "polled inquiries");
            }
        }
        Err(PollError::Unauthorized) => {
            state.raise_alert(&shop.id, PollError::Unauthorized.to_string())
        }
        Err(e) => {
            if let PollError::Store(e) = &e {
                state.store_failed(e);
            }
            tracing::warn!(shop = %shop.id, error = %e, "poll failed; next tick retries")
        }
    }
}

//! What the HTTP handlers and the background loops share.

use crate::analysis_pool::AnalysisPool;
use crate::config::Config;
use crate::outbound::Outbound;
use crate::reply::ReplyBook;
use crate::store::{now_ms, Millis, Store};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// The alert key of a full database (shops and sinks use their ids).
pub const STORAGE_ALERT: &str = "storage";
/// How long a full database's alert holds against the worker's writes. A job that frees a
/// queue row can write again at once while a webhook still does not fit: without the hold
/// /readyz flapped between 503 and 200 within milliseconds. A webhook that is accepted
/// clears it at once.
const STORAGE_ALERT_HOLD_MS: Millis = 5_000;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    /// The analyzer, run off the async runtime on a capped text.
    pub analysis: AnalysisPool,
    /// Panics injected by tests (inert otherwise).
    pub faults: Arc<crate::panics::Faults>,
    /// The shops with their reply settings (name, language, hours, follow-up), which a
    /// reload swaps whole; read them through [`AppState::shop`]. Keys and endpoints stay as
    /// started (`config.shops`).
    pub shops: Arc<crate::reload::Swappable<crate::reload::Shops>>,
    /// The replies; a reload swaps them whole (`replies.get()` is a snapshot).
    pub replies: Arc<crate::reload::Swappable<ReplyBook>>,
    pub outbound: Outbound,
    pub health: Arc<Health>,
    /// Wakes the workers as soon as a message is stored.
    pub wake: Arc<Notify>,
    /// Webhooks waiting for the store right now: a flood of them makes the workers claim one
    /// job at a time (`worker::step_batch`), so that acks come first.
    pub webhooks_waiting: Arc<std::sync::atomic::AtomicUsize>,
    /// Dedupe fast path: message keys known to be stored. The database stays the guarantee.
    pub seen: moka::sync::Cache<String, ()>,
    /// The robots' per-minute limits, shared by all workers.
    pub sinks_rate: Arc<crate::sink::RateLimiter>,
    /// Live updates for the console (server-sent events): a ticket opened or changed.
    pub events: tokio::sync::broadcast::Sender<String>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Webhook requests per shop per minute (`limits`).
    pub webhook_limit: crate::limits::Limiter,
    /// Auto-replies per buyer per hour (`limits`).
    pub reply_limit: crate::limits::Limiter,
    /// This instance among those sharing a store: its own events come back from the store's
    /// feed and are not shown twice.
    pub instance: Arc<str>,
}

impl AppState {
    /// A configured shop, with the reply settings of the latest reload.
    pub fn shop(&self, id: &str) -> Option<Arc<crate::config::ShopConfig>> {
        self.shops.get().get(id).cloned()
    }

    /// Tells open consoles that the ticket list changed (nobody listening is fine).
    pub fn announce(&self, what: &str, handoff: Option<i64>) {
        let event = serde_json::json!({"type": what, "handoff": handoff}).to_string();
        // Other instances' consoles hear it through the store (PostgreSQL NOTIFY).
        if self.store.is_shared() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let payload =
                    serde_json::json!({"origin": &*self.instance, "event": &event}).to_string();
                let store = self.store.clone();
                runtime.spawn(async move {
                    if let Err(e) = store.publish_event(&payload).await {
                        tracing::debug!(error = %e, "event not published to other instances");
                    }
                });
            }
        }
        let _ = self.events.send(event);
    }

    /// What a platform's calls use from the running service: its HTTP client and its store.
    pub fn send_context(&self) -> crate::platform::SendContext<'_> {
        crate::platform::SendContext {
            client: self.outbound.client(),
            store: self.store.as_ref(),
        }
    }

    /// Relays the events other instances publish to this instance's consoles, until
    /// shutdown (nothing to do on a store no other instance shares).
    pub async fn relay_events(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut feed = match self.store.event_feed().await {
            Ok(Some(feed)) => feed,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "no shared events: consoles see other instances' changes on their refresh");
                return;
            }
        };
        loop {
            tokio::select! {
                note = feed.recv() => {
                    let Some(note) = note else { return };
                    let Ok(note) = serde_json::from_str::<serde_json::Value>(&note) else {
                        continue;
                    };
                    let mine = note["origin"].as_str() == Some(&*self.instance);
                    if let (false, Some(event)) = (mine, note["event"].as_str()) {
                        let _ = self.events.send(event.to_string());
                    }
                }
                _ = stop.changed() => return,
            }
        }
    }

    /// An operator must act (credentials rejected…): /readyz, /v1/alerts, /metrics and the
    /// console's banner list it until [`AppState::clear_alert`]. Only the `storage` alert (a
    /// full database) also fails /readyz.
    pub fn raise_alert(&self, key: &str, message: String) {
        if self.health.alert(key, message) {
            self.announce("alert", None);
        }
    }

    /// Raises the `storage` alert when `e` says the database is full (a disk filling up is
    /// for an operator; an unreachable database already fails /readyz by itself).
    pub fn store_failed(&self, e: &crate::store::StoreError) {
        if e.is_full() {
            self.health
                .storage_full_at
                .store(now_ms(), Ordering::Relaxed);
            self.raise_alert(
                STORAGE_ALERT,
                "the database is full: free disk space (or raise storage.max_size and restart); \
                 until then webhooks get 503 and jobs wait"
                    .into(),
            );
        }
    }

    /// A webhook was stored: a full database has room again.
    pub fn store_wrote(&self) {
        self.clear_alert(STORAGE_ALERT);
    }

    /// A job's writes went through: the database has room again, once the alert has held
    /// for [`STORAGE_ALERT_HOLD_MS`] (so that a job freeing a row does not flap /readyz).
    pub fn job_wrote(&self) {
        let since = now_ms() - self.health.storage_full_at.load(Ordering::Relaxed);
        if since >= STORAGE_ALERT_HOLD_MS {
            self.clear_alert(STORAGE_ALERT);
        }
    }

    pub fn clear_alert(&self, key: &str) {
        if self.health.clear(key) {
            self.announce("alert", None);
        }
    }
}

/// Liveness of the background loops and problems an operator must see.
#[derive(Default)]
pub struct Health {
    worker_beat: AtomicI64,
    /// When a write last failed because the database was full.
    storage_full_at: AtomicI64,
    alerts: Mutex<BTreeMap<String, String>>,
}

impl Health {
    pub fn beat(&self) {
        self.worker_beat.store(now_ms(), Ordering::Relaxed);
    }

    pub fn last_beat(&self) -> Millis {
        self.worker_beat.load(Ordering::Relaxed)
    }

    /// Raises an alert for `shop` (e.g. its credentials were rejected); /readyz and the
    /// console show it. True if it is new or changed.
    fn alert(&self, shop: &str, message: String) -> bool {
        let before = self
            .alerts
            .lock()
            .expect("alerts lock")
            .insert(shop.to_string(), message.clone());
        let new = before.as_ref() != Some(&message);
        if new {
            // Once per alert, not once per request that runs into it.
            tracing::error!(shop, %message, "ALERT: operator action needed");
        }
        new
    }

    /// True if there was an alert to clear.
    fn clear(&self, shop: &str) -> bool {
        self.alerts
            .lock()
            .expect("alerts lock")
            .remove(shop)
            .is_some()
    }

    pub fn alerts(&self) -> BTreeMap<String, String> {
        self.alerts.lock().expect("alerts lock").clone()
    }
}

//! anfu (安抚, "to soothe"): reads Chinese buyer messages sent to online shops, decides
//! whether they are complaints and what about, answers at once and hands complaints to a
//! human agent with a pre-filled summary.

pub mod analysis;
pub mod analysis_pool;
pub mod app;
pub mod batch;
pub mod built_in;
pub mod check;
pub mod config;
pub mod demo;
pub mod domain;
pub mod eval;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod outbound;
pub mod panics;
pub mod platform;
pub mod reload;
pub mod reply;
pub mod signing;
pub mod sink;
pub mod standin;
pub mod store;
pub mod training;
pub mod worker;

use analysis::{Analyzer, DataErrors};
use app::{AppState, Health};
use config::{Config, StorageBackend};
use outbound::Outbound;
use reply::ReplyBook;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use store::{PgStore, SqliteStore, Store, StoreError};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

/// Why the service could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Data(#[from] DataErrors),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Config(String),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Loads the data folders (refusing bad data), opens and migrates the store that
/// `storage.url` names: `sqlite://PATH` or `postgres://USER@HOST/DB`.
pub async fn build(config: Config) -> Result<AppState, AppError> {
    // Regexes compiled from code (not data) are checked here, so one the build cannot
    // compile stops the start rather than panicking on the first card.
    sink::mask::check().map_err(AppError::Config)?;
    let analyzer = Analyzer::from_dir(&config.data.intents)?;
    let replies = ReplyBook::from_dir(&config.data.replies)?;
    let config_limits = config.limits.clone();
    let store = open_store(&config.storage).await?;
    let sinks: Vec<String> = config.sinks.iter().map(|s| s.name.clone()).collect();
    let renamed = store.adopt_sink_names(&sinks).await?;
    if renamed > 0 {
        tracing::info!(
            renamed,
            "notices and sink references named by position now name their sink (by today's [[sinks]])"
        );
    }
    Ok(AppState {
        webhooks_waiting: Default::default(),
        outbound: Outbound::new(config.http_client.timeout.0, config.worker.sends_per_shop),
        shops: Arc::new(reload::Swappable::new(reload::shops_of(&config.shops))),
        config: Arc::new(config),
        store,
        analysis: analysis_pool::AnalysisPool::new(analyzer, config_limits.max_analysis_chars),
        faults: Arc::new(panics::Faults::default()),
        replies: Arc::new(reload::Swappable::new(replies)),
        health: Arc::new(Health::default()),
        wake: Arc::new(Notify::new()),
        seen: moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(Duration::from_secs(3600))
            .build(),
        sinks_rate: Arc::new(sink::RateLimiter::new()),
        events: tokio::sync::broadcast::channel(256).0,
        metrics: Arc::new(metrics::Metrics::default()),
        webhook_limit: limits::Limiter::new(
            config_limits.webhooks_per_shop_per_minute,
            Duration::from_secs(60),
        ),
        reply_limit: limits::Limiter::new(
            config_limits.replies_per_buyer_per_hour,
            Duration::from_secs(3600),
        ),
        instance: format!("{}-{:016x}", std::process::id(), fastrand::u64(..)).into(),
    })
}

/// Opens and migrates the store that `storage.url` names.
pub async fn open_store(storage: &config::StorageConfig) -> Result<Arc<dyn Store>, AppError> {
    let url = &storage.url;
    Ok(match storage.backend().map_err(AppError::Config)? {
        StorageBackend::Sqlite => Arc::new(SqliteStore::open_capped(url, storage.max_size).await?),
        StorageBackend::Postgres => Arc::new(PgStore::open(url).await?),
    })
}

/// Runs the service on `listener` until `shutdown` resolves: HTTP, workers, pollers.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), AppError> {
    let state = build(config).await?;
    serve(state, listener, shutdown).await
}

/// Like [`run`] with an already built state (the demo prints from it).
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), AppError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for _ in 0..state.config.worker.concurrency {
        tasks.push(tokio::spawn(worker::run(state.clone(), stop_rx.clone())));
    }
    tasks.push(tokio::spawn(worker::retention::run(
        state.clone(),
        stop_rx.clone(),
    )));
    tasks.push(tokio::spawn(worker::sla::run(
        state.clone(),
        stop_rx.clone(),
    )));
    for shop in &state.config.shops {
        if let Some(every) = platform::of(shop.platform()).upkeep_every() {
            tasks.push(tokio::spawn(worker::upkeep::run(
                state.clone(),
                shop.clone(),
                every,
                stop_rx.clone(),
            )));
        }
        if shop.polled() {
            tasks.push(tokio::spawn(worker::poll::run(
                state.clone(),
                shop.clone(),
                stop_rx.clone(),
            )));
        }
    }
    tasks.push(tokio::spawn(reload_on_sighup(
        state.clone(),
        stop_rx.clone(),
    )));
    tasks.push(tokio::spawn(state.clone().relay_events(stop_rx.clone())));
    tracing::info!(addr = %listener.local_addr()?, shops = state.config.shops.len(), "anfu listening");
    let metrics_listen = state.config.server.metrics_listen.clone();
    if !metrics_listen.is_empty() {
        let metrics_listener = TcpListener::bind(&metrics_listen).await?;
        tracing::info!(addr = %metrics_listener.local_addr()?, "metrics listening");
        let app = http::metrics::router().with_state(state.clone());
        let mut stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(metrics_listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.changed().await;
                })
                .await;
        }));
    }
    let app = http::router(state);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    Ok(result?)
}

/// SIGHUP reloads the data (`reload.rs`) until shutdown.
async fn reload_on_sighup(state: AppState, mut stop: watch::Receiver<bool>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; reload with POST /v1/admin/reload");
        return;
    };
    loop {
        tokio::select! {
            _ = hangups.recv() => {
                tracing::info!("SIGHUP: reloading the data");
                let _ = reload::reload(&state).await;
            }
            _ = stop.changed() => break,
        }
    }
}

//! Console events shared by every instance on one PostgreSQL: an instance NOTIFYs what it
//! announces, and each LISTENs for the others', so a console connected to any instance sees
//! every change at once (the console's 15 s refresh stays as the fallback).

use super::StoreError;
use sqlx::postgres::{PgListener, PgPool};
use std::time::Duration;
use tokio::sync::mpsc;

const CHANNEL: &str = "anfu_events";

pub(super) async fn publish(pool: &PgPool, payload: &str) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(pool)
        .await?;
    Ok(())
}

/// The payloads every instance publishes, this one's included, for as long as the receiver
/// is held. A lost connection is re-established (PgListener reconnects and listens again);
/// events in that gap are covered by the consoles' refresh.
pub(super) async fn feed(pool: &PgPool) -> Result<mpsc::Receiver<String>, StoreError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(note) => {
                    if tx.send(note.payload().to_string()).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "event listener lost PostgreSQL; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Ok(rx)
}

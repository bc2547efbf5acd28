//! Credential upkeep for the platforms that need it (`Platform::upkeep`: Shopee renews its
//! rotating tokens before they expire), one loop per shop until shutdown. A renewal refused
//! for good raises the shop's operator alert; a passing failure is retried next round.

use crate::app::AppState;
use crate::config::ShopConfig;
use crate::outbound::SendError;
use std::time::Duration;
use tokio::sync::watch;

/// One round for a shop; a renewal refused for good raises the shop's alert (a later
/// delivered reply clears it).
pub async fn upkeep_once(state: &AppState, shop: &ShopConfig) -> Result<(), SendError> {
    let ctx = state.send_context();
    let done = crate::platform::of(shop.platform())
        .upkeep(&ctx, shop)
        .await;
    match &done {
        Ok(()) => {}
        Err(SendError::AuthExpired { reason }) => state.raise_alert(
            &shop.id,
            format!("the platform rejected the shop's credentials: {reason}"),
        ),
        Err(e) => {
            tracing::warn!(shop = %shop.id, error = %e, "credential upkeep failed; next round retries")
        }
    }
    done
}

pub async fn run(
    state: AppState,
    shop: ShopConfig,
    every: Duration,
    shutdown: watch::Receiver<bool>,
) {
    let place = format!("upkeep:{}", shop.id);
    // upkeep_once logs and alerts on its own failures.
    super::every(&state, &place, every, shutdown, || async {
        let _ = upkeep_once(&state, &shop).await;
    })
    .await;
}

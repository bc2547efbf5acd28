//! Shopee's access token upkeep: an access token lasts 4 hours, and each renewal spends the
//! refresh token, which rotates. The newest pair lives in the store, so a restart and every
//! other instance use it; the config's refresh token only buys the first pair. One instance
//! renews at a time (a lease in the store); the others wait and read its pair.

use super::api;
use crate::config::{ShopConfig, ShopeeKeys};
use crate::outbound::SendError;
use crate::platform::SendContext;
use crate::store::{now_ms, StoreError, TokenPair};
use std::time::Duration;

/// A token this close to its expiry is renewed first.
const MARGIN_MS: i64 = 10 * 60 * 1000;
/// How long a renewal may hold the lease (a holder that dies frees it after this).
const LEASE_MS: i64 = 30_000;
/// How long a send waits for another instance's renewal before it is retried later.
const WAIT: Duration = Duration::from_secs(10);
const WAIT_STEP: Duration = Duration::from_millis(100);

fn store_error(e: StoreError) -> SendError {
    SendError::Retryable {
        reason: format!("store: {e}"),
        retry_after: None,
    }
}

fn fresh(pair: &TokenPair, stale: Option<&str>) -> bool {
    pair.expires_at - now_ms() > MARGIN_MS && Some(pair.access_token.as_str()) != stale
}

/// How often the stored pair is looked at; one that expires within [`RENEW_AHEAD_MS`] is
/// renewed, so a shop that stays quiet for weeks keeps a live refresh token (30 days).
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5 * 60);
const RENEW_AHEAD_MS: i64 = 30 * 60 * 1000;

/// Renews the stored pair ahead of its expiry. A shop with no pair yet is left to its first
/// send, which buys one with the config's refresh token.
pub async fn keep_fresh(
    ctx: &SendContext<'_>,
    shop: &ShopConfig,
    keys: &ShopeeKeys,
) -> Result<(), SendError> {
    match ctx.store.token(&shop.id).await.map_err(store_error)? {
        Some(pair) if pair.expires_at - now_ms() <= RENEW_AHEAD_MS => {
            renewed(ctx, shop, keys, Some(&pair.access_token))
                .await
                .map(drop)
        }
        _ => Ok(()),
    }
}

/// The access token to call with: the stored one while it is good, else a renewed one.
pub async fn access_token(
    ctx: &SendContext<'_>,
    shop: &ShopConfig,
    keys: &ShopeeKeys,
) -> Result<String, SendError> {
    match ctx.store.token(&shop.id).await.map_err(store_error)? {
        Some(pair) if fresh(&pair, None) => Ok(pair.access_token),
        _ => renewed(ctx, shop, keys, None).await,
    }
}

/// A renewed access token. `stale` is one Shopee just refused: a stored token other than it
/// is another instance's renewal, used as is.
pub async fn renewed(
    ctx: &SendContext<'_>,
    shop: &ShopConfig,
    keys: &ShopeeKeys,
    stale: Option<&str>,
) -> Result<String, SendError> {
    let lease = format!("token:{}", shop.id);
    let holder = format!("{}-{:016x}", std::process::id(), fastrand::u64(..));
    let started = std::time::Instant::now();
    loop {
        let stored = ctx.store.token(&shop.id).await.map_err(store_error)?;
        if let Some(pair) = stored.as_ref().filter(|p| fresh(p, stale)) {
            return Ok(pair.access_token.clone());
        }
        let held = ctx
            .store
            .take_poll_lease(&lease, &holder, LEASE_MS)
            .await
            .map_err(store_error)?;
        if held {
            // Read again under the lease: a renewal may have finished since.
            let result = match ctx.store.token(&shop.id).await.map_err(store_error)? {
                Some(pair) if fresh(&pair, stale) => Ok(pair.access_token),
                stored => renew(ctx, shop, keys, stored).await,
            };
            if let Err(e) = ctx.store.release_poll_lease(&lease, &holder).await {
                tracing::warn!(shop = %shop.id, error = %e, "giving up the token lease failed; it runs out");
            }
            return result;
        }
        if started.elapsed() >= WAIT {
            return Err(SendError::Retryable {
                reason: "another instance is renewing the Shopee access token".into(),
                retry_after: Some(Duration::from_secs(5)),
            });
        }
        tokio::time::sleep(WAIT_STEP).await;
    }
}

/// Spends the newest refresh token (the config's when none is stored) and stores the pair.
async fn renew(
    ctx: &SendContext<'_>,
    shop: &ShopConfig,
    keys: &ShopeeKeys,
    stored: Option<TokenPair>,
) -> Result<String, SendError> {
    let spent = stored.map(|p| p.refresh_token);
    let refresh_token = spent.as_deref().unwrap_or(&keys.refresh_token);
    let pair = api::renew(ctx.client, shop, keys, refresh_token).await?;
    let stored = ctx
        .store
        .rotate_token(&shop.id, spent.as_deref(), &pair)
        .await
        .map_err(store_error)?;
    if stored {
        tracing::info!(shop = %shop.id, "Shopee access token renewed");
        return Ok(pair.access_token);
    }
    // Another instance rotated meanwhile (its lease ran out under it): its pair is the one.
    match ctx.store.token(&shop.id).await.map_err(store_error)? {
        Some(theirs) => Ok(theirs.access_token),
        None => Err(SendError::Retryable {
            reason: "the renewed Shopee token could not be stored".into(),
            retry_after: None,
        }),
    }
}

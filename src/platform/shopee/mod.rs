//! Shopee Open Platform v2 (platforms.md §7): chat pushes from Shopee Taiwan (Traditional
//! Chinese by default) and seller-chat sends. Pushes are signed over the callback URL as
//! registered; the shop's own messages come back as pushes and are kept as seller lines;
//! sends need an access token that rotates (kept in the store, `token.rs`) and, Shopee having
//! no idempotency key, a retry first looks the conversation up for the earlier attempt.

pub mod api;
pub mod push;
pub mod sign;
pub mod token;

use super::{Ack, Inbound, Parsed, Platform, Probe, SendContext, WebhookError};
use crate::config::{PlatformKind, ShopConfig, ShopeeKeys};
use crate::outbound::{Reply, SendError, Sent};
use api::CallError;
use async_trait::async_trait;

pub struct Shopee;

fn keys(shop: &ShopConfig) -> Result<&ShopeeKeys, SendError> {
    shop.shopee().ok_or_else(|| SendError::Permanent {
        reason: format!("`{}` is not a shopee shop", shop.id),
    })
}

/// How far back an earlier attempt is looked for when the reply's queueing time is unknown.
const LOOKBACK_S: i64 = 24 * 3600;

/// A message with this text sent to the buyer since the reply was queued, among those Shopee
/// reports for the conversation: the earlier attempt got through after all (its answer was
/// lost).
fn delivered_before(said: Vec<api::Said>, r: &Reply<'_>, to_id: u64) -> Option<String> {
    let since = r
        .queued_at
        .map_or(chrono::Utc::now().timestamp() - LOOKBACK_S, |ms| ms / 1000);
    let to = to_id.to_string();
    said.into_iter()
        .find(|m| {
            m.text.as_deref() == Some(r.text)
                && m.to_id.as_deref() == Some(to.as_str())
                && m.created >= since
        })
        .map(|m| m.message_id)
}

/// One try with `token`: look for an earlier attempt on a retry, else send.
async fn attempt(
    ctx: &SendContext<'_>,
    shop: &ShopConfig,
    keys: &ShopeeKeys,
    token: &str,
    r: &Reply<'_>,
    to_id: u64,
) -> Result<Option<String>, CallError> {
    if r.attempt > 1 {
        let said = api::get_messages(ctx.client, shop, keys, token, r.conversation_id).await?;
        if let Some(id) = delivered_before(said, r, to_id) {
            tracing::info!(shop = %shop.id, conversation = r.conversation_id, "an earlier attempt was delivered: not sent again");
            return Ok(Some(id));
        }
    }
    api::send_message(ctx.client, shop, keys, token, to_id, r.text).await
}

#[async_trait]
impl Platform for Shopee {
    fn kind(&self) -> PlatformKind {
        PlatformKind::Shopee
    }

    fn verify(&self, shop: &ShopConfig, request: &Inbound<'_>) -> Result<(), WebhookError> {
        let keys = shop
            .shopee()
            .ok_or_else(|| WebhookError::new(404, "unknown-shop", "not a shopee shop"))?;
        let header = request.header("authorization").ok_or_else(|| {
            WebhookError::unauthorized("missing-signature", "no Authorization header")
        })?;
        if sign::push_is_genuine(&keys.partner_key, &keys.callback_url, request.body, header) {
            Ok(())
        } else {
            Err(WebhookError::unauthorized(
                "invalid-signature",
                "the Authorization does not match (signed over callback_url + \"|\" + body)",
            ))
        }
    }

    fn parse(&self, shop: &ShopConfig, body: &[u8]) -> Result<Parsed, WebhookError> {
        let keys = shop
            .shopee()
            .ok_or_else(|| WebhookError::new(404, "unknown-shop", "not a shopee shop"))?;
        Ok(
            match push::parse(body, keys.shop_id, keys.seller_user_id.as_deref())? {
                push::Push::Ignored => Vec::new(),
                push::Push::Message(message) => vec![message],
            },
        )
    }

    fn echoes_sends(&self) -> bool {
        true
    }

    fn ack(&self) -> Ack {
        Ack::Empty
    }

    fn upkeep_every(&self) -> Option<std::time::Duration> {
        Some(token::UPKEEP_EVERY)
    }

    async fn upkeep(&self, ctx: &SendContext<'_>, shop: &ShopConfig) -> Result<(), SendError> {
        token::keep_fresh(ctx, shop, keys(shop)?).await
    }

    /// Reads the shop's name with the access token (renewed first when it is due, and the
    /// rotated pair stored, as a send would).
    async fn probe(&self, ctx: &SendContext<'_>, shop: &ShopConfig) -> Probe {
        let checked = async {
            let keys = keys(shop)?;
            let token = token::access_token(ctx, shop, keys).await?;
            let mut read = api::shop_name(ctx.client, shop, keys, &token).await;
            if let Err(CallError::TokenExpired(_)) = read {
                // As a send does: renew once (a revoked authorisation fails here).
                let token = token::renewed(ctx, shop, keys, Some(&token)).await?;
                read = api::shop_name(ctx.client, shop, keys, &token).await;
            }
            match read {
                Ok(name) => Ok(name),
                Err(CallError::TokenExpired(reason)) => Err(SendError::AuthExpired { reason }),
                Err(CallError::Failed(e)) => Err(e),
            }
        };
        Probe::of(checked.await, |name| {
            format!("the partner key and the token open the shop `{name}`")
        })
    }

    async fn send(
        &self,
        ctx: &SendContext<'_>,
        shop: &ShopConfig,
        r: &Reply<'_>,
    ) -> Result<Sent, SendError> {
        let keys = keys(shop)?;
        let to_id = r
            .buyer_id
            .and_then(|id| id.parse::<u64>().ok())
            .ok_or_else(|| SendError::Permanent {
                reason: "no Shopee buyer id (from_id) to send to".into(),
            })?;
        let token = token::access_token(ctx, shop, keys).await?;
        let sent = match attempt(ctx, shop, keys, &token, r, to_id).await {
            // Expired early (revoked, or a clock apart): renew once and try again.
            Err(CallError::TokenExpired(_)) => {
                let token = token::renewed(ctx, shop, keys, Some(&token)).await?;
                attempt(ctx, shop, keys, &token, r, to_id).await
            }
            other => other,
        };
        match sent {
            Ok(message_id) => Ok(Sent { message_id }),
            Err(CallError::TokenExpired(reason)) => Err(SendError::AuthExpired {
                reason: format!("{reason} (even after renewing the access token)"),
            }),
            Err(CallError::Failed(e)) => Err(e),
        }
    }
}

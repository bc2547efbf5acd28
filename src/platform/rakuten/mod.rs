//! Rakuten-style: ESA authorization, inquiry objects (polled, or pushed by a relay), replies
//! within Rakuten's limits.

pub mod poll;

use super::{id_string, Ack, Inbound, Parsed, Platform, Probe, SendContext, WebhookError};
use crate::config::{PlatformKind, RakutenKeys, RakutenMode, ShopConfig};
use crate::domain::{BuyerMessage, MessageKind};
use crate::outbound::{send, Reply, SendError, Sent};
use crate::signing::{esa_authorization, same};
use async_trait::async_trait;
use chrono::{FixedOffset, Utc};
use serde::Deserialize;

pub const MAX_REPLY_CHARS: usize = 2000;
pub const MAX_LINE_CHARS: usize = 300;

pub fn japan() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("valid offset")
}

pub fn authorization(keys: &RakutenKeys) -> String {
    esa_authorization(&keys.service_secret, &keys.license_key)
}

/// The shop's Rakuten keys (a shop of another platform is not one).
fn keys(shop: &ShopConfig) -> Result<&RakutenKeys, WebhookError> {
    shop.rakuten().ok_or_else(|| {
        WebhookError::new(404, "E404", format!("`{}` is not a rakuten shop", shop.id))
    })
}

pub fn verify(shop: &ShopConfig, header: Option<&str>) -> Result<(), WebhookError> {
    let keys = keys(shop)?;
    let header = header
        .ok_or_else(|| WebhookError::unauthorized("E401", "missing Authorization: ESA … header"))?;
    if !same(header.trim(), &authorization(keys)) {
        return Err(WebhookError::unauthorized(
            "E401",
            "Authorization does not match this shop's serviceSecret:licenseKey",
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inquiry {
    pub inquiry_number: String,
    pub shop_id: Option<serde_json::Value>,
    pub user_name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub category: Option<String>,
    pub order_number: Option<String>,
    pub message: Option<String>,
    pub reg_date: Option<String>,
    #[serde(default)]
    pub replies: Vec<InquiryReply>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InquiryReply {
    pub id: serde_json::Value,
    pub message: Option<String>,
    pub reg_date: Option<String>,
    pub reply_from: Option<String>,
}

/// The lines of an inquiry: the buyer's opening message (reply id 0), each follow-up from the
/// user, and the merchant's replies as seller lines (transcript only: never answered).
pub fn messages(inquiry: &Inquiry) -> Parsed {
    let base = |key: String, text: &str, at: &Option<String>, kind| BuyerMessage {
        message_key: key,
        conversation_id: inquiry.inquiry_number.clone(),
        buyer_id: None,
        buyer_nick: inquiry.user_name.clone(),
        text: text.to_string(),
        order_id: inquiry.order_number.clone(),
        sent_at: at.clone(),
        kind,
    };
    let mut out = Vec::new();
    if let Some(text) = inquiry.message.as_deref().filter(|t| !t.trim().is_empty()) {
        out.push(base(
            format!("{}#0", inquiry.inquiry_number),
            text,
            &inquiry.reg_date,
            MessageKind::BuyerText,
        ));
    }
    for reply in &inquiry.replies {
        let kind = match reply.reply_from.as_deref() {
            Some("user") => MessageKind::BuyerText,
            Some("merchant") => MessageKind::Seller,
            _ => continue,
        };
        let text = reply.message.as_deref().filter(|t| !t.trim().is_empty());
        if let (Some(id), Some(text)) = (id_string(&reply.id), text) {
            out.push(base(
                format!("{}#{id}", inquiry.inquiry_number),
                text,
                &reply.reg_date,
                kind,
            ));
        }
    }
    out
}

pub fn parse(body: &[u8]) -> Result<Parsed, WebhookError> {
    let inquiry: Inquiry = serde_json::from_slice(body)
        .map_err(|e| WebhookError::bad_request("E400", format!("body: {e}")))?;
    if inquiry.inquiry_number.trim().is_empty() {
        return Err(WebhookError::bad_request("E400", "inquiryNumber is empty"));
    }
    Ok(messages(&inquiry))
}

/// Rakuten's shop id is the inquiry number's first part (`338276-20241105-1t`).
pub fn shop_id_of(inquiry_number: &str) -> &str {
    inquiry_number.split('-').next().unwrap_or(inquiry_number)
}

/// A poll page (platforms.md §2 Poll mode).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InquiryPage {
    #[serde(default)]
    pub total_page_count: u32,
    #[serde(default)]
    pub list: Vec<Inquiry>,
}

/// `YYYY-MM-DDTHH:MM:SS`, Japan time without offset.
pub fn poll_time(at: chrono::DateTime<Utc>) -> String {
    at.with_timezone(&japan())
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// Fits a reply to Rakuten's rules: at most 2000 characters, lines of at most 300, and no
/// links except Rakuten's own https domains.
pub fn fit_reply(text: &str) -> String {
    let mut lines = Vec::new();
    for line in text.lines() {
        let line = strip_foreign_links(line);
        let chars: Vec<char> = line.chars().collect();
        if chars.is_empty() {
            lines.push(String::new());
        }
        for chunk in chars.chunks(MAX_LINE_CHARS) {
            lines.push(chunk.iter().collect::<String>());
        }
    }
    let joined = lines.join("\n");
    let fitted: String = joined.chars().take(MAX_REPLY_CHARS).collect();
    fitted.trim_end().to_string()
}

fn strip_foreign_links(line: &str) -> String {
    line.split(' ')
        .filter(|word| {
            let lower = word.to_ascii_lowercase();
            let link =
                lower.contains("http://") || lower.contains("https://") || lower.contains("www.");
            !link || is_rakuten_link(&lower)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_rakuten_link(word: &str) -> bool {
    let Some(rest) = word.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    host == "rakuten.co.jp"
        || host.ends_with(".rakuten.co.jp")
        || host == "rakuten.com"
        || host.ends_with(".rakuten.com")
}

/// Rakuten-style inquiries (polled, or pushed by a relay) and the inquiry reply call.
pub struct Rakuten;

#[async_trait]
impl Platform for Rakuten {
    fn kind(&self) -> PlatformKind {
        PlatformKind::Rakuten
    }

    fn accepts_push(&self, shop: &ShopConfig) -> Result<(), WebhookError> {
        if keys(shop)?.mode == RakutenMode::Push {
            return Ok(());
        }
        Err(WebhookError::new(
            404,
            "E404",
            format!(
                "shop `{}` is in poll mode; set mode = \"push\" to accept pushes",
                shop.id
            ),
        ))
    }

    fn verify(&self, shop: &ShopConfig, request: &Inbound<'_>) -> Result<(), WebhookError> {
        verify(shop, request.header("authorization"))
    }

    fn parse(&self, _shop: &ShopConfig, body: &[u8]) -> Result<Parsed, WebhookError> {
        parse(body)
    }

    fn ack(&self) -> Ack {
        Ack::Json(serde_json::json!({"resultCode": "N000"}))
    }

    /// anfu's own replies come back as the inquiry's merchant replies.
    fn echoes_sends(&self) -> bool {
        true
    }

    fn refusal(&self, e: &WebhookError) -> serde_json::Value {
        let code = if e.code.starts_with('E') {
            e.code.to_string()
        } else {
            format!("E{}", e.status)
        };
        serde_json::json!({"resultCode": code, "message": e.message})
    }

    /// Reads the last hour's unanswered inquiries (one page): what poll mode does.
    async fn probe(&self, ctx: &SendContext<'_>, shop: &ShopConfig) -> Probe {
        let Some(keys) = shop.rakuten() else {
            return Probe::Fails(format!("`{}` is not a rakuten shop", shop.id));
        };
        let now = Utc::now();
        let from = now - chrono::Duration::hours(1);
        match poll::fetch_page(ctx.client, shop, keys, from, now, 1).await {
            Ok(page) => Probe::Works(format!(
                "the licenseKey is accepted ({} unanswered inquiries in the last hour on page 1)",
                page.list.len()
            )),
            Err(poll::FetchError::Unauthorized) => Probe::Fails(
                "HTTP 401: the serviceSecret:licenseKey pair is refused (licenseKeys last 90 days)"
                    .into(),
            ),
            Err(poll::FetchError::Http(e)) => Probe::Fails(e),
        }
    }

    async fn send(
        &self,
        ctx: &SendContext<'_>,
        shop: &ShopConfig,
        r: &Reply<'_>,
    ) -> Result<Sent, SendError> {
        let keys = shop.rakuten().ok_or_else(|| SendError::Permanent {
            reason: format!("`{}` is not a rakuten shop", shop.id),
        })?;
        let url = shop.api_url("/es/1.0/inquirymng-api/inquiry/reply");
        let body = serde_json::json!({
            "inquiryNumber": r.conversation_id,
            "shopId": shop_id_of(r.conversation_id),
            "message": fit_reply(r.text),
        });
        let answer = send(
            ctx.client
                .post(url)
                .header("Authorization", authorization(keys))
                .header("Content-Type", "application/json; charset=utf-8")
                .body(body.to_string()),
        )
        .await?;
        let reason = answer.reason();
        // Rakuten's own verdicts differ from the common ones: 409 is "already posted" (what
        // we wanted), 403 is final, and 401 means the 90-day licenseKey ran out.
        match answer.status {
            200..=299 | 409 => Ok(Sent::default()),
            401 => Err(SendError::AuthExpired {
                reason: format!("{reason} (licenseKey expired? Rakuten keys last 90 days)"),
            }),
            429 | 500..=599 => Err(SendError::Retryable {
                reason,
                retry_after: answer.retry_after,
            }),
            _ => Err(SendError::Permanent { reason }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_fit_rakuten_limits() {
        let long_line = "亲".repeat(650);
        let fitted = fit_reply(&long_line);
        assert!(fitted.lines().all(|l| l.chars().count() <= MAX_LINE_CHARS));
        assert_eq!(fitted.chars().filter(|c| *c == '亲').count(), 650);
        let huge = format!("{}\n", "好".repeat(299)).repeat(10);
        assert!(fit_reply(&huge).chars().count() <= MAX_REPLY_CHARS);
    }

    #[test]
    fn only_rakuten_https_links_survive() {
        let cases = [
            (
                "foreign link",
                "请看 http://evil.example/x 谢谢",
                "请看 谢谢",
            ),
            (
                "rakuten link",
                "请看 https://item.rakuten.co.jp/shop/1 谢谢",
                "请看 https://item.rakuten.co.jp/shop/1 谢谢",
            ),
            ("lookalike", "https://rakuten.co.jp.evil.example/", ""),
            ("plain http rakuten", "http://www.rakuten.co.jp/", ""),
        ];
        for (name, input, want) in cases {
            assert_eq!(fit_reply(input), want, "{name}");
        }
    }

    #[test]
    fn follow_ups_from_the_user_are_buyer_text_merchant_replies_are_seller_lines() {
        let inquiry: Inquiry = serde_json::from_str(
            r#"{"inquiryNumber":"338276-20241105-1t","shopId":338276,"userName":"陳小姐",
                "message":"杯子破了","orderNumber":null,
                "replies":[{"id":1,"message":"抱歉","replyFrom":"merchant"},
                           {"id":2,"message":"請補寄","replyFrom":"user"}]}"#,
        )
        .unwrap();
        let lines: Vec<(String, MessageKind)> = messages(&inquiry)
            .into_iter()
            .map(|m| (m.message_key, m.kind))
            .collect();
        let line = |key: &str, kind| (key.to_string(), kind);
        assert_eq!(
            lines,
            [
                line("338276-20241105-1t#0", MessageKind::BuyerText),
                line("338276-20241105-1t#1", MessageKind::Seller),
                line("338276-20241105-1t#2", MessageKind::BuyerText),
            ]
        );
        assert_eq!(shop_id_of("338276-20241105-1t"), "338276");
    }
}

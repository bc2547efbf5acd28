//! `[[shops]]`: what every shop has (id, name, API base, language, hours, follow-up), and its
//! platform's own keys, typed per platform. The file is read as written ([`RawShop`]: unknown
//! keys refused), then each shop is typed; a missing key names the shop, the key and the
//! platform.

use super::{HumanDuration, PlatformKind, RakutenMode, TopSignMethod};
use crate::domain::{BusinessHours, Lang, UtcOffset};
use serde::Deserialize;
use std::time::Duration;

/// A `[[shops]]` table as written: every platform's keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawShop {
    id: String,
    name: Option<String>,
    platform: PlatformKind,
    api_base: String,
    app_key: Option<String>,
    secret: Option<String>,
    session: Option<String>,
    #[serde(default)]
    sign_method: TopSignMethod,
    service_secret: Option<String>,
    license_key: Option<String>,
    #[serde(default)]
    mode: RakutenMode,
    poll_interval: Option<HumanDuration>,
    lang: Option<Lang>,
    hours: Option<BusinessHours>,
    #[serde(default)]
    utc_offset: UtcOffset,
    followup_after: Option<HumanDuration>,
    #[serde(default)]
    invite_review: bool,
    partner_id: Option<Id>,
    partner_key: Option<String>,
    shop_id: Option<Id>,
    callback_url: Option<String>,
    refresh_token: Option<String>,
    seller_user_id: Option<Id>,
}

/// A platform's numeric id, written as a number or a string (64-bit ids survive either).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Id {
    Number(u64),
    Text(String),
}

impl Id {
    fn digits(self) -> Option<String> {
        let s = match self {
            Id::Number(n) => n.to_string(),
            Id::Text(s) => s.trim().to_string(),
        };
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
    }
}

/// One shop wired to anfu.
#[derive(Debug, Clone)]
pub struct ShopConfig {
    pub id: String,
    /// What buyers and agents read ("小鱼家旗舰店"); the id when unset.
    pub name: Option<String>,
    pub api_base: String,
    /// The reply language when a message does not tell.
    pub lang: Lang,
    /// When people answer, e.g. "mon-fri 09:00-18:00; sat 10:00-16:00"; none: always.
    pub hours: Option<BusinessHours>,
    /// The shop's clock for `hours`, e.g. "+08:00" (the default).
    pub utc_offset: UtcOffset,
    /// The follow-up (回访): this long after a ticket is resolved, the buyer is asked once
    /// whether the problem is solved (in business hours). Unset: no follow-up.
    pub followup_after: Option<HumanDuration>,
    /// A buyer who answers the follow-up satisfied is thanked and invited to review. Never an
    /// unhappy one, and never with anything offered in exchange.
    pub invite_review: bool,
    /// The platform's own keys; the platform is the variant.
    pub keys: PlatformKeys,
}

/// Each platform's keys, all present once the config is valid.
#[derive(Debug, Clone)]
pub enum PlatformKeys {
    Taobao(TaobaoKeys),
    Rakuten(RakutenKeys),
    Generic(GenericKeys),
    Shopee(ShopeeKeys),
}

#[derive(Debug, Clone)]
pub struct TaobaoKeys {
    pub app_key: String,
    /// The app secret: signs anfu's calls and checks the pushes.
    pub secret: String,
    /// The seller's access token.
    pub session: String,
    pub sign_method: TopSignMethod,
}

#[derive(Debug, Clone)]
pub struct RakutenKeys {
    pub service_secret: String,
    pub license_key: String,
    pub mode: RakutenMode,
    pub poll_interval: Duration,
}

#[derive(Debug, Clone)]
pub struct GenericKeys {
    /// The shop's `whsec_…` secret, decoded: signs both ways.
    pub key: Vec<u8>,
}

/// Shopee Open Platform v2 (platforms.md §7).
#[derive(Debug, Clone)]
pub struct ShopeeKeys {
    pub partner_id: u64,
    /// Signs anfu's calls and checks the pushes.
    pub partner_key: String,
    /// Shopee's numeric id of the shop.
    pub shop_id: u64,
    /// The push URL exactly as registered in Shopee's console (part of the push signature;
    /// behind a proxy it differs from the URL anfu sees).
    pub callback_url: String,
    /// The first refresh token only: the rotated ones live in the store.
    pub refresh_token: String,
    /// The shop's own chat account: its messages are seller lines.
    pub seller_user_id: Option<String>,
}

impl ShopConfig {
    pub fn platform(&self) -> PlatformKind {
        match self.keys {
            PlatformKeys::Taobao(_) => PlatformKind::Taobao,
            PlatformKeys::Rakuten(_) => PlatformKind::Rakuten,
            PlatformKeys::Generic(_) => PlatformKind::Generic,
            PlatformKeys::Shopee(_) => PlatformKind::Shopee,
        }
    }

    pub fn shopee(&self) -> Option<&ShopeeKeys> {
        match &self.keys {
            PlatformKeys::Shopee(k) => Some(k),
            _ => None,
        }
    }

    pub fn taobao(&self) -> Option<&TaobaoKeys> {
        match &self.keys {
            PlatformKeys::Taobao(k) => Some(k),
            _ => None,
        }
    }

    pub fn rakuten(&self) -> Option<&RakutenKeys> {
        match &self.keys {
            PlatformKeys::Rakuten(k) => Some(k),
            _ => None,
        }
    }

    pub fn generic(&self) -> Option<&GenericKeys> {
        match &self.keys {
            PlatformKeys::Generic(k) => Some(k),
            _ => None,
        }
    }

    /// A Rakuten shop that anfu polls (rather than one pushed to by a relay).
    pub fn polled(&self) -> bool {
        self.rakuten().is_some_and(|k| k.mode == RakutenMode::Poll)
    }

    /// `path` on the shop's platform API (`api_base`, with or without a trailing slash).
    pub fn api_url(&self, path: &str) -> String {
        format!("{}{path}", self.api_base.trim_end_matches('/'))
    }

    /// The shop as buyers know it: its `name`, else its id.
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.id)
    }

    /// The SLA due time of a ticket opened at `now`: the clock only runs in business hours.
    pub fn sla_due(&self, now: i64, sla: Duration) -> i64 {
        let sla = sla.as_millis() as i64;
        match &self.hours {
            Some(hours) => hours.add_working(now, sla, self.utc_offset),
            None => now + sla,
        }
    }
}

impl RawShop {
    pub(super) fn id(&self) -> &str {
        &self.id
    }

    /// The typed shop, or its problems (`at` names it: `shops[0] (id `x`)`).
    pub(super) fn typed(self, at: &str, problems: &mut Vec<String>) -> Option<ShopConfig> {
        let platform = self.platform.as_str();
        let mut missing = |key: &str, value: Option<String>| {
            let value = value.filter(|v| !v.trim().is_empty());
            if value.is_none() {
                problems.push(format!(
                    "{at}.{key} is missing (required for platform {platform})"
                ));
            }
            value
        };
        let keys = match self.platform {
            PlatformKind::Taobao => {
                let app_key = missing("app_key", self.app_key);
                let secret = missing("secret", self.secret);
                let session = missing("session", self.session);
                PlatformKeys::Taobao(TaobaoKeys {
                    app_key: app_key?,
                    secret: secret?,
                    session: session?,
                    sign_method: self.sign_method,
                })
            }
            PlatformKind::Rakuten => {
                let service_secret = missing("service_secret", self.service_secret);
                let license_key = missing("license_key", self.license_key);
                PlatformKeys::Rakuten(RakutenKeys {
                    service_secret: service_secret?,
                    license_key: license_key?,
                    mode: self.mode,
                    poll_interval: self.poll_interval.map_or(Duration::from_secs(60), |d| d.0),
                })
            }
            PlatformKind::Generic => {
                let secret = missing("secret", self.secret)?;
                let Some(key) = crate::signing::decode_whsec(&secret) else {
                    problems.push(format!(
                        "{at}.secret must be whsec_ followed by base64 (Standard Webhooks)"
                    ));
                    return None;
                };
                PlatformKeys::Generic(GenericKeys { key })
            }
            PlatformKind::Shopee => {
                let partner_key = missing("partner_key", self.partner_key);
                let callback_url = missing("callback_url", self.callback_url);
                let refresh_token = missing("refresh_token", self.refresh_token);
                let mut id = |key: &str, value: Option<Id>| {
                    let digits = value.and_then(Id::digits);
                    if digits.is_none() {
                        problems.push(format!(
                            "{at}.{key} is missing or not a number (required for platform {platform})"
                        ));
                    }
                    digits.and_then(|d| d.parse::<u64>().ok())
                };
                let partner_id = id("partner_id", self.partner_id);
                let shop_id = id("shop_id", self.shop_id);
                let seller_user_id = match self.seller_user_id.map(Id::digits) {
                    Some(None) => {
                        problems.push(format!("{at}.seller_user_id must be a number"));
                        None
                    }
                    other => other.flatten(),
                };
                PlatformKeys::Shopee(ShopeeKeys {
                    partner_id: partner_id?,
                    partner_key: partner_key?,
                    shop_id: shop_id?,
                    callback_url: callback_url?,
                    refresh_token: refresh_token?,
                    seller_user_id,
                })
            }
        };
        // Shopee's chat is Shopee Taiwan's: Traditional unless the shop says otherwise.
        let default_lang = match self.platform {
            PlatformKind::Shopee => Lang::Hant,
            _ => Lang::Hans,
        };
        Some(ShopConfig {
            id: self.id,
            name: self.name,
            api_base: self.api_base,
            lang: self.lang.unwrap_or(default_lang),
            hours: self.hours,
            utc_offset: self.utc_offset,
            followup_after: self.followup_after,
            invite_review: self.invite_review,
            keys,
        })
    }
}

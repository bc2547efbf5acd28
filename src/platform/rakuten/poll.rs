//! Poll mode's call: one page of a shop's inquiries without a merchant reply, in a time
//! window (platforms.md §2, Poll mode). The loop, the cursor and the lease are the worker's.

use super::{authorization, poll_time, InquiryPage};
use crate::config::{RakutenKeys, ShopConfig};
use crate::outbound::retry_after;
use chrono::{DateTime, Utc};

/// Why a page could not be read.
#[derive(Debug)]
pub enum FetchError {
    /// The licenseKey was refused: it expires every 90 days.
    Unauthorized,
    Http(String),
}

/// Page `page` of the inquiries registered between `from` and `to`.
pub async fn fetch_page(
    client: &reqwest::Client,
    shop: &ShopConfig,
    keys: &RakutenKeys,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    page: u32,
) -> Result<InquiryPage, FetchError> {
    let url = shop.api_url("/es/1.0/inquirymng-api/inquiries");
    let response = client
        .get(url)
        .header("Authorization", authorization(keys))
        .query(&[
            ("fromDate", poll_time(from)),
            ("toDate", poll_time(to)),
            ("noMerchantReply", "true".into()),
            ("limit", "100".into()),
            ("page", page.to_string()),
        ])
        .send()
        .await
        .map_err(|e| FetchError::Http(e.to_string()))?;
    let status = response.status().as_u16();
    if status == 401 {
        return Err(FetchError::Unauthorized);
    }
    if !(200..300).contains(&status) {
        let wait = retry_after(&response);
        return Err(FetchError::Http(format!(
            "HTTP {status} (retry after {wait:?})"
        )));
    }
    response
        .json()
        .await
        .map_err(|e| FetchError::Http(format!("unreadable page: {e}")))
}

//! Platform tokens that rotate (Shopee's access and refresh tokens), written once for both
//! backends. A refresh token works once: the pair it bought must replace it everywhere, and
//! two instances must never both spend it. The store keeps the newest pair; a rotation is a
//! compare-and-swap on the refresh token spent, so of two racing rotations one wins and the
//! other reads the winner's pair (`take_poll_lease` keeps racing rare: one refresher at a
//! time).

use super::queue::{Arg, Sql, Statement};
use super::reports::Cell;
use super::{now_ms, Millis, StoreError};

/// An access token, the refresh token that renews it, and when the access token expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: Millis,
}

const READ: &str =
    "SELECT access_token, refresh_token, expires_at FROM platform_tokens WHERE shop = $1";

/// The first pair of a shop (bought with the config's refresh token): only if none is stored.
const FIRST: &str = "INSERT INTO platform_tokens (shop, access_token, refresh_token, expires_at,
       updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shop) DO NOTHING";

/// A later pair: only if the refresh token spent (`$6`) is still the stored one.
const ROTATE: &str = "UPDATE platform_tokens SET access_token = $2, refresh_token = $3,
       expires_at = $4, updated_at = $5
     WHERE shop = $1 AND refresh_token = $6";

/// The shop's stored pair, if any.
pub(super) async fn read(sql: &dyn Sql, shop: &str) -> Result<Option<TokenPair>, StoreError> {
    let rows = sql.cells(READ, &[Arg::Text(shop)]).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let text = |c: &Cell| match c {
        Cell::Text(t) => Ok(t.clone()),
        other => Err(StoreError::Corrupt(format!("platform_tokens: {other:?}"))),
    };
    let expires_at = match &row[2] {
        Cell::Int(v) => *v,
        other => return Err(StoreError::Corrupt(format!("platform_tokens: {other:?}"))),
    };
    Ok(Some(TokenPair {
        access_token: text(&row[0])?,
        refresh_token: text(&row[1])?,
        expires_at,
    }))
}

/// Stores `new`, bought by spending `spent` (None: the config's first refresh token, when
/// nothing is stored yet). False when another instance rotated first: read its pair.
pub(super) async fn rotate(
    sql: &dyn Sql,
    shop: &str,
    spent: Option<&str>,
    new: &TokenPair,
) -> Result<bool, StoreError> {
    let now = now_ms();
    let mut args = vec![
        Arg::Text(shop),
        Arg::Text(&new.access_token),
        Arg::Text(&new.refresh_token),
        Arg::Int(new.expires_at),
        Arg::Int(now),
    ];
    let sql_text = match spent {
        None => FIRST,
        Some(spent) => {
            args.push(Arg::Text(spent));
            ROTATE
        }
    };
    let changed = sql
        .write(&[Statement {
            sql: sql_text,
            args,
        }])
        .await?;
    Ok(changed == [1])
}

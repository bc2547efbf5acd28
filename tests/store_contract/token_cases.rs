//! Rotating platform tokens (Shopee): the newest pair is kept, and of two instances spending
//! the same refresh token one rotation wins.

#![allow(clippy::unwrap_used)]

use crate::db::Db;
use anfu::store::TokenPair;

fn pair(n: u32) -> TokenPair {
    TokenPair {
        access_token: format!("access-{n}"),
        refresh_token: format!("refresh-{n}"),
        expires_at: 1_700_000_000_000 + i64::from(n),
    }
}

pub async fn token_pairs_rotate_once_and_the_newest_is_kept(db: &Db) {
    let (s, other) = (&db.store, db.another().await);
    assert_eq!(s.token("tw1").await.unwrap(), None);
    // The first pair, bought with the config's refresh token, is stored once.
    assert!(s.rotate_token("tw1", None, &pair(1)).await.unwrap());
    assert!(!other.rotate_token("tw1", None, &pair(9)).await.unwrap());
    assert_eq!(other.token("tw1").await.unwrap(), Some(pair(1)));

    // Spending a stale refresh token changes nothing; the current one rotates.
    assert!(!s
        .rotate_token("tw1", Some("refresh-0"), &pair(9))
        .await
        .unwrap());
    assert!(s
        .rotate_token("tw1", Some("refresh-1"), &pair(2))
        .await
        .unwrap());
    assert_eq!(other.token("tw1").await.unwrap(), Some(pair(2)));

    // Two instances spending the same token: one wins, the other reads the winner's pair.
    let (three, four) = (pair(3), pair(4));
    let (a, b) = tokio::join!(
        s.rotate_token("tw1", Some("refresh-2"), &three),
        other.rotate_token("tw1", Some("refresh-2"), &four)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a ^ b, "exactly one rotation wins: {a} {b}");
    let kept = s.token("tw1").await.unwrap().unwrap();
    assert_eq!(kept, if a { pair(3) } else { pair(4) });
    // Other shops are untouched.
    assert_eq!(s.token("tw2").await.unwrap(), None);
}

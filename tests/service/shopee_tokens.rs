//! Shopee's rotating tokens against the stand-in: an expired access token renewed with the
//! rotated refresh token (and the newest one after a restart), a pair renewed ahead of its
//! expiry, a refused renewal raising the shop's alert, and two instances on PostgreSQL
//! renewing one at a time without losing a rotation.

use crate::pg::TestDb;
use crate::shopee::*;
use crate::support::*;

#[tokio::test]
async fn an_expired_token_is_renewed_with_the_rotated_refresh_token_even_after_a_restart() {
    let app = start(None).await;
    buyer_says(&app, "sp", 301, "快遞一個星期了還沒到，怎麼回事").await;
    assert_eq!(wait_sends(&app, 301, 1).await.len(), 1);
    let issued = app.standin.shopee_current_refresh_token().expect("a pair");

    app.standin.shopee_expire_access_token();
    buyer_says(&app, "sp", 302, "收到的盤子破了，可以補寄嗎？").await;
    assert_eq!(
        wait_sends(&app, 302, 1).await.len(),
        1,
        "one reply after the renewal"
    );
    assert_eq!(
        app.standin.shopee_refreshes(),
        [FIRST_REFRESH, issued.as_str()]
    );

    // Restarted with the config's long-spent token: the store's newest pair is used.
    let newest = app.standin.shopee_current_refresh_token().expect("a pair");
    let app = app.restart_with(options(None)).await;
    app.standin.shopee_expire_access_token();
    buyer_says(&app, "sp", 303, "顏色跟圖片差太多了，我要退貨").await;
    assert_eq!(wait_sends(&app, 303, 1).await.len(), 1);
    let presented = app.standin.shopee_refreshes();
    assert_eq!(presented.last().map(String::as_str), Some(newest.as_str()));
    assert_eq!(app.standin.shopee_refused_refreshes(), 0, "{presented:?}");
}

#[tokio::test]
async fn two_instances_on_postgres_renew_one_at_a_time_and_lose_no_rotation() {
    let db = TestDb::create().await;
    let first = start(Some(db.url.clone())).await;
    let second = first
        .another_instance_with(&options(Some(db.url.clone())))
        .await;
    // Both start without a pair, then the pair expires twice while both are busy.
    for round in 0..3u64 {
        if round > 0 {
            first.standin.shopee_expire_access_token();
        }
        let buyers: Vec<u64> = (0..4).map(|i| 500 + round * 10 + i).collect();
        let pushes = buyers.iter().enumerate().map(|(i, &buyer)| {
            let app = if i % 2 == 0 { &first } else { &second };
            buyer_says(app, "sp", buyer, "東西壞了，請盡快處理退款")
        });
        futures_util::future::join_all(pushes).await;
        for &buyer in &buyers {
            assert_eq!(wait_sends(&first, buyer, 1).await.len(), 1, "buyer {buyer}");
        }
    }
    assert_eq!(first.standin.shopee_max_concurrent_refreshes(), 1);
    assert_eq!(first.standin.shopee_refused_refreshes(), 0);
    let stored = first
        .state
        .store
        .token("sp")
        .await
        .expect("store")
        .expect("a pair");
    assert_eq!(
        Some(stored.refresh_token),
        first.standin.shopee_current_refresh_token(),
        "the store holds the newest refresh token"
    );
}

/// Makes the stored pair of `shop` expire within a minute (as four hours later).
async fn near_expiry(app: &TestApp, shop: &str) {
    let store = &app.state.store;
    let mut pair = store.token(shop).await.expect("store").expect("a pair");
    let spent = pair.refresh_token.clone();
    pair.expires_at = anfu::store::now_ms() + 60_000;
    assert!(store
        .rotate_token(shop, Some(&spent), &pair)
        .await
        .expect("store"));
}

#[tokio::test]
async fn a_pair_near_expiry_is_renewed_ahead_and_a_refused_renewal_raises_an_alert() {
    let app = start(None).await;
    let shop = app.state.config.shop("sp").expect("shop sp").clone();
    buyer_says(&app, "sp", 601, "東西壞了，請盡快處理退款").await;
    assert_eq!(wait_sends(&app, 601, 1).await.len(), 1);
    // A fresh pair is left alone.
    anfu::worker::upkeep::upkeep_once(&app.state, &shop)
        .await
        .expect("upkeep");
    assert_eq!(app.standin.shopee_refreshes().len(), 1);

    near_expiry(&app, "sp").await;
    anfu::worker::upkeep::upkeep_once(&app.state, &shop)
        .await
        .expect("upkeep");
    assert_eq!(app.standin.shopee_refreshes().len(), 2, "renewed ahead");
    let stored = app
        .state
        .store
        .token("sp")
        .await
        .expect("store")
        .expect("a pair");
    assert!(stored.expires_at > anfu::store::now_ms() + 3_600_000);
    assert_eq!(
        Some(stored.refresh_token),
        app.standin.shopee_current_refresh_token()
    );

    // The seller withdrew the authorisation: the operator is told, by shop.
    app.standin.shopee_revoke();
    near_expiry(&app, "sp").await;
    let refused = anfu::worker::upkeep::upkeep_once(&app.state, &shop).await;
    assert!(
        matches!(refused, Err(anfu::outbound::SendError::AuthExpired { .. })),
        "{refused:?}"
    );
    let (_, alerts) = app.agent(reqwest::Method::GET, "/v1/alerts", None).await;
    let alert = alerts["alerts"]["sp"].as_str().unwrap_or_default();
    assert!(alert.contains("authorise the shop again"), "{alerts}");
}

/// `anfu check --probe` for a Shopee shop: it reads the shop with the token a send would use
/// (bought with the config's refresh token and stored, then reused), and names a withdrawn
/// authorisation as failing.
#[tokio::test]
async fn the_probe_reads_the_shop_with_the_stored_token_and_names_a_withdrawn_one() {
    use anfu::platform::Probe;
    let app = start(None).await;
    let shop = app.state.config.shop("sp").expect("shop sp").clone();
    let shopee = anfu::platform::of(shop.platform());
    let first = shopee.probe(&app.state.send_context(), &shop).await;
    assert!(
        matches!(&first, Probe::Works(s) if s.contains("stand-in shop")),
        "{first:?}"
    );
    let again = shopee.probe(&app.state.send_context(), &shop).await;
    assert!(matches!(again, Probe::Works(_)), "{again:?}");
    assert_eq!(
        app.standin.shopee_refreshes(),
        [FIRST_REFRESH],
        "one pair bought, then reused"
    );

    app.standin.shopee_revoke();
    let refused = shopee.probe(&app.state.send_context(), &shop).await;
    assert!(
        matches!(&refused, Probe::Fails(why) if why.contains("credentials rejected")),
        "{refused:?}"
    );
}

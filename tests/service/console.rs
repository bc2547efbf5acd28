//! The agent console: login trades the token for a session cookie; the page and the API
//! accept the cookie; server-sent events announce new tickets.

use crate::support::*;
use anfu::config::TopSignMethod::HmacSha256;
use std::time::Duration;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn login(app: &TestApp, token: &str) -> reqwest::Response {
    no_redirects()
        .post(format!("{}/console/login", app.base))
        .form(&[("token", token)])
        .send()
        .await
        .expect("login request")
}

#[tokio::test]
async fn login_cookie_opens_the_console_and_the_api() {
    let app = spawn_app().await;
    let client = no_redirects();
    let anonymous = client
        .get(format!("{}/console", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 303);
    assert_eq!(anonymous.headers()["location"], "/console/login");

    let wrong = login(&app, "guess").await;
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    assert!(wrong.text().await.unwrap().contains("wrong token"));

    let right = login(&app, TOKEN).await;
    assert_eq!(right.status().as_u16(), 303);
    let cookie = right.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();

    let page = client
        .get(format!("{}/console", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("anfu 客服工作台") && html.contains("EventSource"));

    let api = client
        .get(format!("{}/v1/handoffs?status=open", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status().as_u16(), 200);
    let forged = client
        .get(format!("{}/v1/handoffs", app.base))
        .header("cookie", "anfu_session=0000")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);
}

#[tokio::test]
async fn server_sent_events_announce_a_new_ticket() {
    let app = spawn_app().await;
    let unauthorised = app
        .client
        .get(format!("{}/v1/events", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status().as_u16(), 401);

    let mut events = app
        .client
        .get(format!("{}/v1/events", app.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status().as_u16(), 200);
    assert!(events.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));

    let body = envelope("2990000000001", "cnv-live", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    let mut seen = String::new();
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = events.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("data:") && seen.contains("handoff") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(got, Ok(true), "{seen}");
}

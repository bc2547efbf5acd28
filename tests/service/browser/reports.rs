//! The report page's chart against the agent API's counts, then the console in English.

use super::*;

/// Opens the reports, comes back to the ticket in `row` and switches to English.
pub(super) async fn reports_and_english(b: &Browser, app: &TestApp, row: &str) {
    let c = &b.client;
    // The report page: the daily chart's bars add up to the tickets the API counts.
    let (_, report) = app.agent(reqwest::Method::GET, "/v1/reports", None).await;
    assert_eq!(report["tickets"], 3, "{report}");
    if let Err(e) = c.goto(&format!("{}/console/reports", app.base)).await {
        b.fail("opening the reports", e).await;
    }
    b.wait(
        "the daily chart",
        Locator::Css("#daily-chart rect[data-count]"),
    )
    .await;
    let charted = b
        .run("return [...document.querySelectorAll('#daily-chart rect')].reduce((a, r) => a + +r.dataset.count, 0)")
        .await;
    assert_eq!(charted, json!(3), "the chart shows the seeded tickets");
    let damaged = b
        .run("return [...document.querySelectorAll('#daily-chart rect[data-issue=damaged]')].reduce((a, r) => a + +r.dataset.count, 0)")
        .await;
    assert_eq!(damaged, json!(1));
    let tile = b
        .text("the tickets tile", Locator::Css("#tile-tickets b"))
        .await;
    assert_eq!(tile, "3");
    b.wait("the shop bars", Locator::Css("#shops rect[data-count]"))
        .await;
    screenshot(b, "reports.png").await;
    if let Err(e) = c.goto(&format!("{}/console", app.base)).await {
        b.fail("back to the console", e).await;
    }
    b.wait("the status filter", Locator::Css("#f-status"))
        .await
        .select_by_value("resolved")
        .await
        .expect("the resolved filter");
    b.fill_and_click("opening the ticket again", &[], row).await;
    b.wait("the card again", Locator::Css("#card dl")).await;

    // English.
    b.fill_and_click("switching to English", &[], "#lang").await;
    b.wait(
        "the English title",
        Locator::XPath("//header/h1[.='anfu agent console']"),
    )
    .await;
    b.wait(
        "the English order label",
        Locator::XPath("//section[@id='card']//dt[.='Order']"),
    )
    .await;
    assert_eq!(
        b.text("the language button", Locator::Css("#lang")).await,
        "中文"
    );
}

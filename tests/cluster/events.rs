//! Live consoles across instances: a console connected to one instance sees a ticket another
//! instance opened at once (PostgreSQL LISTEN/NOTIFY), not on its 15 s refresh.

use super::*;

/// Reads the console's event stream until an event naming `what` arrives: how long after
/// `started` it came.
async fn first_event(
    response: &mut reqwest::Response,
    what: &str,
    started: Instant,
    within: Duration,
) -> Option<Duration> {
    let mut seen = String::new();
    while started.elapsed() < within {
        let left = within.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if seen.contains(what) {
                    return Some(started.elapsed());
                }
            }
            _ => return None,
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_on_one_instance_sees_a_ticket_opened_by_another_at_once() {
    let Pair {
        _db, _dir, a, b, ..
    } = pair().await;
    let client = reqwest::Client::new();
    let mut consoles = Vec::new();
    for instance in [&a, &b] {
        let console = client
            .get(format!("{}/v1/events", instance.base()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("a console connects");
        assert!(console.status().is_success());
        consoles.push(console);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Either instance's worker may process the message; the other instance's console only
    // hears of the ticket through the database, so both must hear of it within 1 s.
    let body = envelope("9300000001", "events-1", COMPLAINTS[4]);
    let pushed = Instant::now();
    assert!(push(&client, &a.base(), &body).await, "a acknowledges");
    for (name, console) in ["a", "b"].iter().zip(consoles.iter_mut()) {
        let took = first_event(console, "\"handoff\"", pushed, Duration::from_secs(5)).await;
        let took = took.unwrap_or_else(|| panic!("{name}'s console never heard of the ticket"));
        assert!(
            took < Duration::from_secs(1),
            "{name}: within 1 s of the push: {took:?}"
        );
    }
}

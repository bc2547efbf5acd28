//! Chatwoot: a private note with attributes and priority, and a conversation opened for a
//! marketplace ticket.

use super::*;

#[tokio::test]
async fn chatwoot_note_attributes_priority_then_open() {
    let fake = Fake::start(200, "{}").await;
    let mut s = sink("chatwoot", format!("{}/", fake.base));
    s.token = Some("cw-token".into());
    s.account_id = Some("7".into());
    let mut c = card();
    c.platform = "chatwoot".into();
    c.conversation_id = "1234".into();
    deliver(&client(), &s, &event(c.clone())).await.unwrap();

    let seen = fake.seen();
    let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
    let base = "/api/v1/accounts/7/conversations/1234";
    assert_eq!(
        paths,
        [
            format!("{base}/messages"),
            format!("{base}/custom_attributes"),
            format!("{base}/toggle_priority"),
            format!("{base}/toggle_status"),
        ]
    );
    for r in &seen {
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.header("api_access_token"), "cw-token");
    }
    let note = seen[0].json();
    assert_eq!(note["message_type"], "outgoing");
    assert_eq!(note["private"], true);
    assert_masked(note["content"].as_str().unwrap());
    let attrs = &seen[1].json()["custom_attributes"];
    assert_eq!(attrs["order_id"], ORDER);
    assert_eq!(attrs["issue_type"], "damaged");
    assert_eq!(attrs["mood"], "angry");
    assert_eq!(attrs["priority"], "P1");
    assert_eq!(seen[2].json(), json!({"priority": "urgent"}));
    assert_eq!(seen[3].json(), json!({"status": "open"}));

    // A failure stops the sequence and is classified.
    fake.then(200, vec![], "{}");
    fake.then(503, vec![], "down");
    let e = deliver(&client(), &s, &event(c.clone())).await.unwrap_err();
    assert!(matches!(e, SendError::Retryable { .. }), "{e:?}");
    assert_eq!(fake.seen().len(), 6);
    fake.then(401, vec![], "unauthorized");
    let e = deliver(&client(), &s, &event(c.clone())).await.unwrap_err();
    assert!(matches!(e, SendError::AuthExpired { .. }), "{e:?}");
    fake.then(404, vec![], "no conversation");
    let e = deliver(&client(), &s, &event(c)).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent { .. }), "{e:?}");

    // Cards from other platforms have no Chatwoot conversation: refused, nothing sent.
    let before = fake.seen().len();
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent { .. }), "{e:?}");
    assert!(!anfu::sink::routes(&s, &card()));
    assert_eq!(fake.seen().len(), before);
}

#[tokio::test]
async fn chatwoot_opens_a_conversation_for_a_marketplace_ticket() {
    let fake = Fake::start(200, "{}").await;
    let mut s = sink("chatwoot", fake.base.clone());
    s.token = Some("cw-token".into());
    s.account_id = Some("7".into());
    s.inbox_id = Some("3".into());
    let c = card();
    assert!(
        anfu::sink::routes(&s, &c),
        "an inbox makes marketplace cards welcome"
    );
    let identifier = "anfu:xiaoyu:b-9";

    // A new buyer: searched, created as a contact of the inbox, a conversation opened.
    fake.then(200, vec![], r#"{"payload": []}"#);
    fake.then(
        200,
        vec![],
        r#"{"payload": {"contact": {"id": 55, "contact_inboxes": []}}}"#,
    );
    fake.then(200, vec![], r#"{"id": 901, "inbox_id": 3}"#);
    let mut e = event(c.clone());
    let made = anfu::sink::prepare(&client(), &s, &e).await.unwrap();
    assert_eq!(made.as_deref(), Some("901"));
    let seen = fake.seen();
    let account = "/api/v1/accounts/7";
    assert_eq!(seen[0].method, Method::GET);
    assert_eq!(seen[0].path, format!("{account}/contacts/search"));
    assert_eq!(seen[0].query.as_deref(), Some("q=anfu%3Axiaoyu%3Ab-9"));
    assert_eq!(seen[1].path, format!("{account}/contacts"));
    assert_eq!(
        seen[1].json(),
        json!({"inbox_id": 3, "name": "小王", "identifier": identifier, "source_id": identifier})
    );
    assert_eq!(seen[2].path, format!("{account}/conversations"));
    let opened = seen[2].json();
    assert_eq!(opened["source_id"], identifier);
    assert_eq!(opened["inbox_id"], 3);
    assert_eq!(opened["contact_id"], 55);
    assert_eq!(opened["status"], "open");
    assert_eq!(opened["custom_attributes"]["order_id"], ORDER);
    for r in &seen {
        assert_eq!(r.header("api_access_token"), "cw-token");
    }

    // Then the usual four calls land on the new conversation.
    e.external_ref = made;
    deliver(&client(), &s, &e).await.unwrap();
    let paths: Vec<String> = fake.seen()[3..].iter().map(|r| r.path.clone()).collect();
    let on = format!("{account}/conversations/901");
    assert_eq!(
        paths,
        [
            format!("{on}/messages"),
            format!("{on}/custom_attributes"),
            format!("{on}/toggle_priority"),
            format!("{on}/toggle_status"),
        ]
    );
    // Once opened, nothing more to prepare.
    assert_eq!(anfu::sink::prepare(&client(), &s, &e).await.unwrap(), None);

    // A returning buyer: the contact is found; joined to the inbox only if not yet there.
    let before = fake.seen().len();
    fake.then(
        200,
        vec![],
        &json!({"payload": [{"id": 55, "identifier": identifier, "contact_inboxes": [{"source_id": identifier}]}]}).to_string(),
    );
    fake.then(200, vec![], r#"{"id": 902}"#);
    let made = anfu::sink::prepare(&client(), &s, &event(c.clone()))
        .await
        .unwrap();
    assert_eq!(made.as_deref(), Some("902"));
    let paths: Vec<String> = fake.seen()[before..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            format!("{account}/contacts/search"),
            format!("{account}/conversations")
        ]
    );

    let before = fake.seen().len();
    fake.then(
        200,
        vec![],
        &json!({"payload": [{"id": 56, "identifier": identifier, "contact_inboxes": []}]})
            .to_string(),
    );
    fake.then(200, vec![], r#"{"source_id": "anfu:xiaoyu:b-9"}"#);
    fake.then(200, vec![], r#"{"id": 903}"#);
    anfu::sink::prepare(&client(), &s, &event(c.clone()))
        .await
        .unwrap();
    let seen = fake.seen();
    assert_eq!(
        seen[before + 1].path,
        format!("{account}/contacts/56/contact_inboxes")
    );
    assert_eq!(
        seen[before + 1].json(),
        json!({"inbox_id": 3, "source_id": identifier})
    );

    // Failures are classified like every sink's.
    fake.then(401, vec![], "unauthorized");
    let e = anfu::sink::prepare(&client(), &s, &event(c.clone()))
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::AuthExpired { .. }), "{e:?}");
    fake.then(200, vec![], r#"{"payload": []}"#);
    fake.then(200, vec![], "<html>proxy error</html>");
    let e = anfu::sink::prepare(&client(), &s, &event(c))
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Permanent { .. }), "{e:?}");
}

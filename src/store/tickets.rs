//! What agents do to a ticket, decided once for both backends: claim it (a conflict when
//! someone else holds it), resolve it (which frees the conversation for the bot), and add a
//! note. The SQL runs unchanged on SQLite and PostgreSQL (`queue::Sql`).

use super::queue::{Arg, Statement};
use super::{now_ms, Handoff, Store, StoreError};

const CLAIM: &str = "UPDATE handoffs SET status = 'claimed', claimed_by = $2, updated_at = $3
     WHERE id = $1 AND status = 'open'";

/// Resolving also closes the conversation's ticket, so the bot may answer again.
const RESOLVE: &str = "UPDATE handoffs SET status = 'resolved', updated_at = $2, resolved_at = $2
     WHERE id = $1";
const FREE_CONVERSATION: &str = "UPDATE conversations SET open_handoff = NULL
     WHERE open_handoff = $1";

const NOTE: &str = "INSERT INTO handoff_notes (handoff_id, author, text, created_at)
     VALUES ($1, $2, $3, $4)";

fn one<'a>(sql: &'static str, args: Vec<Arg<'a>>) -> [Statement<'a>; 1] {
    [Statement { sql, args }]
}

/// Claims an open ticket for `agent`; claiming one's own claim again is fine.
pub(super) async fn claim<S: Store + ?Sized>(
    store: &S,
    id: i64,
    agent: &str,
) -> Result<Handoff, StoreError> {
    let args = vec![Arg::Int(id), Arg::Text(agent), Arg::Int(now_ms())];
    let changed = store.sql().write(&one(CLAIM, args)).await?;
    let handoff = store.handoff(id).await?;
    // As stored: PostgreSQL keeps no NUL in a text (`postgres::t`).
    let mine = handoff
        .claimed_by
        .as_deref()
        .is_some_and(|by| by == agent || by == agent.replace('\0', "\u{FFFD}"));
    if changed == [0] && !mine {
        return Err(StoreError::Conflict(format!(
            "handoff {id} is {} (claimed by {})",
            handoff.status,
            handoff.claimed_by.as_deref().unwrap_or("nobody")
        )));
    }
    Ok(handoff)
}

/// Resolves the ticket and frees its conversation, in one transaction.
pub(super) async fn resolve<S: Store + ?Sized>(store: &S, id: i64) -> Result<Handoff, StoreError> {
    let statements = [
        Statement {
            sql: RESOLVE,
            args: vec![Arg::Int(id), Arg::Int(now_ms())],
        },
        Statement {
            sql: FREE_CONVERSATION,
            args: vec![Arg::Int(id)],
        },
    ];
    if store.sql().write_guarded(&statements).await?.is_none() {
        return Err(StoreError::NotFound(format!("handoff {id}")));
    }
    store.handoff(id).await
}

/// Adds an agent's note to an existing ticket.
pub(super) async fn add_note<S: Store + ?Sized>(
    store: &S,
    id: i64,
    author: &str,
    text: &str,
) -> Result<Handoff, StoreError> {
    store.handoff(id).await?;
    let args = vec![
        Arg::Int(id),
        Arg::Text(author),
        Arg::Text(text),
        Arg::Int(now_ms()),
    ];
    store.sql().write(&one(NOTE, args)).await?;
    store.handoff(id).await
}

//! What both backends decide alike, written once: how a claimed job is settled (fenced by
//! its claim, merged with its conversation's waiting job), who may poll a shop (a lease), and
//! the one-time renaming of sinks named by position. The SQL here runs unchanged on SQLite
//! and PostgreSQL (numbered `$n` parameters, nothing dialect-specific); a backend only
//! provides [`Sql`]: statements in one transaction, and one plain read.

use super::rows::is_unique_violation;
use super::{now_ms, Millis, StoreError};
use async_trait::async_trait;

/// A claim on a job: the job, and which of its claims this is (each claim counts one up).
/// An update made under a claim that is no longer the job's current one changes nothing:
/// the fence against a worker whose lease ran out while another worker took the job over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobLease {
    pub id: i64,
    pub claim: i64,
}

/// What settling a claimed job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Applied,
    /// A processing job going back to the queue found its conversation queued again: it is
    /// done, and the waiting job (which takes the same messages) runs at the earlier of the
    /// two times, with the larger attempt count and this job's error.
    Merged,
    /// The claim was no longer the job's current one: nothing changed (logged).
    LeaseLost,
}

/// How a claimed job ends, or goes back.
#[derive(Debug, Clone, Copy)]
pub(super) enum Settle<'a> {
    Done,
    /// Again at `run_at`; the attempt counts.
    Retry {
        run_at: Millis,
        error: &'a str,
    },
    /// A dead letter.
    Bury {
        error: &'a str,
    },
    /// Again at `run_at`, the attempt not counted (a rate limit, an outage).
    Defer {
        run_at: Millis,
    },
}

/// A value bound to a statement's `$n`.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Int(i64),
    Text(&'a str),
    OptText(Option<&'a str>),
}

pub struct Statement<'a> {
    pub sql: &'static str,
    pub args: Vec<Arg<'a>>,
}

/// What a backend runs for this module. (Public in a private module: nameable by the store
/// only.)
#[async_trait]
pub trait Sql: Send + Sync {
    /// The statements in order, in one transaction: how many rows each changed. An error
    /// rolls them all back; so does a `guarded` run whose first statement changes no row
    /// (`None`).
    async fn transaction(
        &self,
        statements: &[Statement<'_>],
        guarded: bool,
    ) -> Result<Option<Vec<u64>>, sqlx::Error>;
    /// The statements in order, in one transaction: how many rows each changed.
    async fn write(&self, statements: &[Statement<'_>]) -> Result<Vec<u64>, sqlx::Error> {
        Ok(self
            .transaction(statements, false)
            .await?
            .unwrap_or_default())
    }
    /// As [`Sql::write`], but only when the first statement (the guard) changes a row: else
    /// nothing is written and the answer is `None`. A decision taken once ("mark it
    /// escalated, and if this call did, queue the notices") under concurrency.
    async fn write_guarded(
        &self,
        statements: &[Statement<'_>],
    ) -> Result<Option<Vec<u64>>, sqlx::Error> {
        self.transaction(statements, true).await
    }
    /// The rows of a report query (`reports.rs`), each cell an integer, a text or NULL.
    async fn cells(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<Vec<super::reports::Cell>>, StoreError>;
    /// How this backend's SQL reads a card's JSON and takes a median.
    fn dialect(&self) -> &'static super::reports::Dialect;
    /// The handoffs of `HANDOFF_SELECT` + `filter` (a WHERE / ORDER BY / LIMIT tail over
    /// `h.`), without notes or agent lines.
    async fn handoffs_where(
        &self,
        filter: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Vec<super::Handoff>, StoreError>;
}

/// Claims the `$3` oldest due jobs (`$1` the lease's end, `$2` now), passing over the
/// processing of a conversation another worker is running; `lock` is what a backend adds to
/// lock the chosen rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so two instances never take
/// the same job). Both backends claim with this statement.
pub(super) fn claim_sql(lock: &str) -> String {
    format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, claims = claims + 1, lease_until = $1, updated_at = $2
         WHERE id IN (
           SELECT j.id FROM jobs j
           WHERE j.status = 'pending' AND j.run_at <= $2
             AND NOT (j.kind = 'process' AND EXISTS (
               SELECT 1 FROM jobs r WHERE r.shop = j.shop AND r.conversation_id = j.conversation_id
                 AND r.kind = 'process' AND r.status = 'running' AND r.id <> j.id))
           ORDER BY j.run_at, j.id LIMIT $3
           {lock})
         RETURNING {}",
        super::rows::JOB_COLUMNS
    )
}

/// The job is done or dead: `$3` the status, `$4` the error (if any).
const FINISH: &str = "UPDATE jobs SET status = $3, last_error = COALESCE($4, last_error),
       lease_until = NULL, updated_at = $5
     WHERE id = $1 AND claims = $2 AND status = 'running'";

/// The job (`$1`) is still under claim `$2`: first, so that on PostgreSQL its row stays locked
/// (a take-back of expired jobs skips it) while it is settled.
const OWN: &str = "UPDATE jobs SET updated_at = $3
     WHERE id = $1 AND claims = $2 AND status = 'running'";

/// A processing job going back (`$1`, claim `$2`) moves its conversation's waiting job up to
/// `$3` if that is earlier, and passes on its attempts (less `$4`, 1 when not counted) and
/// error `$5`.
const MERGE: &str = "UPDATE jobs SET run_at = CASE WHEN run_at < $3 THEN run_at ELSE $3 END,
       attempts = (SELECT CASE WHEN jobs.attempts > m.attempts - $4 THEN jobs.attempts
                          ELSE m.attempts - $4 END FROM jobs m WHERE m.id = $1),
       last_error = COALESCE($5, last_error), updated_at = $6
     WHERE kind = 'process' AND status = 'pending'
       AND EXISTS (SELECT 1 FROM jobs m WHERE m.id = $1 AND m.claims = $2
         AND m.status = 'running' AND m.kind = 'process'
         AND m.shop = jobs.shop AND m.conversation_id = jobs.conversation_id)";

/// ... and is then done, when its conversation has a waiting job.
const MERGED: &str = "UPDATE jobs SET status = 'done', last_error = COALESCE($3, last_error),
       lease_until = NULL, updated_at = $4
     WHERE id = $1 AND claims = $2 AND status = 'running' AND kind = 'process'
       AND EXISTS (SELECT 1 FROM jobs p WHERE p.kind = 'process' AND p.status = 'pending'
         AND p.shop = jobs.shop AND p.conversation_id = jobs.conversation_id)";

/// Otherwise it waits again itself.
const BACK: &str = "UPDATE jobs SET status = 'pending', run_at = $3,
       attempts = CASE WHEN attempts > $4 THEN attempts - $4 ELSE 0 END,
       last_error = COALESCE($5, last_error), lease_until = NULL, updated_at = $6
     WHERE id = $1 AND claims = $2 AND status = 'running'";

/// Settles a job under its claim; a stale claim changes nothing and is logged.
pub(super) async fn settle(
    sql: &dyn Sql,
    job: JobLease,
    change: Settle<'_>,
) -> Result<Settled, StoreError> {
    use Arg::*;
    let now = now_ms();
    let (id, claim) = (Int(job.id), Int(job.claim));
    let settled = match change {
        Settle::Done | Settle::Bury { .. } => {
            let (status, error) = match change {
                Settle::Bury { error } => ("dead", Some(error)),
                _ => ("done", None),
            };
            let args = vec![id, claim, Text(status), OptText(error), Int(now)];
            let changed = sql.write(&[Statement { sql: FINISH, args }]).await?;
            if changed == [1] {
                Settled::Applied
            } else {
                Settled::LeaseLost
            }
        }
        Settle::Retry { run_at, error } => back(sql, job, run_at, 0, Some(error), now).await?,
        Settle::Defer { run_at } => back(sql, job, run_at, 1, None, now).await?,
    };
    match settled {
        Settled::Applied => {}
        Settled::Merged => {
            tracing::info!(
                job = job.id,
                "processing job merged into its conversation's waiting one"
            )
        }
        Settled::LeaseLost => tracing::warn!(
            job = job.id,
            claim = job.claim,
            ?change,
            "update dropped: this claim on the job is over (its lease ran out and another \
             worker took it, or it was settled already)"
        ),
    }
    Ok(settled)
}

/// Retry or defer, while the claim holds: merge with a waiting processing job of the
/// conversation, else wait again.
/// On PostgreSQL a message may queue the conversation between the statements: waiting again
/// then collides with the new job on the one-pending index, everything rolls back, and the
/// next round merges.
async fn back(
    sql: &dyn Sql,
    job: JobLease,
    run_at: Millis,
    uncount: i64,
    error: Option<&str>,
    now: Millis,
) -> Result<Settled, StoreError> {
    use Arg::*;
    let (id, claim, error) = (Int(job.id), Int(job.claim), OptText(error));
    let statements = [
        Statement {
            sql: OWN,
            args: vec![id, claim, Int(now)],
        },
        Statement {
            sql: MERGE,
            args: vec![id, claim, Int(run_at), Int(uncount), error, Int(now)],
        },
        Statement {
            sql: MERGED,
            args: vec![id, claim, error, Int(now)],
        },
        Statement {
            sql: BACK,
            args: vec![id, claim, Int(run_at), Int(uncount), error, Int(now)],
        },
    ];
    let mut collisions = 0;
    loop {
        match sql.write(&statements).await {
            Ok(changed) => {
                return Ok(match changed[..] {
                    [1, _, 1, _] => Settled::Merged,
                    [1, _, _, 1] => Settled::Applied,
                    _ => Settled::LeaseLost,
                })
            }
            Err(e) if is_unique_violation(&e) && collisions < 3 => collisions += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Takes the shop's poll lease for `ttl_ms`, or renews it for its holder: true if `holder`
/// holds it now. One statement, atomic on both backends: two instances asking at once get
/// one yes.
const TAKE_POLL_LEASE: &str = "INSERT INTO poll_leases (shop, holder, expires_at)
     VALUES ($1, $2, $3)
     ON CONFLICT (shop) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     WHERE poll_leases.holder = excluded.holder OR poll_leases.expires_at <= $4";

pub(super) async fn take_poll_lease(
    sql: &dyn Sql,
    shop: &str,
    holder: &str,
    ttl_ms: Millis,
) -> Result<bool, StoreError> {
    use Arg::*;
    let now = now_ms();
    let args = vec![
        Text(shop),
        Text(holder),
        Int(now.saturating_add(ttl_ms)),
        Int(now),
    ];
    let changed = sql
        .write(&[Statement {
            sql: TAKE_POLL_LEASE,
            args,
        }])
        .await?;
    Ok(changed == [1])
}

/// Ends `holder`'s lease at once (a clean stop), so another instance need not wait it out.
pub(super) async fn release_poll_lease(
    sql: &dyn Sql,
    shop: &str,
    holder: &str,
) -> Result<(), StoreError> {
    let statement = Statement {
        sql: "UPDATE poll_leases SET expires_at = 0 WHERE shop = $1 AND holder = $2",
        args: vec![Arg::Text(shop), Arg::Text(holder)],
    };
    sql.write(&[statement]).await?;
    Ok(())
}

/// Queued notices written before sinks had names (`"sink":0`, with only digits; serde_json
/// writes the field first, without spaces, so a named one always contains this).
const UNNAMED_NOTICES: &str = "SELECT id, payload FROM jobs
     WHERE kind = 'notify' AND status IN ('pending', 'running')
       AND payload NOT LIKE '%\"sink\":\"%'";

const NAME_NOTICE: &str = "UPDATE jobs SET payload = $1 WHERE id = $2 AND payload = $3";

/// A reference kept under a position (the migration made it text: '0', '1', …).
const NAME_REF: &str = "UPDATE sink_refs SET sink = $1 WHERE sink = $2
       AND NOT EXISTS (SELECT 1 FROM sink_refs n
         WHERE n.handoff_id = sink_refs.handoff_id AND n.sink = $1)";

/// Renames what names a sink by its position in `[[sinks]]` (queued notices, sink
/// references from before names) to the name of the sink at that position in `names`, the
/// configuration of this start. Once: names are never all digits, so nothing renamed is
/// renamed again; positions past the end stay (their notices are dead-lettered when they
/// run: no such sink). How many rows changed.
pub(super) async fn adopt_sink_names(sql: &dyn Sql, names: &[String]) -> Result<usize, StoreError> {
    let mut renamed = Vec::new();
    for row in sql.cells(UNNAMED_NOTICES, &[]).await? {
        let (super::reports::Cell::Int(id), super::reports::Cell::Text(payload)) =
            (&row[0], &row[1])
        else {
            continue;
        };
        let (id, payload) = (*id, payload.clone());
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&payload) else {
            continue;
        };
        let position = value.get("sink").and_then(serde_json::Value::as_u64);
        let Some(name) = position.and_then(|p| names.get(usize::try_from(p).ok()?)) else {
            continue;
        };
        value["sink"] = name.as_str().into();
        renamed.push((id, value.to_string(), payload));
    }
    let positions: Vec<String> = (0..names.len()).map(|i| i.to_string()).collect();
    let mut statements = Vec::new();
    for (id, new, old) in &renamed {
        statements.push(Statement {
            sql: NAME_NOTICE,
            args: vec![Arg::Text(new), Arg::Int(*id), Arg::Text(old)],
        });
    }
    for (name, position) in names.iter().zip(&positions) {
        statements.push(Statement {
            sql: NAME_REF,
            args: vec![Arg::Text(name), Arg::Text(position)],
        });
    }
    let changed = sql.write(&statements).await?;
    Ok(changed.iter().sum::<u64>() as usize)
}

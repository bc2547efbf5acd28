//! The job loop: claims stored jobs (process a conversation, deliver a reply) and runs them.
//! `step` runs exactly one job, so tests can drive the worker deterministically.

mod budget;
mod deliver;
mod first_answer;
pub mod ladder;
mod lines;
mod notify;
pub mod poll;
mod process;
pub mod retention;
pub mod retry;
pub mod sla;
mod ticket_update;
pub mod upkeep;

use crate::app::AppState;
use crate::store::{now_ms, Job, JobKind, Settled, StoreError};
use std::time::Duration;
use tokio::sync::watch;

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Idle,
    Ran { job: i64, kind: JobKind },
}

/// Webhooks waiting for the store at once from which the workers claim one job at a time.
const FLOOD: usize = 8;

/// How long a job put back during a database outage waits before it is tried again.
const OUTAGE_PAUSE_MS: i64 = 1_000;

/// Claims one due job and runs it to completion, retry or dead letter (see [`run_claimed`]).
pub async fn step(state: &AppState) -> Result<Step, StoreError> {
    claim_and_run(state, 1).await
}

/// Claims up to `worker.claim_batch` due jobs in one query and runs them side by side: one
/// claim (one round trip, one write) for several jobs, and their sends overlap. The jobs are
/// of different conversations, or of replies and notices, which need no order among them.
async fn step_batch(state: &AppState) -> Result<Step, StoreError> {
    let w = &state.config.worker;
    // Acks come first: platforms retry (and at length stop pushing to) an endpoint that
    // answers slowly, while a reply may wait a moment. So while a flood of webhooks waits
    // for the store, each worker takes one job at a time and leaves them the CPU.
    let flood = state
        .webhooks_waiting
        .load(std::sync::atomic::Ordering::Relaxed)
        >= FLOOD;
    let batch = if flood { 1 } else { w.claim_batch };
    claim_and_run(state, batch).await
}

/// Claims up to `max` due jobs in one query and runs them side by side: the last one's
/// step, or a database outage any of them met.
async fn claim_and_run(state: &AppState, max: usize) -> Result<Step, StoreError> {
    let lease = state.config.worker.lease.0.as_millis() as i64;
    let jobs = state.store.claim_jobs(lease, max).await?;
    let ran = futures_util::future::join_all(jobs.into_iter().map(|job| run_claimed(state, job)));
    let mut last = Step::Idle;
    let mut outage = None;
    for stepped in ran.await {
        match stepped {
            Ok(step) => last = step,
            Err(e) => outage = Some(e),
        }
    }
    match outage {
        Some(e) => Err(e),
        None => Ok(last),
    }
}

/// Runs a claimed job to completion, retry or dead letter. A database outage in the middle
/// puts the job back as it was and returns the error. A job that panics fails like any
/// failed job (retried, then dead-lettered with the panic message): the worker goes on with
/// the next one.
async fn run_claimed(state: &AppState, job: Job) -> Result<Step, StoreError> {
    let place = format!("job:{}", job.kind.as_str());
    let outcome = match crate::panics::catch(run_job(state, &job, &place)).await {
        Ok(outcome) => outcome,
        Err(panic) => {
            crate::panics::record(state, &place, &panic);
            Err(JobFailed::Panicked(panic))
        }
    };
    match outcome {
        Ok(()) => state.job_wrote(),
        Err(JobFailed::Store(e)) if e.is_outage() => {
            // The database failed, not the job: put it back without spending an attempt
            // (a full disk must not dead-letter the queue), and let the loop back off. If
            // even that write fails, the lease runs out and the job is claimed again.
            state.store_failed(&e);
            let _ = state
                .store
                .defer_job(job.lease(), now_ms() + OUTAGE_PAUSE_MS)
                .await;
            return Err(e);
        }
        Err(e) => fail(state, &job, &e.to_string(), None).await?,
    }
    Ok(Step::Ran {
        job: job.id,
        kind: job.kind,
    })
}

/// Why a job did not finish.
#[derive(Debug, thiserror::Error)]
enum JobFailed {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("panicked: {0}")]
    Panicked(String),
}

async fn run_job(state: &AppState, job: &Job, place: &str) -> Result<(), JobFailed> {
    state.faults.fire(place);
    let done = match job.kind {
        JobKind::Process => process::run(state, job).await,
        JobKind::Reply => deliver::run(state, job).await,
        JobKind::Notify => notify::run(state, job).await,
    };
    Ok(done?)
}

/// What a send's outcome does to its job: done (clearing `party`'s alert), retried, or
/// dead-lettered; rejected credentials also raise an alert for `party` (a shop or a sink).
pub(crate) async fn settle(
    state: &AppState,
    job: &Job,
    sent: Result<(), crate::outbound::SendError>,
    party: &str,
    rejected: &str,
) -> Result<(), StoreError> {
    use crate::outbound::SendError;
    match sent {
        Ok(()) => {
            state.clear_alert(party);
            state.store.complete_job(job.lease()).await.map(drop)
        }
        Err(SendError::Retryable {
            reason,
            retry_after,
        }) => fail(state, job, &reason, retry_after).await,
        Err(SendError::Permanent { reason }) => {
            tracing::error!(job = job.id, kind = job.kind.as_str(), party, %reason, "refused for good: dead-lettered");
            bury(state, job, &reason).await
        }
        Err(SendError::AuthExpired { reason }) => {
            state.raise_alert(party, format!("{rejected}: {reason}"));
            bury(state, job, &reason).await
        }
    }
}

/// Gives up on a job: a dead letter, visible in /v1/jobs?status=dead and counted (unless this
/// worker's claim on it is over: then it is the current holder's).
pub(crate) async fn bury(state: &AppState, job: &Job, error: &str) -> Result<(), StoreError> {
    if state.store.bury_job(job.lease(), error).await? == Settled::LeaseLost {
        return Ok(());
    }
    state
        .metrics
        .inc("anfu_dead_letters_total", &[("kind", job.kind.as_str())]);
    state.announce("dead_letter", None);
    Ok(())
}

/// The outcome label of a send: ok, retry, refused or auth.
pub(crate) fn outcome<T>(sent: &Result<T, crate::outbound::SendError>) -> &'static str {
    use crate::outbound::SendError;
    match sent {
        Ok(_) => "ok",
        Err(SendError::Retryable { .. }) => "retry",
        Err(SendError::Permanent { .. }) => "refused",
        Err(SendError::AuthExpired { .. }) => "auth",
    }
}

/// Schedules a retry, or dead-letters the job once its attempts are used up.
pub(crate) async fn fail(
    state: &AppState,
    job: &Job,
    error: &str,
    retry_after: Option<Duration>,
) -> Result<(), StoreError> {
    let w = &state.config.worker;
    let budget = match job.kind {
        JobKind::Notify => w.notify_max_attempts.max(w.max_attempts),
        _ => w.max_attempts,
    };
    if job.attempts >= budget {
        tracing::error!(job = job.id, kind = job.kind.as_str(), shop = %job.shop, error, "job dead-lettered after {} attempts", job.attempts);
        return bury(state, job, error).await;
    }
    state
        .metrics
        .inc("anfu_job_retries_total", &[("kind", job.kind.as_str())]);
    let delay = retry::backoff(w.retry_base.0, w.retry_max.0, job.attempts, retry_after);
    tracing::warn!(job = job.id, kind = job.kind.as_str(), shop = %job.shop, error, delay_ms = delay.as_millis() as u64, "job will be retried");
    let run_at = retry::due_at(now_ms(), delay);
    state.store.retry_job(job.lease(), run_at, error).await?;
    Ok(())
}

/// Runs jobs until `shutdown` turns true; sleeps until woken or the next job is due.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        state.health.beat();
        // Register for a wake-up before looking, so a message stored meanwhile is not missed.
        let woken = state.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        // `step_batch` catches a job's panic; this catches one outside any job (claiming, say), so
        // that no panic ever ends a worker.
        let stepped = match crate::panics::catch(step_batch(&state)).await {
            Ok(stepped) => stepped,
            Err(panic) => {
                crate::panics::record(&state, "worker", &panic);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
        };
        match stepped {
            Ok(Step::Ran { .. }) => continue,
            Ok(Step::Idle) => {
                let wait = match state.store.next_due().await {
                    Ok(Some(due)) => Duration::from_millis((due - now_ms()).clamp(1, 1000) as u64),
                    _ => Duration::from_secs(1),
                };
                tokio::select! {
                    _ = woken => {}
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "worker cannot reach the store");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

/// Runs `round` now and then every `every` until shutdown: the background loops (SLA timer,
/// retention, credential upkeep). A round reports its own failures; a panicking one is
/// recorded at `place` (an operator alert), and the next round runs as usual.
pub(crate) async fn every<F, Fut>(
    state: &AppState,
    place: &str,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
    round: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        if let Err(panic) = crate::panics::catch(round()).await {
            crate::panics::record(state, place, &panic);
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
}

//! The store contract: one set of cases (`cases.rs` and the `*_cases.rs` beside it), each
//! run against every backend — `sqlite::CASE` on a temporary file, `postgres::CASE` on a
//! database of its own in a throwaway PostgreSQL (`pg.rs`). What a backend may do differently is said in the case.

mod agent_cases;
mod cases;
mod claim_cases;
mod db;
mod deadline_cases;
mod job_cases;
mod message_cases;
mod only;
mod pg;
mod race_cases;
mod report_cases;
mod retention_cases;
mod ticket_cases;
mod tls;
mod token_cases;

/// For each case, a test per backend.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = crate::db::Db::sqlite().await;
                    crate::cases::$case(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = crate::db::Db::postgres().await;
                    crate::cases::$case(&db).await;
                }
            )*
        }
    };
}

contract!(
    ping_and_empty_store,
    accept_is_idempotent,
    concurrent_duplicate_accepts_store_once,
    nul_characters_are_accepted,
    messages_since_and_unprocessed,
    claims_follow_run_at_then_id,
    expired_lease_is_claimable_again,
    expired_processing_job_gives_way_to_a_waiting_one,
    conversation_being_processed_waits,
    retry_bury_and_defer,
    commit_processing_writes_everything,
    second_open_ticket_is_refused_whole,
    concurrent_opens_make_one_ticket,
    update_and_reopen_after_resolve,
    a_ticket_resolved_during_processing_leaves_the_messages_for_a_fresh_step,
    a_worker_whose_lease_ran_out_changes_nothing,
    retrying_or_deferring_a_processing_job_merges_with_the_waiting_one,
    one_instance_holds_a_shops_poll_lease,
    sinks_named_by_position_are_renamed_once,
    handoff_claim_resolve_notes_and_filters,
    overdue_and_breach_recorded_once,
    sla_warning_once_and_breach_implies_it,
    sink_refs_keep_the_first,
    job_counts_by_kind_and_status,
    cursors,
    concurrent_claims_never_share_a_job,
    batch_claims_take_the_oldest_due_first_and_skip_a_conversation_in_work,
    concurrent_batch_claims_never_share_a_job,
    every_message_is_processed_under_concurrency,
    reopening_keeps_the_data,
    agent_replies_are_queued_stamped_and_follow_their_job,
    an_agent_reply_to_a_resolved_or_unknown_ticket_changes_nothing,
    an_unclaimed_p1_is_escalated_once,
    a_resolved_ticket_reopens_once_as_a_repeat,
    a_followup_is_asked_once_and_answered_once,
    a_complaint_after_an_unanswered_followup_reopens_it_unhappy,
    the_report_counts_a_seeded_set,
    token_pairs_rotate_once_and_the_newest_is_kept,
    retention_deletes_settled_rows_in_batches_and_keeps_open_work,
);

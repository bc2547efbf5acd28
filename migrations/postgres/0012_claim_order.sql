-- Claims take the due jobs in (run_at, id) order. With the old index (status, run_at) the
-- planner, when its row estimate was stale (a table filled by a burst faster than autoanalyze
-- runs), read every pending job, sorted them all and only then took the first few: 13 ms per
-- claim with 5 000 waiting, and the drain fell to half (BENCHMARKS.md). With id in the index
-- the scan returns them in claim order and stops at the limit.
CREATE INDEX jobs_due_in_order ON jobs (status, run_at, id);
DROP INDEX jobs_due;

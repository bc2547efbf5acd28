-- Every claim of a job counts one up; a worker settles the job (done, retry, dead letter,
-- back to the queue) only while its claim is the current one. A worker whose lease ran out
-- while another took the job over then changes nothing. Jobs from before count from 0.
ALTER TABLE jobs ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;

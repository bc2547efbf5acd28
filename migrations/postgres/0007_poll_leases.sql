-- SQLite 0010. Who polls a shop (Rakuten poll mode): the instance holding its lease, renewed
-- at every poll, taken over by another instance once it has run out.
CREATE TABLE poll_leases (
    shop       TEXT   PRIMARY KEY,
    holder     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);

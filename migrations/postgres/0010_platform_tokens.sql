-- SQLite 0013. Access tokens that rotate (Shopee: access tokens last 4 hours, refresh tokens
-- rotate on use): the newest pair, so a restart or a second instance uses it, not the
-- config's first.
CREATE TABLE platform_tokens (
    shop          TEXT    PRIMARY KEY,
    access_token  TEXT    NOT NULL,
    refresh_token TEXT    NOT NULL,
    expires_at    BIGINT  NOT NULL,           -- the access token's expiry, unix ms
    updated_at    BIGINT  NOT NULL
);

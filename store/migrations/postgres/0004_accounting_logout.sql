-- Token accounting: what a request was charged as model tokens, beside what it was
-- delivered (tokens_in/out). Rows written before this kept one figure: a row that ran
-- its own generation was charged what it was delivered; a cache hit or a coalesced
-- joiner nothing.
ALTER TABLE request_log ADD COLUMN upstream_tokens_in INTEGER NOT NULL DEFAULT 0;
ALTER TABLE request_log ADD COLUMN upstream_tokens_out INTEGER NOT NULL DEFAULT 0;
UPDATE request_log SET upstream_tokens_in = tokens_in, upstream_tokens_out = tokens_out
	WHERE NOT cached AND NOT coalesced;

-- Logged-out JWTs (access and refresh), by token id, until they expire: every replica
-- refuses them, also after a restart.
CREATE TABLE revoked_tokens (
	jti        TEXT        PRIMARY KEY, -- a token id (jti) or a login session id (sid)
	user_id    BIGINT      NOT NULL DEFAULT 0,
	expires_at TIMESTAMPTZ NOT NULL,
	revoked_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
CREATE INDEX revoked_tokens_revoked_at ON revoked_tokens (revoked_at);

-- Keys revoked or expiring are found by time, so replicas can end their open streams
-- without Redis.
CREATE INDEX api_keys_revoked_at ON api_keys (revoked_at);
CREATE INDEX api_keys_expires_at ON api_keys (expires_at);

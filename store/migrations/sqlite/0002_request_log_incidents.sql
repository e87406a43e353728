-- Request log (one row per finished request, written in batches) and incidents.
CREATE TABLE request_log (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	created_at DATETIME NOT NULL,
	request_id TEXT     NOT NULL DEFAULT '',
	key_id     INTEGER,
	user_id    INTEGER,
	route      TEXT     NOT NULL DEFAULT '',
	kind       TEXT     NOT NULL DEFAULT '',
	adapter    TEXT     NOT NULL DEFAULT '',
	tokens_in  INTEGER  NOT NULL DEFAULT 0,
	tokens_out INTEGER  NOT NULL DEFAULT 0,
	ttft_ms    REAL     NOT NULL DEFAULT 0,
	latency_ms REAL     NOT NULL DEFAULT 0,
	cached     BOOLEAN  NOT NULL DEFAULT 0,
	coalesced  BOOLEAN  NOT NULL DEFAULT 0,
	status     INTEGER  NOT NULL DEFAULT 0,
	error_code TEXT     NOT NULL DEFAULT ''
);
CREATE INDEX request_log_created_at ON request_log (created_at);
CREATE INDEX request_log_key_id ON request_log (key_id);

CREATE TABLE incidents (
	id          TEXT     PRIMARY KEY,
	code        TEXT     NOT NULL,
	created_at  DATETIME NOT NULL,
	path        TEXT     NOT NULL DEFAULT '',
	request_id  TEXT     NOT NULL DEFAULT '',
	message     TEXT     NOT NULL DEFAULT '',
	detail      TEXT     NOT NULL DEFAULT '',
	status      TEXT     NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
	http_status INTEGER  NOT NULL DEFAULT 0
);
CREATE INDEX incidents_created_at ON incidents (created_at);

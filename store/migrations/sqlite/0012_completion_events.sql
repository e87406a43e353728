-- Acceptance telemetry of inline completions: what the editor did with each completion
-- it received (shown, accepted with the characters and lines kept, dismissed). One row
-- per completion and event: a repeated report is ignored.
CREATE TABLE completion_events (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	completion_id  TEXT     NOT NULL,
	event          TEXT     NOT NULL CHECK (event IN ('shown', 'accepted', 'dismissed')),
	created_at     DATETIME NOT NULL,
	completion_at  DATETIME NOT NULL,
	latency_ms     REAL     NOT NULL DEFAULT 0,
	key_id         INTEGER,
	user_id        INTEGER,
	language       TEXT     NOT NULL DEFAULT '',
	adapter        TEXT     NOT NULL DEFAULT '',
	model_family   TEXT     NOT NULL DEFAULT '',
	accepted_chars INTEGER,
	accepted_lines INTEGER,
	UNIQUE (completion_id, event)
);
CREATE INDEX completion_events_created_at ON completion_events (created_at);

-- Conversation history of editor users (the DB-Module's sessions and entries).
CREATE TABLE history_sessions (
	session_id       TEXT        PRIMARY KEY,
	user_id          BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_title    TEXT        NOT NULL DEFAULT '',
	status           TEXT        NOT NULL DEFAULT 'active',
	primary_language TEXT        NOT NULL DEFAULT 'python',
	tags             TEXT        NOT NULL DEFAULT '[]',
	project_name     TEXT        NOT NULL DEFAULT '',
	total_entries    INTEGER     NOT NULL DEFAULT 0,
	question_count   INTEGER     NOT NULL DEFAULT 0,
	answer_count     INTEGER     NOT NULL DEFAULT 0,
	created_at       TIMESTAMPTZ NOT NULL,
	updated_at       TIMESTAMPTZ NOT NULL,
	last_activity    TIMESTAMPTZ NOT NULL
);
CREATE INDEX history_sessions_user_activity ON history_sessions (user_id, last_activity);

CREATE TABLE history_entries (
	entry_id          TEXT             PRIMARY KEY,
	session_id        TEXT             NOT NULL REFERENCES history_sessions (session_id) ON DELETE CASCADE,
	user_id           BIGINT           NOT NULL,
	conversation_type TEXT             NOT NULL,
	content           TEXT             NOT NULL DEFAULT '',
	language          TEXT             NOT NULL DEFAULT 'python',
	code_snippet      TEXT             NOT NULL DEFAULT '',
	file_name         TEXT             NOT NULL DEFAULT '',
	line_number       INTEGER,
	response_time     DOUBLE PRECISION,
	confidence_score  DOUBLE PRECISION,
	created_at        TIMESTAMPTZ      NOT NULL
);
CREATE INDEX history_entries_session_created ON history_entries (session_id, created_at);
CREATE INDEX history_entries_user_created ON history_entries (user_id, created_at);

-- Accounts: users, their settings, API keys and admin console sessions.
CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	email         TEXT     NOT NULL UNIQUE,
	name          TEXT     NOT NULL DEFAULT '',
	password_hash TEXT,
	role          TEXT     NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
	created_at    DATETIME NOT NULL,
	updated_at    DATETIME NOT NULL
);

CREATE TABLE user_settings (
	user_id    INTEGER  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	profile    TEXT     NOT NULL DEFAULT '{}',
	option_ids TEXT     NOT NULL DEFAULT '[]',
	updated_at DATETIME NOT NULL
);

CREATE TABLE api_keys (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id           INTEGER REFERENCES users (id) ON DELETE CASCADE,
	name              TEXT     NOT NULL DEFAULT '',
	prefix            TEXT     NOT NULL,
	key_hash          TEXT     NOT NULL UNIQUE,
	scopes            TEXT     NOT NULL DEFAULT '',
	created_at        DATETIME NOT NULL,
	expires_at        DATETIME,
	revoked_at        DATETIME,
	last_used_at      DATETIME,
	tokens_per_minute INTEGER  NOT NULL DEFAULT 0,
	tokens_per_day    INTEGER  NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_user_id ON api_keys (user_id);

CREATE TABLE admin_sessions (
	id           TEXT     PRIMARY KEY,
	user_id      INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   DATETIME NOT NULL,
	last_seen_at DATETIME NOT NULL,
	expires_at   DATETIME NOT NULL,
	user_agent   TEXT     NOT NULL DEFAULT '',
	ip           TEXT     NOT NULL DEFAULT ''
);
CREATE INDEX admin_sessions_expires_at ON admin_sessions (expires_at);

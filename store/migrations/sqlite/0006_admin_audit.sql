-- The admin console's audit trail: who did what, when and from where. Kept as long as
-- incidents (ERROR_RETENTION_DAYS).
CREATE TABLE admin_audit (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	created_at DATETIME NOT NULL,
	actor_id   INTEGER  NOT NULL DEFAULT 0,
	actor      TEXT     NOT NULL DEFAULT '',
	action     TEXT     NOT NULL,
	target     TEXT     NOT NULL DEFAULT '',
	detail     TEXT     NOT NULL DEFAULT '',
	ip         TEXT     NOT NULL DEFAULT ''
);
CREATE INDEX admin_audit_created_at ON admin_audit (created_at, id);
CREATE INDEX admin_audit_target ON admin_audit (target, created_at);

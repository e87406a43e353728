-- The incident workflow: an open incident may be acknowledged, then resolved, and a
-- resolved one reopened; each step and each note is kept with who and when.
ALTER TABLE incidents ADD COLUMN acknowledged_at DATETIME;
ALTER TABLE incidents ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN resolved_at DATETIME;
ALTER TABLE incidents ADD COLUMN resolved_by TEXT NOT NULL DEFAULT '';
CREATE INDEX incidents_status_created ON incidents (status, created_at);
CREATE INDEX incidents_request_id ON incidents (request_id);

CREATE TABLE incident_notes (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	incident_id TEXT     NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	created_at  DATETIME NOT NULL,
	actor       TEXT     NOT NULL DEFAULT '',
	action      TEXT     NOT NULL,
	note        TEXT     NOT NULL DEFAULT ''
);
CREATE INDEX incident_notes_incident ON incident_notes (incident_id, created_at);

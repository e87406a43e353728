-- What operators asked of each vLLM replica (active, draining, disabled), shared by
-- every gateway replica: each applies it to its pool (docs/admin.md, "Upstreams").
CREATE TABLE upstream_states (
	url        TEXT        PRIMARY KEY,
	state      TEXT        NOT NULL CHECK (state IN ('active', 'draining', 'disabled')),
	updated_at TIMESTAMPTZ NOT NULL,
	updated_by TEXT        NOT NULL DEFAULT ''
);

-- The console's request log: which vLLM replica served a request (empty for cache
-- hits and requests that never reached one), and the indexes its filters and keyset
-- pages use. (key_id, created_at) replaces the index on key_id alone.
ALTER TABLE request_log ADD COLUMN upstream TEXT NOT NULL DEFAULT '';
DROP INDEX request_log_key_id;
CREATE INDEX request_log_key_created ON request_log (key_id, created_at);
CREATE INDEX request_log_user_created ON request_log (user_id, created_at);
CREATE INDEX request_log_request_id ON request_log (request_id);

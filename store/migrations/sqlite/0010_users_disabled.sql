-- A disabled account: its keys are revoked and its logins refused until it is enabled
-- again (docs/admin.md, "Users").
ALTER TABLE users ADD COLUMN disabled_at DATETIME;

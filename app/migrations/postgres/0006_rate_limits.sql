-- Attempt counts of the rate limits (failed logins, sign-ups, expensive actions), shared
-- by every instance on this database and kept across restarts: one row per key, its
-- count in the current fixed window and when that window ends (Unix ms). Rows whose
-- window has passed are pruned by the retention job.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    count BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX rate_limits_expires_at ON rate_limits (expires_at);

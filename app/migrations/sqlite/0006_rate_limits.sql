-- Attempt counts of the rate limits, as on PostgreSQL (migrations/postgres/0006). One
-- SQLite file serves one instance, which counts in memory; the table is here so the two
-- schemas stay the same and the shared store can be tested on both.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    count BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX rate_limits_expires_at ON rate_limits (expires_at);

-- Each workspace's IANA time zone: its "today", so its months, the budget month shown
-- and the default period of its lists (see server::zone). Existing workspaces keep UTC,
-- which is what they were computed in until now.
ALTER TABLE workspaces ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

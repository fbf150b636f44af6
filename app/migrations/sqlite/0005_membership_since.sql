-- What a member may read of the workspace's event log: events with seq > since_seq.
-- A join sets it to the stream's head just before the member's own member:joined, so a
-- newcomer (or someone re-added after a removal) cannot replay what happened before
-- they (re)joined; their lists show the current state. Existing members keep 0.
ALTER TABLE memberships ADD COLUMN since_seq INTEGER NOT NULL DEFAULT 0;

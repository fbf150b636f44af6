-- Notifications, stored per user. Each one is also announced on the user's stream
-- ('user:<id>', notification:created) in the same transaction; reading one
-- (read_at) is announced as notification:read so the user's other tabs follow.
CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The workspace it is about, if any.
    workspace_id INTEGER REFERENCES workspaces(id) ON DELETE CASCADE,
    level        TEXT    NOT NULL CHECK (level IN ('success', 'error', 'info', 'warning')),
    title        TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    read_at      INTEGER
);
CREATE INDEX notifications_by_user ON notifications (user_id, id);

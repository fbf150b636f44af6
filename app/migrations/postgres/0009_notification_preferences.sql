-- What each member wants to hear about a workspace, per topic (model::notification::Topic):
-- 'toast' (stored, unread, and shown as it arrives), 'unread' (stored, unread, no toast) or
-- 'off' (nothing stored, nothing sent). A row only where the member chose something;
-- otherwise the topic's default applies (server::events::Write, which applies them).
CREATE TABLE notification_preferences (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    topic        TEXT   NOT NULL CHECK (topic IN ('expenses', 'earnings', 'budgets', 'goals', 'team', 'imports', 'messages')),
    mode         TEXT   NOT NULL CHECK (mode IN ('toast', 'unread', 'off')),
    PRIMARY KEY (workspace_id, user_id, topic)
);
-- What a notification is about ('expense:12', 'earning:3', 'goal:7'), when it is about one
-- row: deleting the row retracts the notifications about it (notification:dismissed).
ALTER TABLE notifications ADD COLUMN subject TEXT;
CREATE INDEX notifications_by_subject ON notifications (workspace_id, subject) WHERE subject IS NOT NULL;

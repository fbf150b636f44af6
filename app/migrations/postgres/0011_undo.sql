-- Expenses deleted in the last UNDO_SECONDS (model::expense), as they were, so that the
-- deletion can be undone (expenses/restore puts them back with their own ids, which
-- are never given out again). Older ones are removed by the next deletion.
CREATE TABLE deleted_expenses (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    amount_minor BIGINT NOT NULL,
    currency     TEXT   NOT NULL,
    category     TEXT   NOT NULL,
    description  TEXT   NOT NULL,
    spent_on     TEXT   NOT NULL,
    created_by   BIGINT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    deleted_at   BIGINT NOT NULL
);
CREATE INDEX deleted_expenses_by_time ON deleted_expenses (deleted_at);

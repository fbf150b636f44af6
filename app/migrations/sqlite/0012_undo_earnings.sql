-- Earnings deleted in the last UNDO_SECONDS, as they were, so that the deletion can be
-- undone (earnings/restore; as deleted_expenses in 0011).
CREATE TABLE deleted_earnings (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    platform_id  INTEGER NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    earned_on    TEXT   NOT NULL,
    hours_centi  INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency     TEXT   NOT NULL,
    notes        TEXT   NOT NULL,
    created_by   INTEGER NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER NOT NULL
);
CREATE INDEX deleted_earnings_by_time ON deleted_earnings (deleted_at);

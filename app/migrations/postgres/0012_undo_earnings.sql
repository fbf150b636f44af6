-- Earnings deleted in the last UNDO_SECONDS, as they were, so that the deletion can be
-- undone (earnings/restore; as deleted_expenses in 0011).
CREATE TABLE deleted_earnings (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    platform_id  BIGINT NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    earned_on    TEXT   NOT NULL,
    hours_centi  BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency     TEXT   NOT NULL,
    notes        TEXT   NOT NULL,
    created_by   BIGINT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    deleted_at   BIGINT NOT NULL
);
CREATE INDEX deleted_earnings_by_time ON deleted_earnings (deleted_at);

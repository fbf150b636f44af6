-- Budgets: a monthly spending limit per category (and currency) of a workspace. Each
-- calendar month is a period; budget_alerts records which alerts a period has raised,
-- so 'warning' (80 %) and 'exceeded' (100 %) are raised once per period. An alert whose
-- threshold is no longer reached (an expense edited or deleted) is removed, so crossing
-- it again raises it again.
CREATE TABLE budgets (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    category     TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    limit_minor  BIGINT NOT NULL CHECK (limit_minor > 0),
    created_by   BIGINT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, category, currency)
);

CREATE TABLE budget_alerts (
    budget_id BIGINT NOT NULL REFERENCES budgets(id) ON DELETE CASCADE,
    month     TEXT    NOT NULL, -- 'YYYY-MM'
    level     TEXT    NOT NULL CHECK (level IN ('warning', 'exceeded')),
    raised_at BIGINT NOT NULL,
    PRIMARY KEY (budget_id, month, level)
);

-- Goals: a target amount that contributions fill. Milestones are percentages of the
-- target; each is completed once (reached_at) and stays completed.
CREATE TABLE goals (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    target_minor BIGINT NOT NULL CHECK (target_minor > 0),
    saved_minor  BIGINT NOT NULL DEFAULT 0 CHECK (saved_minor >= 0),
    created_by   BIGINT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    achieved_at  BIGINT
);
CREATE INDEX goals_by_workspace ON goals (workspace_id, id);

CREATE TABLE goal_milestones (
    goal_id    BIGINT NOT NULL REFERENCES goals(id) ON DELETE CASCADE,
    percent    BIGINT NOT NULL CHECK (percent BETWEEN 1 AND 100),
    reached_at BIGINT,
    PRIMARY KEY (goal_id, percent)
);

CREATE TABLE goal_contributions (
    id           BIGSERIAL PRIMARY KEY,
    goal_id      BIGINT NOT NULL REFERENCES goals(id) ON DELETE CASCADE,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    created_by   BIGINT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL
);
CREATE INDEX goal_contributions_by_goal ON goal_contributions (goal_id, id);

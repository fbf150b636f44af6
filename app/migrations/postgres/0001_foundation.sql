-- Accounts, workspaces, memberships, invites, expenses, platforms and earnings.
-- Timestamps are Unix milliseconds; calendar dates are ISO 'YYYY-MM-DD' text.
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    -- Bumped to revoke every token issued before; tokens carry the version they were issued at.
    token_version BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE workspaces (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('personal', 'team')),
    created_by BIGINT  NOT NULL REFERENCES users(id),
    created_at BIGINT  NOT NULL
);

CREATE TABLE memberships (
    workspace_id BIGINT  NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role         TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    joined_at    BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE invites (
    code         TEXT    PRIMARY KEY,
    workspace_id BIGINT  NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    role         TEXT    NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    created_by   BIGINT  NOT NULL REFERENCES users(id),
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX invites_by_workspace ON invites (workspace_id);

CREATE TABLE expenses (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT  NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    amount_minor BIGINT  NOT NULL CHECK (amount_minor > 0),
    currency     TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    spent_on     TEXT    NOT NULL,
    created_by   BIGINT  NOT NULL REFERENCES users(id),
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX expenses_by_workspace ON expenses (workspace_id, spent_on DESC, id DESC);

CREATE TABLE platforms (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT  NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    color        TEXT    NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE earnings (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT  NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    platform_id  BIGINT  NOT NULL REFERENCES platforms(id),
    earned_on    TEXT    NOT NULL,
    -- Hours worked in hundredths of an hour (1.5 h = 150); 0 for fixed-price work.
    hours_centi  BIGINT  NOT NULL CHECK (hours_centi >= 0),
    amount_minor BIGINT  NOT NULL CHECK (amount_minor > 0),
    currency     TEXT    NOT NULL,
    notes        TEXT    NOT NULL,
    created_by   BIGINT  NOT NULL REFERENCES users(id),
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX earnings_by_workspace ON earnings (workspace_id, earned_on DESC, id DESC);

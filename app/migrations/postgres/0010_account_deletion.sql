-- When the account was deleted (account::ssr::delete): the row stays as a tombstone named
-- 'Deleted user', so the teams' books keep their authors; nothing of the person is left.
ALTER TABLE users ADD COLUMN deleted_at BIGINT;

-- The log's index on time served the retention job alone, which now walks the log in
-- rowid order instead (`outbox::prune`): rows are appended, so an event's rowid grows
-- with its time. One index entry fewer per event, and one page fewer per commit.
-- PostgreSQL's log keeps its index (its rows have no such order to walk).
DROP INDEX IF EXISTS events_by_time;

-- Indexes for the list views at 100,000 rows (issue 14; ARCHITECTURE.md, "Lists at
-- 100,000 rows"). The totals of a view read only these columns, so they come off the
-- index alone instead of one table lookup per selected row; "largest first" reads the
-- amount index in order instead of sorting every row.
CREATE INDEX expenses_totals ON expenses (workspace_id, spent_on, category, currency, amount_minor, created_by);
CREATE INDEX expenses_by_amount ON expenses (workspace_id, amount_minor DESC, id DESC);
CREATE INDEX earnings_totals ON earnings (workspace_id, earned_on, platform_id, currency, amount_minor, hours_centi, created_by);
CREATE INDEX earnings_by_amount ON earnings (workspace_id, amount_minor DESC, id DESC);

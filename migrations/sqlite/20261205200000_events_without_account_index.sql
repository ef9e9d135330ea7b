-- The (account_id, occurred_at) index on raw usage events is dropped. No query used it:
-- the one reading one account's events also takes a time range, and SQLite plans it on
-- the time index (its account filter is `?3 IS NULL OR account_id = ?3`, decided per call).
-- Yet every recorded request paid for it: its insertion points are spread over all
-- accounts, so each batch touched a page per active account, and writing events took
-- 7.7 µs each with it against 3.4 µs without (batches of 500, 100 accounts).
DROP INDEX IF EXISTS analytics_events_by_account;

-- Issue 15: the requests each sync sent to the provider's API (retries included), so a large
-- AWS account's cost in throttled IAM calls is on record run by run. NULL: not counted (a run
-- from before this column, or a connector that does not count).
ALTER TABLE sync_runs ADD COLUMN api_calls INTEGER;
-- The same, by operation: a JSON object such as {"iam:ListAccessKeys": 2000, ...}.
ALTER TABLE sync_runs ADD COLUMN api_calls_by_operation TEXT;

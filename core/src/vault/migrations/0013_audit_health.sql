-- Issue 14: what was open after each audit, so the health dashboard can draw risk over time from
-- the audits themselves (not from a re-evaluation that today's policy would colour). NULL: an
-- audit from before these columns.
ALTER TABLE audit_runs ADD COLUMN open_critical INTEGER;
ALTER TABLE audit_runs ADD COLUMN open_high INTEGER;
ALTER TABLE audit_runs ADD COLUMN open_medium INTEGER;
ALTER TABLE audit_runs ADD COLUMN open_low INTEGER;
-- The sum of the open findings' weights: every key's risk score added up.
ALTER TABLE audit_runs ADD COLUMN risk INTEGER;

-- Schema 3: findings with a lifecycle, the policy in force, key tags (issue 4).
-- Append-only: never edit a released migration.

-- Tags the user puts on keys (JSON array); policies set thresholds per tag.
ALTER TABLE api_keys ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';

-- Findings used to be rewritten by every audit; they are now one row per (rule, subject) that
-- lives across audits. The old rows were derived data and are recomputed by the next audit.
DROP TABLE findings;

CREATE TABLE findings (
    id               INTEGER PRIMARY KEY,
    fingerprint      TEXT NOT NULL UNIQUE,     -- rule id + subject; stable across audits
    rule_id          TEXT NOT NULL,
    key_id           TEXT REFERENCES api_keys(id) ON DELETE CASCADE,
    provider         TEXT NOT NULL,
    account          TEXT NOT NULL,
    external_id      TEXT,
    owner            TEXT,
    resource         TEXT,                     -- posture findings: the resource's id
    severity         TEXT NOT NULL,
    weight           INTEGER NOT NULL,         -- what the finding adds to its key's risk score
    title            TEXT NOT NULL,
    detail           TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'snoozed', 'resolved')),
    snoozed_until    TEXT,
    resolution       TEXT CHECK (resolution IN ('key_rotated', 'key_deleted', 'rule_passed', 'policy_changed')),
    note             TEXT,                     -- the user's words when acknowledging or snoozing
    first_seen_at    TEXT NOT NULL,
    last_seen_at     TEXT NOT NULL,
    state_changed_at TEXT NOT NULL
);
CREATE INDEX findings_by_key ON findings(key_id);
CREATE INDEX findings_by_state ON findings(state);

CREATE TABLE finding_events (
    id           INTEGER PRIMARY KEY,
    finding_id   INTEGER NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
    audit_run_id INTEGER REFERENCES audit_runs(id) ON DELETE SET NULL,
    at           TEXT NOT NULL,
    event        TEXT NOT NULL CHECK (event IN ('opened', 'reopened', 'escalated', 'deescalated', 'acknowledged',
                                                'snoozed', 'snooze_ended', 'resolved', 'changed')),
    severity     TEXT,
    detail       TEXT,
    reason       TEXT
);
CREATE INDEX finding_events_by_finding ON finding_events(finding_id, at);

ALTER TABLE audit_runs ADD COLUMN opened INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_runs ADD COLUMN resolved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_runs ADD COLUMN policy_digest TEXT;

-- Every policy an audit has used, by digest. The most recently adopted one is in force; when
-- the file on disk is broken, audits keep using it.
CREATE TABLE policies (
    digest     TEXT PRIMARY KEY,               -- SHA-256 of the text
    text       TEXT NOT NULL,
    adopted_at TEXT NOT NULL
);

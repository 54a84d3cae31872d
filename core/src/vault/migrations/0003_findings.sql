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

-- Scheduled jobs ('audit', 'sync:<connector>') and the state of their last run, so a restart
-- knows what it missed.
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    cron             TEXT NOT NULL,            -- cron expression with seconds (cron crate syntax)
    enabled          INTEGER NOT NULL DEFAULT 1,
    last_fire_at     TEXT,                     -- the scheduled time the last run covered
    last_started_at  TEXT,
    last_finished_at TEXT,
    last_status      TEXT CHECK (last_status IN ('ok', 'failed', 'cancelled')),
    last_message     TEXT
);

-- Where notifications go besides the desktop.
CREATE TABLE webhooks (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL CHECK (kind IN ('slack', 'json')),
    url          TEXT NOT NULL,
    secret       BLOB,                         -- sealed HMAC-SHA256 signing key (json webhooks)
    enabled      INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL
);

-- Every delivery attempt of a notification, by channel ('desktop', 'webhook:<name>').
CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    event       TEXT NOT NULL,                 -- finding.opened, finding.escalated, reminder.closed, digest
    subject     TEXT,                          -- the key or resource the notification is about
    at          TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('delivered', 'failed')),
    http_status INTEGER,
    error       TEXT
);

-- What the user was last told about each finding, so nothing is said twice.
CREATE TABLE notified (
    finding_id  INTEGER PRIMARY KEY REFERENCES findings(id) ON DELETE CASCADE,
    severity    TEXT NOT NULL,
    at          TEXT NOT NULL,
    closed_at   TEXT                           -- reminders: when rotation or deletion closed them
);

-- Notifications held for quiet hours or the daily digest.
CREATE TABLE pending_notifications (
    id          INTEGER PRIMARY KEY,
    finding_id  INTEGER NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
    event       TEXT NOT NULL,
    queued_at   TEXT NOT NULL
);

-- Small user settings (notification preferences), JSON values.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

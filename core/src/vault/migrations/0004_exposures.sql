-- Schema 4: the exposure sweep (issue 5). Append-only: never edit a released migration.
-- No secret is stored here: tokens are kept as keyed fingerprints (HMAC-SHA256 under a key
-- derived from the vault's data key), and excerpts are redacted before they reach the vault.

CREATE TABLE scan_runs (
    id           INTEGER PRIMARY KEY,
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    roots        TEXT NOT NULL,                -- JSON array of the paths scanned
    git_history  INTEGER NOT NULL DEFAULT 0,
    files        INTEGER NOT NULL DEFAULT 0,
    bytes        INTEGER NOT NULL DEFAULT 0,
    hits         INTEGER NOT NULL DEFAULT 0,
    skipped      TEXT NOT NULL DEFAULT '{}',   -- JSON counts: binary, too_large, symlinks_out, special
    errors       INTEGER NOT NULL DEFAULT 0,
    cancelled    INTEGER NOT NULL DEFAULT 0
);

-- Keys found in files that Keyward does not manage, until linked to a key or dismissed.
CREATE TABLE shadow_keys (
    id            TEXT PRIMARY KEY,            -- UUIDv7
    fingerprint   BLOB NOT NULL UNIQUE,
    provider      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    label         TEXT NOT NULL,               -- redacted
    status        TEXT NOT NULL DEFAULT 'unmanaged' CHECK (status IN ('unmanaged', 'linked', 'dismissed')),
    linked_key_id TEXT REFERENCES api_keys(id) ON DELETE SET NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    verified_at   TEXT,                        -- the last liveness check (with the user's consent)
    verify_result TEXT                         -- live | live as <who> | rejected | error: <why>
);

-- Where a key sits in a file: for inventoried keys, the consumer locations rotation hands over to.
CREATE TABLE exposures (
    id            INTEGER PRIMARY KEY,
    fingerprint   BLOB NOT NULL,
    path          TEXT NOT NULL,
    line          INTEGER NOT NULL,
    revision      TEXT NOT NULL DEFAULT '',    -- the commit, for hits in git history
    provider      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    secret        INTEGER NOT NULL,            -- 0 for ids (an AWS access key id)
    key_id        TEXT REFERENCES api_keys(id) ON DELETE SET NULL,
    connector     TEXT,                        -- a connector's own credential
    evidence      TEXT,                        -- secret | id | last4 | linked
    held_as       TEXT,                        -- where Keyward holds it
    shadow_id     TEXT REFERENCES shadow_keys(id) ON DELETE SET NULL,
    label         TEXT NOT NULL,
    excerpt       TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    gone_at       TEXT,                        -- a later scan of its path no longer found it
    UNIQUE (fingerprint, path, line, revision)
);
CREATE INDEX exposures_by_key ON exposures(key_id);
CREATE INDEX exposures_by_shadow ON exposures(shadow_id);

-- What Keyward did on the user's behalf that reached outside the machine (liveness checks of
-- found keys), one row per attempt; never a secret. Later: every sync, rotation and reveal, hash-chained.
CREATE TABLE activity (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    action   TEXT NOT NULL,                    -- verify
    provider TEXT,
    subject  TEXT,                             -- the shadow key's id
    outcome  TEXT NOT NULL,                    -- live | rejected | error
    detail   TEXT
);

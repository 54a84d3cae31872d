-- Keyward vault, schema 1. Migrations are append-only: never edit a released one.

CREATE TABLE vault_meta (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    vault_id         TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    protection       TEXT NOT NULL CHECK (protection IN ('keychain', 'passphrase')),
    kdf_params       TEXT,             -- JSON Argon2id parameters (passphrase only)
    kdf_salt         BLOB,             -- passphrase only
    wrapped_master   BLOB,             -- master key sealed by the passphrase key (passphrase only)
    wrapped_data_key BLOB NOT NULL     -- data key sealed by the master key
);

CREATE TABLE connectors (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    provider        TEXT NOT NULL,
    settings        TEXT NOT NULL,     -- JSON, never a secret
    secret          BLOB,              -- sealed connector credentials, for providers that need them
    account_id      TEXT,              -- the provider's account id, once a sync has learned it
    root_access_key INTEGER,           -- AWS: 1 when the root user has an access key; NULL unknown
    created_at      TEXT NOT NULL,
    last_sync_at    TEXT
);

CREATE TABLE owners (
    connector_id INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    admin_via    TEXT,                 -- why the owner has administrator access; NULL when not
    last_seen_at TEXT NOT NULL,
    PRIMARY KEY (connector_id, name)
);

CREATE TABLE sync_runs (
    id           INTEGER PRIMARY KEY,
    connector_id INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    status       TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
    keys_seen    INTEGER NOT NULL DEFAULT 0,
    keys_added   INTEGER NOT NULL DEFAULT 0,
    keys_changed INTEGER NOT NULL DEFAULT 0,
    keys_removed INTEGER NOT NULL DEFAULT 0,
    error        TEXT
);

CREATE TABLE api_keys (
    id                TEXT PRIMARY KEY,            -- Keyward's id, a UUIDv7
    provider          TEXT NOT NULL,
    connector_id      INTEGER REFERENCES connectors(id) ON DELETE RESTRICT,  -- NULL: registered by hand
    external_id       TEXT,                        -- the provider's id for the key
    name              TEXT NOT NULL,
    owner             TEXT,
    status            TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    created_at        TEXT,
    last_used_at      TEXT,
    last_used_service TEXT,
    last_used_region  TEXT,
    usage_tracked     INTEGER NOT NULL DEFAULT 0,  -- 1 when the provider reports use, so NULL last use means never
    expires_at        TEXT,
    scopes            TEXT NOT NULL DEFAULT '[]',  -- JSON array of normalised scopes
    raw_scopes        TEXT NOT NULL DEFAULT 'null',-- the provider's own value, JSON
    secret            BLOB,                        -- sealed; AAD binds it to this row and column
    first_seen_at     TEXT NOT NULL,
    last_seen_at      TEXT NOT NULL,
    removed_at        TEXT,                        -- set when a later sync no longer sees the key
    UNIQUE (connector_id, external_id)
);

CREATE TABLE key_history (
    id          INTEGER PRIMARY KEY,
    key_id      TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    sync_run_id INTEGER REFERENCES sync_runs(id) ON DELETE SET NULL,
    at          TEXT NOT NULL,
    change      TEXT NOT NULL CHECK (change IN ('added', 'changed', 'removed', 'reappeared', 'registered')),
    field       TEXT,
    old_value   TEXT,
    new_value   TEXT
);
CREATE INDEX key_history_by_key ON key_history(key_id, at);

CREATE TABLE audit_runs (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    findings INTEGER NOT NULL
);

CREATE TABLE findings (
    id           INTEGER PRIMARY KEY,
    audit_run_id INTEGER NOT NULL REFERENCES audit_runs(id) ON DELETE CASCADE,
    rule_id      TEXT NOT NULL,
    severity     TEXT NOT NULL,
    key_id       TEXT REFERENCES api_keys(id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    account      TEXT NOT NULL,
    external_id  TEXT,
    owner        TEXT,
    title        TEXT NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX findings_by_run ON findings(audit_run_id);

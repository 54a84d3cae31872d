-- Schema 2: every provider's facts (issue 3). Append-only: never edit a released migration.

-- What kind of credential (access_key, api_key, application_key, user_token...).
ALTER TABLE api_keys ADD COLUMN kind TEXT;
-- 1 when anyone who can read the key's metadata can read its secret again later.
ALTER TABLE api_keys ADD COLUMN secret_readable INTEGER NOT NULL DEFAULT 0;
-- Provider facts beyond the common columns (access lists, last address, leak reports), JSON.
ALTER TABLE api_keys ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
-- Liveness checks of keys registered by hand (Linear): when, and what the provider said.
ALTER TABLE api_keys ADD COLUMN checked_at TEXT;
ALTER TABLE api_keys ADD COLUMN check_result TEXT;

ALTER TABLE owners ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;

-- Account-level facts from the latest sync (Atlas apiAccessListRequired, listing coverage), JSON.
ALTER TABLE connectors ADD COLUMN facts TEXT NOT NULL DEFAULT '{}';

-- Posture: configured things that decide how exposed keys are (API Gateway stages, routes...).
CREATE TABLE resources (
    id           INTEGER PRIMARY KEY,
    connector_id INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    name         TEXT NOT NULL,
    region       TEXT,
    details      TEXT NOT NULL DEFAULT '{}',
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    removed_at   TEXT,
    UNIQUE (connector_id, kind, external_id)
);

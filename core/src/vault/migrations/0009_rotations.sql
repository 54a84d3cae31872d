-- Schema 9. Rotations (issue 13): a journal written before every call a rotation makes at the
-- provider and right after it, so a rotation interrupted at any instant (SIGKILL, power lost) is
-- resumed or rolled back from what the vault says, reconciled with the provider first.

CREATE TABLE rotations (
    id              TEXT PRIMARY KEY,              -- UUIDv7
    key_id          TEXT NOT NULL REFERENCES api_keys (id),   -- the key rotated (the old one)
    connector_id    INTEGER NOT NULL REFERENCES connectors (id),
    provider        TEXT NOT NULL,
    old_external_id TEXT NOT NULL,
    owner           TEXT,                          -- the key's owner at the provider (an IAM user)
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    held_before     TEXT NOT NULL DEFAULT '[]',    -- the owner's key ids at the provider when planned (JSON)
    hook            TEXT,                          -- the user's command that gets the new secret on stdin
    new_key_id      TEXT REFERENCES api_keys (id), -- the new key, its secret sealed on its row
    new_external_id TEXT,
    -- The last step begun, and whether its result is recorded: plan, create, verify, disable,
    -- grace, delete, done; rollback steps: undo_create, undo_disable, rolled_back.
    step            TEXT NOT NULL,
    step_done       INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL,                 -- running, grace, done, rolled_back, failed
    grace_secs      INTEGER NOT NULL,
    grace_until     TEXT,
    error           TEXT,                          -- why it failed or rolled back
    started_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    -- Row MACs under the vault's key: what the rotation acts on (its key, owner, provider ids)
    -- cannot be edited into someone else's key; a row that fails them is never acted on.
    mac             BLOB NOT NULL,
    new_mac         BLOB
);
-- A key has at most one rotation under way.
CREATE UNIQUE INDEX rotations_one_per_key ON rotations (key_id) WHERE state IN ('running', 'grace', 'failed');

CREATE TABLE rotation_events (
    id          INTEGER PRIMARY KEY,
    rotation_id TEXT NOT NULL REFERENCES rotations (id),
    at          TEXT NOT NULL,
    step        TEXT NOT NULL,
    phase       TEXT NOT NULL,                     -- begin, done, failed
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX rotation_events_by_rotation ON rotation_events (rotation_id, id);

-- The files a rotation hands the new key over to: planned with the file's digest and the lines
-- to change; the file as it was kept sealed before it is written (`writing`), to restore on
-- rollback. The MAC covers where and what is written: a row edited to send the new secret into
-- another file is refused.
CREATE TABLE rotation_handovers (
    rotation_id   TEXT NOT NULL REFERENCES rotations (id),
    seq           INTEGER NOT NULL,
    path          BLOB NOT NULL,                  -- the file's path, as the OS spells it
    edits         TEXT NOT NULL,                  -- JSON: [{line, secret}]
    digest_before BLOB NOT NULL,                  -- SHA-256 of the file as planned
    digest_after  BLOB,                           -- SHA-256 of the file as written
    backup        BLOB,                           -- the file as it was, sealed
    state         TEXT NOT NULL,                  -- planned, writing, written, refused, restored, kept
    note          TEXT NOT NULL DEFAULT '',
    mac           BLOB NOT NULL,
    PRIMARY KEY (rotation_id, seq)
);

-- A lease's holder process and machine: a holder on this machine whose process is gone (killed
-- with SIGKILL, crashed) holds nothing, without waiting for the lease to expire.
ALTER TABLE leases ADD COLUMN pid INTEGER;
ALTER TABLE leases ADD COLUMN host TEXT;

-- Schema 5. The process that runs a sync (issue 11). A sync killed half-way left its run
-- 'running' for ever; with the process id, the next sync of any process marks such a run
-- interrupted once that process is gone. Append-only: never edit a released migration.

ALTER TABLE sync_runs ADD COLUMN pid INTEGER;

-- A removed connector is kept, renamed out of the way and without its credentials, so the
-- history of its keys and findings stays (issue 18): findings resolve as key_deleted.
ALTER TABLE connectors ADD COLUMN removed_at TEXT;

-- Rows whose change alone would send credentials or keys somewhere, or widen what Keyward does,
-- carry a MAC under a key derived from the data key (issue 11): whoever can write vault.db but
-- lacks the passphrase cannot point a connector at their host or give consents. Filled for the
-- rows already there when this migration runs (Vault::open), so a later NULL means tampering.
ALTER TABLE connectors ADD COLUMN settings_mac BLOB;
ALTER TABLE settings ADD COLUMN mac BLOB;

-- A file name that is not UTF-8 keeps its bytes (issue 18): `path` holds it as shown (with
-- U+FFFD), `path_bytes` the name itself, so the file can be found again and shown exactly.
ALTER TABLE exposures ADD COLUMN path_bytes BLOB;

-- Schema 6. The activity log becomes tamper-evident (issue 11): each entry carries an HMAC, under
-- a key derived from the data key, over its own content and the previous entry's MAC, so an
-- edit, an insertion or a deletion breaks the chain from that entry on. The entries already
-- there are chained by Vault::open in the same transaction as this migration, so a NULL later
-- means tampering. Append-only: never edit a released migration.

ALTER TABLE activity ADD COLUMN mac BLOB;

-- Issue 16: how sure the scan was that a found token is a key, and the tokens the user said are
-- not keys.

-- high: its own format, or a secret Keyward holds; medium: a provider's shape as the value of a
-- field its name or parent section names; low: a guess (the provider only elsewhere on the line).
-- Exposures found before this column are high: the scan then reported only what it was sure of
-- or what is now reported at least as surely.
ALTER TABLE exposures ADD COLUMN confidence TEXT NOT NULL DEFAULT 'high'
    CHECK (confidence IN ('high', 'medium', 'low'));

-- Found tokens the user marked "not a key" (a test fixture's hash, someone's id), by keyed
-- fingerprint (never the token): later scans leave them out. The label is redacted.
CREATE TABLE not_keys (
    id          INTEGER PRIMARY KEY,
    fingerprint BLOB NOT NULL UNIQUE,
    provider    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    label       TEXT NOT NULL,
    place       TEXT,                           -- where it was when marked (path:line)
    marked_at   TEXT NOT NULL
);

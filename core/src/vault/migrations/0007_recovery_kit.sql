-- Schema 7. The recovery kit (issue 11): the master key wrapped a second time, by a key derived
-- from a random recovery key the user printed, so a vault whose keychain is gone (a new machine,
-- a reinstalled OS) or whose passphrase is forgotten still opens. NULL: no kit.

ALTER TABLE vault_meta ADD COLUMN recovery_master BLOB;

-- Schema 10. Rotations the scheduler proposed (policy `auto = "propose"`, or a key it cannot
-- rotate itself): one per key, so a due key is proposed once and not every ten minutes. A
-- rotated key has a new id, so its successor is proposed again when it is due in turn.

CREATE TABLE rotation_proposals (
    key_id      TEXT PRIMARY KEY REFERENCES api_keys (id),
    proposed_at TEXT NOT NULL,
    -- The policy's `auto` when proposed: `on` means Keyward tried and could not rotate it itself
    -- (not tried again until the key changes); `propose` keys are rotated if `auto` becomes `on`.
    auto        TEXT NOT NULL,
    why         TEXT NOT NULL                  -- what was said (never a secret)
);

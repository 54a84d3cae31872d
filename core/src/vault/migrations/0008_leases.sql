-- Schema 8. Leases (issue 12): one process drives a job. The desktop app and `keyward daemon`
-- (or two daemons) share one vault; the holder of a job's lease runs it and renews the lease
-- while it runs, so each fire time runs once, and a holder that died (SIGKILL, power lost) is
-- taken over once its lease expires. Rotations take one per key.

CREATE TABLE leases (
    name        TEXT PRIMARY KEY,   -- 'job:audit', 'job:sync:<connector>', …
    holder      TEXT NOT NULL,      -- a random id of the holding process's run
    holder_name TEXT NOT NULL,      -- what the other side is told: "keyward daemon (pid 4242 on build-1)"
    taken_at    TEXT NOT NULL,
    expires_at  TEXT NOT NULL       -- renewed while the work runs; past it, anyone may take over
);

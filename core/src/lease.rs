//! Leases: one process drives a piece of work. The desktop app, `keyward daemon` (or two of
//! them) and the CLI share one vault; a lease row says who runs a job (and, with rotation, who
//! drives a key's rotation) and until when. The holder renews it while it works and gives it back
//! when done; a holder that died without giving it back (SIGKILL, power lost) is taken over once
//! its lease expires. Everything happens in short `IMMEDIATE` transactions, so two processes
//! deciding at the same instant are put in order by SQLite.
//!
//! The vault file may have been edited by an attacker: a row whose times do not parse counts as
//! expired (it can be taken), and a holder's name is shown only through the callers' sanitising.

use chrono::{DateTime, Utc};
use rusqlite::Transaction;

use crate::vault::Vault;
use crate::{Error, store};

/// The longest a lease may last: a row claiming more (the vault file edited to hold a job
/// for ever) holds nothing.
pub const LONGEST: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Who holds leases: one run of one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    id: String,
    name: String,
    /// `Some`: its leases end with this process (see [`Holder::ending_with_process`]); `None`:
    /// they last their whole term.
    pid: Option<u32>,
    host: String,
}

impl Holder {
    /// This process, described as `what` ("keyward daemon", "Keyward app"): the name the other
    /// side is shown is `what (pid N on HOST)`. Each call is a new holder.
    pub fn this_process(what: &str) -> Self {
        let (pid, host) = (std::process::id(), hostname());
        Self { id: uuid::Uuid::now_v7().to_string(), name: format!("{what} (pid {pid} on {host})"), pid: None, host: pids_here() }
    }

    /// This process, holding leases that end with it: another process on this machine takes
    /// them over at once when it is gone, without waiting for them to expire. For work whose
    /// lease is long (a rotation's outlasts any step); a scheduled job's short lease is simply
    /// left to expire, and a turn that paces a provider must last its term whatever becomes
    /// of the process.
    pub fn ending_with_process(what: &str) -> Self {
        Self { pid: Some(std::process::id()), ..Self::this_process(what) }
    }

    /// What other processes are told holds the lease.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The machine's name, or `this machine`.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(name) if ok && !name.is_empty() => name.to_owned(),
        _ => "this machine".to_owned(),
    }
}

/// Where this process's pids mean something: the machine's name and the pid namespace (a
/// container, a Flatpak sandbox, a pod sharing the host name each count pids on their own).
fn pids_here() -> String {
    let namespace = std::fs::read_link("/proc/self/ns/pid").map(|p| p.display().to_string()).unwrap_or_default();
    format!("{} {namespace}", hostname())
}

/// Whether process `pid` runs on this machine (it may belong to another user).
pub(crate) fn process_alive(pid: i64) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

/// Someone else's live lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldElsewhere {
    /// The holder's name ("keyward daemon (pid 4242 on build-1)"), as stored: sanitise to show.
    pub holder: String,
    /// When it expires unless renewed.
    pub until: DateTime<Utc>,
}

/// Takes the lease `name` for `ttl` inside `tx`: free, expired, or already this holder's.
/// Otherwise says who holds it.
pub(crate) fn take(
    tx: &Transaction<'_>,
    name: &str,
    holder: &Holder,
    ttl: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<Option<HeldElsewhere>, Error> {
    if let Some(other) = live(tx, name, now)?.filter(|(id, _)| *id != holder.id).map(|(_, held)| held) {
        return Ok(Some(other));
    }
    let taker =
        store::leases::Taker { holder: &holder.id, holder_name: &holder.name, pid: holder.pid, host: &holder.host };
    store::leases::put(tx, name, &taker, now, expiry(now, ttl))?;
    Ok(None)
}

/// The live lease on `name`, with its holder's id.
fn live(conn: &rusqlite::Connection, name: &str, now: DateTime<Utc>) -> Result<Option<(String, HeldElsewhere)>, Error> {
    Ok(store::leases::read(conn, name)?.and_then(|row| {
        // A holder on this machine whose process is gone (SIGKILL, a crash) holds nothing: no
        // need to wait for its lease to run out. (A reused pid only makes this fall back to the
        // expiry.)
        if row.host.as_deref() == Some(pids_here().as_str()) && row.pid.is_some_and(|pid| !process_alive(pid)) {
            return None;
        }
        let until = row.expires_at?;
        let believable = until <= now + chrono::Duration::from_std(LONGEST).expect("a day fits");
        (until > now && believable).then_some((row.holder, HeldElsewhere { holder: row.holder_name, until }))
    }))
}

/// `now + ttl`, rounded up to the whole second it is stored as: a lease never lasts less than
/// asked (a second-long lease taken at .9 would otherwise end a tenth of a second later).
fn expiry(now: DateTime<Utc>, ttl: std::time::Duration) -> DateTime<Utc> {
    use chrono::Timelike;
    let end = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1));
    match end.nanosecond() {
        0 => end,
        _ => end.with_nanosecond(0).unwrap_or(end) + chrono::Duration::seconds(1),
    }
}

/// Takes the lease `name` on its own (see [`take`]).
pub fn acquire(
    vault: &mut Vault,
    name: &str,
    holder: &Holder,
    ttl: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<Option<HeldElsewhere>, Error> {
    let tx = vault.write()?;
    let held = take(&tx, name, holder, ttl, now)?;
    tx.commit()?;
    Ok(held)
}

/// Extends this holder's lease on `name` to `now + ttl`. False when it is no longer this
/// holder's (it expired and another process took it): the caller's work may now run twice.
pub fn renew(
    vault: &mut Vault,
    name: &str,
    holder: &Holder,
    ttl: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let tx = vault.write()?;
    let renewed = store::leases::extend(&tx, name, &holder.id, expiry(now, ttl))?;
    tx.commit()?;
    Ok(renewed)
}

/// Gives the lease back (if this holder still has it).
pub(crate) fn release_in(tx: &Transaction<'_>, name: &str, holder: &Holder) -> Result<(), Error> {
    store::leases::delete(tx, name, &holder.id)
}

/// Gives the lease back on its own.
pub fn release(vault: &mut Vault, name: &str, holder: &Holder) -> Result<(), Error> {
    let tx = vault.write()?;
    release_in(&tx, name, holder)?;
    tx.commit()?;
    Ok(())
}

/// Who holds `name` now, if anyone.
pub fn holder_of(vault: &Vault, name: &str, now: DateTime<Utc>) -> Result<Option<HeldElsewhere>, Error> {
    Ok(live(vault.conn(), name, now)?.map(|(_, held)| held))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use crate::crypto::KdfParams;
    use std::time::Duration;

    fn vault(dir: &tempfile::TempDir) -> Vault {
        let fast = KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };
        Vault::create_with(&dir.path().join("vault.db"), Some(&Secret::new("pw".into())), fast).unwrap()
    }

    #[test]
    fn a_lease_is_one_holders_until_it_expires_or_is_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(&dir);
        let (a, b) = (Holder::this_process("keyward daemon"), Holder::this_process("Keyward app"));
        assert!(a.name().starts_with(&format!("keyward daemon (pid {} on ", std::process::id())), "{}", a.name());
        let t0 = Utc::now();
        let ttl = Duration::from_secs(10);
        assert_eq!(acquire(&mut v, "job:audit", &a, ttl, t0).unwrap(), None);
        // Taken again by its holder: fine. By another: refused, naming the holder.
        assert_eq!(acquire(&mut v, "job:audit", &a, ttl, t0).unwrap(), None);
        let held = acquire(&mut v, "job:audit", &b, ttl, t0).unwrap().unwrap();
        assert_eq!(held.holder, a.name());
        assert_eq!(holder_of(&v, "job:audit", t0).unwrap().unwrap().holder, a.name());
        // Other names are free.
        assert_eq!(acquire(&mut v, "job:scan", &b, ttl, t0).unwrap(), None);
        // Renewed: still a's past the first expiry.
        let t1 = t0 + chrono::Duration::seconds(8);
        assert!(renew(&mut v, "job:audit", &a, ttl, t1).unwrap());
        assert!(acquire(&mut v, "job:audit", &b, ttl, t0 + chrono::Duration::seconds(12)).unwrap().is_some());
        // Not renewed (the holder died): past its expiry, b takes over, and a learns it lost it.
        let t2 = t1 + chrono::Duration::seconds(11);
        assert_eq!(acquire(&mut v, "job:audit", &b, ttl, t2).unwrap(), None);
        assert!(!renew(&mut v, "job:audit", &a, ttl, t2).unwrap());
        // a's release does not free b's lease; b's does.
        release(&mut v, "job:audit", &a).unwrap();
        assert!(holder_of(&v, "job:audit", t2).unwrap().is_some());
        release(&mut v, "job:audit", &b).unwrap();
        assert_eq!(holder_of(&v, "job:audit", t2).unwrap(), None);
    }

    #[test]
    fn a_lease_row_edited_into_nonsense_holds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(&dir);
        v.conn()
            .execute_batch(
                "INSERT INTO leases (name, holder, holder_name, taken_at, expires_at)
                     VALUES ('job:audit', 'x', 'someone', 'now', 'never');
                 INSERT INTO leases VALUES ('job:scan', X'00', 7, 1.5, X'ff', 'pid', X'01');
                 INSERT INTO leases (name, holder, holder_name, taken_at, expires_at)
                     VALUES ('job:sync:a', 'x', 'someone', '2026-01-01T00:00:00Z', '9999-12-31T00:00:00Z');",
            )
            .unwrap();
        let me = Holder::this_process("keyward daemon");
        let now = Utc::now();
        assert_eq!(holder_of(&v, "job:audit", now).unwrap(), None);
        assert_eq!(holder_of(&v, "job:scan", now).unwrap(), None);
        assert_eq!(holder_of(&v, "job:sync:a", now).unwrap(), None, "a lease for ever holds nothing");
        assert_eq!(acquire(&mut v, "job:audit", &me, Duration::from_secs(5), now).unwrap(), None);
        assert_eq!(acquire(&mut v, "job:scan", &me, Duration::from_secs(5), now).unwrap(), None);
    }

    /// A holder on this machine whose process is gone (SIGKILL) holds nothing, before its
    /// lease runs out; one whose process lives keeps it.
    #[test]
    fn a_dead_holder_on_this_machine_holds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(&dir);
        let mut dead = Holder::ending_with_process("a rotation");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        dead.pid = Some(child.id());
        let now = Utc::now();
        let hour = Duration::from_secs(3600);
        assert_eq!(acquire(&mut v, "rotation:k", &dead, hour, now).unwrap(), None);
        assert_eq!(holder_of(&v, "rotation:k", now).unwrap(), None, "its process has exited");
        let me = Holder::this_process("a rotation");
        assert_eq!(acquire(&mut v, "rotation:k", &me, hour, now).unwrap(), None, "taken over at once");
        let other = Holder::this_process("another rotation");
        assert_eq!(acquire(&mut v, "rotation:k", &other, hour, now).unwrap().unwrap().holder, me.name());
        // On another machine the pid means nothing here: only the expiry counts.
        let mut elsewhere = Holder::ending_with_process("a rotation");
        elsewhere.pid = Some(child.id());
        elsewhere.host = "another-machine pid:[1]".into();
        assert_eq!(acquire(&mut v, "rotation:j", &elsewhere, hour, now).unwrap(), None);
        assert!(holder_of(&v, "rotation:j", now).unwrap().is_some());
        // Other holders' leases last their term, whatever becomes of their process.
        let mut lasting = Holder::this_process("a found-key check");
        lasting.pid = None;
        assert_eq!(acquire(&mut v, "verify:datadog", &lasting, hour, now).unwrap(), None);
        let stored: Option<i64> =
            v.conn().query_row("SELECT pid FROM leases WHERE name = 'verify:datadog'", [], |r| r.get(0)).unwrap();
        assert_eq!(stored, None, "no process recorded: nothing to find dead");
    }
}

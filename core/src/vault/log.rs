//! The activity log's chain. Each entry's MAC covers its id, its content and the previous
//! entry's MAC, under a key only the unlocked vault has: whoever can write `vault.db` but lacks
//! the passphrase can delete, insert or edit entries, but not without [`verify`] naming the first
//! entry that no longer fits. Deleting the newest entries leaves a valid shorter chain; the head
//! (id and MAC of the newest entry) is therefore also written to a file beside the vault after
//! every append, and a chain that ends before the head is reported as truncated.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rusqlite::{Connection, params};

/// The "previous MAC" of the first entry.
const GENESIS: [u8; 32] = [0; 32];

/// One entry as stored (without its MAC).
pub(crate) use crate::activity::Activity as Row;

/// The MAC of `row` following `prev`.
pub(crate) fn mac(key: &[u8; 32], prev: &[u8], row: &Row) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("any key length");
    let id = row.id.to_be_bytes();
    let mut part = |p: Option<&[u8]>| match p {
        // A presence byte and a length before each field: no two different rows hash alike.
        Some(p) => {
            mac.update(&[1]);
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p);
        }
        None => mac.update(&[0]),
    };
    part(Some(prev));
    part(Some(&id));
    part(Some(row.at.as_bytes()));
    part(Some(row.action.as_bytes()));
    part(row.provider.as_deref().map(str::as_bytes));
    part(row.subject.as_deref().map(str::as_bytes));
    part(Some(row.outcome.as_bytes()));
    part(row.detail.as_deref().map(str::as_bytes));
    mac.finalize().into_bytes().to_vec()
}

/// Appends an entry (its id is the next one) inside the caller's write transaction; returns the
/// new head.
pub(crate) fn append(conn: &Connection, key: &[u8; 32], mut row: Row) -> Result<Head, rusqlite::Error> {
    let (prev_id, prev_mac) = match last_entry(conn)? {
        Some(h) => (h.id, h.mac),
        None => (0, GENESIS.to_vec()),
    };
    row.id = prev_id + 1;
    let mac = mac(key, &prev_mac, &row);
    conn.execute(
        "INSERT INTO activity (id, at, action, provider, subject, outcome, detail, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![row.id, row.at, row.action, row.provider, row.subject, row.outcome, row.detail, mac],
    )?;
    Ok(Head { id: row.id, mac })
}

/// The action of the entry that starts the chain at the schema 6 upgrade.
const START: &str = "log.start";
/// The action of an entry that records a break found before appending.
const BREAK: &str = "log.break";
/// The only action an older Keyward wrote (liveness checks): what may stand before `log.start`.
const LEGACY_ACTION: &str = "verify";

/// Chains the entries written before the log had MACs (the schema 6 migration), in id order,
/// and records that it did (`log.start`). Before that entry only liveness checks can stand — all
/// an older Keyward logged —, so a log made to look old to have edited entries re-chained shows
/// (see [`verify`]).
pub(crate) fn chain_existing(conn: &Connection, key: &[u8; 32], now: &str) -> Result<(), rusqlite::Error> {
    let rows = read(conn)?;
    let count = rows.len();
    let mut prev = GENESIS.to_vec();
    for (row, _) in rows {
        let m = mac(key, &prev, &row);
        conn.execute("UPDATE activity SET mac = ?2 WHERE id = ?1", params![row.id, m])?;
        prev = m;
    }
    append_own(
        conn,
        key,
        now,
        START,
        "ok",
        format!("the log became tamper-evident; {count} earlier entries were chained as found"),
    )
}

/// Appends one of the log's own entries (`log.start`, `log.break`).
fn append_own(
    conn: &Connection,
    key: &[u8; 32],
    now: &str,
    action: &str,
    outcome: &str,
    detail: String,
) -> Result<(), rusqlite::Error> {
    let row = Row {
        id: 0,
        at: now.to_owned(),
        action: action.to_owned(),
        provider: None,
        subject: None,
        outcome: outcome.to_owned(),
        detail: Some(detail),
    };
    append(conn, key, row).map(drop)
}

/// The newest entry's id and stored MAC (NULL, or a value that is not a blob, reads as none).
fn last_entry(conn: &Connection) -> Result<Option<Head>, rusqlite::Error> {
    conn.query_row(
        "SELECT id, CASE WHEN typeof(mac) = 'blob' THEN mac END FROM activity ORDER BY id DESC LIMIT 1",
        [],
        |r| Ok(Head { id: r.get(0)?, mac: r.get::<_, Option<Vec<u8>>>(1)?.unwrap_or_default() }),
    )
    .map(Some)
    .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
}

/// The newest entry's id and MAC, if any (to write the head after the upgrade).
pub(crate) fn current_head(conn: &Connection) -> Result<Option<Head>, rusqlite::Error> {
    last_entry(conn)
}

/// Before an append: when the head beside the vault says the log reached further, or another
/// entry stood where it ends, or is missing while the log has entries, the break is recorded
/// first, chained like any entry, so that the next head written does not hide it.
pub(crate) fn record_break(conn: &Connection, key: &[u8; 32], vault: &Path, now: &str) -> Result<(), rusqlite::Error> {
    let Some(last) = last_entry(conn)? else { return Ok(()) };
    let problem = match read_head(vault) {
        Err(e) => Some(format!("the head beside the vault was unreadable ({e})")),
        Ok(None) => Some("the head beside the vault was missing".to_owned()),
        // The head a new vault starts with: the log was empty; any entry since is after it.
        Ok(Some(h)) if h.id == 0 => None,
        Ok(Some(h)) if h.id > last.id => Some(format!(
            "the log ended at entry {} but its head said entry {}: entries were deleted, or the vault file was replaced by an older copy",
            last.id, h.id
        )),
        Ok(Some(h)) => {
            let at: Option<Vec<u8>> = conn
                .query_row(
                    "SELECT CASE WHEN typeof(mac) = 'blob' THEN mac END FROM activity WHERE id = ?1",
                    [h.id],
                    |r| r.get(0),
                )
                .unwrap_or(None);
            (!super::mac_eq(at.as_deref(), &h.mac))
                .then(|| format!("entry {} was not the one the head recorded: the vault file was replaced", h.id))
        }
    };
    match problem {
        Some(problem) => append_own(conn, key, now, BREAK, "broken", problem),
        None => Ok(()),
    }
}

/// An entry and its stored MAC (`None` when the column is NULL).
pub(crate) type Stored = (Row, Option<Vec<u8>>);

/// Every entry with its stored MAC, oldest first.
pub(crate) fn read(conn: &Connection) -> Result<Vec<Stored>, rusqlite::Error> {
    // Every column read as the type it must have: a value of another type stored by hand reads
    // as text (and fails its MAC), not as an error that would stop the check or every append.
    let mut stmt = conn.prepare(
        "SELECT id, CAST(at AS TEXT), CAST(action AS TEXT), CAST(provider AS TEXT), CAST(subject AS TEXT),
                CAST(outcome AS TEXT), CAST(detail AS TEXT), CASE WHEN typeof(mac) = 'blob' THEN mac END
         FROM activity ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            Row {
                id: r.get(0)?,
                at: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                action: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                provider: r.get(3)?,
                subject: r.get(4)?,
                outcome: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                detail: r.get(6)?,
            },
            r.get(7)?,
        ))
    })?;
    rows.collect()
}

/// The newest entry: its id and MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub id: i64,
    pub mac: Vec<u8>,
}

/// Where the head is kept: beside the vault (`vault.db.log-head`), so a vault file put back from
/// an older copy, or cut short, no longer matches it.
pub(crate) fn head_path(vault: &Path) -> PathBuf {
    let name = vault.file_name().and_then(|n| n.to_str()).unwrap_or("vault.db");
    vault.with_file_name(format!("{name}.log-head"))
}

const HEAD_MAGIC: &str = "keyward-activity-head v1";

/// Writes the head file (private, atomically). Several processes may append at once; a head
/// that ends up one entry behind is still a valid, slightly weaker, check.
pub(crate) fn write_head(vault: &Path, head: &Head) -> std::io::Result<()> {
    let text = format!("{HEAD_MAGIC}\n{} {}\n", head.id, B64.encode(&head.mac));
    super::files::write_atomically(&head_path(vault), text.as_bytes())
}

/// The head of a new vault's empty log, written when the vault is made: from then on a missing
/// head is a removed one.
pub(crate) fn write_empty_head(vault: &Path) -> std::io::Result<()> {
    write_head(vault, &Head { id: 0, mac: GENESIS.to_vec() })
}

/// Reads the head file: `Ok(None)` when there is none, an error text when it is not one. Read
/// as the hostile file it may be: no link followed, no FIFO waited on, at most 4 KiB.
pub(crate) fn read_head(vault: &Path) -> Result<Option<Head>, String> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = head_path(vault);
    let file =
        match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
    if !file.metadata().map_err(|e| e.to_string())?.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(4097).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() > 4096 {
        return Err("too large".into());
    }
    let text = String::from_utf8(bytes).map_err(|_| "not text".to_owned())?;
    let mut lines = text.lines();
    if lines.next() != Some(HEAD_MAGIC) {
        return Err("not a Keyward log head".into());
    }
    let (id, mac) = lines.next().and_then(|l| l.split_once(' ')).ok_or("no head entry")?;
    let id = id.parse::<i64>().map_err(|_| "bad entry id")?;
    let mac = B64.decode(mac).map_err(|_| "bad MAC")?;
    Ok(Some(Head { id, mac }))
}

/// Walks the chain and compares its end with the head file.
pub(crate) fn verify(
    conn: &Connection,
    key: &[u8; 32],
    head: Result<Option<Head>, String>,
) -> Result<LogCheck, rusqlite::Error> {
    let rows = read(conn)?;
    let entries = rows.len();
    let mut prev = GENESIS.to_vec();
    for (expected_id, (row, stored)) in (1..).zip(&rows) {
        let bad = |problem: &str| LogCheck::broken(entries, Some(row.id), problem);
        if row.id != expected_id {
            return Ok(bad(&format!("entry {expected_id} is missing before entry {}", row.id)));
        }
        let m = mac(key, &prev, row);
        if !super::mac_eq(stored.as_deref(), &m) {
            return Ok(bad(&format!(
                "entry {} was changed, inserted, or follows a deleted entry (its MAC does not fit the chain)",
                row.id
            )));
        }
        prev = m;
    }
    if let Some((row, _)) = rows.iter().find(|(r, _)| r.action == BREAK) {
        return Ok(LogCheck::broken(
            entries,
            Some(row.id),
            &format!("entry {} records a break: {}", row.id, row.detail.as_deref().unwrap_or("the log was cut")),
        ));
    }
    let starts: Vec<i64> = rows.iter().filter(|(r, _)| r.action == START).map(|(r, _)| r.id).collect();
    let start = starts.first().copied().unwrap_or(0);
    if starts.len() > 1 || rows.iter().any(|(r, _)| r.id < start && r.action != LEGACY_ACTION) {
        let at = starts.last().copied().unwrap_or(start);
        return Ok(LogCheck::broken(
            entries,
            Some(at),
            &format!(
                "the log was re-chained at entry {at} as if it came from an older Keyward: the entries before it cannot be trusted"
            ),
        ));
    }
    let last = rows.last().map(|(r, _)| r.id).unwrap_or(0);
    let head_state = match head {
        Err(e) => {
            return Ok(LogCheck::broken(entries, None, &format!("the head file beside the vault is unreadable: {e}")));
        }
        Ok(None) if entries > 0 => {
            return Ok(LogCheck::broken(
                entries,
                None,
                "the head beside the vault is missing: entries cut from the log's end could not be told",
            ));
        }
        Ok(None) => "missing",
        Ok(Some(h)) if h.id > last => {
            return Ok(LogCheck::broken(
                entries,
                None,
                &format!(
                    "the log ends at entry {last} but reached entry {} (entries were deleted from its end, or the vault file is an older copy)",
                    h.id
                ),
            ));
        }
        Ok(Some(h)) if h.id == 0 => {
            if last == 0 {
                "matches"
            } else {
                "behind"
            }
        }
        Ok(Some(h)) => {
            let at = rows.iter().find(|(r, _)| r.id == h.id).and_then(|(_, m)| m.as_deref());
            if !super::mac_eq(at, &h.mac) {
                return Ok(LogCheck::broken(
                    entries,
                    Some(h.id),
                    &format!("entry {} is not the one the head file recorded (the vault file was replaced)", h.id),
                ));
            }
            if h.id == last { "matches" } else { "behind" }
        }
    };
    Ok(LogCheck { entries, intact: true, first_bad: None, problem: None, head: head_state.to_owned() })
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct LogCheck {
    /// How many entries the log holds.
    pub entries: usize,
    /// Whether every entry fits the chain and the chain reaches the head.
    pub intact: bool,
    /// The first entry that does not fit, when one is to blame.
    pub first_bad: Option<i64>,
    /// What is wrong, in words.
    pub problem: Option<String>,
    /// The head file: `matches` the newest entry, is `behind` it (another process appended
    /// since), or is `missing` (a vault from before the head file, or the file was removed —
    /// truncation cannot be told then).
    pub head: String,
}

impl LogCheck {
    fn broken(entries: usize, first_bad: Option<i64>, problem: &str) -> Self {
        LogCheck { entries, intact: false, first_bad, problem: Some(problem.to_owned()), head: "-".into() }
    }
}

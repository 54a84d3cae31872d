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
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub id: i64,
    pub at: String,
    pub action: String,
    pub provider: Option<String>,
    pub subject: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

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
    let last: Option<(i64, Option<Vec<u8>>)> = conn
        .query_row("SELECT id, mac FROM activity ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map(Some)
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
    let (prev_id, prev_mac) = match last {
        Some((id, mac)) => (id, mac.unwrap_or_default()),
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

/// Chains the entries written before the log had MACs (the schema 6 migration), in id order.
pub(crate) fn chain_existing(conn: &Connection, key: &[u8; 32]) -> Result<(), rusqlite::Error> {
    let rows = read(conn)?;
    let mut prev = GENESIS.to_vec();
    for (row, _) in rows {
        let m = mac(key, &prev, &row);
        conn.execute("UPDATE activity SET mac = ?2 WHERE id = ?1", params![row.id, m])?;
        prev = m;
    }
    Ok(())
}

/// An entry and its stored MAC (`None` when the column is NULL).
pub(crate) type Stored = (Row, Option<Vec<u8>>);

/// Every entry with its stored MAC, oldest first.
pub(crate) fn read(conn: &Connection) -> Result<Vec<Stored>, rusqlite::Error> {
    let mut stmt =
        conn.prepare("SELECT id, at, action, provider, subject, outcome, detail, mac FROM activity ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            Row {
                id: r.get(0)?,
                at: r.get(1)?,
                action: r.get(2)?,
                provider: r.get(3)?,
                subject: r.get(4)?,
                outcome: r.get(5)?,
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

/// Reads the head file: `Ok(None)` when there is none, an error text when it is not one.
pub(crate) fn read_head(vault: &Path) -> Result<Option<Head>, String> {
    let path = head_path(vault);
    let text = match std::fs::read(&path) {
        Ok(bytes) if bytes.len() <= 4096 => String::from_utf8(bytes).map_err(|_| "not text".to_owned())?,
        Ok(_) => return Err("too large".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
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
    let last = rows.last().map(|(r, _)| r.id).unwrap_or(0);
    let head_state = match head {
        Err(e) => {
            return Ok(LogCheck::broken(entries, None, &format!("the head file beside the vault is unreadable: {e}")));
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

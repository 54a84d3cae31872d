//! The `policies` table: every policy text an audit has used, by digest, and when it was last
//! adopted. The most recently adopted one is in force, and stays so while the file is broken.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;

/// A recorded policy.
pub(crate) struct PolicyRow {
    /// SHA-256 of the text, hex.
    pub digest: String,
    pub text: String,
    /// When it was last adopted (`None` only in a vault edited by hand).
    pub adopted_at: Option<DateTime<Utc>>,
}

/// The text recorded under a digest.
pub(crate) fn text_of(conn: &Connection, digest: &str) -> Result<Option<String>, Error> {
    Ok(conn.query_row("SELECT text FROM policies WHERE digest = ?1", [digest], |r| r.get("text")).optional()?)
}

/// The most recently adopted policy (the later recorded on a tie).
pub(crate) fn latest(conn: &Connection) -> Result<Option<PolicyRow>, Error> {
    Ok(conn
        .query_row(
            "SELECT digest, text, adopted_at FROM policies ORDER BY adopted_at DESC, rowid DESC LIMIT 1",
            [],
            |r| {
                Ok(PolicyRow {
                    digest: r.get("digest")?,
                    text: r.get("text")?,
                    adopted_at: super::instant(r, "adopted_at")?,
                })
            },
        )
        .optional()?)
}

/// Records a policy as adopted at `at`: a new row, or a known one re-adopted (its text kept).
pub(crate) fn adopt(conn: &Connection, digest: &str, text: &str, at: DateTime<Utc>) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO policies (digest, text, adopted_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (digest) DO UPDATE SET adopted_at = excluded.adopted_at",
        params![digest, text, crate::time::to_string(at)],
    )?;
    Ok(())
}

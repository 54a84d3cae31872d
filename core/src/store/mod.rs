//! The store layer: the SQL of the vault, one module per group of tables. Modules above it keep
//! their logic (validation, sealing, MACs, reconciling) and call these functions; rows are read
//! by column name and instants come back typed. Statements that change rows take the caller's
//! transaction (`Vault::write`, which begins `IMMEDIATE`) when they are part of a larger change.
//!
//! Moving in table by table (issue 12, item 3): `connectors`, `settings`, and the connector
//! removal's changes to `findings`, `api_keys`, `resources` and `owners` so far.
//! `scripts/check-layering.sh` keeps SQL out of every other module not yet moved (the list there
//! only shrinks).

pub(crate) mod connectors;
pub(crate) mod exposures;
pub(crate) mod findings;
pub(crate) mod inventory;
pub(crate) mod settings;

use chrono::{DateTime, Utc};

/// An instant as stored (RFC 3339, UTC); one that does not parse — a vault edited by hand —
/// reads as `None`, never as an error that would hide every other row.
pub(crate) fn instant(r: &rusqlite::Row<'_>, column: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
    Ok(r.get::<_, Option<String>>(column)?.as_deref().and_then(crate::time::parse))
}

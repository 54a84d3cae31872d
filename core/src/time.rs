//! One textual form for instants in the vault and in output: RFC 3339, UTC, whole seconds.
//! Strings in this form sort in time order, which the SQL relies on.

use chrono::{DateTime, SecondsFormat, Utc};

/// Formats an instant.
pub fn to_string(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The current instant, formatted. Only edges (sync bookkeeping, creation stamps) call this;
/// audit rules receive `now` as a parameter.
pub fn now_string() -> String {
    to_string(Utc::now())
}

/// Whole days (floored) from `t` to `now`; negative when `t` is in the future.
pub fn age_days(t: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - t).num_seconds().div_euclid(86_400)
}

/// Parses a stored instant.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

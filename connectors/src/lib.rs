//! Provider connectors: each one reads a provider's API-key inventory and returns plain data.
//!
//! This crate exists so that talking to providers (their SDKs, paging, throttling, error shapes)
//! lives apart from what Keyward does with the answers. It deliberately knows nothing about the
//! vault, encryption at rest, audits or scheduling: a connector receives its configuration and
//! returns an [`Inventory`]; `keyward-core` stores it and judges it.
#![deny(missing_docs)]

mod error;
pub mod http;
pub mod liveness;
mod model;
pub mod paging;
pub mod providers;

// The providers' clients, by the names the rest of Keyward has long used.
#[cfg(feature = "aws")]
pub use providers::aws;
#[cfg(feature = "aws")]
pub use providers::aws_apigateway as apigateway;
pub use providers::mongodb_atlas as atlas;
pub use providers::{datadog, fastly, linear, newrelic};

pub use error::{ConnectorError, ErrorKind};
pub use model::{Calls, Check, Inventory, KeyStatus, LastUse, OwnerFacts, Progress, RemoteKey, Resource};

/// A JSON string field, or `""` (provider answers are `serde_json::Value`s).
pub(crate) fn str_of(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// A JSON time field, in any format [`parse_time`] reads.
pub(crate) fn time_of(v: &serde_json::Value) -> Option<chrono::DateTime<chrono::Utc>> {
    parse_time(v.as_str()?)
}

/// Parses the time formats providers write: RFC 3339 (with `Z`, an offset or none; fractions
/// optional) and `YYYY-MM-DD HH:MM:SS`. Naive times are UTC.
pub fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, NaiveDateTime, Utc};
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%:z"]
        .iter()
        .find_map(|f| {
            DateTime::parse_from_str(s, f)
                .map(|t| t.with_timezone(&Utc))
                .ok()
                .or_else(|| NaiveDateTime::parse_from_str(s, f).ok().map(|n| n.and_utc()))
        })
}

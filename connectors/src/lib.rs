//! Provider connectors: each one reads a provider's API-key inventory and returns plain data.
//!
//! This crate exists so that talking to providers (their SDKs, paging, throttling, error shapes)
//! lives apart from what Keyward does with the answers. It deliberately knows nothing about the
//! vault, encryption at rest, audits or scheduling: a connector receives its configuration and
//! returns an [`Inventory`]; `keyward-core` stores it and judges it.
#![deny(missing_docs)]

mod error;
pub mod http;
mod model;

#[cfg(feature = "aws")]
pub mod aws;

pub use error::{ConnectorError, ErrorKind};
pub use model::{Inventory, KeyStatus, LastUse, OwnerFacts, Progress, RemoteKey};

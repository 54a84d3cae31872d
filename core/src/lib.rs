//! Keyward's core: the encrypted vault, the key inventory, sync and audit.
//!
//! The desktop shell (`src-tauri`) and the CLI (`cli`) are thin layers over [`api`]; nothing in
//! this crate knows about Tauri, clap or the webview, and CI checks that it does not depend on
//! them. Connectors (in `keyward-connectors`) return plain data; this crate stores and judges it.
#![deny(missing_docs)]

pub mod activity;
pub mod api;
pub mod audit;
pub mod connector;
pub mod crypto;
pub mod demo;
mod error;
pub mod exposure;
pub mod findings;
pub mod inventory;
pub mod lease;
pub mod model;
pub mod notify;
pub mod policy;
pub mod report;
pub mod scan;
pub mod schedule;
mod settings;
pub mod sync;
pub mod time;
pub mod vault;

pub use error::Error;
pub use keyward_secret::Secret;

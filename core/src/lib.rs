//! Keyward's core: the encrypted vault, the key inventory, sync and audit.
//!
//! The desktop shell (`src-tauri`) and the CLI (`cli`) are thin layers over [`api`], the only
//! public module (the others are public only with the `internals` feature, for this crate's own
//! tests, benches and the fuzz targets); nothing in
//! this crate knows about Tauri, clap or the webview, and CI checks that it does not depend on
//! them. Connectors (in `keyward-connectors`) return plain data; this crate stores and judges it.
#![deny(missing_docs)]
// Without `internals`, what only tests reach is unused here: not worth a warning each.
#![cfg_attr(not(feature = "internals"), allow(dead_code, unused_imports))]

pub mod api;
mod error;
mod handover;
mod settings;
mod store;

/// The modules behind [`api`]: public only with the `internals` feature (core's own tests and
/// benches, the fuzz targets), so the CLI and the app cannot reach past `api`.
macro_rules! behind_api {
    ($($name:ident),* $(,)?) => {
        $(
            #[cfg(feature = "internals")]
            pub mod $name;
            #[cfg(not(feature = "internals"))]
            pub(crate) mod $name;
        )*
    };
}

behind_api!(
    activity,
    audit,
    auto_rotation,
    connector,
    crypto,
    demo,
    exposure,
    findings,
    inventory,
    lease,
    manual_rotation,
    model,
    notify,
    policy,
    report,
    rotation,
    scan,
    schedule,
    sync,
    time,
    vault
);

pub use error::Error;
pub use keyward_secret::Secret;

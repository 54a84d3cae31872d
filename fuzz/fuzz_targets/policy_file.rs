//! The policy file (`policy.toml`, which anything that can write the home can edit): parsed or
//! refused with a reason, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = keyward_core::audit::Policy::parse(text) {
            let _ = e.to_string();
        }
    }
});

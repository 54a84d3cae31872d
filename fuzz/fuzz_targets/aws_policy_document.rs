//! IAM policy documents as IAM returns them (URL-encoded JSON) to the administrator check.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = keyward_connectors::aws::document_allows_all(text);
    }
});

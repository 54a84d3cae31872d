//! The scanner on arbitrary file contents: no panic, no hang, and a held secret never reaches
//! an excerpt or a label (what is stored in the vault and shown).
#![no_main]
use std::sync::OnceLock;

use keyward_core::scan::{self, Detector, Index, Target};
use libfuzzer_sys::fuzz_target;

const HELD: &str = "heldSecretValue0123456789abcdefXYZ";

fn setup() -> &'static (Detector, Index) {
    static SETUP: OnceLock<(Detector, Index)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let mut index = Index::new(&[9; 32]);
        index.add_secret(
            HELD,
            Target {
                key_id: Some("k1".into()),
                provider: "linear".into(),
                kind: "api_key".into(),
                connector: None,
                label: "key k1".into(),
            },
        );
        (Detector::new(), index)
    })
}

fuzz_target!(|data: &[u8]| {
    let (detector, index) = setup();
    for hit in scan::scan_bytes(data, detector, index) {
        assert!(!hit.excerpt.contains(HELD), "a held secret in an excerpt: {:?}", hit.excerpt);
        assert!(!hit.label.contains(HELD), "a held secret in a label: {:?}", hit.label);
    }
});

//! Sealed values and the recovery key as read from a (possibly forged) vault file or a typed
//! kit: arbitrary bytes never open and never panic; what is sealed opens to itself under its own
//! associated data only.
#![no_main]
use keyward_core::crypto::{self, Key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = Key::from_bytes(&[7; 32]).expect("32 bytes");
    assert!(crypto::open(&key, data, b"keyward/fuzz").is_err(), "forged bytes opened");
    let sealed = crypto::seal(&key, data, b"keyward/fuzz").expect("seals");
    assert_eq!(&*crypto::open(&key, &sealed, b"keyward/fuzz").expect("opens"), data);
    assert!(crypto::open(&key, &sealed, b"keyward/other").is_err());
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = keyward_core::vault::recovery::parse(text);
    }
});

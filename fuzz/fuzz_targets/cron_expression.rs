//! Cron expressions as `schedule set --cron` accepts them: refused, or accepted with next fire
//! times that come (the scheduler must not spin on an expression that never fires).
#![no_main]
use chrono::TimeZone as _;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(schedule) = keyward_core::schedule::parse_cron(text) {
        let from = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let _ = schedule.after(&from).take(3).count();
    }
});

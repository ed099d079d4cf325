//! Any text as a .vcf file to import: every card becomes a customer or a reason, never a
//! panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::formats::vcard::parse_vcards;
use shared::Timestamp;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut n = 0u64;
    let mut ids = || {
        n += 1;
        format!("c-{n}")
    };
    let _ = parse_vcards(&text, &mut ids, Timestamp(1_795_341_600_000));
});

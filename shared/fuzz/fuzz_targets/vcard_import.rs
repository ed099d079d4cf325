//! Any bytes as a .vcf file to import, the way the import screen reads them (encoding
//! detected): every card becomes a customer or a reason, and the report's unused
//! properties are counted, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::formats::text::decode_detected;
use shared::formats::vcard::{parse_vcards, unused_properties};
use shared::Timestamp;

fuzz_target!(|data: &[u8]| {
    let (text, _) = decode_detected(data);
    let mut n = 0u64;
    let mut ids = || {
        n += 1;
        format!("c-{n}")
    };
    let _ = parse_vcards(&text, &mut ids, Timestamp(1_795_341_600_000));
    let _ = unused_properties(&text);
});

//! Any text as a CSV file to import: parsing, layout recognition and every row's mapping
//! answer a result or a reason, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::formats::import::{parse_csv, recognise, row_to_customer};
use shared::Timestamp;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(file) = parse_csv(&text) else { return };
    let (_, targets) = recognise(&file.headers);
    let mut n = 0u64;
    let mut ids = || {
        n += 1;
        format!("c-{n}")
    };
    for (_, row) in file.rows.iter().take(64) {
        let _ = row_to_customer(row, &targets, &mut ids, Timestamp(1_795_341_600_000));
    }
});

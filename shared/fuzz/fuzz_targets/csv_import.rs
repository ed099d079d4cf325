//! Any bytes as a CSV file to import, the way the import screen reads them: the encoding
//! detected and decoded, parsing, layout recognition, the report's unused columns and stage
//! table, and every row's mapping answer a result or a reason, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::formats::import::{
    parse_csv, recognise, row_to_customer_with, stage_values, unused_columns, ImportChoices,
};
use shared::formats::text::decode_detected;
use shared::Timestamp;

fuzz_target!(|data: &[u8]| {
    let (text, _) = decode_detected(data);
    let Ok(file) = parse_csv(&text) else { return };
    let (_, targets) = recognise(&file.headers);
    let _ = unused_columns(&file, &targets);
    let mut choices = ImportChoices::for_file(&file, &targets);
    if let Some(first) = stage_values(&file, &targets, &choices.stages).first() {
        choices.stages.set(&first.value.clone(), None);
    }
    let mut n = 0u64;
    let mut ids = || {
        n += 1;
        format!("c-{n}")
    };
    for (_, row) in file.rows.iter().take(64) {
        let _ = row_to_customer_with(row, &targets, &choices, &mut ids, Timestamp(1_795_341_600_000));
    }
});

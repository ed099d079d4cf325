//! Times, natively, the part of an import that depends on the file's family — reading the
//! bytes (encoding), parsing, recognising the layout, mapping every row to a customer —
//! for 10,000 rows (or cards) of each fixture in `shared/tests/fixtures/imports`, made by
//! repeating the fixture's data rows in its own encoding. What follows the mapping
//! (building the documents, writing IndexedDB) is the same for every family and is
//! measured in the browser by `scripts/bench.sh`. Prints the table of IMPORTS.md.
//! `cargo run --release -p fieldbook-shared --example import_families`.
// Native only (never in a wasm): the standard sorts are fine here (see `shared::order`).
#![allow(clippy::disallowed_methods)]
use std::time::Instant;

use shared::formats::import::{
    parse_csv, recognise, row_to_customer_with, unused_columns, ImportChoices,
};
use shared::formats::text::{decode, decode_detected, TextEncoding};
use shared::formats::vcard::{parse_vcards, unused_properties};
use shared::Timestamp;

const ROWS: usize = 10_000;

fn main() {
    let dir = format!("{}/tests/fixtures/imports", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    println!("| file | layout | encoding | size | rows | imported | refused | warnings | columns not imported (values) | read, parse, map (median of 3) |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for name in names {
        let original = std::fs::read(format!("{dir}/{name}")).expect("fixture");
        let bytes = if name.ends_with(".vcf") {
            repeat_cards(&original)
        } else {
            repeat_rows(&original)
        };
        let mut times = Vec::new();
        let mut outcome = None;
        for _ in 0..3 {
            let started = Instant::now();
            let result = if name.ends_with(".vcf") {
                import_cards(&bytes)
            } else {
                import_csv(&bytes)
            };
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            outcome = Some(result);
        }
        times.sort_by(f64::total_cmp);
        let o = outcome.expect("three runs");
        println!(
            "| {name} | {} | {} | {:.1} MB | {} | {} | {} | {} | {} | {:.0} ms |",
            o.layout,
            o.encoding.label(),
            bytes.len() as f64 / 1e6,
            o.rows,
            o.imported,
            o.refused,
            o.warnings,
            if o.unused.is_empty() {
                "none".to_string()
            } else {
                o.unused
                    .iter()
                    .map(|(column, n)| format!("{column} ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            times[1]
        );
    }
}

struct Outcome {
    layout: String,
    encoding: TextEncoding,
    rows: usize,
    imported: usize,
    refused: usize,
    warnings: usize,
    unused: Vec<(String, usize)>,
}

fn ids() -> impl FnMut() -> String {
    let mut n = 0u64;
    move || {
        n += 1;
        format!("00000000-0000-4000-8000-{n:012}")
    }
}

fn import_csv(bytes: &[u8]) -> Outcome {
    let (text, encoding) = decode_detected(bytes);
    let file = parse_csv(&text).expect("a fixture parses");
    let (layout, targets) = recognise(&file.headers);
    let choices = ImportChoices::for_file(&file, &targets);
    let mut ids = ids();
    let (mut imported, mut refused, mut warnings) = (0, 0, 0);
    for (_, row) in &file.rows {
        match row_to_customer_with(row, &targets, &choices, &mut ids, Timestamp(0)) {
            Ok(row) => {
                imported += 1;
                warnings += row.warnings.len();
            }
            Err(_) => refused += 1,
        }
    }
    Outcome {
        layout: layout.label().to_string(),
        encoding,
        rows: file.rows.len(),
        imported,
        refused,
        warnings,
        unused: unused_columns(&file, &targets),
    }
}

fn import_cards(bytes: &[u8]) -> Outcome {
    let (text, encoding) = decode_detected(bytes);
    let cards = parse_vcards(&text, &mut ids(), Timestamp(0));
    let imported = cards.iter().filter(|(_, card)| card.is_ok()).count();
    Outcome {
        layout: "vCard".into(),
        encoding,
        rows: cards.len(),
        imported,
        refused: cards.len() - imported,
        warnings: (cards.iter())
            .filter_map(|(_, card)| card.as_ref().ok())
            .map(|card| card.warnings.len())
            .sum(),
        unused: unused_properties(&text),
    }
}

/// The file with its data rows repeated up to [`ROWS`] rows, preamble and footer kept, in
/// the file's own encoding.
fn repeat_rows(original: &[u8]) -> Vec<u8> {
    let (text, encoding) = decode_detected(original);
    let file = parse_csv(&text).expect("a fixture parses");
    let first = file.rows.first().expect("data rows").0 as usize;
    let (last_line, last_row) = file.rows.last().expect("data rows");
    let last = *last_line as usize
        + last_row
            .iter()
            .map(|f| f.matches('\n').count())
            .sum::<usize>();
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let (head, body, foot) = (
        lines[..first - 1].concat(),
        lines[first - 1..last].concat(),
        lines[last..].concat(),
    );
    let mut out = head;
    for _ in 0..ROWS.div_ceil(file.rows.len()) {
        out.push_str(&body);
    }
    out.push_str(&foot);
    encode(&out, encoding, original)
}

fn repeat_cards(original: &[u8]) -> Vec<u8> {
    let (text, _) = decode_detected(original);
    let cards = parse_vcards(&text, &mut ids(), Timestamp(0)).len();
    text.repeat(ROWS.div_ceil(cards)).into_bytes()
}

/// Text in `encoding`, with the byte order mark the original had.
fn encode(text: &str, encoding: TextEncoding, original: &[u8]) -> Vec<u8> {
    match encoding {
        TextEncoding::Utf8 => {
            let mut out = if original.starts_with(&[0xef, 0xbb, 0xbf]) {
                vec![0xef, 0xbb, 0xbf]
            } else {
                Vec::new()
            };
            out.extend_from_slice(text.as_bytes());
            out
        }
        TextEncoding::Utf16Le => [0xff, 0xfe]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect(),
        TextEncoding::Utf16Be => [0xfe, 0xff]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect(),
        TextEncoding::Windows1252 => {
            // The inverse of the decoder's table, byte by byte.
            let table: Vec<(char, u8)> = (0x80..=0xffu8)
                .filter_map(|b| {
                    decode(&[b], TextEncoding::Windows1252)
                        .0
                        .chars()
                        .next()
                        .map(|c| (c, b))
                })
                .collect();
            text.chars()
                .map(|c| match table.iter().find(|(d, _)| *d == c) {
                    Some((_, b)) => *b,
                    None => u8::try_from(c as u32).unwrap_or(b'?'),
                })
                .collect()
        }
    }
}

//! Any bytes as a change from another device, applied to a customer's document the way a
//! device applies changes from the relay (checked first): reading the history then never
//! panics, lists every change once, and puts each in words.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::documents::book_doc::default_pipeline;
use shared::sync::blob::{apply_checked, single_change, KnownActors};

fuzz_target!(|data: &[u8]| {
    // The seed customer 5 as made on 2026-12-01 (a fixture: the corpus's changes depend
    // on its first change, whatever the schema has become since).
    let snapshot = include_bytes!("../../tests/fixtures/history-customer.automerge");
    let mut raw = automerge::AutoCommit::load(snapshot).expect("the fixture loads");
    // Up to three changes, each prefixed by its length (two bytes).
    let mut rest = data;
    while rest.len() > 2 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        let end = (2 + len).min(rest.len());
        if let Some(change) = single_change(&rest[2..end]) {
            let _ = apply_checked(&mut raw, change, &mut KnownActors::default());
        }
        rest = &rest[end..];
    }
    let n_changes = raw.get_changes(&[]).len();
    let history = shared::documents::history::history_of(
        raw.get_changes(&[]),
        &automerge::ActorId::from(vec![3u8; 16]),
        &default_pipeline(),
    );
    assert_eq!(history.len(), n_changes);
});

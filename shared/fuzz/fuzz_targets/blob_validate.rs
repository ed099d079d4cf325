//! Any bytes as an uploaded change or snapshot: validation accepts or refuses with a code,
//! never panics; what it accepts as a change is applied to a document the way a device
//! applies changes from the relay (checked first).
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::sync::blob::{apply_checked, single_change, validate, KnownActors};
use shared::sync::protocol::{BlobKind, DocumentId, Seq, Upload};

fuzz_target!(|data: &[u8]| {
    let (kind, bytes) = match data.split_first() {
        Some((0, rest)) => (BlobKind::Change, rest),
        Some((_, rest)) => (BlobKind::Snapshot { covers: Seq(0) }, rest),
        None => return,
    };
    let upload = Upload {
        document: DocumentId("c-fuzz".into()),
        kind,
        bytes: bytes.to_vec(),
    };
    if let Ok(valid) = validate(upload, 1 << 20) {
        if kind == BlobKind::Change {
            // As a device applies a change from the relay: checked first.
            if let Some(change) = single_change(&valid.upload.bytes) {
                let mut doc = automerge::AutoCommit::new();
                let _ = apply_checked(&mut doc, change, &mut KnownActors::default());
            }
        }
    }
});

//! Any bytes as an uploaded change or snapshot: validation accepts or refuses with a code,
//! never panics; what it accepts as a change loads into a document.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::sync::blob::validate;
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
            let mut doc = automerge_doc();
            let _ = doc.load_incremental(&valid.upload.bytes);
        }
    }
});

fn automerge_doc() -> automerge::Automerge {
    automerge::Automerge::new()
}

//! The relay's session state machine fed a sequence of frames (split by a length byte) and
//! runtime answers: it never panics, once closed it sends nothing more, and a session
//! admitted read-only (a team's viewer) never asks for anything to be stored.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::sync::protocol::{Seq, SpaceId};
use shared::sync::{RelayLimits, RelaySession, SessionEffect};
use shared::Timestamp;

fuzz_target!(|data: &[u8]| {
    let limits = RelayLimits {
        max_frame_bytes: 4096,
        max_blob_bytes: 1024,
        max_uploads_per_push: 8,
        ..RelayLimits::default()
    };
    let mut session = RelaySession::new(limits, Timestamp(0));
    let mut now = 0i64;
    let mut read_only = false;
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = (len as usize).min(tail.len());
        let (frame, tail) = tail.split_at(len);
        rest = tail;
        now += 1000;
        let closed_before = session.is_closed();
        let effects = session.frame(frame, Timestamp(now));
        if closed_before {
            assert!(effects.is_empty(), "a closed session answered a frame");
        }
        for effect in effects {
            let more = match effect {
                SessionEffect::Authenticate { space, .. } => {
                    if frame.len() % 2 == 0 {
                        read_only = frame.len() % 4 == 2;
                        let access = if read_only {
                            shared::sync::team::SpaceAccess::ReadOnly
                        } else {
                            shared::sync::team::SpaceAccess::ReadWrite
                        };
                        session.authenticated(space, Seq(3), access)
                    } else {
                        session.refused(
                            shared::sync::protocol::ErrorCode::Unauthorized,
                            "no".into(),
                        )
                    }
                }
                SessionEffect::Append { request_id, uploads, .. } => {
                    assert!(!read_only, "a read-only session asked to store a push");
                    let results = uploads
                        .iter()
                        .enumerate()
                        .map(|(i, _)| shared::sync::protocol::UploadResult {
                            seq: Seq(4 + i as u64),
                            duplicate: false,
                        })
                        .collect();
                    session.committed(request_id, results, Seq(4 + uploads.len() as u64))
                }
                SessionEffect::ReadEntries { request_id, .. } => {
                    session.entries(request_id, Vec::new(), Seq(3))
                }
                _ => Vec::new(),
            };
            drop(more);
        }
        let _ = session.tick(Timestamp(now));
        let _ = SpaceId(String::new());
    }
});

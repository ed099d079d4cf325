//! The relay's connection state machine (`RelayChannels`: one space after a plain Hello, or
//! one session per channel) fed a sequence of frames (split by a length byte) and runtime
//! answers: it never panics, once closed it sends nothing more, and a session admitted
//! read-only (a team's viewer) never asks for anything to be stored.
#![no_main]
use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use shared::sync::channels::Channel;
use shared::sync::protocol::{ErrorCode, Seq, UploadResult};
use shared::sync::team::SpaceAccess;
use shared::sync::{ChannelEffect, RelayChannels, RelayLimits, SessionEffect};
use shared::Timestamp;

fuzz_target!(|data: &[u8]| {
    let limits = RelayLimits {
        max_frame_bytes: 4096,
        max_blob_bytes: 1024,
        max_uploads_per_push: 8,
        ..RelayLimits::default()
    };
    let mut conn = RelayChannels::new(limits, Timestamp(0));
    let mut now = 0i64;
    let mut read_only: BTreeSet<Channel> = BTreeSet::new();
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = (len as usize).min(tail.len());
        let (frame, tail) = tail.split_at(len);
        rest = tail;
        now += 1000;
        let closed_before = conn.is_closed();
        let mut queue: Vec<ChannelEffect> = conn.frame(frame, Timestamp(now));
        if closed_before {
            assert!(queue.is_empty(), "a closed connection answered a frame");
        }
        let mut steps = 0;
        while let Some(ChannelEffect { channel, effect }) = queue.pop() {
            steps += 1;
            assert!(steps < 10_000, "effects never end");
            let more = match effect {
                SessionEffect::Authenticate { space, .. } => {
                    if (frame.len() + steps) % 2 == 0 {
                        let access = if (frame.len() + steps) % 4 == 2 {
                            read_only.insert(channel);
                            SpaceAccess::ReadOnly
                        } else {
                            read_only.remove(&channel);
                            SpaceAccess::ReadWrite
                        };
                        conn.with(channel, |s| s.authenticated(space, Seq(3), access))
                    } else {
                        conn.with(channel, |s| s.refused(ErrorCode::Unauthorized, "no".into()))
                    }
                }
                SessionEffect::Append {
                    request_id,
                    uploads,
                    ..
                } => {
                    assert!(
                        !read_only.contains(&channel),
                        "a read-only session asked to store a push"
                    );
                    let results = (0..uploads.len())
                        .map(|i| UploadResult {
                            seq: Seq(4 + i as u64),
                            duplicate: false,
                        })
                        .collect();
                    let head = Seq(4 + uploads.len() as u64);
                    conn.with(channel, |s| s.committed(request_id, results, head))
                }
                SessionEffect::ReadEntries { request_id, .. } => {
                    conn.with(channel, |s| s.entries(request_id, Vec::new(), Vec::new(), Seq(3)))
                }
                SessionEffect::WakeOthers { .. } => conn.with(channel, |s| s.woken(Seq(9))),
                _ => Vec::new(),
            };
            queue.extend(more);
        }
        if now % 7000 == 0 {
            let _ = conn.refuse_all(ErrorCode::Revoked, "revoked".into());
        }
        let _ = conn.tick(Timestamp(now));
    }
});

//! Writes the seed corpus of the fuzz targets (shared/fuzz/corpus/<target>/): real frames,
//! blobs and files, so the fuzzer starts from valid inputs and mutates inward.
//! `cargo run -p fieldbook-shared --example fuzz_seeds`.
use std::path::Path;

use shared::sync::protocol::{
    encode, BlobKind, ChannelFrame, ClientMessage, DocumentId, Seq, SpaceId, Upload,
    SUPPORTED_VERSIONS,
};
use shared::{CustomerDoc, Timestamp};

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    std::fs::create_dir_all(&dir).expect("corpus directory");
    std::fs::write(dir.join(name), bytes).expect("seed written");
}

fn main() {
    let now = Timestamp(1_795_341_600_000);
    let mut doc = CustomerDoc::create(
        shared::seed::customer(5, 1, now),
        automerge::ActorId::from(vec![3u8; 16]),
        now,
    )
    .expect("seed customer");
    let snapshot = doc.save();
    doc.update(now, |c| c.job_title = "Buyer".into())
        .expect("edit");
    let change = doc.last_local_change().expect("a change");
    let document = DocumentId(doc.customer().id.to_string());
    let hello = encode(&ClientMessage::Hello {
        supported_versions: SUPPORTED_VERSIONS.to_vec(),
        space: SpaceId("s".into()),
        token: "t".repeat(64),
    });
    let push = encode(&ClientMessage::Push {
        request_id: 1,
        uploads: vec![
            Upload {
                document: document.clone(),
                kind: BlobKind::Snapshot { covers: Seq(0) },
                bytes: snapshot.clone(),
            },
            Upload {
                document,
                kind: BlobKind::Change,
                bytes: change.clone(),
            },
        ],
    });
    let pull = encode(&ClientMessage::Pull {
        request_id: 2,
        since: Seq(0),
        max_entries: 100,
    });
    write("protocol_decode", "hello", &hello);
    write("protocol_decode", "push", &push);
    write("protocol_decode", "pull", &pull);
    let mut change_seed = vec![0u8];
    change_seed.extend(&change);
    write("blob_validate", "change", &change_seed);
    let mut snapshot_seed = vec![1u8];
    snapshot_seed.extend(&snapshot);
    write("blob_validate", "snapshot", &snapshot_seed);
    // Frames for the session: a length byte, then the frame (short frames only).
    let mut session = Vec::new();
    for frame in [&hello, &pull] {
        if frame.len() < 256 {
            session.push(frame.len() as u8);
            session.extend(frame.iter());
        }
    }
    write("relay_session", "hello_pull", &session);
    // Two spaces over one connection (protocol version 5): both Hellos in one frame, then a
    // pull on the second channel.
    let channels = |frames: Vec<(u16, Vec<u8>)>| {
        encode(&ClientMessage::Channels(
            frames
                .into_iter()
                .map(|(channel, frame)| ChannelFrame { channel, frame })
                .collect(),
        ))
    };
    let short_hello = |space: &str| {
        encode(&ClientMessage::Hello {
            supported_versions: SUPPORTED_VERSIONS.to_vec(),
            space: SpaceId(space.into()),
            token: "t".repeat(40),
        })
    };
    let open = channels(vec![(0, short_hello("s")), (1, short_hello("team"))]);
    let pull_on_1 = channels(vec![(1, pull.clone())]);
    write("protocol_decode", "channels", &open);
    let mut session = Vec::new();
    for frame in [&open, &pull_on_1] {
        assert!(frame.len() < 256, "a seed frame fits a length byte");
        session.push(frame.len() as u8);
        session.extend(frame.iter());
    }
    write("relay_session", "channels_hello_pull", &session);
    write(
        "csv_import",
        "google",
        "\u{feff}Name,Given Name,Family Name,E-mail 1 - Value,Phone 1 - Value,Organization 1 - Name,Notes\r\n\
         Ana Silva,Ana,Silva,ana@example.com ::: ana@work.example,+43 664 2003001,Silva Lda,\"met at\r\nbooth B12\"\r\n\
         Łukasz Nowak,Łukasz,Nowak,lukasz@example.pl,,Nowak Sp.,\r\n"
            .as_bytes(),
    );
    write(
        "csv_import",
        "semicolons",
        "Vorname;Nachname;Firma;E-Mail-Adresse;Geburtstag\nJürgen;Weiß;Weiß GmbH;j@example.de;0.0.00\n".as_bytes(),
    );
    write(
        "vcard_import",
        "v3",
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana Silva\r\nN:Silva;Ana;;;\r\nORG:Silva Lda\r\nEMAIL;TYPE=work:ana@example.com\r\nTEL;TYPE=cell:+43 664 2003001\r\nBDAY:--06-15\r\nNOTE:line one\\nline two\r\n  folded\r\nEND:VCARD\r\n"
            .as_bytes(),
    );
    write(
        "vcard_import",
        "v21_quoted_printable",
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C5=81ukasz;Nowak;;;\r\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C5=81ukasz Nowak=\r\n\r\nTEL;CELL:+48 600 100 200\r\nEND:VCARD\r\n"
            .as_bytes(),
    );
    // History: changes of another device to the fuzz target's own customer (seed 5, 1),
    // each prefixed by its length (two bytes, little-endian).
    let mut other = CustomerDoc::create(
        shared::seed::customer(5, 1, now),
        automerge::ActorId::from(vec![3u8; 16]),
        now,
    )
    .expect("seed customer")
    .fork(automerge::ActorId::from(vec![4u8; 16]));
    let mut history_seed = Vec::new();
    let edits: [&dyn Fn(&mut shared::Customer); 3] = [
        &|c| c.stage = shared::LifecycleStage::Customer,
        &|c| {
            c.activities.insert(
                "a1".into(),
                shared::model::records::Activity::new(
                    shared::model::records::ActivityKind::Call,
                    now,
                    "Tablet",
                ),
            );
        },
        &|c| {
            c.phones.clear();
            c.tags.insert("vip");
            c.notes.update("Prefers mornings.");
        },
    ];
    for edit in edits {
        other.update(now, edit).expect("edit");
        let change = other.last_local_change().expect("a change");
        history_seed.extend((change.len() as u16).to_le_bytes());
        history_seed.extend(&change);
    }
    write("history", "three_changes", &history_seed);
    println!("seeds written to shared/fuzz/corpus");
}

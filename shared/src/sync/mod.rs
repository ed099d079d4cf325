//! Sync, sans-IO: the device's and the relay's protocol state machines, the check every
//! uploaded blob passes, and the log semantics in memory.
//!
//! # Flow
//!
//! A local edit is committed to the device's IndexedDB together with an outbox item (an
//! Automerge change, or a whole-document snapshot for a new or compacted document). The
//! [`ClientEngine`] pushes outbox items; the relay's [`RelaySession`] validates them
//! ([`blob::validate`]), has the runtime append them to the space's log (idempotent by
//! [`blob::BlobKey`]) and acknowledges only after the durable commit; then the other
//! sessions of the space are woken and pull. The runtimes around both engines only move
//! bytes and touch storage; everything they decide is decided here, which is why the
//! simulation in `tests/it/sync_sim.rs` can exercise it deterministically.
//!
//! # Layout
//!
//! - [`protocol`]: the versioned binary messages between devices and the relay.
//! - [`account`]: the JSON records of the relay's account API.
//! - [`tab_protocol`]: the messages between the writer tab of a browser profile and its
//!   other tabs.
//! - [`blob`]: validation and idempotency keys of uploaded blobs.
//! - [`client`]: the device's engine.
//! - [`relay`]: the relay's per-connection engine.
//! - [`channels`]: several spaces over one connection, on both sides (protocol version 5).
//! - [`memory`]: the log in memory — the reference semantics of the relay's stores.
//! - [`handover`]: customers moving between a team's territories: the relay's hand-over
//!   snapshot and the heads a device reads to see which of its edits went along.
//! - [`hub`]: one connection per device for every book it keeps: each book's channels
//!   renumbered onto one socket.
//! - [`team`]: teams' roles, the access each gives to a team's spaces, invite codes and the
//!   JSON records of the relay's team API.

pub mod account;
pub mod blob;
pub mod channels;
pub mod client;
pub mod engine_protocol;
pub mod handover;
pub mod hub;
pub mod memory;
pub mod protocol;
pub mod relay;
pub mod tab_protocol;
pub mod team;

pub use blob::{BlobKey, ValidUpload};
pub use channels::{ChannelEffect, ChannelsEffect, ClientChannels, RelayChannels};
pub use client::{
    ClientConfig, ClientEffect, ClientEngine, Credentials, OutboxItem, StoredItem, SyncPhase,
    SyncStatus,
};
pub use memory::MemoryLog;
pub use protocol::BootstrapPage;
pub use relay::{RelayLimits, RelaySession, SessionEffect};

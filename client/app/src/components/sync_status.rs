//! The sync indicator: whether every change is backed up on the relay, at a glance.
//!
//! "All changes backed up" appears only when the outbox is empty and the device is
//! connected and up to date — the outbox is emptied only by the relay's acknowledgement of a
//! durable commit.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::sync::SyncPhase;

use crate::{sync::use_sync, time::clock};

/// Phrases the sync state for people.
pub fn describe(status: &shared::sync::SyncStatus) -> String {
    let unsent = match status.unsent {
        0 => String::new(),
        1 => "1 change not backed up".to_string(),
        n => format!("{n} changes not backed up"),
    };
    if let Some((done, total)) = status.bootstrap {
        return format!("Downloading your book · {done} of {total}");
    }
    match status.phase {
        SyncPhase::LocalOnly => "On this device only".to_string(),
        SyncPhase::Offline if status.unsent == 0 => "Offline · all changes backed up".to_string(),
        SyncPhase::Offline => format!("Offline · {unsent}"),
        SyncPhase::Connecting if status.unsent == 0 => "Connecting…".to_string(),
        SyncPhase::Connecting => format!("Connecting… · {unsent}"),
        SyncPhase::Syncing if status.unsent == 0 => "Syncing…".to_string(),
        SyncPhase::Syncing => format!("Syncing… · {unsent}"),
        SyncPhase::UpToDate => match status.last_synced {
            Some(at) => format!("All changes backed up · {}", clock(at)),
            None => "All changes backed up".to_string(),
        },
    }
}

/// A pill linking to the account screen.
#[component]
pub fn SyncIndicator() -> impl IntoView {
    let sync = use_sync();
    let status = move || sync.status.get();
    view! {
        <A href="/account" attr:class="sync-status" attr:data-testid="sync-status"
            attr:data-phase=move || match status().phase {
                SyncPhase::LocalOnly => "local",
                SyncPhase::Offline => "offline",
                SyncPhase::Connecting => "connecting",
                SyncPhase::Syncing => "syncing",
                SyncPhase::UpToDate => "synced",
            }
            attr:data-unsent=move || status().unsent.to_string()
            attr:aria-label=move || format!("Sync: {}", describe(&status()))
        >
            <span class="sync-dot" aria-hidden="true"></span>
            <span class="sync-text">{move || describe(&status())}</span>
        </A>
    }
}

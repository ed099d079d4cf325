//! The save indicator: says "Saved on this device" only after IndexedDB committed.

use leptos::prelude::*;

use crate::{
    repo::{use_repo, SaveState},
    time::clock,
};

/// A small pill in the top bar, and a banner when a write failed.
#[component]
pub fn SaveStatus() -> impl IntoView {
    let repo = use_repo();
    let state = move || repo.save_state.get();
    view! {
        <span
            class="save-status"
            data-testid="save-status"
            data-state=move || match state() {
                SaveState::Idle => "idle",
                SaveState::Saving => "saving",
                SaveState::Saved(_) => "saved",
                SaveState::Failed(_) => "failed",
            }
            role="status"
            aria-live="polite"
        >
            {move || match state() {
                SaveState::Idle => ().into_any(),
                SaveState::Saving => "Saving…".into_any(),
                // The time on a line of its own in a sub-screen's narrow bar (style.css).
                SaveState::Saved(at) => view! {
                    "Saved on this device"<span class="save-sep">" · "</span><span class="save-time">{clock(at)}</span>
                }
                .into_any(),
                SaveState::Failed(_) => "Not saved".into_any(),
            }}
        </span>
    }
}

/// A banner explaining a failed write; stays until the next successful save.
#[component]
pub fn StorageErrorBanner() -> impl IntoView {
    let repo = use_repo();
    move || match repo.save_state.get() {
        SaveState::Failed(message) => Some(view! {
            <div class="banner banner-error" data-testid="storage-error" role="alert">
                <strong>"Your last change was not saved. "</strong>
                {message}
            </div>
        }),
        _ => None,
    }
}

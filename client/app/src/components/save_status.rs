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
                SaveState::Idle => String::new(),
                SaveState::Saving => "Saving…".to_string(),
                SaveState::Saved(at) => format!("Saved on this device · {}", clock(at)),
                SaveState::Failed(_) => "Not saved".to_string(),
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

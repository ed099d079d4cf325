//! [`HeldBookBanner`]: on every screen while the device is signed out but still holds
//! changes the relay never acknowledged (see `crate::sync`, "Nothing unsent is wiped
//! silently"): how many, why, and the two ways out — export them, or remove the book.

use leptos::{prelude::*, task::spawn_local};

use crate::{export, repo::use_repo, routes::settings::device_name, sync::use_sync};

/// The held book's banner, empty when nothing is held.
#[component]
pub fn HeldBookBanner() -> impl IntoView {
    let sync = use_sync();
    let repo = use_repo();
    let message = RwSignal::new(None::<String>);
    let exported = RwSignal::new(false);
    let export = move |_| {
        spawn_local(async move {
            let device = device_name(sync, repo);
            match export::export_unsynced(repo, &device).await {
                Ok(text) => {
                    exported.set(true);
                    message.set(Some(text));
                }
                Err(err) => message.set(Some(format!("Export failed: {err}"))),
            }
        });
    };
    let remove = move |_| {
        let unsent = sync.status.get_untracked().unsent;
        let question = if exported.get_untracked() {
            "Remove the book from this device? The exported file keeps its unsent changes."
                .to_string()
        } else {
            format!("Remove the book from this device? Its {unsent} change(s) that were never backed up will be lost; export them first to keep them.")
        };
        if !window().confirm_with_message(&question).unwrap_or(false) {
            return;
        }
        spawn_local(async move { sync.sign_out(true).await });
    };
    move || {
        sync.held.get().map(|held| {
            let unsent = move || sync.status.get().unsent;
            view! {
                <div class="banner banner-warning held-book" role="alert" data-testid="held-book">
                    <p>
                        <strong data-testid="held-count">{move || match unsent() {
                            1 => "1 change on this device was never backed up.".to_string(),
                            n => format!("{n} changes on this device were never backed up."),
                        }}</strong>
                        " " {held.reason.clone()}
                        {match crate::book::current() {
                            // A team's territory: only being added back lets them through.
                            Some(_) => " They stay here until you export or remove them; if a team admin adds you back to this territory, they are sent.".to_string(),
                            None => format!(" They stay here until you export or remove them; signing in again as {} sends them.", held.email),
                        }}
                    </p>
                    <div class="banner-actions">
                        <button class="button primary" data-testid="held-export" on:click=export>"Export unsynced changes"</button>
                        <button class="button danger" data-testid="held-remove" on:click=remove>"Remove book from this device"</button>
                    </div>
                    {move || message.get().map(|text| view! { <p class="hint" role="status" data-testid="held-message">{text}</p> })}
                </div>
            }
        })
    }
}

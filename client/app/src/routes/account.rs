//! The account screen: sign up or sign in (once per device), then this device's sync state,
//! the account's devices with revoke, and sign out.

use crate::components::DetailTopbar;
use leptos::{prelude::*, task::spawn_local};

use crate::{
    components::sync_status::describe,
    repo::use_repo,
    sync::{use_sync, ApiError, DeviceInfo},
    time::{now, relative},
};

/// `/account`.
#[component]
pub fn AccountPage() -> impl IntoView {
    let sync = use_sync();
    // Re-render only when signing in or out, not on every session write.
    let signed_in = Memo::new(move |_| sync.session.with(Option::is_some));
    view! {
        <div class="detail" data-testid="account-page">
            <DetailTopbar back="/" back_label="Customers" title="Account"/>
            {move || sync.notice.get().map(|notice| view! {
                <div class="banner banner-info" data-testid="sync-notice" role="status">{notice}</div>
            })}
            {move || match (sync.ready.get(), signed_in.get()) {
                (false, _) => view! { <p class="empty">"Loading…"</p> }.into_any(),
                (true, false) => view! { <SignInForm/> }.into_any(),
                (true, true) => view! { <AccountDetails/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn SignInForm() -> impl IntoView {
    let sync = use_sync();
    let create = RwSignal::new(false);
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let device_name = RwSignal::new(common::global::device_label());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let field_error = move |field: &'static str| {
        move || {
            error.with(|error| {
                error.as_ref().and_then(|e| {
                    e.fields
                        .iter()
                        .find(|(name, _)| name == field)
                        .map(|(_, message)| view! { <p class="field-error" data-testid=format!("error-{field}")>{message.clone()}</p> })
                })
            })
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = sync
                .sign_in(
                    create.get_untracked(),
                    email.get_untracked(),
                    password.get_untracked(),
                    device_name.get_untracked(),
                )
                .await;
            busy.set(false);
            match result {
                Ok(()) => password.set(String::new()),
                Err(err) => error.set(Some(err)),
            }
        });
    };
    view! {
        <section class="card account-form">
            <h2>{move || if create.get() { "Create your account" } else { "Sign in" }}</h2>
            <p class="hint">"Sign in on each of your devices: every change then reaches the others, and the relay keeps a backup."</p>
            <form on:submit=submit data-testid="sign-in-form">
                <label class="field">
                    <span>"Email"</span>
                    <input type="email" inputmode="email" autocomplete="email" required data-testid="email"
                        prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/>
                </label>
                {field_error("email")}
                <label class="field">
                    <span>"Password"</span>
                    <input type="password" required data-testid="password"
                        autocomplete=move || if create.get() { "new-password" } else { "current-password" }
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                {field_error("password")}
                <label class="field">
                    <span>"This device"</span>
                    <input type="text" required data-testid="device-name"
                        prop:value=move || device_name.get() on:input=move |ev| device_name.set(event_target_value(&ev))/>
                </label>
                {field_error("device_name")}
                {move || error.get().map(|e| view! { <p class="banner banner-error" role="alert" data-testid="sign-in-error">{e.message}</p> })}
                <button type="submit" class="button primary wide" data-testid="submit" disabled=move || busy.get()>
                    {move || match (busy.get(), create.get()) {
                        (true, _) => "Please wait…",
                        (false, true) => "Create account",
                        (false, false) => "Sign in",
                    }}
                </button>
            </form>
            <button class="button link wide" data-testid="toggle-mode" on:click=move |_| { create.update(|c| *c = !*c); error.set(None); }>
                {move || if create.get() { "I already have an account" } else { "New here? Create an account" }}
            </button>
        </section>
    }
}

#[component]
fn AccountDetails() -> impl IntoView {
    let sync = use_sync();
    let repo = use_repo();
    let devices = RwSignal::new(None::<Result<Vec<DeviceInfo>, String>>);
    let refresh = move || {
        spawn_local(async move {
            devices.set(Some(sync.devices().await.map_err(|e| e.message)));
        });
    };
    refresh();
    let session = move || sync.session.get();
    let sign_out = move |_| {
        let unsent = sync.status.get_untracked().unsent;
        if unsent > 0 {
            let question = format!(
                "{unsent} change(s) on this device are not backed up yet. Fieldbook keeps them on this device after you sign out and offers to export them. Sign out?"
            );
            if !window().confirm_with_message(&question).unwrap_or(false) {
                return;
            }
        }
        spawn_local(async move { sync.sign_out(false).await });
    };
    view! {
        <section class="card">
            <h2>"Signed in"</h2>
            <p data-testid="account-email">{move || session().map(|s| s.email).unwrap_or_default()}</p>
            <p class="hint">"This device: " <strong data-testid="device-name-current">{move || session().map(|s| s.device_name).unwrap_or_default()}</strong></p>
            <p data-testid="sync-detail">{move || describe(&sync.status.get())}</p>
            {move || sync.status.get().problem.map(|p| view! { <p class="hint" data-testid="sync-problem">{p}</p> })}
            <p class="hint" data-testid="stored-count">{move || match repo.book.with(|b| b.len()) {
                1 => "1 customer on this device".to_string(),
                n => format!("{n} customers on this device"),
            }}</p>
        </section>
        <section class="card">
            <div class="card-head">
                <h2>"Devices"</h2>
                <button class="button" data-testid="refresh-devices" on:click=move |_| refresh()>"Refresh"</button>
            </div>
            <ul class="device-list" data-testid="device-list">
                {move || match devices.get() {
                    None => view! { <li class="hint">"Loading…"</li> }.into_any(),
                    Some(Err(message)) => view! { <li class="hint">{message}</li> }.into_any(),
                    Some(Ok(list)) => list.into_iter().map(|device| {
                        let id = device.id.clone();
                        let name = device.name.clone();
                        view! {
                            <li class="device" data-testid="device" data-name=device.name.clone()>
                                <div>
                                    <strong>{device.name.clone()}</strong>
                                    {device.current.then(|| view! { <span class="badge">"this device"</span> })}
                                    <p class="hint">{match device.revoked_at {
                                        Some(at) => format!("Signed out {}", relative(shared::Timestamp(at), now())),
                                        None => format!("Last seen {}", relative(shared::Timestamp(device.last_seen_at), now())),
                                    }}</p>
                                </div>
                                {(!device.current && device.revoked_at.is_none()).then(|| view! {
                                    <button class="button danger" data-testid="revoke" on:click=move |_| {
                                        let question = format!("Sign out “{name}”? It will no longer read or change your book, and its copy is removed the next time it connects.");
                                        if !window().confirm_with_message(&question).unwrap_or(false) {
                                            return;
                                        }
                                        let id = id.clone();
                                        spawn_local(async move {
                                            if let Err(err) = sync.revoke(id).await {
                                                devices.set(Some(Err(err.message)));
                                                return;
                                            }
                                            devices.set(Some(sync.devices().await.map_err(|e| e.message)));
                                        });
                                    }>"Sign out"</button>
                                })}
                            </li>
                        }
                    }).collect_view().into_any(),
                }}
            </ul>
        </section>
        <section class="card">
            <button class="button danger wide" data-testid="sign-out" on:click=sign_out>"Sign out of this device"</button>
            <p class="hint">"Signing out removes your book from this device once every change is backed up. It stays in your account and on your other devices."</p>
        </section>
    }
}

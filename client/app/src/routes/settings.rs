//! Settings: the current event (the default tag of quick captures), whether this device's
//! storage is persistent, how much it uses, and how to install the app.

use crate::components::DetailTopbar;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;

use crate::{
    device, export,
    repo::use_repo,
    routes::capture::{remember_event, remembered_event},
    sync::use_sync,
    time::{day, now},
};

/// The settings screen.
#[component]
pub fn Settings() -> impl IntoView {
    let repo = use_repo();
    let event = RwSignal::new(remembered_event());
    let persisted = RwSignal::new(None::<bool>);
    let usage = RwSignal::new(None::<(f64, f64)>);
    let refresh = move || {
        spawn_local(async move {
            persisted.set(device::persisted().await);
            usage.set(device::estimate().await);
        });
    };
    refresh();
    let request = move |_| {
        spawn_local(async move {
            persisted.set(device::request_persistence().await);
            usage.set(device::estimate().await);
        });
    };
    view! {
        <div class="detail" data-testid="settings-page">
            <DetailTopbar back="/" back_label="Customers" title="Settings"/>
            <section class="card">
                <h2 class="section-title">"Event"</h2>
                <p class="hint">"Quick leads are tagged with it until you change it."</p>
                <label class="field">
                    <span class="field-label">"Current event"</span>
                    <input type="text" autocomplete="off" data-testid="settings-event" placeholder="e.g. Salon Lyon 2026"
                        prop:value=move || event.get()
                        on:change=move |ev| {
                            let value = event_target_value(&ev).trim().to_string();
                            remember_event(&value);
                            event.set(value);
                        }/>
                </label>
            </section>
            <section class="card" data-testid="settings-fields">
                <h2 class="section-title">"Fields"</h2>
                <p class="hint">
                    {move || match repo.settings.with(|s| s.fields.values().filter(|f| !f.archived).count()) {
                        0 => "Record your own facts about customers (industry, fleet size, licence expiry…), filter and count by them.".to_string(),
                        1 => "1 field of your own on every customer.".to_string(),
                        n => format!("{n} fields of your own on every customer."),
                    }}
                </p>
                <A href="/settings/fields" attr:class="button" attr:data-testid="open-fields">"Fields…"</A>
            </section>
            <PhoneCountry/>
            <section class="card">
                <h2 class="section-title">"Storage on this device"</h2>
                <p data-testid="storage-persisted" data-persisted=move || persisted.get().map_or("unknown", |p| if p { "yes" } else { "no" })>
                    {move || match persisted.get() {
                        Some(true) => "Persistent: the browser will not delete your book to free space.",
                        Some(false) => "Not persistent: under storage pressure the browser may delete this site's data. Changes backed up on the relay are safe.",
                        None => "This browser does not say whether storage is persistent.",
                    }}
                </p>
                {move || (persisted.get() == Some(false)).then(|| view! {
                    <button class="button" data-testid="request-persistence" on:click=request>"Keep my data on this device"</button>
                })}
                <p class="hint" data-testid="storage-usage">
                    {move || match usage.get() {
                        Some((used, quota)) => format!("Using {} of {} available.", device::bytes(used), device::bytes(quota)),
                        None => "Usage unknown.".to_string(),
                    }}
                </p>
            </section>
            <UnsyncedChanges/>
            <section class="card">
                <h2 class="section-title">"Install"</h2>
                <p class="hint" data-testid="install-state">
                    {if device::installed() {
                        "Fieldbook runs from your home screen and works with no network."
                    } else {
                        "Add Fieldbook to your home screen from the browser's menu: it then opens like an app and works with no network."
                    }}
                </p>
            </section>
        </div>
    }
}

/// On iOS Safari, when not installed: urges the rep to add the app to the home screen,
/// because Safari deletes a website's data after 7 days without use. Dismissible.
#[component]
pub fn InstallNudge() -> impl IntoView {
    const DISMISSED: &str = "fieldbook.install-nudge-dismissed";
    let storage = device::local_storage();
    let dismissed = storage
        .as_ref()
        .and_then(|s| s.get_item(DISMISSED).ok().flatten())
        .is_some();
    let show = RwSignal::new(device::ios_safari() && !device::installed() && !dismissed);
    move || {
        show.get().then(|| {
            let storage = storage.clone();
            view! {
                <div class="banner banner-warning install-nudge" role="note" data-testid="install-nudge">
                    <p>
                        <strong>"Add Fieldbook to your Home Screen. "</strong>
                        "Tap Share, then “Add to Home Screen”. Otherwise Safari may delete the customers stored on this iPhone after 7 days without opening Fieldbook."
                    </p>
                    <button class="button" data-testid="dismiss-install-nudge" on:click=move |_| {
                        if let Some(storage) = &storage {
                            let _ = storage.set_item(DISMISSED, "1");
                        }
                        show.set(false);
                    }>"Got it"</button>
                </div>
            }
        })
    }
}

/// The country of numbers written without a country code, for the whole book (every
/// device): Call buttons then dial them in international form.
#[component]
fn PhoneCountry() -> impl IntoView {
    use shared::model::phone::{Country, COUNTRIES};
    let repo = use_repo();
    let message = RwSignal::new(None::<String>);
    let chosen = Memo::new(move |_| repo.settings.with(|s| s.default_country.clone()));
    let choose = move |ev: leptos::ev::Event| {
        let iso = event_target_value(&ev);
        spawn_local(async move {
            let saved = repo
                .update_book(|settings| settings.default_country = iso.clone())
                .await;
            message.set(Some(match saved {
                Ok(()) => match Country::of(&iso) {
                    Some(country) => format!(
                        "Numbers without a country code are read as {}: Call dials them from anywhere.",
                        country.label()
                    ),
                    None => "Numbers without a country code are dialled as written.".to_string(),
                },
                Err(err) => format!("Not saved: {err}"),
            }));
        });
    };
    view! {
        <section class="card" data-testid="settings-phone">
            <h2 class="section-title">"Phone numbers"</h2>
            <p class="hint">"Numbers written without a country code (such as 0664 2003001) are in this country. Search and duplicates already match national and international forms; with a country, Call also works from abroad."</p>
            <label class="field">
                <span class="field-label">"Country of numbers without a code"</span>
                <select data-testid="settings-country" prop:value=move || chosen.get() on:change=choose>
                    <option value="">"Not set (dial as written)"</option>
                    {COUNTRIES.iter().map(|country| view! { <option value=country.iso>{country.label()}</option> }).collect_view()}
                </select>
            </label>
            {move || message.get().map(|text| view! { <p class="hint" role="status" data-testid="settings-country-message">{text}</p> })}
        </section>
    }
}

/// The device's name for exported files: the signed-in device, the one a held book was
/// made on, else the browser's ("Chrome on Android").
pub fn device_name(sync: crate::sync::Sync, repo: crate::repo::Repo) -> String {
    sync.session
        .get_untracked()
        .map(|s| s.device_name)
        .unwrap_or_else(|| repo.author_name())
}

/// Export of this device's unsynced changes to a file, and import of such a file.
#[component]
fn UnsyncedChanges() -> impl IntoView {
    let repo = use_repo();
    let sync = use_sync();
    let message = RwSignal::new(None::<(bool, String)>);
    // Writes `uploads` to a file of `format` named "<prefix>-<date>.json".
    let save_file = move |format: &'static str,
                          prefix: &'static str,
                          uploads: &[shared::sync::protocol::Upload]| {
        let device = device_name(sync, repo);
        let at = now();
        export::download(
            &format!("{prefix}-{}.json", day(at)),
            &export::to_file_as(format, uploads, &device, at.0),
        )
    };
    let show = move |result: Result<String, String>, failure: &str| {
        message.set(Some(match result {
            Ok(text) => (true, text),
            Err(err) => (false, format!("{failure}: {err}")),
        }));
    };
    let export = move |_| {
        spawn_local(async move {
            let device = device_name(sync, repo);
            let result = export::export_unsynced(repo, &device).await;
            show(result, "Export failed");
        });
    };
    let backup = move |_| {
        spawn_local(async move {
            let result = async {
                let uploads = repo.backup().await?;
                save_file(export::BACKUP_FORMAT, "fieldbook-backup", &uploads)?;
                Ok::<_, String>(format!("Backed up {} documents to a file.", uploads.len()))
            }
            .await;
            show(result, "Backup failed");
        });
    };
    let import = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        input.set_value("");
        spawn_local(async move {
            let result = async {
                let text = wasm_bindgen_futures::JsFuture::from(file.text())
                    .await
                    .map_err(|err| format!("cannot read the file: {err:?}"))?
                    .as_string()
                    .unwrap_or_default();
                let uploads = export::from_file(&text)?;
                let n = uploads.len();
                let customers = repo.import_changes(uploads).await?;
                Ok::<_, String>(format!("Imported {n} changes of {customers} customers; they will be backed up with the next sync."))
            }
            .await;
            message.set(Some(match result {
                Ok(text) => (true, text),
                Err(err) => (false, format!("Nothing imported: {err}")),
            }));
        });
    };
    view! {
        <section class="card">
            <h2 class="section-title">"Unsynced changes"</h2>
            <p class="hint" data-testid="unsent-count">
                {move || match sync.status.get().unsent {
                    0 => "Every change of this device is backed up on the relay.".to_string(),
                    1 => "1 change of this device is not backed up yet.".to_string(),
                    n => format!("{n} changes of this device are not backed up yet."),
                }}
            </p>
            <p class="hint">"Export them to a file you can keep or send; importing the file (here or on another device) puts them back. A backup holds every customer, the catalog and the saved segments; restoring it merges with what the device holds, nothing is overwritten."</p>
            <div class="form-actions">
                <button class="button" data-testid="export-unsynced" on:click=export>"Export unsynced changes"</button>
                <button class="button" data-testid="backup-export" on:click=backup>"Back up everything"</button>
                <label class="button file-button">
                    "Import changes or a backup…"
                    <input type="file" accept="application/json,.json" data-testid="import-changes" on:change=import/>
                </label>
            </div>
            {move || message.get().map(|(ok, text)| view! {
                <p class=if ok { "banner banner-info" } else { "banner banner-error" } role="status" data-testid="export-message">{text}</p>
            })}
        </section>
    }
}

//! Quick lead capture at an event: a few big fields, saved in one tap, then the form is
//! empty and focused for the next visitor. While the rep types, likely duplicates from the
//! whole local book are shown (offline), with "open" and "add to existing".

use crate::components::DetailTopbar;
use leptos::{html, prelude::*, task::spawn_local};
use shared::search::duplicates::Lead;
use shared::{ContactPoint, ContactPointId, CustomerId, LifecycleStage};

use crate::{
    components::{DuplicateHints, SaveStatus, StorageErrorBanner},
    repo::use_repo,
    routes::{
        customer::random_id,
        new_customer::{customer_from_form, field_error, form_errors, FormField},
    },
    time::now,
};

/// Where the current event's name is remembered on this device.
const EVENT_KEY: &str = "fieldbook.event";

/// Interest levels, stored as tags so they filter like any tag.
const INTEREST: [(&str, &str); 3] = [("cold", "Cold"), ("warm", "Warm"), ("hot", "Hot")];

/// The current event, remembered on this device.
pub fn remembered_event() -> String {
    crate::device::local_storage()
        .and_then(|storage| storage.get_item(EVENT_KEY).ok().flatten())
        .unwrap_or_default()
}

/// Remembers the current event on this device.
pub fn remember_event(event: &str) {
    if let Some(storage) = crate::device::local_storage() {
        let _ = storage.set_item(EVENT_KEY, event);
    }
}

/// The lead's note as one dated line for the customer's notes.
fn note_line(event: &str, note: &str) -> String {
    let date = crate::time::day(now());
    match (event.is_empty(), note.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!("{date} · met at {event}"),
        (true, false) => format!("{date} · {note}"),
        (false, false) => format!("{date} · {event}: {note}"),
    }
}

/// The quick capture screen.
#[component]
pub fn QuickCapture() -> impl IntoView {
    let repo = use_repo();
    let name = RwSignal::new(String::new());
    let company = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let interest = RwSignal::new(None::<&'static str>);
    let event = RwSignal::new(remembered_event());
    let errors = RwSignal::new(Vec::<(String, String)>::new());
    let saving = RwSignal::new(false);
    let saved = RwSignal::new(None::<String>);
    let custom = crate::routes::fields::FormValues::new();
    let first_field = NodeRef::<html::Div>::new();

    let error_for = move |prefix: &'static str| field_error(errors, prefix);
    let lead = Memo::new(move |_| Lead {
        name: name.get(),
        company: company.get(),
        email: email.get(),
        phone: phone.get(),
    });
    let clear = move || {
        name.set(String::new());
        company.set(String::new());
        email.set(String::new());
        phone.set(String::new());
        note.set(String::new());
        interest.set(None);
        custom.clear();
        errors.set(Vec::new());
        // Ready for the next visitor.
        if let Some(input) = first_field
            .get_untracked()
            .and_then(|div| div.query_selector("input").ok().flatten())
        {
            if let Ok(input) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(input) {
                let _ = input.focus();
            }
        }
    };
    let tags_of_capture = move || {
        let mut tags = Vec::new();
        let event = event.get_untracked().trim().to_string();
        if !event.is_empty() {
            tags.push(event);
        }
        if let Some(level) = interest.get_untracked() {
            tags.push(format!("{level} lead"));
        }
        tags
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let mut customer = match customer_from_form(
            &name.get_untracked(),
            &company.get_untracked(),
            &email.get_untracked(),
            &phone.get_untracked(),
        ) {
            Ok(customer) => customer,
            Err(message) => {
                errors.set(vec![("form".into(), message)]);
                return;
            }
        };
        customer.stage = LifecycleStage::Lead;
        for tag in tags_of_capture() {
            customer.tags.insert(&tag);
        }
        let line = note_line(event.get_untracked().trim(), note.get_untracked().trim());
        customer.set_notes(line);
        customer.owner = crate::book::new_owner();
        let fields = repo
            .settings
            .with_untracked(|s| crate::routes::fields::form_fields(&s.fields, true));
        if let Err(invalid) = custom.apply(&fields, &mut customer) {
            errors.set(invalid);
            return;
        }
        remember_event(event.get_untracked().trim());
        saving.set(true);
        spawn_local(async move {
            match repo.create(customer).await {
                Ok(created) => {
                    saved.set(Some(created.display_name().to_string()));
                    clear();
                    // Something worth keeping now exists: ask the browser to keep it.
                    let _ = crate::device::request_persistence().await;
                }
                Err(err) => errors.set(form_errors(err)),
            }
            saving.set(false);
        });
    };

    // The visitor is already a customer: add what was captured to them instead.
    let add_to_existing = move |customer_id: CustomerId| {
        if saving.get_untracked() {
            return;
        }
        let (new_email, new_phone) = (email.get_untracked(), phone.get_untracked());
        let line = note_line(event.get_untracked().trim(), note.get_untracked().trim());
        let tags = tags_of_capture();
        remember_event(event.get_untracked().trim());
        saving.set(true);
        spawn_local(async move {
            let result = repo
                .update(&customer_id, move |customer| {
                    for tag in &tags {
                        customer.tags.insert(tag);
                    }
                    let email = new_email.trim();
                    if !email.is_empty()
                        && !customer
                            .emails
                            .iter()
                            .any(|e| e.value.trim().eq_ignore_ascii_case(email))
                    {
                        customer.emails.push(ContactPoint {
                            id: ContactPointId(random_id()),
                            label: "work".into(),
                            value: email.to_string(),
                        });
                    }
                    let phone = new_phone.trim();
                    let key = shared::search::duplicates::phone_key(phone);
                    if !phone.is_empty()
                        && !customer
                            .phones
                            .iter()
                            .any(|p| shared::search::duplicates::phone_key(&p.value) == key)
                    {
                        customer.phones.push(ContactPoint {
                            id: ContactPointId(random_id()),
                            label: "mobile".into(),
                            value: phone.to_string(),
                        });
                    }
                    if !line.is_empty() {
                        let notes = customer.notes.as_str().trim_end().to_string();
                        let joined = if notes.is_empty() {
                            line.clone()
                        } else {
                            format!("{notes}\n{line}")
                        };
                        customer.set_notes(joined);
                    }
                })
                .await;
            match result {
                Ok(updated) => {
                    let name = updated
                        .map(|c| c.display_name().to_string())
                        .unwrap_or_default();
                    saved.set(Some(format!("{name} (added to existing)")));
                    clear();
                }
                Err(err) => errors.set(form_errors(err)),
            }
            saving.set(false);
        });
    };

    view! {
        <div class="detail capture" data-testid="capture-page">
            <DetailTopbar back="/" back_label="Customers" lead=false>
                <SaveStatus/>
            </DetailTopbar>
            <StorageErrorBanner/>
            <CaptureBook/>
            {move || saved.get().map(|who| view! {
                <div class="banner banner-info" role="status" data-testid="capture-saved">
                    {format!("Saved on this device: {who}")}
                </div>
            })}
            <form class="card capture-form" on:submit=submit novalidate=true>
                <h1>"Quick lead"</h1>
                <div node_ref=first_field>
                    <FormField label="Name" value=name autocomplete="name" testid="capture-name" autofocus=true errors=errors field="name"/>
                </div>
                <FormField label="Company" value=company autocomplete="organization" testid="capture-company" errors=errors field="company"/>
                <FormField label="Email" value=email input_type="email" inputmode="email" autocomplete="email" testid="capture-email" errors=errors field="emails"/>
                <FormField label="Phone" value=phone input_type="tel" inputmode="tel" autocomplete="tel" testid="capture-phone" errors=errors field="phones"/>
                <crate::routes::fields::FormCustomFields form=custom capture=true errors/>
                <DuplicateHints lead on_add=Callback::new(add_to_existing)/>
                <label class="field">
                    <span class="field-label">"Note"</span>
                    <textarea rows="2" data-testid="capture-note" placeholder="What they need, what you promised"
                        prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </label>
                <fieldset class="field interest">
                    <legend class="field-label">"Interest"</legend>
                    <div class="segmented">
                        {INTEREST.map(|(level, label)| view! {
                            <button type="button" class="segment" data-testid=format!("interest-{level}")
                                aria-pressed=move || (interest.get() == Some(level)).to_string()
                                on:click=move |_| interest.update(|current| {
                                    *current = if *current == Some(level) { None } else { Some(level) };
                                })>{label}</button>
                        }).collect_view()}
                    </div>
                </fieldset>
                <FormField label="Event (kept for the next leads)" value=event autocomplete="off" testid="capture-event" errors=errors field="tags" enterkeyhint="done"/>
                {move || error_for("form")().map(|message| view! { <p class="field-error" role="alert" data-testid="form-error">{message}</p> })}
                <div class="form-actions">
                    <button type="submit" class="button primary wide" data-testid="capture-save" disabled=move || saving.get()>
                        {move || if saving.get() { "Saving…" } else { "Save lead" }}
                    </button>
                </div>
            </form>
        </div>
    }
}

/// With team books on this device: which book leads go to, asked once and remembered. A
/// tab works in one book, so choosing another (or opening capture in a tab of another book)
/// reloads the tab into the chosen book's capture screen.
#[component]
fn CaptureBook() -> impl IntoView {
    let books: Vec<shared::sync::team::TeamBook> = (crate::book::known().into_iter())
        .filter(|book| book.access == shared::sync::team::SpaceAccess::ReadWrite)
        .collect();
    if books.is_empty() {
        return ().into_any();
    }
    let here = crate::book::current().map(|book| book.territory);
    match crate::book::capture_book() {
        // Chosen before, for another book than this tab's: go there.
        Some(chosen) if chosen != here => {
            let target = chosen.as_ref().and_then(|territory| {
                books
                    .iter()
                    .find(|book| &book.territory == territory)
                    .cloned()
            });
            if chosen.is_none() || target.is_some() {
                crate::book::open_at(target, "/capture");
            } else {
                // That territory is gone from this device: this book, until she chooses.
                crate::book::remember_capture_book(here.as_deref());
            }
        }
        Some(_) => {}
        None => crate::book::remember_capture_book(here.as_deref()),
    }
    let choose = {
        let books = books.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            let territory = (!value.is_empty()).then_some(value);
            crate::book::remember_capture_book(territory.as_deref());
            let book = territory.as_ref().and_then(|territory| {
                books
                    .iter()
                    .find(|book| &book.territory == territory)
                    .cloned()
            });
            crate::book::open_at(book, "/capture");
        }
    };
    let own = here.is_none();
    view! {
        <label class="field capture-book card">
            <span class="field-label">"Leads go to"</span>
            <select data-testid="capture-book" on:change=choose>
                <option value="" selected=own>"My own book"</option>
                {books.into_iter().map(|book| {
                    let selected = here.as_deref() == Some(book.territory.as_str());
                    view! { <option value=book.territory.clone() selected=selected>{book.title()}</option> }
                }).collect_view()}
            </select>
        </label>
    }
    .into_any()
}

//! The customer page: every field editable in place. Each field saves when the rep leaves it
//! (the input's `change` event), as one IndexedDB transaction; the save indicator turns to
//! "Saved" only after that transaction committed. An invalid value is explained under the
//! field and nothing is stored.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use crate::components::DetailTopbar;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::{components::A, hooks::use_params_map};
use shared::sync::engine_protocol::VersionedCustomer;
use shared::{
    Birthday, Channel, ContactPoint, ContactPointId, Customer, CustomerId, FieldConflict,
    LifecycleStage, Version,
};

use crate::{
    components::{SaveStatus, StageBadge, StorageErrorBanner},
    repo::{use_repo, LoadState, Repo, RepoError},
    time::{now, relative},
};

/// Labels offered for emails and phones.
const EMAIL_LABELS: &[&str] = &["work", "personal", "other"];
const PHONE_LABELS: &[&str] = &["mobile", "work", "home", "other"];

/// A fresh identifier from the browser (`crypto.randomUUID()`).
pub fn random_id() -> String {
    window()
        .crypto()
        .map(|crypto| crypto.random_uuid())
        .unwrap_or_else(|_| format!("id-{}", js_sys::Math::random().to_bits()))
}

/// A short random identifier for a custom field or a choice (12 hex digits, 48 random
/// bits): values hold it once per customer, so it is kept short; unique among a book's few
/// fields and a field's few choices.
pub fn short_id() -> String {
    let mut bytes = [0u8; 6];
    let filled = window()
        .crypto()
        .ok()
        .and_then(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).ok())
        .is_some();
    if !filled {
        for byte in &mut bytes {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The loaded customer and the errors shown under its fields; cheap to copy into handlers.
#[derive(Clone, Copy)]
pub struct Editor {
    pub repo: Repo,
    pub current: RwSignal<Option<Customer>>,
    /// What edits are made on, and their queue.
    edits: StoredValue<Rc<Edits>, LocalStorage>,
    /// `current`'s fields written on two devices at once.
    conflicts: RwSignal<Vec<FieldConflict>>,
    pub errors: RwSignal<HashMap<String, String>>,
}

/// The customer shown and the version it was read or saved at, which an edit is made on,
/// outside the reactive graph: an edit waiting for its turn still runs after the rep left
/// the page. The editor's edits are made one after another, each on what the previous one
/// committed: two edits made on the same version would be concurrent, and two of the same
/// field would show as a conflict between the rep's own values.
///
/// `saved` counts the editor's committed edits: a customer read again after a change from
/// elsewhere is shown only if no edit of the editor committed while it was read. Otherwise
/// that read can be older than the edit's answer (it began before the edit committed), and
/// showing it would make the next edit on a version without the last one — the stage of a
/// deal added a moment before would then be set on a customer without that deal, and lost.
/// The edit's answer already holds the change from elsewhere, applied before it.
#[derive(Default)]
struct Edits {
    shown: RefCell<Option<(Customer, Version)>>,
    turn: futures_util::lock::Mutex<()>,
    saved: std::cell::Cell<u64>,
}

impl Editor {
    fn new(repo: Repo) -> Editor {
        Editor {
            repo,
            current: RwSignal::new(None),
            edits: StoredValue::new_local(Rc::default()),
            conflicts: RwSignal::new(Vec::new()),
            errors: RwSignal::new(HashMap::new()),
        }
    }

    /// Shows the customer as read or committed (unless it already shows that version).
    fn show(self, versioned: &VersionedCustomer) {
        if let Some(edits) = self.edits.try_get_value() {
            self.show_in(&edits, versioned);
        }
    }

    /// [`Editor::show`], with the next edit made on `versioned` even if the rep has left
    /// the page (its signals gone).
    fn show_in(self, edits: &Edits, versioned: &VersionedCustomer) {
        {
            let mut shown = edits.shown.borrow_mut();
            if shown
                .as_ref()
                .is_some_and(|(_, version)| *version == versioned.version)
            {
                return;
            }
            *shown = Some((versioned.customer.clone(), versioned.version.clone()));
        }
        let _ = self.current.try_set(Some(versioned.customer.clone()));
        if self
            .conflicts
            .try_with_untracked(|shown| *shown != versioned.conflicts)
            == Some(true)
        {
            let _ = self.conflicts.try_set(versioned.conflicts.clone());
        }
    }

    /// How many of the editor's edits have committed (see [`Edits`]).
    fn edits_saved(self) -> u64 {
        self.edits
            .try_get_value()
            .map_or(0, |edits| edits.saved.get())
    }

    /// [`Editor::show`] of a customer read again after a change from elsewhere, unless an
    /// edit of the editor committed since the read began (`saved_before`; see [`Edits`]).
    fn show_read(self, versioned: &VersionedCustomer, saved_before: u64) {
        if self.edits_saved() == saved_before {
            self.show(versioned);
        }
    }

    /// Shows nothing (another customer is being read, or this one is gone).
    fn clear(self) {
        if let Some(edits) = self.edits.try_get_value() {
            *edits.shown.borrow_mut() = None;
        }
        self.current.set(None);
        self.conflicts.set(Vec::new());
    }

    pub fn read<T: Default>(self, read: impl Fn(&Customer) -> T) -> T {
        self.current
            .with(|customer| customer.as_ref().map(&read).unwrap_or_default())
    }

    /// A field's value for `prop:value`, notified only when that value changes: a save or a
    /// change from elsewhere to another field must not rewrite this field's input (and what
    /// the rep is typing in it) with the value it already showed.
    pub fn value<T>(
        self,
        read: impl Fn(&Customer) -> T + Send + std::marker::Sync + 'static,
    ) -> impl Fn() -> T + Copy + 'static
    where
        T: Default + Clone + PartialEq + Send + std::marker::Sync + 'static,
    {
        let memo = Memo::new(move |_| self.read(&read));
        move || memo.get()
    }

    pub fn error(self, field: &str) -> Option<String> {
        self.errors.with(|errors| errors.get(field).cloned())
    }

    /// Saves an edit of the customer shown, made on the version shown once the editor's
    /// earlier edits are answered ([`Edits`]); `on_saved` runs once it committed.
    pub fn save(
        self,
        field: String,
        edit: impl FnOnce(&mut Customer) + 'static,
        on_saved: impl FnOnce() + 'static,
    ) {
        let Some(edits) = self.edits.try_get_value() else {
            return;
        };
        let Some(customer_id) = edits.shown.borrow().as_ref().map(|(c, _)| c.id.clone()) else {
            return;
        };
        let repo = self.repo;
        spawn_local(async move {
            let turn = RefCell::new(None);
            let result = repo
                .update_from(
                    async {
                        *turn.borrow_mut() = Some(edits.turn.lock().await);
                        edits.shown.borrow().clone()
                    },
                    edit,
                )
                .await;
            if let Ok(Some(saved)) = &result {
                // The next edit is made on this one's state.
                edits.saved.set(edits.saved.get() + 1);
                self.show_in(&edits, saved);
            }
            drop(turn);
            // The rep may have left the page while the edit was saved: its signals are gone
            // then (reading them would panic), and the edit is stored all the same.
            let still_shown = self
                .current
                .try_with_untracked(|customer| {
                    customer.as_ref().is_some_and(|c| c.id == customer_id)
                })
                .unwrap_or(false);
            if !still_shown {
                return;
            }
            match result {
                Ok(_) => {
                    // A committed edit means the whole customer is valid again.
                    self.errors
                        .update(|errors| errors.retain(|field, _| field.ends_with(".new")));
                    on_saved();
                }
                Err(RepoError::Invalid(invalid)) => self.errors.update(|errors| {
                    let mut shown_here = false;
                    for error in &invalid.0 {
                        shown_here |= error.field == field;
                        errors.insert(error.field.clone(), error.message.clone());
                    }
                    if !shown_here {
                        errors.insert(field, invalid.to_string());
                    }
                }),
                Err(other) => self.errors.update(|errors| {
                    errors.insert(field, other.to_string());
                }),
            }
        });
    }
}

/// The customer page for the `:id` in the URL.
#[component]
pub fn CustomerPage() -> impl IntoView {
    let repo = use_repo();
    let params = use_params_map();
    let customer_id = Memo::new(move |_| {
        params.with(|params| {
            params
                .get("id")
                .and_then(|id| id.parse::<CustomerId>().ok())
        })
    });
    let editor = Editor::new(repo);
    let load_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let Some(loading_id) = customer_id.get() else {
            load_error.set(Some("This link does not point to a customer.".into()));
            return;
        };
        if repo.load_state.get() != LoadState::Ready {
            return;
        }
        editor.clear();
        editor.errors.set(HashMap::new());
        load_error.set(None);
        spawn_local(async move {
            let result = repo.versioned(&loading_id).await;
            // The rep may have opened another customer while this one loaded.
            if customer_id.get_untracked().as_ref() == Some(&loading_id) {
                match result {
                    Ok(versioned) => editor.show(&versioned),
                    Err(err) => load_error.set(Some(err.to_string())),
                }
            }
        });
    });
    // Changes from other devices, tabs and screens to the open customer show up without a
    // reload: an edit of this page's as its save committed it, any other change read again.
    Effect::new(move |seen: Option<u64>| {
        let changes = repo.remote_changes.get();
        let Some(open_id) = customer_id.get_untracked() else {
            return changes.generation;
        };
        if seen.is_none() || !changes.customers.contains(&open_id) {
            return changes.generation;
        }
        if let Some(saved) = changes.saved.as_ref().filter(|s| s.customer.id == open_id) {
            editor.show(saved);
        } else {
            let saved_before = editor.edits_saved();
            spawn_local(async move {
                let result = repo.versioned(&open_id).await;
                if customer_id.get_untracked().as_ref() != Some(&open_id) {
                    return;
                }
                match result {
                    Ok(versioned) => editor.show_read(&versioned, saved_before),
                    // Erased (here, in another tab or on another device) while open.
                    Err(RepoError::NotFound) => {
                        editor.clear();
                        load_error.set(Some(
                            "This customer is no longer on this device: their history was erased."
                                .into(),
                        ));
                    }
                    Err(_) => {}
                }
            });
        }
        changes.generation
    });
    // Re-render the form only when another customer is loaded, not on every saved edit
    // (that would steal the focus from the field being typed in).
    let shown_id = Memo::new(move |_| {
        editor
            .current
            .with(|customer| customer.as_ref().map(|c| c.id.clone()))
    });
    view! {
        <div class="detail" data-testid="customer-page">
            <DetailTopbar back="/" back_label="Customers">
                <SaveStatus/>
            </DetailTopbar>
            <StorageErrorBanner/>
            {move || match (shown_id.get(), load_error.get()) {
                (_, Some(message)) => view! {
                    <div class="empty" data-testid="customer-missing">
                        <h1>"Customer not found"</h1>
                        <p>{message}</p>
                        <A href="/" attr:class="button">"Back to the list"</A>
                    </div>
                }.into_any(),
                (None, None) => view! { <p class="empty">"Loading…"</p> }.into_any(),
                (Some(id), None) => view! { <Conflicts editor id/><CustomerForm editor/> }.into_any(),
            }}
        </div>
    }
}

/// The customer's own figures: lifetime value, last contact, NPS history, open complaints
/// and the next follow-up, from the loaded document.
#[component]
fn CustomerFigures(editor: Editor) -> impl IntoView {
    use shared::model::records::{FeedbackKind, NpsCategory};
    let figures = move || {
        editor.read(|c| {
            let summary = shared::CustomerSummary::of(c);
            let purchases: Vec<&shared::model::records::Purchase> = c.purchases.values().collect();
            let value = shared::model::records::lifetime_value(
                &purchases,
                crate::routes::sales::DEFAULT_CURRENCY,
            );
            let mut nps: Vec<(shared::Timestamp, u8)> = c
                .feedback
                .values()
                .filter(|f| f.kind == FeedbackKind::Nps)
                .map(|f| (f.at, f.score))
                .collect();
            shared::order::sort(&mut nps);
            Some((summary, value, nps))
        })
    };
    move || {
        let (summary, (currency, value), nps) = figures()?;
        let now = crate::time::now();
        let latest_nps = nps.last().map_or("—".to_string(), |(_, score)| {
            format!(
                "{score} · {}",
                NpsCategory::of(*score).label().to_lowercase()
            )
        });
        let history = nps
            .iter()
            .map(|(_, score)| score.to_string())
            .collect::<Vec<_>>()
            .join(" → ");
        let spark: Vec<f64> = nps.iter().map(|(_, score)| f64::from(*score)).collect();
        Some(view! {
            <section class="card customer-figures" data-testid="customer-figures">
                <dl class="figures">
                    <dt>"Lifetime value"</dt>
                    <dd data-testid="figure-lifetime-value">{value.describe(&currency)}</dd>
                    <dt>"Last contact"</dt>
                    <dd data-testid="figure-last-contact">{summary.last_contact.map_or("never".to_string(), |at| crate::time::relative(at, now))}</dd>
                    <dt>"NPS"</dt>
                    <dd data-testid="figure-nps">
                        {latest_nps}
                        {(nps.len() > 1).then(|| view! { <span class="hint" data-testid="figure-nps-history">{format!(" ({history})")}</span> })}
                        {(nps.len() > 1).then(|| view! { <crate::components::charts::Sparkline values=spark label="NPS history"/> })}
                    </dd>
                    <dt>"Open complaints"</dt>
                    <dd data-testid="figure-open-complaints">{summary.open_complaints.to_string()}</dd>
                    <dt>"Next follow-up"</dt>
                    <dd data-testid="figure-next-follow-up">{summary.next_follow_up.map_or("none".to_string(), |at| crate::time::when(at, now))}</dd>
                </dl>
            </section>
        })
    }
}

#[component]
fn CustomerForm(editor: Editor) -> impl IntoView {
    let archived = move || editor.read(|c| c.archived);
    let heading = move || editor.read(|c| c.display_name().to_string());
    let first_phone = move || editor.read(|c| c.phones.first().map(|p| p.value.clone()));
    let first_email = move || editor.read(|c| c.emails.first().map(|e| e.value.clone()));
    view! {
        <Show when=archived>
            <div class="banner banner-info" data-testid="archived-banner">
                "This customer is archived. It is hidden from the list but keeps all its history."
            </div>
        </Show>
        <section class="card identity">
            <div class="identity-head">
                <span class="avatar avatar-large" aria-hidden="true">
                    {move || editor.read(|c| shared::CustomerSummary::of(c).initials())}
                </span>
                <div>
                    <h1 data-testid="customer-heading">{heading}</h1>
                    <StageBadgeLive editor/>
                </div>
            </div>
            <div class="quick-actions">
                {move || first_phone().map(|phone| view! {
                    <a class="button" href=tel_href(editor.repo, &phone) data-testid="call">"Call"</a>
                })}
                {move || first_email().map(|email| view! {
                    <a class="button" href=format!("mailto:{email}") data-testid="email">"Email"</a>
                })}
            </div>
        </section>

        <CustomerFigures editor/>
        <crate::routes::activities::ActivityLog editor/>
        <crate::routes::follow_ups::FollowUpsCard editor/>
        <crate::routes::sales::DealsCard editor/>
        <crate::routes::sales::PurchasesCard editor/>
        <crate::routes::feedback::FeedbackCard editor/>

        <section class="card">
            <h2 class="section-title">"Contact"</h2>
            <TextField editor label="Name" field="name" autocomplete="name" read=|c| c.name.clone() write=|c, v| c.name = v/>
            <TextField editor label="Company" field="company" autocomplete="organization" read=|c| c.company.clone() write=|c, v| c.company = v/>
            <TextField editor label="Job title" field="job_title" autocomplete="organization-title" read=|c| c.job_title.clone() write=|c, v| c.job_title = v/>
            <ContactPoints editor kind=ContactKind::Email/>
            <ContactPoints editor kind=ContactKind::Phone/>
        </section>

        <section class="card">
            <h2 class="section-title">"Relationship"</h2>
            <label class="field">
                <span class="field-label">"Lifecycle stage"</span>
                <select
                    data-testid="field-stage"
                    prop:value=editor.value(|c| c.stage.as_str().to_string())
                    on:change=move |ev| {
                        if let Some(stage) = LifecycleStage::parse(&event_target_value(&ev)) {
                            editor.save("stage".into(), move |c| c.stage = stage, || {});
                        }
                    }
                >
                    {LifecycleStage::ALL.map(|stage| view! {
                        <option value=stage.as_str() selected=move || editor.read(|c| c.stage == stage)>{stage.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <Tags editor/>
            <label class="field">
                <span class="field-label">"Preferred channel"</span>
                <select
                    data-testid="field-channel"
                    prop:value=editor.value(|c| c.preferred_channel.map(|ch| ch.as_str().to_string()).unwrap_or_default())
                    on:change=move |ev| {
                        let channel = Channel::parse(&event_target_value(&ev));
                        editor.save("preferred_channel".into(), move |c| c.preferred_channel = channel, || {});
                    }
                >
                    <option value="">"Not set"</option>
                    {Channel::ALL.map(|channel| view! {
                        <option value=channel.as_str() selected=move || editor.read(|c| c.preferred_channel == Some(channel))>{channel.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <BirthdayField editor/>
            {match crate::book::current() {
                // In a team book the owner is a member, picked from the team's list.
                Some(_) => view! { <OwnerPicker editor/> }.into_any(),
                None => view! {
                    <TextField editor label="Owner" field="owner" autocomplete="off" read=|c| c.owner.clone() write=|c, v| c.owner = v/>
                }.into_any(),
            }}
        </section>

        <crate::routes::fields::CustomFieldsCard editor/>

        <section class="card">
            <h2 class="section-title">"Address"</h2>
            <TextField editor label="Street" field="address.street" autocomplete="street-address" read=|c| c.address.street.clone() write=|c, v| c.address.street = v/>
            <div class="field-row">
                <TextField editor label="Postal code" field="address.postal_code" autocomplete="postal-code" read=|c| c.address.postal_code.clone() write=|c, v| c.address.postal_code = v/>
                <TextField editor label="City" field="address.city" autocomplete="address-level2" read=|c| c.address.city.clone() write=|c, v| c.address.city = v/>
            </div>
            <div class="field-row">
                <TextField editor label="Region" field="address.region" autocomplete="address-level1" read=|c| c.address.region.clone() write=|c, v| c.address.region = v/>
                <TextField editor label="Country" field="address.country" autocomplete="country-name" read=|c| c.address.country.clone() write=|c, v| c.address.country = v/>
            </div>
        </section>

        <section class="card">
            <h2 class="section-title">"Notes"</h2>
            <label class="field">
                <span class="visually-hidden">"Notes"</span>
                <textarea
                    rows="5"
                    data-testid="field-notes"
                    placeholder="What matters to this customer"
                    prop:value=editor.value(|c| c.notes.as_str().to_string())
                    on:change=move |ev| {
                        let text = event_target_value(&ev);
                        editor.save("notes".into(), move |c| c.set_notes(text), || {});
                    }
                ></textarea>
                <FieldError editor field="notes"/>
            </label>
        </section>

        <section class="card record-meta">
            <p data-testid="record-dates">
                {move || {
                    let (created, updated) = editor.read(|c| (c.created_at, c.updated_at));
                    let (year, month, day) = created.civil_date();
                    format!("Added {year}-{month:02}-{day:02} · changed {}", relative(updated, now()))
                }}
            </p>
            <A
                href=move || editor.read(|c| Some(format!("/customers/{}/history", c.id))).unwrap_or_default()
                attr:class="button"
                attr:data-testid="open-history"
            >"History"</A>
            <button
                class="button"
                class:danger=move || !archived()
                data-testid="archive-toggle"
                on:click=move |_| {
                    let archive = !archived();
                    editor.save("archived".into(), move |c| c.archived = archive, || {});
                }
            >
                {move || if archived() { "Restore customer" } else { "Archive customer" }}
            </button>
        </section>
    }
}

#[component]
fn StageBadgeLive(editor: Editor) -> impl IntoView {
    move || view! { <StageBadge stage=editor.read(|c| c.stage)/> }
}

/// Digits and a leading `+`: what a `tel:` link wants.
/// The Call link of a number: its international form when the book names the country of
/// numbers written without a code (a call from abroad reaches the same phone).
fn tel_href(repo: Repo, phone: &str) -> String {
    let country = repo
        .settings
        .with_untracked(|settings| settings.phone_country());
    format!("tel:{}", shared::model::phone::dial(phone, country))
}

/// The birthday as day, month and an optional year: a rep often knows only the day, and
/// address books export birthdays without a year. Saved when the day and month are both
/// set (or all three parts are cleared).
#[component]
fn BirthdayField(editor: Editor) -> impl IntoView {
    const MONTHS: [&str; 12] = shared::CalendarDate::MONTHS;
    let day = NodeRef::<leptos::html::Input>::new();
    let month = NodeRef::<leptos::html::Select>::new();
    let year = NodeRef::<leptos::html::Input>::new();
    let save = move |_| {
        let (Some(day), Some(month), Some(year)) = (day.get(), month.get(), year.get()) else {
            return;
        };
        let (day, month, year) = (day.value(), month.value(), year.value());
        let (day, month, year) = (day.trim(), month.trim(), year.trim());
        let error = |message: &str| {
            let message = message.to_string();
            editor.errors.update(|errors| {
                errors.insert("birthday".into(), message);
            });
        };
        if day.is_empty() && month.is_empty() && year.is_empty() {
            editor.save("birthday".into(), |c| c.birthday = None, || {});
            return;
        }
        if day.is_empty() || month.is_empty() {
            return error("Enter the day and the month (the year may stay empty)");
        }
        let year = match year {
            "" => None,
            text => match text.parse::<i32>() {
                Ok(year) => Some(year),
                Err(_) => return error(&format!("\"{text}\" is not a year")),
            },
        };
        let (Ok(day_number), Ok(month_number)) = (day.parse::<u32>(), month.parse::<u32>()) else {
            return error(&format!("\"{day}\" is not a day of the month"));
        };
        match Birthday::new(year, month_number, day_number) {
            Some(birthday) => editor.save(
                "birthday".into(),
                move |c| c.birthday = Some(birthday),
                || {},
            ),
            None if year.is_some_and(|year| !(1000..=9999).contains(&year)) => {
                error("Enter the year with four digits")
            }
            None => error(&format!(
                "{} has no day {day_number}",
                MONTHS
                    .get(month_number as usize - 1)
                    .copied()
                    .unwrap_or("That month")
            )),
        }
    };
    let part = move |read: fn(Birthday) -> String| {
        editor.value(move |c| c.birthday.map(read).unwrap_or_default())
    };
    let (day_value, month_value, year_value) = (
        part(|b| b.day.to_string()),
        part(|b| b.month.to_string()),
        part(|b| b.year.map(|y| y.to_string()).unwrap_or_default()),
    );
    view! {
        <fieldset class="field birthday" data-testid="field-birthday">
            <legend class="field-label">"Birthday"</legend>
            <div class="birthday-parts">
                <input type="text" inputmode="numeric" maxlength="2" autocomplete="bday-day"
                    aria-label="Birthday: day" placeholder="Day" data-testid="field-birthday-day" aria-invalid=move || editor.error("birthday").is_some().then_some("true")
                    node_ref=day prop:value=day_value on:change=save/>
                <select aria-label="Birthday: month" data-testid="field-birthday-month" aria-invalid=move || editor.error("birthday").is_some().then_some("true") node_ref=month
                    autocomplete="bday-month" prop:value=month_value on:change=save>
                    <option value="">"Month"</option>
                    {MONTHS.iter().enumerate().map(|(i, name)| view! {
                        <option value=(i + 1).to_string()>{*name}</option>
                    }).collect_view()}
                </select>
                <input type="text" inputmode="numeric" maxlength="4" autocomplete="bday-year"
                    aria-label="Birthday: year (optional)" placeholder="Year" data-testid="field-birthday-year" aria-invalid=move || editor.error("birthday").is_some().then_some("true")
                    node_ref=year prop:value=year_value on:change=save/>
            </div>
            <FieldError editor field="birthday"/>
        </fieldset>
    }
}

#[component]
pub fn FieldError(editor: Editor, #[prop(into)] field: String) -> impl IntoView {
    let testid = format!("error-{field}");
    move || {
        editor.error(&field).map(|message| {
            view! { <span class="field-error" role="alert" data-testid=testid.clone()>{message}</span> }
        })
    }
}

#[component]
fn TextField(
    editor: Editor,
    label: &'static str,
    field: &'static str,
    autocomplete: &'static str,
    read: fn(&Customer) -> String,
    write: fn(&mut Customer, String),
) -> impl IntoView {
    view! {
        <label class="field">
            <span class="field-label">{label}</span>
            <input
                type="text"
                autocomplete=autocomplete
                data-testid=format!("field-{field}")
                class:invalid=move || editor.error(field).is_some()
                aria-invalid=move || editor.error(field).is_some().then_some("true")
                prop:value=editor.value(read)
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    editor.save(field.into(), move |c| write(c, value), || {});
                }
            />
            <FieldError editor field=field/>
        </label>
    }
}

/// A team book's owner field: one of the team's members (the list last seen on this device;
/// a value from before, not in it, stays offered).
#[component]
fn OwnerPicker(editor: Editor) -> impl IntoView {
    let members = use_context::<crate::book::TeamMembers>().unwrap_or_default();
    let current = editor.value(|c: &Customer| c.owner.clone());
    let options = move || {
        let mut options = members.0.get();
        let now = current();
        if !now.is_empty() && !options.iter().any(|m| m.eq_ignore_ascii_case(&now)) {
            options.insert(0, now);
        }
        options
    };
    view! {
        <label class="field">
            <span class="field-label">"Owner"</span>
            <select data-testid="field-owner" prop:value=current
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    editor.save("owner".into(), move |c| c.owner = value, || {});
                }>
                <option value="">"Nobody yet"</option>
                {move || options().into_iter().map(|email| {
                    let this = email.clone();
                    view! { <option value=email.clone() selected=move || current().eq_ignore_ascii_case(&this)>{email.clone()}</option> }
                }).collect_view()}
            </select>
            <FieldError editor field="owner"/>
        </label>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ContactKind {
    Email,
    Phone,
}

impl ContactKind {
    fn list(self) -> &'static str {
        match self {
            ContactKind::Email => "emails",
            ContactKind::Phone => "phones",
        }
    }

    fn entries(self, customer: &Customer) -> Vec<ContactPoint> {
        match self {
            ContactKind::Email => customer.emails.clone(),
            ContactKind::Phone => customer.phones.clone(),
        }
    }

    fn entries_mut(self, customer: &mut Customer) -> &mut Vec<ContactPoint> {
        match self {
            ContactKind::Email => &mut customer.emails,
            ContactKind::Phone => &mut customer.phones,
        }
    }

    fn labels(self) -> &'static [&'static str] {
        match self {
            ContactKind::Email => EMAIL_LABELS,
            ContactKind::Phone => PHONE_LABELS,
        }
    }
}

/// The emails or phones of a customer: edit, relabel, remove, add; with mail/call links.
#[component]
fn ContactPoints(editor: Editor, kind: ContactKind) -> impl IntoView {
    let list = kind.list();
    let draft = RwSignal::new(String::new());
    // Errors about the draft entry, shown under the "add" input.
    let new_field = format!("{list}.new");
    let draft_error_field = new_field.clone();
    let entries = move || editor.read(|c| kind.entries(c));
    view! {
        <fieldset class="contact-points" data-testid=format!("{list}")>
            <legend class="field-label">{if kind == ContactKind::Email { "Emails" } else { "Phones" }}</legend>
            <For each=entries key=|entry| (entry.id.clone(), entry.label.clone(), entry.value.clone()) let:entry>
                <ContactPointRow editor kind entry/>
            </For>
            <div class="contact-point">
                <input
                    type=if kind == ContactKind::Email { "email" } else { "tel" }
                    inputmode=if kind == ContactKind::Email { "email" } else { "tel" }
                    autocomplete=if kind == ContactKind::Email { "email" } else { "tel" }
                    placeholder=if kind == ContactKind::Email { "Add an email" } else { "Add a phone" }
                    data-testid=format!("add-{list}")
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        if value.trim().is_empty() {
                            return;
                        }
                        let entry_id = format!("{}{}", &list[..1], &random_id()[..8]);
                        let label = kind.labels()[0].to_string();
                        editor.errors.update(|errors| { errors.remove(&new_field); });
                        editor.save(
                            new_field.clone(),
                            move |c| kind.entries_mut(c).push(ContactPoint {
                                id: ContactPointId(entry_id),
                                label,
                                value: value.trim().to_string(),
                            }),
                            move || draft.set(String::new()),
                        );
                    }
                />
            </div>
            <FieldError editor field=draft_error_field/>
        </fieldset>
    }
}

#[component]
fn ContactPointRow(editor: Editor, kind: ContactKind, entry: ContactPoint) -> impl IntoView {
    let list = kind.list();
    let entry_id = entry.id.clone();
    let field = format!("{list}.{}", entry.id);
    let href = match kind {
        ContactKind::Email => format!("mailto:{}", entry.value),
        ContactKind::Phone => tel_href(editor.repo, &entry.value),
    };
    let relabel_id = entry_id.clone();
    let edit_id = entry_id.clone();
    let remove_id = entry_id.clone();
    let edit_field = field.clone();
    // Each row's controls are named by the value they act on: a screen reader's list of
    // controls reads "Remove phone +43 664…", not "Remove" five times.
    let what = if kind == ContactKind::Email {
        "email"
    } else {
        "phone"
    };
    let value = entry.value.clone();
    let invalid_field = field.clone();
    view! {
        <div class="contact-point" data-testid=format!("{list}-entry")>
            <select
                class="contact-label"
                aria-label=format!("Label of {what} {value}")
                on:change=move |ev| {
                    let label = event_target_value(&ev);
                    let entry_id = relabel_id.clone();
                    editor.save(format!("{list}.{entry_id}"), move |c| {
                        if let Some(entry) = kind.entries_mut(c).iter_mut().find(|e| e.id == entry_id) {
                            entry.label = label;
                        }
                    }, || {});
                }
            >
                {kind.labels().iter().map(|label| view! {
                    <option value=*label selected=entry.label == *label>{*label}</option>
                }).collect_view()}
                {(!kind.labels().contains(&entry.label.as_str())).then(|| view! {
                    <option value=entry.label.clone() selected=true>{entry.label.clone()}</option>
                })}
            </select>
            <input
                type=if kind == ContactKind::Email { "email" } else { "tel" }
                inputmode=if kind == ContactKind::Email { "email" } else { "tel" }
                aria-label=format!("{} {value}", if kind == ContactKind::Email { "Email" } else { "Phone" })
                aria-invalid=move || editor.error(&invalid_field).is_some().then_some("true")
                data-testid=format!("{list}-value")
                value=entry.value.clone()
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    let entry_id = edit_id.clone();
                    editor.save(edit_field.clone(), move |c| {
                        if let Some(entry) = kind.entries_mut(c).iter_mut().find(|e| e.id == entry_id) {
                            entry.value = value.trim().to_string();
                        }
                    }, || {});
                }
            />
            <a class="icon-button" href=href aria-label=if kind == ContactKind::Email { format!("Send email to {}", entry.value) } else { format!("Call {}", entry.value) }>
                {if kind == ContactKind::Email { "✉" } else { "✆" }}
            </a>
            <button
                class="icon-button"
                aria-label=format!("Remove {what} {}", entry.value)
                data-testid=format!("{list}-remove")
                on:click=move |_| {
                    let entry_id = remove_id.clone();
                    editor.save(format!("{list}.removed"), move |c| kind.entries_mut(c).retain(|e| e.id != entry_id), || {});
                }
            >"×"</button>
        </div>
        <FieldError editor field=field/>
    }
}

/// Tag chips with remove buttons, and an input that adds a tag on Enter.
#[component]
fn Tags(editor: Editor) -> impl IntoView {
    let repo = use_repo();
    let draft = RwSignal::new(String::new());
    let known_tags = Memo::new(move |_| repo.book.with(|book| book.tags()));
    let add = move || {
        let tag = draft
            .get_untracked()
            .trim()
            .trim_start_matches('#')
            .to_string();
        if tag.is_empty() {
            return;
        }
        editor.save(
            "tags".into(),
            move |c| {
                c.tags.insert(&tag);
            },
            move || draft.set(String::new()),
        );
    };
    view! {
        <div class="field">
            <span class="field-label">"Tags"</span>
            <div class="chips" data-testid="tags">
                {move || editor.read(|c| c.tags.iter().map(str::to_string).collect::<Vec<_>>()).into_iter().map(|tag| {
                    let removed = tag.clone();
                    view! {
                        <span class="chip" data-testid="tag-chip">
                            {format!("#{tag}")}
                            <button class="chip-remove" aria-label=format!("Remove tag {tag}") on:click=move |_| {
                                let removed = removed.clone();
                                editor.save("tags".into(), move |c| { c.tags.remove(&removed); }, || {});
                            }>"×"</button>
                        </span>
                    }
                }).collect_view()}
            </div>
            <input
                type="text"
                list="known-tags"
                enterkeyhint="done"
                autocomplete="off"
                placeholder="Add a tag"
                data-testid="add-tag"
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:change=move |_| add()
            />
            <datalist id="known-tags">
                {move || known_tags.get().into_iter().map(|(tag, _)| view! { <option value=tag/> }).collect_view()}
            </datalist>
            <FieldError editor field="tags"/>
        </div>
    }
}

/// Fields changed on two devices at once: the kept value, the other value(s), who and when,
/// and a button to keep each one. They come with every read or saved state of the customer
/// (every saved or received change may add or settle a conflict).
#[component]
fn Conflicts(editor: Editor, id: CustomerId) -> impl IntoView {
    let repo = editor.repo;
    let conflicts = Memo::new(move |_| {
        let mut found = editor.conflicts.get();
        // A custom field's conflict is named by its field, its values in words.
        repo.settings.with(|settings| {
            for conflict in &mut found {
                let Some(field) = conflict
                    .field
                    .strip_prefix("custom.")
                    .and_then(|id| settings.fields.get(id))
                else {
                    continue;
                };
                conflict.label = field.name.clone();
                for value in &mut conflict.values {
                    value.display =
                        shared::model::custom_fields::display_value(field, &value.display);
                }
            }
        });
        found
    });
    move || {
        let list = conflicts.get();
        (!list.is_empty()).then(|| {
            let id = id.clone();
            view! {
                <section class="card conflicts" data-testid="conflicts">
                    <h2>"Changed on two devices"</h2>
                    <p class="hint">"These fields were edited on two devices before they synced. Fieldbook kept one value; choose the right one."</p>
                    {list.into_iter().map(|conflict| {
                        let field = conflict.field.clone();
                        let id = id.clone();
                        view! {
                            <div class="conflict" data-testid="conflict" data-field=conflict.field.clone()>
                                <h2 class="section-title">{conflict.label.clone()}</h2>
                                <ul>
                                    {conflict.values.into_iter().map(|value| {
                                        let field = field.clone();
                                        let id = id.clone();
                                        let op = value.op.clone();
                                        let who = match (&value.author, value.this_device) {
                                            (Some(author), true) => format!("{author} (this device)"),
                                            (Some(author), false) => author.clone(),
                                            (None, true) => "This device".to_string(),
                                            (None, false) => "Another device".to_string(),
                                        };
                                        let when = crate::time::relative(value.time, crate::time::now());
                                        view! {
                                            <li class="conflict-value" data-testid="conflict-value" data-kept=value.kept.to_string()>
                                                <div>
                                                    <strong data-testid="conflict-text">{value.display.clone()}</strong>
                                                    <p class="hint">{format!("{who} · {when}")}{value.kept.then_some(" · kept for now")}</p>
                                                </div>
                                                <button class="button" data-testid="keep" on:click=move |_| {
                                                    let (id, field, op) = (id.clone(), field.clone(), op.clone());
                                                    spawn_local(async move {
                                                        match repo.resolve_conflict(&id, &field, &op).await {
                                                            Ok(Some(resolved)) => editor.show(&resolved),
                                                            Ok(None) => {}
                                                            Err(err) => tracing::warn!(cause = %err, "could not keep the value"),
                                                        }
                                                    });
                                                }>"Keep this"</button>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            </div>
                        }
                    }).collect_view()}
                </section>
            }
        })
    }
}

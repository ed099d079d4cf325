//! Adding a customer: the few fields a rep has at hand, everything else later on the
//! customer page.

use crate::components::DetailTopbar;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::{hooks::use_navigate, NavigateOptions};
use shared::search::duplicates::Lead;
use shared::{ContactPoint, ContactPointId, Customer, CustomerId, LifecycleStage};

use crate::{
    components::{DuplicateHints, SaveStatus, StorageErrorBanner},
    repo::{use_repo, RepoError},
    routes::customer::random_id,
    time::now,
};

/// The "new customer" form.
#[component]
pub fn NewCustomer() -> impl IntoView {
    let repo = use_repo();
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let company = RwSignal::new(String::new());
    let job_title = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let stage = RwSignal::new(LifecycleStage::Lead);
    let tags = RwSignal::new(String::new());
    let notes = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<(String, String)>::new());
    let saving = RwSignal::new(false);
    let custom = crate::routes::fields::FormValues::new();

    let error_for = move |prefix: &'static str| field_error(errors, prefix);
    // Who this may already be, while the rep types (as quick capture shows).
    let lead = Memo::new(move |_| Lead {
        name: name.get(),
        company: company.get(),
        email: email.get(),
        phone: phone.get(),
    });

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
        customer.job_title = job_title.get_untracked().trim().to_string();
        customer.stage = stage.get_untracked();
        for tag in tags.get_untracked().split(',') {
            let tag = tag.trim().trim_start_matches('#');
            if !tag.is_empty() {
                customer.tags.insert(tag);
            }
        }
        customer.set_notes(notes.get_untracked());
        customer.owner = crate::book::new_owner();
        let fields = repo
            .settings
            .with_untracked(|s| crate::routes::fields::form_fields(&s.fields, false));
        if let Err(invalid) = custom.apply(&fields, &mut customer) {
            errors.set(invalid);
            return;
        }
        saving.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match repo.create(customer).await {
                Ok(created) => {
                    errors.set(Vec::new());
                    navigate(
                        &format!("/customers/{}", created.id),
                        NavigateOptions {
                            replace: true,
                            ..NavigateOptions::default()
                        },
                    );
                }
                Err(err) => errors.set(form_errors(err)),
            }
            saving.set(false);
        });
    };

    view! {
        <div class="detail" data-testid="new-customer-page">
            <DetailTopbar back="/" back_label="Cancel" lead=false>
                <SaveStatus/>
            </DetailTopbar>
            <StorageErrorBanner/>
            <form class="card new-customer" on:submit=submit novalidate=true>
                <h1>"New customer"</h1>
                <p class="hint">"A name or a company is enough. It is saved on this device."</p>
                <FormField label="Name" value=name autocomplete="name" testid="new-name" autofocus=true errors=errors field="name"/>
                <FormField label="Company" value=company autocomplete="organization" testid="new-company" errors=errors field="company"/>
                <FormField label="Job title" value=job_title autocomplete="organization-title" testid="new-job-title" errors=errors field="job_title"/>
                <FormField label="Email" value=email input_type="email" inputmode="email" autocomplete="email" testid="new-email" errors=errors field="emails"/>
                <FormField label="Phone" value=phone input_type="tel" inputmode="tel" autocomplete="tel" testid="new-phone" errors=errors field="phones"/>
                <DuplicateHints lead/>
                <label class="field">
                    <span class="field-label">"Lifecycle stage"</span>
                    <select data-testid="new-stage" on:change=move |ev| {
                        if let Some(parsed) = LifecycleStage::parse(&event_target_value(&ev)) {
                            stage.set(parsed);
                        }
                    }>
                        {LifecycleStage::ALL.map(|option| view! {
                            <option value=option.as_str() selected=option == LifecycleStage::Lead>{option.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <FormField label="Tags (comma separated)" value=tags autocomplete="off" testid="new-tags" errors=errors field="tags"/>
                <crate::routes::fields::FormCustomFields form=custom capture=false errors/>
                <label class="field">
                    <span class="field-label">"Notes"</span>
                    <textarea rows="3" data-testid="new-notes" prop:value=move || notes.get() on:input=move |ev| notes.set(event_target_value(&ev))></textarea>
                </label>
                {move || error_for("form")().map(|message| view! { <p class="field-error" role="alert" data-testid="form-error">{message}</p> })}
                <div class="form-actions">
                    <button type="submit" class="button primary" data-testid="save-customer" disabled=move || saving.get()>
                        {move || if saving.get() { "Saving…" } else { "Save customer" }}
                    </button>
                </div>
            </form>
        </div>
    }
}

/// A new customer from a form's fields (trimmed; an empty email or phone is left out).
pub fn customer_from_form(
    name: &str,
    company: &str,
    email: &str,
    phone: &str,
) -> Result<Customer, String> {
    let customer_id: CustomerId = random_id().parse().map_err(|err| format!("{err}"))?;
    let mut customer = Customer::new(customer_id, now());
    customer.name = name.trim().to_string();
    customer.company = company.trim().to_string();
    if !email.trim().is_empty() {
        customer.emails.push(ContactPoint {
            id: ContactPointId("e1".into()),
            label: "work".into(),
            value: email.trim().to_string(),
        });
    }
    if !phone.trim().is_empty() {
        customer.phones.push(ContactPoint {
            id: ContactPointId("p1".into()),
            label: "mobile".into(),
            value: phone.trim().to_string(),
        });
    }
    Ok(customer)
}

/// The message for `prefix` (a field, or any of its parts: "emails" covers "emails.0.value")
/// among a form's errors, as a reactive closure.
pub fn field_error(
    errors: RwSignal<Vec<(String, String)>>,
    prefix: &'static str,
) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static {
    move || {
        errors.with(|errors| {
            errors
                .iter()
                .find(|(field, _)| covers(prefix, field))
                .map(|(_, message)| message.clone())
        })
    }
}

/// Whether the error of `name` belongs to the field `prefix` ("emails" covers "emails.0.value").
fn covers(prefix: &str, name: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// What a form shows for a failed save: each invalid field's message, or one for the form.
pub fn form_errors(err: RepoError) -> Vec<(String, String)> {
    match err {
        RepoError::Invalid(invalid) => invalid
            .0
            .into_iter()
            .map(|error| (error.field, error.message))
            .collect(),
        other => vec![("form".into(), other.to_string())],
    }
}

#[component]
pub fn FormField(
    label: &'static str,
    value: RwSignal<String>,
    testid: &'static str,
    autocomplete: &'static str,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(default = "text")] inputmode: &'static str,
    /// The form's errors, by field.
    errors: RwSignal<Vec<(String, String)>>,
    /// This field's name among them (its parts too: "emails" covers "emails.0.value").
    field: &'static str,
    /// The form's first field: focused when the screen opens.
    #[prop(optional)]
    autofocus: bool,
    /// The phone keyboard's Enter key: "next" moves on to the following field (typing, not
    /// a tap), "done" on a form's last one.
    #[prop(default = "next")]
    enterkeyhint: &'static str,
) -> impl IntoView {
    let error = field_error(errors, field);
    // Typing answers the message: a field's error (and the form's, which names what is
    // missing) goes as soon as the rep edits it, instead of staying until the next save.
    let edited = move |text: String| {
        value.set(text);
        if errors.with_untracked(|errors| !errors.is_empty()) {
            errors
                .update(|errors| errors.retain(|(name, _)| name != "form" && !covers(field, name)));
        }
    };
    view! {
        <label class="field">
            <span class="field-label">{label}</span>
            <input
                type=input_type
                inputmode=inputmode
                autocomplete=autocomplete
                data-testid=testid
                data-autofocus=autofocus.then_some("")
                enterkeyhint=enterkeyhint
                class:invalid=move || error().is_some()
                aria-invalid=move || error().is_some().then_some("true")
                prop:value=move || value.get()
                on:input=move |ev| edited(event_target_value(&ev))
            />
            {move || error().map(|message| view! { <span class="field-error" role="alert" data-testid=format!("{testid}-error")>{message}</span> })}
        </label>
    }
}

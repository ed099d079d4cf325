//! Erasing a customer's history (a customer asked for their personal data to be deleted):
//! `/customers/:id/erase`, and the notice shown when another device erased a customer this
//! one still had unsent changes to. The engine does the erasing (`repo::erase` there).

use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::{
    formats::csv_export::to_csv_with_fields, model::history::SetAside, Customer, CustomerId,
};

use crate::{
    components::DetailTopbar,
    export,
    repo::{use_repo, Repo},
    routes::customer::random_id,
    time::{day, now, when},
};

/// `/customers/:id/erase`: what erasing removes and keeps, the choice between keeping the
/// customer as shown now and erasing them completely, and a confirmation.
#[component]
pub fn EraseCustomer() -> impl IntoView {
    let repo = use_repo();
    let params = use_params_map();
    let navigate = use_navigate();
    let customer_id = Memo::new(move |_| params.with(|p| p.get("id")?.parse::<CustomerId>().ok()));
    let customer = RwSignal::new(None::<Result<Customer, String>>);
    Effect::new(move |_| {
        let Some(id) = customer_id.get() else {
            customer.set(Some(Err("This is not a customer's address.".into())));
            return;
        };
        spawn_local(async move {
            customer.set(Some(
                repo.customer(&id).await.map_err(|err| err.to_string()),
            ));
        });
    });
    let keep = RwSignal::new(true);
    let understood = RwSignal::new(false);
    let working = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let back = move || {
        customer_id
            .get()
            .map(|id| format!("/customers/{id}/history"))
            .unwrap_or_else(|| "/".to_string())
    };
    let navigate = StoredValue::new_local(navigate);
    let erase = move |_| {
        let Some(id) = customer_id.get_untracked() else {
            return;
        };
        let keep_as = keep
            .get_untracked()
            .then(|| random_id().parse::<CustomerId>().ok())
            .flatten();
        working.set(true);
        failed.set(None);
        spawn_local(async move {
            match repo.erase(&id, keep_as.clone()).await {
                Ok(()) => {
                    let to = match keep_as {
                        Some(new_id) => format!("/customers/{new_id}"),
                        None => "/".to_string(),
                    };
                    navigate.with_value(|navigate| navigate(&to, Default::default()));
                }
                Err(err) => {
                    working.set(false);
                    failed.set(Some(format!("Not erased: {err}")));
                }
            }
        });
    };
    view! {
        <div class="detail" data-testid="erase-page">
            <DetailTopbar back=Signal::derive(back) back_label="History" title="Erase history"/>
            {move || match customer.get() {
                None => view! { <p class="empty">"Loading…"</p> }.into_any(),
                Some(Err(message)) => view! {
                    <p class="banner banner-error" role="alert">{message}</p>
                }.into_any(),
                Some(Ok(customer)) => {
                    let name = customer.display_name().to_string();
                    view! {
                        <section class="card">
                            <h2 class="section-title" data-testid="erase-customer">{name}</h2>
                            <p>"Every change Fieldbook keeps holds the values it replaced. When a customer asks for personal data to be deleted, first change or remove what must go here (an old address, a note), then erase the history."</p>
                            <fieldset class="erase-choices">
                                <legend class="label">"What stays"</legend>
                                <label class="erase-choice">
                                    <input type="radio" name="erase-what" data-testid="erase-keep"
                                        prop:checked=move || keep.get()
                                        on:change=move |_| keep.set(true)/>
                                    <span>
                                        <strong>"The customer as shown now"</strong>
                                        <span class="hint">"Earlier values of every field, removed notes, emails and phones, and which device changed what and when are erased. The details, calls, visits, follow-ups, deals and purchases as they are now stay, with the date the customer was added."</span>
                                    </span>
                                </label>
                                <label class="erase-choice">
                                    <input type="radio" name="erase-what" data-testid="erase-all"
                                        prop:checked=move || !keep.get()
                                        on:change=move |_| keep.set(false)/>
                                    <span>
                                        <strong>"Nothing: erase the customer completely"</strong>
                                        <span class="hint">"The customer and everything recorded about them leave the book."</span>
                                    </span>
                                </label>
                            </fieldset>
                            <p class="hint">"This device forgets it at once; the server empties it as soon as this device is online; your other devices forget it when they next connect (edits they had not sent are kept aside for you to download). Backup and export files saved earlier still hold it: delete them yourself. This cannot be undone."</p>
                            <label class="check">
                                <input type="checkbox" data-testid="erase-understood"
                                    prop:checked=move || understood.get()
                                    on:change=move |ev| understood.set(event_target_checked(&ev))/>
                                <span>"I understand this cannot be undone"</span>
                            </label>
                            {move || failed.get().map(|message| view! {
                                <p class="banner banner-error" role="alert" data-testid="erase-error">{message}</p>
                            })}
                            <div class="form-actions">
                                <button class="button danger" data-testid="erase-confirm"
                                    disabled=move || !understood.get() || working.get()
                                    on:click=erase>
                                    {move || if working.get() { "Erasing…" } else if keep.get() { "Erase history" } else { "Erase customer" }}
                                </button>
                            </div>
                        </section>
                    }.into_any()
                }
            }}
        </div>
    }
}

/// The customers another device erased while this one had unsent changes to them: each can
/// be downloaded (a CSV that imports again) or discarded. Shown above the list.
#[component]
pub fn SetAsideNotice() -> impl IntoView {
    let repo = use_repo();
    let items = RwSignal::new(Vec::<SetAside>::new());
    let message = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        repo.set_aside_version.track();
        spawn_local(async move {
            match repo.set_aside().await {
                Ok(found) => items.set(found),
                Err(err) => tracing::warn!(cause = %err, "cannot read the set-aside customers"),
            }
        });
    });
    view! {
        {move || message.get().map(|text| view! {
            <div class="banner banner-info" role="status" data-testid="set-aside-done">{text}</div>
        })}
        <For each=move || items.get() key=|item| item.key let:item>
            <SetAsideItem repo item message/>
        </For>
    }
}

#[component]
fn SetAsideItem(repo: Repo, item: SetAside, message: RwSignal<Option<String>>) -> impl IntoView {
    let key = item.key;
    let name = item.customer.display_name().to_string();
    let changes = match item.unsent {
        1 => "1 change to them that was not sent. It is kept here until you download or discard it.".to_string(),
        n => format!("{n} changes to them that were not sent. They are kept here until you download or discard them."),
    };
    let text = format!(
        "“{name}” was erased on another device ({}) while this device had {changes}",
        when(item.at, now())
    );
    let dismiss = move |done: String| {
        spawn_local(async move {
            match repo.dismiss_set_aside(key).await {
                Ok(()) => message.set(Some(done)),
                Err(err) => message.set(Some(format!("Not done: {err}"))),
            }
        });
    };
    let customer = item.customer.clone();
    let download_name = name.clone();
    let download = move |_| {
        let file = format!("fieldbook-erased-{}.csv", day(now()));
        match export::download_as(
            &file,
            &repo
                .settings
                .with_untracked(|s| to_csv_with_fields(std::iter::once(&customer), &s.fields)),
            "text/csv",
        ) {
            Ok(()) => dismiss(format!(
                "Downloaded “{download_name}” as {file} (Import reads it back as a new customer)."
            )),
            Err(err) => message.set(Some(format!("Download failed: {err}"))),
        }
    };
    let discard = move |_| dismiss(format!("Discarded the unsent changes to “{name}”."));
    view! {
        <div class="banner banner-warning" role="alert" data-testid="set-aside">
            <p>{text}</p>
            <div class="banner-actions">
                <button class="button" data-testid="set-aside-download" on:click=download>"Download"</button>
                <button class="button" data-testid="set-aside-discard" on:click=discard>"Discard"</button>
            </div>
        </div>
    }
}

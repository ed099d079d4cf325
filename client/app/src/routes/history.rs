//! A customer's history: every change, newest first, with the device that made it and when;
//! a field's values over time with "Put this back" (a new change, synced like any edit).
//! Read by the engine from the customer's document (`shared::documents::history`).

use leptos::{prelude::*, task::spawn_local};
use leptos_router::{components::A, hooks::use_params_map};
use shared::{
    field_history,
    model::history::{display_field, field_label},
    Customer, CustomerId, HistoryEntry,
};

use crate::{
    components::DetailTopbar,
    repo::{use_repo, Repo},
    time::{now, relative, when},
};

/// Entries shown before "Show more" (a customer edited for years has thousands).
const PAGE: usize = 50;

/// A customer's history as loaded: `None` while loading, or the entries or why not.
type Loaded = RwSignal<Option<Result<Vec<HistoryEntry>, String>>>;

/// The customer's history and the customer, loaded again whenever a change of this customer
/// arrives from another device or tab.
fn load_history(
    repo: Repo,
    customer_id: Memo<Option<CustomerId>>,
) -> (Loaded, RwSignal<Option<Customer>>, Callback<()>) {
    let history = RwSignal::new(None);
    let customer = RwSignal::new(None);
    let reload = Callback::new(move |()| {
        let Some(id) = customer_id.get_untracked() else {
            return;
        };
        spawn_local(async move {
            let mut found = repo.history(&id).await.map_err(|err| err.to_string());
            if let Ok(entries) = found.as_mut() {
                repo.settings.with_untracked(|s| {
                    crate::routes::fields::name_custom_lines(entries, &s.fields)
                });
            }
            if let Ok(loaded) = repo.customer(&id).await {
                customer.set(Some(loaded));
            }
            history.set(Some(found));
        });
    });
    Effect::new(move |_| {
        customer_id.track();
        reload.run(());
    });
    Effect::new(move |seen: Option<u64>| {
        let changes = repo.remote_changes.get();
        if let (Some(_), Some(id)) = (seen, customer_id.get_untracked()) {
            if changes.customers.contains(&id) {
                reload.run(());
            }
        }
        changes.generation
    });
    (history, customer, reload)
}

/// "· reached this device Today 14:02" for a change that arrived from another device more
/// than a minute after it was made (edited offline, or this device was).
fn arrived_note(entry: &HistoryEntry, now: shared::Timestamp) -> Option<String> {
    let arrived = entry.arrived?;
    (arrived.0 - entry.time.0 > 60_000)
        .then(|| format!(" · reached this device {}", when(arrived, now)))
}

fn who(entry: &HistoryEntry) -> String {
    if entry.this_device && entry.device != "this device" {
        format!("{} (this device)", entry.device)
    } else {
        entry.device.clone()
    }
}

/// `/customers/:id/history`: every change of the customer, newest first.
#[component]
pub fn CustomerHistory() -> impl IntoView {
    let repo = use_repo();
    let params = use_params_map();
    let customer_id = Memo::new(move |_| params.with(|p| p.get("id")?.parse::<CustomerId>().ok()));
    let (history, customer, _) = load_history(repo, customer_id);
    let shown = RwSignal::new(PAGE);
    let base = move || {
        customer_id
            .get()
            .map(|id| format!("/customers/{id}"))
            .unwrap_or_else(|| "/".to_string())
    };
    let name = move || {
        customer.with(|c| {
            c.as_ref()
                .map(|c| c.display_name().to_string())
                .unwrap_or_default()
        })
    };
    view! {
        <div class="detail" data-testid="history-page">
            <DetailTopbar back=Signal::derive(base) back_label="Customer" title="History"/>
            <section class="card">
                <h2 class="section-title" data-testid="history-customer">{name}</h2>
                <p class="hint">"Every change, on every device, newest first. Tap a field to see its earlier values and put one back."</p>
                {move || match history.get() {
                    None => view! { <p class="empty">"Loading…"</p> }.into_any(),
                    Some(Err(message)) => view! { <p class="banner banner-error" role="alert">{message}</p> }.into_any(),
                    Some(Ok(entries)) => {
                        let now = now();
                        let base = base();
                        let total = entries.len();
                        view! {
                            <ol class="history" data-testid="history">
                                {entries.into_iter().take(shown.get()).map(|entry| {
                                    let base = base.clone();
                                    view! {
                                        <li class="history-entry" data-testid="history-entry" data-change=entry.change.clone()>
                                            <p class="history-head">
                                                <strong data-testid="history-device">{who(&entry)}</strong>
                                                <span class="hint" title=when(entry.time, now)>{format!(" · {}", relative(entry.time, now))}</span>
                                                {arrived_note(&entry, now).map(|note| view! { <span class="hint" data-testid="history-arrived">{note}</span> })}
                                            </p>
                                            <ul class="history-lines">
                                                {entry.lines.into_iter().map(|line| match line.field {
                                                    Some(field) => view! {
                                                        <li>
                                                            <A href=format!("{base}/history/{field}") attr:class="history-line history-field" attr:data-testid="history-line" attr:data-field=field.clone()>
                                                                <span>{line.text}</span>
                                                                <span class="chevron" aria-hidden="true">"›"</span>
                                                            </A>
                                                        </li>
                                                    }.into_any(),
                                                    None => view! {
                                                        <li class="history-line" data-testid="history-line">{line.text}</li>
                                                    }.into_any(),
                                                }).collect_view()}
                                            </ul>
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                            {(total > shown.get()).then(|| view! {
                                <button class="button" data-testid="history-more" on:click=move |_| shown.update(|n| *n += PAGE)>
                                    {format!("Show more ({} earlier)", total - shown.get_untracked())}
                                </button>
                            })}
                        }.into_any()
                    }
                }}
            </section>
            <section class="card" data-testid="erase-card">
                <h2 class="section-title">"Erase the history"</h2>
                <p class="hint">"When a customer asks for their personal data to be deleted: every earlier value can be erased here, on the server and on your other devices."</p>
                <A href=move || format!("{}/erase", base()) attr:class="button danger" attr:data-testid="erase-history">"Erase history…"</A>
            </section>
        </div>
    }
}

/// `/customers/:id/history/:field`: the values a field had, and "Put this back".
#[component]
pub fn FieldHistory() -> impl IntoView {
    let repo = use_repo();
    let params = use_params_map();
    let customer_id = Memo::new(move |_| params.with(|p| p.get("id")?.parse::<CustomerId>().ok()));
    let field = Memo::new(move |_| params.with(|p| p.get("field").unwrap_or_default()));
    let (history, customer, reload) = load_history(repo, customer_id);
    let message = RwSignal::new(None::<Result<String, String>>);
    let back = move || {
        customer_id
            .get()
            .map(|id| format!("/customers/{id}/history"))
            .unwrap_or_else(|| "/".to_string())
    };
    let put_back = move |value: String| {
        let (Some(id), field) = (customer_id.get_untracked(), field.get_untracked()) else {
            return;
        };
        message.set(None);
        spawn_local(async move {
            let label = field_label(&field);
            let shown = display_field(&field, &value);
            match repo.put_back(&id, &field, &value).await {
                Ok(_) => {
                    message.set(Some(Ok(format!(
                        "{label} is {shown} again. Saved on this device."
                    ))));
                    reload.run(());
                }
                Err(err) => message.set(Some(Err(format!("Not put back: {err}")))),
            }
        });
    };
    view! {
        <div class="detail" data-testid="field-history-page">
            <DetailTopbar back=Signal::derive(back) back_label="History" title="Earlier values"/>
            <section class="card">
                <h2 class="section-title" data-testid="field-history-title">{move || {
                    let key = field.get();
                    repo.settings.with(|s| crate::routes::fields::custom_field(&key, &s.fields).map(|f| f.name.clone()))
                        .unwrap_or_else(|| field_label(&key))
                }}</h2>
                {move || message.get().map(|result| match result {
                    Ok(text) => view! { <p class="banner banner-info" role="status" data-testid="put-back-done">{text}</p> }.into_any(),
                    Err(text) => view! { <p class="banner banner-error" role="alert" data-testid="put-back-error">{text}</p> }.into_any(),
                })}
                {move || {
                    let field = field.get();
                    let current = customer.with(|c| c.as_ref().and_then(|c| c.field_value(&field)));
                    match history.get() {
                        None => view! { <p class="empty">"Loading…"</p> }.into_any(),
                        Some(Err(text)) => view! { <p class="banner banner-error" role="alert">{text}</p> }.into_any(),
                        Some(Ok(entries)) => {
                            let mut values = field_history(&entries, &field);
                            repo.settings.with_untracked(|s| {
                                if let Some(def) = crate::routes::fields::custom_field(&field, &s.fields) {
                                    for value in &mut values {
                                        value.display = shared::model::custom_fields::display_value(def, &value.value);
                                    }
                                }
                            });
                            if values.is_empty() {
                                return view! { <p class="empty">"No change of this field is recorded."</p> }.into_any();
                            }
                            let now = now();
                            let mut current_shown = false;
                            view! {
                                <ol class="history" data-testid="field-values">
                                    {values.into_iter().map(|value| {
                                        let is_current = !current_shown && current.as_deref() == Some(value.value.as_str());
                                        current_shown |= is_current;
                                        let restore = value.value.clone();
                                        view! {
                                            <li class="history-entry field-value" data-testid="field-value" data-current=is_current.to_string()>
                                                <div>
                                                    <strong data-testid="field-value-text">{value.display.clone()}</strong>
                                                    <p class="hint">{format!("{} · {}", value.device, when(value.time, now))}</p>
                                                </div>
                                                {if is_current {
                                                    view! { <span class="hint current-value">"Now"</span> }.into_any()
                                                } else {
                                                    view! {
                                                        <button class="button" data-testid="put-back"
                                                            on:click=move |_| put_back(restore.clone())>"Put this back"</button>
                                                    }.into_any()
                                                }}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ol>
                            }.into_any()
                        }
                    }
                }}
            </section>
        </div>
    }
}

/// Where the moment the rep last looked at "Recent changes" is kept (this browser).
const LAST_LOOK_KEY: &str = "fieldbook.recent.last-look";

/// `/recent`: what changed on the rep's other devices since a moment she chooses — by
/// default her last look at this screen.
#[component]
pub fn RecentChanges() -> impl IntoView {
    let repo = use_repo();
    let storage = crate::device::local_storage();
    let last_look = storage
        .as_ref()
        .and_then(|s| s.get_item(LAST_LOOK_KEY).ok().flatten())
        .and_then(|text| text.parse::<i64>().ok())
        .map(shared::Timestamp);
    // This look is the next one's "last look".
    if let Some(storage) = &storage {
        let _ = storage.set_item(LAST_LOOK_KEY, &now().0.to_string());
    }
    let day = shared::Timestamp::DAY_MS;
    let period = RwSignal::new(if last_look.is_some() {
        "last-look"
    } else {
        "week"
    });
    let since = move || match period.get() {
        "last-look" => last_look.unwrap_or(shared::Timestamp(0)),
        "today" => crate::time::start_of_day(now()),
        "month" => shared::Timestamp(now().0 - 30 * day),
        _ => shared::Timestamp(now().0 - 7 * day),
    };
    let changes = RwSignal::new(None::<Result<Vec<shared::model::history::RecentChange>, String>>);
    let load = move || {
        let from = since();
        spawn_local(async move {
            let mut found = repo
                .recent_changes(from)
                .await
                .map_err(|err| err.to_string());
            if let Ok(list) = found.as_mut() {
                repo.settings.with_untracked(|s| {
                    for change in list.iter_mut() {
                        crate::routes::fields::name_custom_lines(
                            std::slice::from_mut(&mut change.entry),
                            &s.fields,
                        );
                    }
                });
            }
            changes.set(Some(found));
        });
    };
    Effect::new(move |_| {
        period.track();
        load();
    });
    // Changes arriving while the screen is open are added.
    Effect::new(move |seen: Option<u64>| {
        let generation = repo.remote_changes.get().generation;
        if seen.is_some() {
            load();
        }
        generation
    });
    let since_words = move || match period.get() {
        "last-look" => last_look
            .map(|at| format!("since you last looked, {}", when(at, now())))
            .unwrap_or_default(),
        "today" => "today".to_string(),
        "month" => "in the last 30 days".to_string(),
        _ => "in the last 7 days".to_string(),
    };
    view! {
        <div class="detail" data-testid="recent-page">
            <DetailTopbar back="/menu" back_label="Menu" title="Recent changes"/>
            <section class="card">
                <label class="field">
                    <span>"Changes from your other devices"</span>
                    <select data-testid="recent-since" on:change=move |ev| {
                        let value = event_target_value(&ev);
                        period.set(match value.as_str() {
                            "last-look" => "last-look",
                            "today" => "today",
                            "month" => "month",
                            _ => "week",
                        });
                    }>
                        {last_look.map(|_| view! { <option value="last-look" selected=move || period.get() == "last-look">"Since my last look"</option> })}
                        <option value="today" selected=move || period.get() == "today">"Today"</option>
                        <option value="week" selected=move || period.get() == "week">"Last 7 days"</option>
                        <option value="month" selected=move || period.get() == "month">"Last 30 days"</option>
                    </select>
                </label>
                {move || match changes.get() {
                    None => view! { <p class="empty">"Loading…"</p> }.into_any(),
                    Some(Err(message)) => view! { <p class="banner banner-error" role="alert">{message}</p> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => view! {
                        <p class="empty" data-testid="recent-empty">{format!("Nothing changed on your other devices {}.", since_words())}</p>
                    }.into_any(),
                    Some(Ok(list)) => {
                        let now = now();
                        view! {
                            <ol class="history" data-testid="recent-changes">
                                {list.into_iter().map(|change| {
                                    let entry = change.entry;
                                    let arrived = entry.arrived.map(|at| format!(" · arrived {}", when(at, now))).unwrap_or_default();
                                    view! {
                                        <li class="history-entry" data-testid="recent-change">
                                            <A href=format!("/customers/{}/history", change.customer) attr:class="history-line recent-customer" attr:data-testid="recent-customer">
                                                <strong>{change.name}</strong>
                                                <span class="chevron" aria-hidden="true">"›"</span>
                                            </A>
                                            <p class="hint history-head">
                                                <span data-testid="history-device">{entry.device.clone()}</span>
                                                {format!(" · made {}{arrived}", when(entry.time, now))}
                                            </p>
                                            <ul class="history-lines">
                                                {entry.lines.into_iter().map(|line| view! {
                                                    <li class="recent-line" data-testid="history-line">{line.text}</li>
                                                }).collect_view()}
                                            </ul>
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                        }.into_any()
                    }
                }}
            </section>
        </div>
    }
}

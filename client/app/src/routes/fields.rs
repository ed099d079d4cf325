//! Custom fields: Settings → Fields (define a field, rename it and its choices, order,
//! archive) and the card of the book's fields on the customer page.
//!
//! Definitions live in the book document (`BookSettings::fields`, by id) and values in each
//! customer's document by field id (`Customer::custom`, `Customer::custom_sets`), so a
//! rename keeps every value and two devices' edits merge; `shared::model::custom_fields`
//! holds the kinds, the canonical value forms and the checks the engine applies again.

use std::collections::BTreeMap;

use leptos::{prelude::*, task::spawn_local};
use shared::model::custom_fields::{
    display_value, parse_value, FieldChoice, FieldDefinition, FieldKind,
};
use shared::Customer;

use crate::{
    components::DetailTopbar,
    repo::{use_repo, RepoError},
    routes::customer::{short_id, Editor, FieldError},
    time::now,
};

/// The book's fields in the order they show: (id, definition), archived ones left out
/// unless `archived`.
pub fn ordered_fields(
    fields: &BTreeMap<String, FieldDefinition>,
    archived: bool,
) -> Vec<(String, FieldDefinition)> {
    let mut ordered: Vec<(String, FieldDefinition)> = (fields.iter())
        .filter(|(_, field)| archived || !field.archived)
        .map(|(id, field)| (id.clone(), field.clone()))
        .collect();
    shared::order::sort_by(&mut ordered, |(a_id, a), (b_id, b)| {
        (a.archived, a.position, a.name.to_lowercase(), a_id).cmp(&(
            b.archived,
            b.position,
            b.name.to_lowercase(),
            b_id,
        ))
    });
    ordered
}

/// The words shown for a customer's value of field `id` ("" when it has none).
pub fn shown_value(customer: &Customer, id: &str, field: &FieldDefinition) -> String {
    if field.kind == FieldKind::Choices {
        let mut labels: Vec<String> = (customer.custom_sets.get(id).into_iter())
            .flat_map(|chosen| chosen.iter())
            .map(|choice| display_value(field, choice))
            .collect();
        shared::order::sort(&mut labels);
        return labels.join(", ");
    }
    (customer.custom.get(id))
        .map(|value| display_value(field, value))
        .unwrap_or_default()
}

/// The value shown in a field's input for stored `value` (a choice's id stays an id: the
/// select's option values are ids).
fn input_value(field: &FieldDefinition, value: &str) -> String {
    match field.kind {
        FieldKind::Choice => value.to_string(),
        _ => display_value(field, value),
    }
}

fn error_text(err: RepoError) -> String {
    match err {
        RepoError::Invalid(invalid) => (invalid.0.iter())
            .map(|error| error.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Choices typed one per line, as new choices after `after` positions.
fn new_choices(text: &str, after: i64) -> BTreeMap<String, FieldChoice> {
    (text.lines())
        .map(str::trim)
        .filter(|label| !label.is_empty())
        .enumerate()
        .map(|(at, label)| {
            (
                short_id(),
                FieldChoice {
                    label: label.to_string(),
                    position: after + 1 + at as i64,
                    archived: false,
                },
            )
        })
        .collect()
}

/// Settings → Fields.
#[component]
pub fn FieldsPage() -> impl IntoView {
    let repo = use_repo();
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new(FieldKind::Text);
    let choices = RwSignal::new(String::new());
    let required = RwSignal::new(false);
    let in_capture = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let added = RwSignal::new(None::<String>);
    let editing = RwSignal::new(None::<String>);
    let add = move |_| {
        let settings = repo.settings.get_untracked();
        let position = (settings.fields.values())
            .map(|field| field.position)
            .max()
            .unwrap_or(0)
            + 1;
        let mut field =
            FieldDefinition::new(&name.get_untracked(), kind.get_untracked(), position, now());
        field.required = required.get_untracked();
        field.in_capture = in_capture.get_untracked();
        if field.kind.has_choices() {
            field.choices = new_choices(&choices.get_untracked(), 0);
        }
        let field_name = field.name.clone();
        spawn_local(async move {
            let id = short_id();
            match repo
                .update_book(move |s| {
                    s.fields.insert(id, field);
                })
                .await
            {
                Ok(()) => {
                    error.set(None);
                    added.set(Some(format!(
                        "“{field_name}” added: it shows on every customer."
                    )));
                    name.set(String::new());
                    choices.set(String::new());
                    required.set(false);
                    in_capture.set(false);
                }
                Err(err) => {
                    added.set(None);
                    error.set(Some(error_text(err)));
                }
            }
        });
    };
    view! {
        <div class="detail" data-testid="fields-page">
            <DetailTopbar back="/settings" back_label="Settings" title="Fields"/>
            <section class="card">
                <h2 class="section-title">"New field"</h2>
                <p class="hint">"Your own facts about customers: industry, fleet size, licence expiry… Every customer gets the field, on every device."</p>
                <label class="field"><span class="field-label">"Name"</span>
                    <input type="text" autocomplete="off" data-testid="new-field-name" placeholder="e.g. Industry"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/></label>
                <label class="field"><span class="field-label">"Type"</span>
                    <select data-testid="new-field-kind" prop:value=move || kind.get().stored().to_string()
                        on:change=move |ev| if let Some(chosen) = FieldKind::parse(&event_target_value(&ev)) { kind.set(chosen) }>
                        {FieldKind::ALL.map(|k| view! { <option value=k.stored()>{k.label()}</option> }).collect_view()}
                    </select></label>
                {move || kind.get().has_choices().then(|| view! {
                    <label class="field"><span class="field-label">"Choices, one per line"</span>
                        <textarea rows="4" data-testid="new-field-choices" placeholder="Retail\nWholesale\nExport"
                            prop:value=move || choices.get() on:input=move |ev| choices.set(event_target_value(&ev))></textarea></label>
                })}
                <label class="check"><input type="checkbox" data-testid="new-field-required"
                    prop:checked=move || required.get() on:change=move |ev| required.set(event_target_checked(&ev))/>
                    <span>"Required for new customers"</span></label>
                <label class="check"><input type="checkbox" data-testid="new-field-capture"
                    prop:checked=move || in_capture.get() on:change=move |ev| in_capture.set(event_target_checked(&ev))/>
                    <span>"Ask in quick capture"</span></label>
                {move || error.get().map(|e| view! { <p class="field-error" role="alert" data-testid="field-definition-error">{e}</p> })}
                {move || added.get().map(|text| view! { <p class="hint" role="status" data-testid="field-added">{text}</p> })}
                <div class="form-actions">
                    <button class="button primary" data-testid="add-field" on:click=add>"Add field"</button>
                </div>
            </section>
            <section class="card">
                <h2 class="section-title">"Fields"</h2>
                <ul class="follow-up-list" data-testid="field-list">
                    {move || {
                        let fields = repo.settings.with(|s| ordered_fields(&s.fields, true));
                        if fields.is_empty() {
                            return view! { <li class="hint" data-testid="no-fields">"No fields yet."</li> }.into_any();
                        }
                        let active: Vec<String> = fields.iter().filter(|(_, f)| !f.archived).map(|(id, _)| id.clone()).collect();
                        fields.into_iter().map(|(id, field)| {
                            let at = active.iter().position(|a| a == &id);
                            let up = at.filter(|at| *at > 0).map(|at| active[at - 1].clone());
                            let down = at.and_then(|at| active.get(at + 1).cloned());
                            view! { <FieldRow id field up down editing error/> }
                        }).collect_view().into_any()
                    }}
                </ul>
            </section>
        </div>
    }
}

/// Swaps the positions of fields `a` and `b` (both given their rank among the active ones,
/// so ties left by two devices sort out).
fn swap_fields(repo: crate::repo::Repo, a: String, b: String, error: RwSignal<Option<String>>) {
    spawn_local(async move {
        let result = repo
            .update_book(move |s| {
                let order: Vec<String> = ordered_fields(&s.fields, false)
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect();
                for (rank, id) in order.iter().enumerate() {
                    let rank = rank as i64 + 1;
                    let position = if *id == a {
                        order
                            .iter()
                            .position(|x| *x == b)
                            .map_or(rank, |r| r as i64 + 1)
                    } else if *id == b {
                        order
                            .iter()
                            .position(|x| *x == a)
                            .map_or(rank, |r| r as i64 + 1)
                    } else {
                        rank
                    };
                    if let Some(field) = s.fields.get_mut(id) {
                        field.position = position;
                    }
                }
            })
            .await;
        if let Err(err) = result {
            error.set(Some(error_text(err)));
        }
    });
}

/// One field of the list: name, type, flags; move, edit, archive.
#[component]
fn FieldRow(
    id: String,
    field: FieldDefinition,
    up: Option<String>,
    down: Option<String>,
    editing: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let repo = use_repo();
    let archived = field.archived;
    let mut flags = vec![field.kind.label().to_string()];
    if field.kind.has_choices() {
        flags.push(format!("{} choices", field.offered_choices().len()));
    }
    if field.required {
        flags.push("required".into());
    }
    if field.in_capture {
        flags.push("in quick capture".into());
    }
    if archived {
        flags.push("archived".into());
    }
    let open_id = id.clone();
    let is_open = move || editing.get().as_deref() == Some(open_id.as_str());
    let toggle_id = id.clone();
    let archive_id = id.clone();
    let me = id.clone();
    let name = field.name.clone();
    view! {
        <li class="field-def" class:done=archived data-testid="field-def" data-name=field.name.clone()>
            <div class="follow-up">
                <div class="follow-up-body">
                    <strong data-testid="field-def-name">{field.name.clone()}</strong>
                    <span class="hint" data-testid="field-def-flags">{flags.join(" · ")}</span>
                </div>
                {up.map(|other| {
                    let me = me.clone();
                    view! { <button class="button icon-button" aria-label=format!("Move {name} up") data-testid="field-up"
                        on:click=move |_| swap_fields(repo, me.clone(), other.clone(), error)>"↑"</button> }
                })}
                {down.map(|other| {
                    let me = me.clone();
                    view! { <button class="button icon-button" aria-label=format!("Move {} down", field.name) data-testid="field-down"
                        on:click=move |_| swap_fields(repo, me.clone(), other.clone(), error)>"↓"</button> }
                })}
                <button class="button" data-testid="field-edit" aria-expanded=move || is_open().to_string()
                    on:click=move |_| editing.update(|open| {
                        *open = if open.as_deref() == Some(toggle_id.as_str()) { None } else { Some(toggle_id.clone()) };
                    })>"Edit"</button>
            </div>
            {
                let id = id.clone();
                let open_id = id.clone();
                move || (editing.get().as_deref() == Some(open_id.as_str())).then(|| {
                    let archive_id = archive_id.clone();
                    view! {
                        <FieldEditor id=id.clone() error/>
                        <div class="form-actions">
                            <button class="button" class:danger=!archived data-testid="field-archive" on:click=move |_| {
                                let id = archive_id.clone();
                                spawn_local(async move {
                                    if let Err(err) = repo.update_book(move |s| if let Some(f) = s.fields.get_mut(&id) { f.archived = !archived }).await {
                                        error.set(Some(error_text(err)));
                                    }
                                });
                            }>{if archived { "Restore field" } else { "Archive field (values are kept)" }}</button>
                        </div>
                    }
                })
            }
        </li>
    }
}

/// Editing one definition: its name, whether it is required or asked in quick capture, and
/// its choices (rename, order, archive, add). Each change is saved when made.
#[component]
fn FieldEditor(id: String, error: RwSignal<Option<String>>) -> impl IntoView {
    let repo = use_repo();
    let read_id = id.clone();
    let field = Memo::new(move |_| repo.settings.with(|s| s.fields.get(&read_id).cloned()));
    let edit = move |id: String, change: Box<dyn FnOnce(&mut FieldDefinition)>| {
        spawn_local(async move {
            let result = repo
                .update_book(move |s| {
                    if let Some(field) = s.fields.get_mut(&id) {
                        change(field);
                    }
                })
                .await;
            error.set(result.err().map(error_text));
        });
    };
    let new_choice = RwSignal::new(String::new());
    let (name_id, required_id, capture_id, add_id) =
        (id.clone(), id.clone(), id.clone(), id.clone());
    view! {
        <div class="field-editor" data-testid="field-editor">
            <label class="field"><span class="field-label">"Name"</span>
                <input type="text" autocomplete="off" data-testid="field-rename"
                    prop:value=move || field.with(|f| f.as_ref().map(|f| f.name.clone()).unwrap_or_default())
                    on:change=move |ev| {
                        let name = event_target_value(&ev).trim().to_string();
                        edit(name_id.clone(), Box::new(move |f| f.name = name));
                    }/></label>
            <label class="check"><input type="checkbox" data-testid="field-required"
                prop:checked=move || field.with(|f| f.as_ref().is_some_and(|f| f.required))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    edit(required_id.clone(), Box::new(move |f| f.required = on));
                }/><span>"Required for new customers"</span></label>
            <label class="check"><input type="checkbox" data-testid="field-capture"
                prop:checked=move || field.with(|f| f.as_ref().is_some_and(|f| f.in_capture))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    edit(capture_id.clone(), Box::new(move |f| f.in_capture = on));
                }/><span>"Ask in quick capture"</span></label>
            {move || field.with(|f| f.as_ref().is_some_and(|f| f.kind.has_choices())).then(|| {
                let add_id = add_id.clone();
                view! {
                    <fieldset class="choice-editor">
                        <legend class="field-label">"Choices"</legend>
                        <p class="hint">"Renaming a choice keeps it on every customer who has it; an archived choice is no longer offered but stays where it was chosen."</p>
                        {
                            let id = id.clone();
                            move || {
                                let Some(def) = field.get() else { return Vec::new() };
                                let mut choices: Vec<(String, FieldChoice)> = def.choices.clone().into_iter().collect();
                                shared::order::sort_by(&mut choices, |a, b| (a.1.archived, a.1.position, &a.0).cmp(&(b.1.archived, b.1.position, &b.0)));
                                let active: Vec<String> = choices.iter().filter(|(_, c)| !c.archived).map(|(cid, _)| cid.clone()).collect();
                                choices.into_iter().map(|(choice_id, choice)| {
                                    let rank = active.iter().position(|a| *a == choice_id);
                                    let above = rank.filter(|r| *r > 0).map(|r| active[r - 1].clone());
                                    let (rename_id, rename_choice) = (id.clone(), choice_id.clone());
                                    let (move_id, move_choice) = (id.clone(), choice_id.clone());
                                    let (archive_id, archive_choice) = (id.clone(), choice_id.clone());
                                    let archived = choice.archived;
                                    view! {
                                        <div class="choice-row" class:done=archived data-testid="choice-row">
                                            <input type="text" aria-label=format!("Choice {}", choice.label) data-testid="choice-label"
                                                prop:value=choice.label.clone()
                                                on:change=move |ev| {
                                                    let label = event_target_value(&ev).trim().to_string();
                                                    let choice = rename_choice.clone();
                                                    edit(rename_id.clone(), Box::new(move |f| if let Some(c) = f.choices.get_mut(&choice) { c.label = label }));
                                                }/>
                                            {above.map(|above| view! {
                                                <button class="button icon-button" aria-label=format!("Move {} up", choice.label) data-testid="choice-up" on:click=move |_| {
                                                    let (choice, above) = (move_choice.clone(), above.clone());
                                                    edit(move_id.clone(), Box::new(move |f| {
                                                        let (a, b) = (f.choices.get(&choice).map(|c| c.position), f.choices.get(&above).map(|c| c.position));
                                                        if let (Some(a), Some(b)) = (a, b) {
                                                            let (a, b) = if a == b { (a - 1, b) } else { (b, a) };
                                                            if let Some(c) = f.choices.get_mut(&choice) { c.position = a }
                                                            if let Some(c) = f.choices.get_mut(&above) { c.position = b }
                                                        }
                                                    }));
                                                }>"↑"</button>
                                            })}
                                            <button class="button" data-testid="choice-archive" on:click=move |_| {
                                                let choice = archive_choice.clone();
                                                edit(archive_id.clone(), Box::new(move |f| if let Some(c) = f.choices.get_mut(&choice) { c.archived = !archived }));
                                            }>{if archived { "Restore" } else { "Archive" }}</button>
                                        </div>
                                    }
                                }).collect::<Vec<_>>()
                            }
                        }
                        <div class="choice-row">
                            <input type="text" placeholder="New choice" aria-label="New choice" data-testid="choice-new"
                                prop:value=move || new_choice.get() on:input=move |ev| new_choice.set(event_target_value(&ev))/>
                            <button class="button" data-testid="choice-add" on:click=move |_| {
                                let text = new_choice.get_untracked();
                                if text.trim().is_empty() { return; }
                                new_choice.set(String::new());
                                edit(add_id.clone(), Box::new(move |f| {
                                    let last = f.choices.values().map(|c| c.position).max().unwrap_or(0);
                                    f.choices.extend(new_choices(&text, last));
                                }));
                            }>"Add"</button>
                        </div>
                    </fieldset>
                }
            })}
        </div>
    }
}

/// The book's fields on the customer page, each edited like a built-in one (saved when
/// the rep leaves it, checked by its type). Archived fields are hidden.
#[component]
pub fn CustomFieldsCard(editor: Editor) -> impl IntoView {
    let repo = use_repo();
    let fields = Memo::new(move |_| repo.settings.with(|s| ordered_fields(&s.fields, false)));
    move || {
        let list = fields.get();
        if list.is_empty() {
            return view! {
                <section class="card" data-testid="custom-fields-empty">
                    <h2 class="section-title">"More details"</h2>
                    <p class="hint">"Record your own facts about customers — industry, fleet size, licence expiry — with "<a href="/settings/fields">"fields"</a>"."</p>
                </section>
            }
            .into_any();
        }
        view! {
            <section class="card" data-testid="custom-fields">
                <h2 class="section-title">"More details"</h2>
                {list.into_iter().map(|(id, field)| view! { <CustomValue editor id field/> }).collect_view()}
            </section>
        }
        .into_any()
    }
}

/// One custom field's input on the customer page.
#[component]
pub fn CustomValue(editor: Editor, id: String, field: FieldDefinition) -> impl IntoView {
    let error_key = format!("custom.{id}");
    let testid = format!("custom-{}", field.name.to_lowercase().replace(' ', "-"));
    let label = if field.required {
        format!("{} (required)", field.name)
    } else {
        field.name.clone()
    };
    let save_text = {
        let (id, field, error_key) = (id.clone(), field.clone(), error_key.clone());
        move |typed: String| match parse_value(&field, &typed) {
            Err(message) => editor.errors.update(|errors| {
                errors.insert(error_key.clone(), message);
            }),
            Ok(value) => {
                editor.errors.update(|errors| {
                    errors.remove(&error_key);
                });
                let id = id.clone();
                editor.save(
                    error_key.clone(),
                    move |c| match value {
                        Some(value) => {
                            c.custom.insert(id, value);
                        }
                        None => {
                            c.custom.remove(&id);
                        }
                    },
                    || {},
                );
            }
        }
    };
    let read_id = id.clone();
    let read_field = field.clone();
    let current = editor.value(move |c| {
        c.custom
            .get(&read_id)
            .map(|v| input_value(&read_field, v))
            .unwrap_or_default()
    });
    let invalid_key = error_key.clone();
    let invalid = Memo::new(move |_| editor.error(&invalid_key).is_some());
    let aria = field.name.clone();
    let input = match field.kind {
        FieldKind::LongText => view! {
            <textarea rows="3" aria-label=aria.clone() data-testid=testid.clone() class:invalid=invalid
                prop:value=current on:change=move |ev| save_text(event_target_value(&ev))></textarea>
        }.into_any(),
        FieldKind::YesNo => view! {
            <select aria-label=aria.clone() data-testid=testid.clone() prop:value=current on:change=move |ev| save_text(event_target_value(&ev))>
                <option value="">"Not set"</option>
                <option value="Yes">"Yes"</option>
                <option value="No">"No"</option>
            </select>
        }.into_any(),
        FieldKind::Choice => {
            let offered: Vec<(String, String)> = field.offered_choices().into_iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
            let (held_id, held_field) = (id.clone(), field.clone());
            view! {
                <select aria-label=aria.clone() data-testid=testid.clone() prop:value=current on:change=move |ev| save_text(event_target_value(&ev))>
                    <option value="">"Not set"</option>
                    {offered.into_iter().map(|(choice, label)| view! { <option value=choice>{label}</option> }).collect_view()}
                    // A value holding an archived choice still shows.
                    {move || editor.read(|c| c.custom.get(&held_id).cloned())
                        .filter(|held| held_field.choices.get(held).is_some_and(|c| c.archived))
                        .map(|held| view! { <option value=held.clone()>{display_value(&held_field, &held)}</option> })}
                </select>
            }.into_any()
        }
        FieldKind::Choices => {
            let mut offered: Vec<(String, String)> = field.offered_choices().into_iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
            // Archived choices still chosen stay shown (and can be taken off).
            for (choice, def) in &field.choices {
                if def.archived {
                    offered.push((choice.clone(), def.label.clone()));
                }
            }
            view! {
                <div class="chips" role="group" aria-label=field.name.clone() data-testid=testid.clone()>
                    {offered.into_iter().map(|(choice, label)| {
                        let (read_id, read_choice) = (id.clone(), choice.clone());
                        let chosen = move || editor.read(|c| c.custom_sets.get(&read_id).is_some_and(|set| set.contains(&read_choice)));
                        let archived_choice = field.choices.get(&choice).is_some_and(|c| c.archived);
                        let (id, error_key) = (id.clone(), error_key.clone());
                        let shown = chosen.clone();
                        view! {
                            <button class="chip-button" aria-pressed=move || chosen().to_string() data-testid="choice-toggle"
                                style:display=move || if archived_choice && !shown() { "none" } else { "" }
                                on:click=move |_| {
                                    let (id, choice) = (id.clone(), choice.clone());
                                    editor.save(error_key.clone(), move |c| {
                                        let set = c.custom_sets.entry(id).or_default();
                                        if !set.remove(&choice) {
                                            set.insert(&choice);
                                        }
                                    }, || {});
                                }>{label}</button>
                        }
                    }).collect_view()}
                </div>
            }.into_any()
        }
        other => {
            let (kind, mode) = input_kind(other);
            view! {
                <input type=kind inputmode=mode autocomplete="off" aria-label=aria.clone() data-testid=testid.clone() class:invalid=invalid
                    aria-invalid=move || invalid.get().then_some("true")
                    prop:value=current on:change=move |ev| save_text(event_target_value(&ev))/>
            }.into_any()
        }
    };
    let link_id = id.clone();
    let link_kind = field.kind;
    let link = move || {
        let value = editor.read(|c| c.custom.get(&link_id).cloned())?;
        let href = match link_kind {
            FieldKind::Link => value.clone(),
            FieldKind::Email => format!("mailto:{value}"),
            FieldKind::Phone => format!("tel:{}", value.replace(' ', "")),
            _ => return None,
        };
        Some(
            view! { <a class="hint" href=href target="_blank" rel="noopener">{match link_kind { FieldKind::Link => "Open", FieldKind::Email => "Write", _ => "Call" }}</a> },
        )
    };
    view! {
        <div class="field">
            <span class="field-label">{label}</span>
            {input}
            {link}
            <FieldError editor field=error_key/>
        </div>
    }
}

/// What a form (new customer, quick capture) holds of the book's fields while the rep
/// fills it: typed text by field id, and the chosen choices of several-choice fields.
#[derive(Clone, Copy)]
pub struct FormValues {
    typed: RwSignal<BTreeMap<String, String>>,
    chosen: RwSignal<BTreeMap<String, Vec<String>>>,
}

impl FormValues {
    pub fn new() -> FormValues {
        FormValues {
            typed: RwSignal::new(BTreeMap::new()),
            chosen: RwSignal::new(BTreeMap::new()),
        }
    }

    /// Empties the form (after a save).
    pub fn clear(self) {
        self.typed.set(BTreeMap::new());
        self.chosen.set(BTreeMap::new());
    }

    /// Writes the form's values into `customer`, each checked by its field's type, and
    /// required fields checked present; else the errors by form field (`custom.<id>`).
    pub fn apply(
        self,
        fields: &[(String, FieldDefinition)],
        customer: &mut Customer,
    ) -> Result<(), Vec<(String, String)>> {
        let typed = self.typed.get_untracked();
        let chosen = self.chosen.get_untracked();
        let mut errors = Vec::new();
        for (id, field) in fields {
            let key = format!("custom.{id}");
            if field.kind == FieldKind::Choices {
                let set: shared::TagSet = (chosen.get(id).into_iter().flatten())
                    .map(String::as_str)
                    .collect();
                if set.is_empty() {
                    if field.required {
                        errors.push((key, format!("{} is required", field.name)));
                    }
                } else {
                    customer.custom_sets.insert(id.clone(), set);
                }
                continue;
            }
            match parse_value(field, typed.get(id).map_or("", String::as_str)) {
                Ok(Some(value)) => {
                    customer.custom.insert(id.clone(), value);
                }
                Ok(None) if field.required => {
                    errors.push((key, format!("{} is required", field.name)))
                }
                Ok(None) => {}
                Err(message) => errors.push((key, message)),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl Default for FormValues {
    fn default() -> Self {
        FormValues::new()
    }
}

/// The fields a form asks for: required ones, and in quick capture those marked for it.
pub fn form_fields(
    fields: &BTreeMap<String, FieldDefinition>,
    capture: bool,
) -> Vec<(String, FieldDefinition)> {
    ordered_fields(fields, false)
        .into_iter()
        .filter(|(_, field)| field.required || (capture && field.in_capture))
        .collect()
}

/// The inputs of a form's custom fields (see [`form_fields`]).
#[component]
pub fn FormCustomFields(
    form: FormValues,
    capture: bool,
    errors: RwSignal<Vec<(String, String)>>,
) -> impl IntoView {
    let repo = use_repo();
    let fields = Memo::new(move |_| repo.settings.with(|s| form_fields(&s.fields, capture)));
    move || {
        fields
            .get()
            .into_iter()
            .map(|(id, field)| {
                let key = format!("custom.{id}");
                let error_key = key.clone();
                let error = move || {
                    errors.with(|errors| {
                        (errors.iter())
                            .find(|(field, _)| *field == error_key)
                            .map(|(_, message)| message.clone())
                    })
                };
                let testid = format!("form-custom-{}", field.name.to_lowercase().replace(' ', "-"));
                let label = if field.required { format!("{} (required)", field.name) } else { field.name.clone() };
                let (typed_id, read_id) = (id.clone(), id.clone());
                let current = move || form.typed.with(|typed| typed.get(&read_id).cloned().unwrap_or_default());
                let clear_key = key.clone();
                // A field's error goes as soon as the rep changes it.
                let clear = move || {
                    if errors.with_untracked(|e| e.iter().any(|(f, _)| *f == clear_key)) {
                        errors.update(|e| e.retain(|(f, _)| *f != clear_key));
                    }
                };
                let set = {
                    let clear = clear.clone();
                    move |value: String| {
                        let id = typed_id.clone();
                        form.typed.update(|typed| {
                            typed.insert(id, value);
                        });
                        clear();
                    }
                };
                let input = match field.kind {
                    FieldKind::LongText => view! {
                        <textarea rows="3" data-testid=testid prop:value=current on:input=move |ev| set(event_target_value(&ev))></textarea>
                    }.into_any(),
                    FieldKind::YesNo | FieldKind::Choice => {
                        let options: Vec<(String, String)> = if field.kind == FieldKind::YesNo {
                            vec![("Yes".into(), "Yes".into()), ("No".into(), "No".into())]
                        } else {
                            field.offered_choices().into_iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
                        };
                        view! {
                            <select data-testid=testid prop:value=current on:change=move |ev| set(event_target_value(&ev))>
                                <option value="">"Not set"</option>
                                {options.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                            </select>
                        }.into_any()
                    }
                    FieldKind::Choices => view! {
                        <div class="chips" role="group" data-testid=testid>
                            {field.offered_choices().into_iter().map(|(choice, label)| {
                                let (choice, read_choice, id, read_id) = (choice.to_string(), choice.to_string(), id.clone(), id.clone());
                                let on = move || form.chosen.with(|chosen| chosen.get(&read_id).is_some_and(|c| c.contains(&read_choice)));
                                view! {
                                    <button type="button" class="chip-button" data-testid="choice-toggle" aria-pressed=move || on().to_string()
                                        on:click={
                                            let clear = clear.clone();
                                            move |_| {
                                                form.chosen.update(|chosen| {
                                                    let list = chosen.entry(id.clone()).or_default();
                                                    if let Some(at) = list.iter().position(|c| *c == choice) {
                                                        list.remove(at);
                                                    } else {
                                                        list.push(choice.clone());
                                                    }
                                                });
                                                clear();
                                            }
                                        }>{label.to_string()}</button>
                                }
                            }).collect_view()}
                        </div>
                    }.into_any(),
                    other => {
                        let (kind, mode) = input_kind(other);
                        view! {
                            <input type=kind inputmode=mode autocomplete="off" data-testid=testid
                                prop:value=current on:input=move |ev| set(event_target_value(&ev))/>
                        }.into_any()
                    }
                };
                if field.kind == FieldKind::Choices {
                    view! {
                        <div class="field">
                            <span class="field-label">{label}</span>
                            {input}
                            {move || error().map(|message| view! { <span class="field-error" role="alert">{message}</span> })}
                        </div>
                    }.into_any()
                } else {
                    view! {
                        <label class="field">
                            <span class="field-label">{label}</span>
                            {input}
                            {move || error().map(|message| view! { <span class="field-error" role="alert">{message}</span> })}
                        </label>
                    }.into_any()
                }
            })
            .collect_view()
    }
}

/// The field named by a history or conflict key `custom.<id>`, if it is one.
pub fn custom_field<'a>(
    key: &str,
    fields: &'a BTreeMap<String, FieldDefinition>,
) -> Option<&'a FieldDefinition> {
    fields.get(key.strip_prefix("custom.")?)
}

/// History lines about custom fields in words: the shared reader names them by id
/// (`custom.<id>`, a choice by its id), the book's definitions give the field's name and
/// the values as the rep reads them.
pub fn name_custom_lines(
    entries: &mut [shared::model::history::HistoryEntry],
    fields: &BTreeMap<String, FieldDefinition>,
) {
    for line in entries.iter_mut().flat_map(|entry| entry.lines.iter_mut()) {
        let Some(key) = line.field.clone() else {
            continue;
        };
        let Some(field) = custom_field(&key, fields) else {
            continue;
        };
        let name = &field.name;
        let shown = |value: &str| display_value(field, value);
        if let Some(rest) = line.text.strip_prefix(&format!("{key} + ")) {
            line.text = format!("{name}: {} added", shown(rest));
            continue;
        }
        if let Some(rest) = line.text.strip_prefix(&format!("{key} − ")) {
            line.text = format!("{name}: {} removed", shown(rest));
            continue;
        }
        match (line.before.as_deref().unwrap_or(""), line.value.as_deref()) {
            (before, Some(after)) if line.text.starts_with(&key) => {
                line.text = if before.is_empty() {
                    format!("{name}: {}", shown(after))
                } else if after.is_empty() {
                    format!("{name} removed (was {})", shown(before))
                } else {
                    format!("{name}: {} → {}", shown(before), shown(after))
                };
            }
            // A conflict note names the field by its key.
            _ => line.text = line.text.replace(&key, name),
        }
    }
}

/// The `type` and `inputmode` of the input a field of `kind` is typed in (a number in a
/// text input with the decimal keypad: `type="number"` drops what it cannot read).
fn input_kind(kind: FieldKind) -> (&'static str, &'static str) {
    match kind {
        FieldKind::Number => ("text", "decimal"),
        FieldKind::Date => ("date", "text"),
        FieldKind::Link => ("url", "url"),
        FieldKind::Email => ("email", "email"),
        FieldKind::Phone => ("tel", "tel"),
        _ => ("text", "text"),
    }
}

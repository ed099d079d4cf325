//! Segments: build a filter, see its customers at once, save it by name (synced through the
//! book document), and act on all its customers: add a tag, change the stage, export CSV.

use crate::components::{count, DetailTopbar};
use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use shared::{
    crm::segments::{members, SavedSegment, SegmentFilter},
    formats::csv_export::to_csv_with_fields,
    formats::vcard::{to_vcard_with_fields, CustomProperties, Version},
    model::records::{parse_money, NpsCategory},
    CustomerId, LifecycleStage,
};

use crate::{
    export,
    repo::use_repo,
    routes::customer::random_id,
    time::{day, now},
};

/// The segments screen.
#[component]
pub fn SegmentsPage() -> impl IntoView {
    let repo = use_repo();
    let filter = RwSignal::new(SegmentFilter::default());
    let min_value = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let message = RwSignal::new(None::<String>);
    let bulk_tag = RwSignal::new(String::new());
    let bulk_stage = RwSignal::new(String::new());
    let bulk_check_in = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let found = Memo::new(move |_| {
        let filter = filter.get();
        repo.book.with(|book| members(book, &filter, now()))
    });
    let known_tags = Memo::new(move |_| repo.book.with(|book| book.tags()));
    let set = move |edit: fn(&mut SegmentFilter, String)| {
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            filter.update(|f| edit(f, value));
        }
    };
    let save = move |_| {
        let title = name.get_untracked().trim().to_string();
        if title.is_empty() {
            message.set(Some("Name the segment to save it.".into()));
            return;
        }
        let segment = SavedSegment {
            name: title.clone(),
            filter: filter.get_untracked(),
        };
        spawn_local(async move {
            let id = random_id();
            match repo
                .update_book(move |s| {
                    s.segments.insert(id, segment);
                })
                .await
            {
                Ok(()) => {
                    name.set(String::new());
                    message.set(Some(format!("Saved \"{title}\".")));
                }
                Err(err) => message.set(Some(format!("Not saved: {err}"))),
            }
        });
    };
    let bulk = move |what: &'static str| {
        let ids: Vec<CustomerId> = found.get_untracked();
        let tag = bulk_tag.get_untracked().trim().to_string();
        let stage = LifecycleStage::parse(&bulk_stage.get_untracked());
        // "0" clears the check-in.
        let check_in = bulk_check_in.get_untracked().parse::<u32>().ok();
        let missing = match what {
            "tag" if tag.is_empty() => Some("Type the tag to add."),
            "stage" if stage.is_none() => Some("Choose the stage."),
            "check-in" if check_in.is_none() => Some("Choose how often to check in."),
            _ => None,
        };
        if let Some(missing) = missing {
            message.set(Some(missing.into()));
            return;
        }
        working.set(true);
        spawn_local(async move {
            let total = ids.len();
            let mut failed = 0;
            for (done, id) in ids.into_iter().enumerate() {
                let tag = tag.clone();
                let result = repo
                    .update(&id, move |c| match what {
                        "stage" => {
                            if let Some(stage) = stage {
                                c.stage = stage
                            }
                        }
                        "check-in" => c.check_in_days = check_in.filter(|&days| days > 0),
                        _ => {
                            c.tags.insert(&tag);
                        }
                    })
                    .await;
                failed += usize::from(result.is_err());
                message.set(Some(format!("Updating {} of {total}…", done + 1)));
            }
            working.set(false);
            message.set(Some(match failed {
                0 => format!("Updated {}.", count(total, "customer", "customers")),
                n => format!(
                    "Updated {}; {n} could not be changed.",
                    count(total - n, "customer", "customers")
                ),
            }));
        });
    };
    // Both exports read every member's whole document, then write the file.
    let export = move |format: ExportFormat| {
        let ids = found.get_untracked();
        working.set(true);
        spawn_local(async move {
            let mut customers = Vec::with_capacity(ids.len());
            for id in &ids {
                if let Ok(customer) = repo.customer(id).await {
                    customers.push(customer);
                }
            }
            working.set(false);
            let missing = ids.len() - customers.len();
            let (extension, mime, what, text) = match format {
                ExportFormat::Csv => (
                    "csv",
                    "text/csv",
                    "customers to CSV",
                    repo.settings
                        .with_untracked(|s| to_csv_with_fields(customers.iter(), &s.fields)),
                ),
                ExportFormat::Vcard => ("vcf", "text/vcard", "contact cards", {
                    let properties = repo
                        .settings
                        .with_untracked(|s| CustomProperties::of(&s.fields));
                    customers
                        .iter()
                        .map(|c| to_vcard_with_fields(c, Version::V3, &properties))
                        .collect()
                }),
            };
            message.set(Some(
                match export::download_as(
                    &format!("fieldbook-segment-{}.{extension}", day(now())),
                    &text,
                    mime,
                ) {
                    Ok(()) if missing == 0 => format!("Exported {} {what}.", customers.len()),
                    Ok(()) => format!(
                        "Exported {} {what}; {missing} could not be read.",
                        customers.len()
                    ),
                    Err(err) => format!("Export failed: {err}"),
                },
            ));
        });
    };
    let export_csv = move |_| export(ExportFormat::Csv);
    let export_vcard = move |_| export(ExportFormat::Vcard);
    view! {
        <div class="detail" data-testid="segments-page">
            <DetailTopbar back="/menu" back_label="Menu" title="Segments"/>
            <section class="card">
                <h2 class="section-title">"Saved"</h2>
                <ul class="follow-up-list">
                    {move || {
                        let saved = repo.settings.with(|s| {
                            let mut list: Vec<(String, SavedSegment)> = s.segments.iter().map(|(id, seg)| (id.clone(), seg.clone())).collect();
                            shared::order::sort_by_key(&mut list, |(_, seg)| seg.name.to_lowercase());
                            list
                        });
                        if saved.is_empty() {
                            return view! { <li class="hint">"No saved segments yet."</li> }.into_any();
                        }
                        saved.into_iter().map(|(_, segment)| {
                            let chosen = segment.filter.clone();
                            view! {
                                <li class="follow-up">
                                    <button class="follow-up-body link-button" data-testid="saved-segment" on:click=move |_| {
                                        min_value.set(if chosen.min_lifetime_value_cents > 0 { format!("{}", chosen.min_lifetime_value_cents / 100) } else { String::new() });
                                        filter.set(chosen.clone());
                                    }>
                                        <strong>{segment.name.clone()}</strong>
                                        <span class="hint">{repo.settings.with_untracked(|s| segment.filter.describe(&s.fields))}</span>
                                    </button>
                                </li>
                            }
                        }).collect_view().into_any()
                    }}
                </ul>
            </section>
            <section class="card segment-form">
                <h2 class="section-title">"Conditions"</h2>
                <div class="field-row">
                    <label class="field"><span class="field-label">"Stage"</span>
                        <select data-testid="segment-stage" prop:value=move || filter.with(|f| f.stage.clone()) on:change=set(|f, v| f.stage = v)>
                            <option value="">"Any"</option>
                            {LifecycleStage::ALL.map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                        </select></label>
                    <label class="field"><span class="field-label">"Tag or event"</span>
                        <select data-testid="segment-tag" prop:value=move || filter.with(|f| f.tags.first().cloned().unwrap_or_default())
                            on:change=set(|f, v| f.tags = if v.is_empty() { Vec::new() } else { vec![v] })>
                            <option value="">"Any"</option>
                            {move || known_tags.get().into_iter().map(|(tag, n)| view! { <option value=tag.clone()>{format!("#{tag} ({n})")}</option> }).collect_view()}
                        </select></label>
                </div>
                <div class="field-row">
                    <label class="field"><span class="field-label">"City"</span>
                        <input type="text" data-testid="segment-city" prop:value=move || filter.with(|f| f.city.clone()) on:change=set(|f, v| f.city = v)/></label>
                    <label class="field"><span class="field-label">"Country"</span>
                        <input type="text" data-testid="segment-country" prop:value=move || filter.with(|f| f.country.clone()) on:change=set(|f, v| f.country = v)/></label>
                </div>
                <div class="field-row">
                    <label class="field"><span class="field-label">"Not contacted for"</span>
                        <select data-testid="segment-quiet" prop:value=move || filter.with(|f| f.not_contacted_days.to_string())
                            on:change=set(|f, v| f.not_contacted_days = v.parse().unwrap_or(0))>
                            <option value="0">"Any time"</option>
                            {[30u32, 60, 90, 180, 365].map(|d| view! { <option value=d.to_string()>{format!("{d} days or more")}</option> }).collect_view()}
                        </select></label>
                    <label class="field"><span class="field-label">"NPS"</span>
                        <select data-testid="segment-nps" prop:value=move || filter.with(|f| f.nps.clone()) on:change=set(|f, v| f.nps = v)>
                            <option value="">"Any"</option>
                            {NpsCategory::ALL.iter().map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()}
                        </select></label>
                </div>
                <div class="field-row">
                    <label class="field"><span class="field-label">"Owner"</span>
                        <input type="text" data-testid="segment-owner" prop:value=move || filter.with(|f| f.owner.clone()) on:change=set(|f, v| f.owner = v)/></label>
                    <label class="field"><span class="field-label">"Birthday month"</span>
                        <select data-testid="segment-birthday" prop:value=move || filter.with(|f| f.birthday_month.to_string())
                            on:change=set(|f, v| f.birthday_month = v.parse().unwrap_or(0))>
                            <option value="0">"Any"</option>
                            {(1..=12u32).map(|m| view! { <option value=m.to_string()>{m.to_string()}</option> }).collect_view()}
                        </select></label>
                </div>
                <label class="field"><span class="field-label">"Lifetime value at least (EUR)"</span>
                    <input type="text" inputmode="decimal" data-testid="segment-value" prop:value=move || min_value.get()
                        on:change=move |ev| {
                            let text = event_target_value(&ev);
                            min_value.set(text.clone());
                            filter.update(|f| f.min_lifetime_value_cents = parse_money(&text).unwrap_or(0));
                        }/></label>
                <CustomConditions filter/>
                <p class="hint" data-testid="segment-description">{move || repo.settings.with(|s| filter.with(|f| f.describe(&s.fields)))}</p>
                <div class="field-row">
                    <input type="text" data-testid="segment-name" placeholder="Name, e.g. Loyal in Lyon" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    <button class="button" data-testid="segment-save" on:click=save>"Save segment"</button>
                </div>
            </section>
            <section class="card">
                <h2 class="section-title" data-testid="segment-count">{move || crate::components::count(found.with(Vec::len), "customer", "customers")}</h2>
                {move || message.get().map(|m| view! { <p class="hint" role="status" data-testid="segment-message">{m}</p> })}
                <div class="bulk-actions">
                    <div class="field-row">
                        <input type="text" data-testid="bulk-tag" placeholder="Tag to add" aria-label="Tag to add to every customer of the segment" prop:value=move || bulk_tag.get() on:input=move |ev| bulk_tag.set(event_target_value(&ev))/>
                        <button class="button" data-testid="bulk-tag-apply" disabled=move || working.get() on:click=move |_| bulk("tag")>"Add tag to all"</button>
                    </div>
                    <div class="field-row">
                        <select data-testid="bulk-stage" aria-label="Stage to set for every customer of the segment" prop:value=move || bulk_stage.get() on:change=move |ev| bulk_stage.set(event_target_value(&ev))>
                            <option value="">"Stage…"</option>
                            {LifecycleStage::ALL.map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                        </select>
                        <button class="button" data-testid="bulk-stage-apply" disabled=move || working.get() on:click=move |_| bulk("stage")>"Set stage of all"</button>
                    </div>
                        <div class="field-row">
                            <select data-testid="bulk-check-in" aria-label="Recurring check-in for every customer of the segment" prop:value=move || bulk_check_in.get() on:change=move |ev| bulk_check_in.set(event_target_value(&ev))>
                                <option value="">"Check in…"</option>
                                {[7u32, 14, 30, 60, 90, 180].map(|d| view! { <option value=d.to_string()>{format!("Every {d} days")}</option> }).collect_view()}
                                <option value="0">"No recurring check-in"</option>
                            </select>
                            <button class="button" data-testid="bulk-check-in-apply" disabled=move || working.get() on:click=move |_| bulk("check-in")>"Set for all"</button>
                        </div>
                    <div class="field-row">
                        <button class="button" data-testid="segment-export" on:click=export_csv>"Export CSV"</button>
                        <button class="button" data-testid="segment-export-vcard" disabled=move || working.get() on:click=export_vcard>"Export vCard"</button>
                    </div>
                </div>
                <ul class="follow-up-list">
                    {move || {
                        let ids = found.get();
                        let rows: Vec<(String, String, String)> = repo.book.with(|book| {
                            ids.iter().take(100).filter_map(|id| book.get(id)).map(|s| {
                                let hint = [s.company.clone(), s.city.clone(), s.stage.label().to_string()]
                                    .into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" · ");
                                (s.id.to_string(), s.display_name().to_string(), hint)
                            }).collect()
                        });
                        rows.into_iter().map(|(id, title, hint)| view! {
                            <li class="follow-up" data-testid="segment-member">
                                <A href=format!("/customers/{id}") attr:class="follow-up-body">
                                    <strong>{title}</strong>
                                    <span class="hint">{hint}</span>
                                </A>
                            </li>
                        }).collect_view()
                    }}
                </ul>
            </section>
        </div>
    }
}

/// What a segment is exported as.
#[derive(Clone, Copy)]
enum ExportFormat {
    Csv,
    Vcard,
}

/// Conditions on the book's custom fields: the ones set (each removable) and a line to add
/// one (field, comparison, value), each kind offering its own comparisons.
#[component]
fn CustomConditions(filter: RwSignal<SegmentFilter>) -> impl IntoView {
    use shared::crm::segments::describe_condition;
    use shared::model::custom_fields::{parse_value, ConditionOp, CustomCondition, FieldKind};
    let repo = use_repo();
    let fields = Memo::new(move |_| {
        repo.settings
            .with(|s| crate::routes::fields::ordered_fields(&s.fields, false))
    });
    let field_id = RwSignal::new(String::new());
    let op = RwSignal::new(ConditionOp::Equals);
    let value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let chosen = Memo::new(move |_| {
        let id = field_id.get();
        fields.with(|fields| {
            fields
                .iter()
                .find(|(f, _)| *f == id)
                .map(|(_, field)| field.clone())
        })
    });
    let add = move |_| {
        let Some(field) = chosen.get_untracked() else {
            error.set(Some("Choose a field.".into()));
            return;
        };
        let op = op.get_untracked();
        let typed = value.get_untracked();
        let stored = if !op.takes_value() {
            Ok(String::new())
        } else if field.kind == FieldKind::Choices {
            Ok(typed.clone())
        } else {
            // An amount may be given without its currency: it then compares any.
            match parse_value(&field, &typed) {
                Ok(Some(v)) => Ok(v),
                Ok(None) => Err("Give the value to compare with.".to_string()),
                Err(_) if field.kind == FieldKind::Money && typed.trim().parse::<f64>().is_ok() => {
                    Ok(typed.trim().to_string())
                }
                Err(message) => Err(message),
            }
        };
        match stored {
            Ok(v) if op.takes_value() && v.is_empty() => {
                error.set(Some("Give the value to compare with.".into()))
            }
            Ok(v) => {
                error.set(None);
                value.set(String::new());
                filter.update(|f| {
                    f.custom.push(CustomCondition {
                        field: field_id.get_untracked(),
                        kind: field.kind,
                        op,
                        value: v,
                    })
                });
            }
            Err(message) => error.set(Some(message)),
        }
    };
    move || {
        if fields.with(Vec::is_empty) {
            return None;
        }
        Some(view! {
            <fieldset class="choice-editor" data-testid="segment-custom">
                <legend class="field-label">"Your fields"</legend>
                {move || {
                    let set = filter.with(|f| f.custom.clone());
                    let all = repo.settings.with(|s| s.fields.clone());
                    set.into_iter().enumerate().map(|(at, condition)| view! {
                        <div class="chip" data-testid="segment-condition">
                            {describe_condition(&condition, &all)}
                            <button class="chip-remove" aria-label="Remove condition" on:click=move |_| filter.update(|f| { if at < f.custom.len() { f.custom.remove(at); } })>"×"</button>
                        </div>
                    }).collect_view()
                }}
                <div class="field-row">
                    <select aria-label="Field" data-testid="segment-field" prop:value=move || field_id.get()
                        on:change=move |ev| {
                            field_id.set(event_target_value(&ev));
                            value.set(String::new());
                            op.set(chosen.get_untracked().map_or(ConditionOp::Equals, |f| ConditionOp::offered(f.kind)[0]));
                        }>
                        <option value="">"Field…"</option>
                        {move || fields.get().into_iter().map(|(id, field)| view! { <option value=id>{field.name}</option> }).collect_view()}
                    </select>
                    <select aria-label="Comparison" data-testid="segment-op" prop:value=move || op.get().stored().to_string()
                        on:change=move |ev| if let Some(chosen) = ConditionOp::parse(&event_target_value(&ev)) { op.set(chosen) }>
                        {move || {
                            let kind = chosen.get().map_or(FieldKind::Text, |f| f.kind);
                            ConditionOp::offered(kind).iter().map(|o| view! { <option value=o.stored()>{o.label(kind)}</option> }).collect_view()
                        }}
                    </select>
                </div>
                {move || {
                    let field = chosen.get()?;
                    if !op.get().takes_value() {
                        return None;
                    }
                    Some(match field.kind {
                        FieldKind::Choice | FieldKind::Choices | FieldKind::YesNo => {
                            let options: Vec<(String, String)> = if field.kind == FieldKind::YesNo {
                                vec![("yes".into(), "Yes".into()), ("no".into(), "No".into())]
                            } else {
                                field.offered_choices().into_iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
                            };
                            view! {
                                <select aria-label="Value" data-testid="segment-field-value" prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
                                    <option value="">"Value…"</option>
                                    {options.into_iter().map(|(v, label)| view! { <option value=v>{label}</option> }).collect_view()}
                                </select>
                            }.into_any()
                        }
                        kind => view! {
                            <input type=if kind == FieldKind::Date { "date" } else { "text" } aria-label="Value" data-testid="segment-field-value"
                                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                        }.into_any(),
                    })
                }}
                {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                <button class="button" data-testid="segment-condition-add" on:click=add>"Add condition"</button>
            </fieldset>
        })
    }
}

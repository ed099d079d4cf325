//! Import customers from a CSV file — the export's origin is recognised (Google Contacts,
//! HubSpot, Salesforce) and every column is mapped, changeable by the rep — or from a vCard
//! (.vcf, versions 2.1 to 4.0) file, whose properties without a built-in place can go into
//! custom fields; a preview; the
//! choice for rows matching existing customers; a progress bar; and a report listing every
//! bad row by its line, the good rows imported all the same.

use crate::components::DetailTopbar;
use std::collections::BTreeMap;

use leptos::{prelude::*, task::spawn_local};
use shared::model::custom_fields::FieldDefinition;
use shared::{
    crm::merge::{default_takes_other, merged, MergeField},
    formats::import::{
        custom_columns, field_from_column, field_from_values, map_columns, parse_csv, recognise,
        row_to_customer_with, stage_values, unused_columns, CsvFile, DuplicateIndex, ImportChoices,
        ImportedRow, Layout, OnDuplicate, StageMap, Target,
    },
    formats::text::{decode, detect, TextEncoding},
    formats::vcard::{
        parse_vcards, parse_vcards_with, property_label, property_values, unused_properties,
        CardFields,
    },
    Customer, CustomerId, LifecycleStage,
};

use crate::{repo::use_repo, routes::customer::random_id, time::now};
use common::perf::now_ms;

/// Customers written per IndexedDB transaction (and between two progress updates).
const BATCH: usize = 2_000;

/// Stage values listed for the rep to check (a column of free text mapped to the stage
/// would list thousands).
const STAGE_VALUES_SHOWN: usize = 30;

/// How an import ended.
#[derive(Clone, Debug, Default)]
struct Report {
    created: usize,
    merged: usize,
    skipped: usize,
    errors: Vec<(u64, String)>,
    /// Values of imported rows that had no valid place (kept in the customer's notes).
    warnings: Vec<(u64, String)>,
    /// Lines of the file that are not contacts (a preamble, a report's footer).
    left_out: Vec<(u64, String)>,
    /// Columns (or vCard properties) not imported, with how many values each held.
    unused: Vec<(String, usize)>,
    /// Whether the file was a vCard (its unused parts are properties, not columns).
    from_cards: bool,
    millis: f64,
}

/// The import screen.
#[component]
pub fn ImportPage() -> impl IntoView {
    let repo = use_repo();
    let file = RwSignal::new(None::<(String, CsvFile)>);
    // A .vcf file: its cards, already turned into customers (or reasons), and the
    // properties not imported with their counts.
    let cards = RwSignal::new(None::<(String, Vec<(u64, Result<ImportedRow, String>)>)>);
    let card_unused = RwSignal::new(Vec::<(String, usize)>::new());
    // The .vcf file's text, read again at import time with the properties going into
    // custom fields.
    let card_text = RwSignal::new(None::<std::sync::Arc<String>>);
    let layout = RwSignal::new(Layout::Other);
    let targets = RwSignal::new(Vec::<Target>::new());
    // Columns (or a vCard's unused properties, by their position in `card_unused`) going
    // into custom fields (a column's target is "Don't import").
    let custom = RwSignal::new(BTreeMap::<usize, CustomMapping>::new());
    // The rep's changes to the stage each stage value becomes.
    let stages = RwSignal::new(StageMap::default());
    let on_duplicate = RwSignal::new(OnDuplicate::Skip);
    let error = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<(usize, usize)>);
    let report = RwSignal::new(None::<Report>);
    // The file as read: its name, bytes and the encoding they are read in (detected; the
    // rep can choose another), and how many bytes that encoding could not read.
    let raw = RwSignal::new(None::<(String, std::sync::Arc<Vec<u8>>)>);
    let encoding = RwSignal::new(TextEncoding::Utf8);
    let unreadable = RwSignal::new(0usize);
    // Reads the chosen file in `encoding` and parses it as vCard or CSV.
    let load = move |name: String, bytes: &[u8], chosen: TextEncoding| {
        let (text, replaced) = decode(bytes, chosen);
        encoding.set(chosen);
        unreadable.set(replaced);
        let vcard = name.to_lowercase().ends_with(".vcf")
            || text.trim_start().to_uppercase().starts_with("BEGIN:VCARD");
        if vcard {
            let parsed = parse_vcards(&text, &mut random_id, now());
            let properties = unused_properties(&text);
            // Properties named like one of the book's fields go to it.
            let known = repo
                .settings
                .with_untracked(|s| card_columns(&properties, &s.fields));
            custom.set(
                known
                    .into_iter()
                    .map(|(col, id)| (col, CustomMapping::Existing(id)))
                    .collect(),
            );
            card_unused.set(properties);
            card_text.set(Some(std::sync::Arc::new(text.clone())));
            file.set(None);
            if parsed.is_empty() {
                cards.set(None);
                error.set(Some(
                    "Nothing imported: the file holds no contact card.".into(),
                ));
            } else {
                error.set(None);
                cards.set(Some((name, parsed)));
            }
            return;
        }
        cards.set(None);
        card_text.set(None);
        match parse_csv(&text) {
            Ok(parsed) => {
                let (found, mapped) = recognise(&parsed.headers);
                layout.set(found);
                // Columns named like one of the book's fields (Fieldbook's own export).
                let known = repo
                    .settings
                    .with_untracked(|s| custom_columns(&parsed.headers, &mapped, &s.fields));
                custom.set(
                    known
                        .into_iter()
                        .map(|(col, id)| (col, CustomMapping::Existing(id)))
                        .collect(),
                );
                targets.set(mapped);
                stages.set(StageMap::default());
                error.set(None);
                file.set(Some((name, parsed)));
            }
            Err(err) => {
                file.set(None);
                error.set(Some(format!("Nothing imported: {err}.")));
            }
        }
    };
    // Columns named like one of the book's fields go to it — also when the book's fields
    // are read after the file was chosen (a page opened straight on Import).
    Effect::new(move |_| {
        let fields = repo.settings.with(|s| s.fields.clone());
        if cards.with(Option::is_some) {
            let found = card_unused.with_untracked(|props| card_columns(props, &fields));
            let missing = custom.with_untracked(|c| found.keys().any(|col| !c.contains_key(col)));
            if missing {
                custom.update(|c| {
                    for (col, id) in found {
                        c.entry(col).or_insert(CustomMapping::Existing(id));
                    }
                });
            }
        }
        file.with(|parsed| {
            let Some((_, parsed)) = parsed else { return };
            let mapped = targets.get_untracked();
            let found = custom_columns(&parsed.headers, &mapped, &fields);
            let missing = custom.with_untracked(|c| found.keys().any(|col| !c.contains_key(col)));
            if missing {
                custom.update(|c| {
                    for (col, id) in found {
                        c.entry(col).or_insert(CustomMapping::Existing(id));
                    }
                });
            }
        });
    });
    let choose = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(picked) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        input.set_value("");
        report.set(None);
        spawn_local(async move {
            let bytes = match wasm_bindgen_futures::JsFuture::from(picked.array_buffer()).await {
                Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
                Err(err) => {
                    error.set(Some(format!("The file cannot be read: {err:?}")));
                    return;
                }
            };
            let detected = detect(&bytes);
            load(picked.name(), &bytes, detected);
            raw.set(Some((picked.name(), std::sync::Arc::new(bytes))));
        });
    };
    let run = move |_| {
        let policy = on_duplicate.get_untracked();
        let started = now_ms();
        let chosen_cards = cards.get_untracked();
        let parsed = file.get_untracked();
        let mapping = targets.get_untracked();
        let stage_map = stages.get_untracked();
        let parsed_left_out = parsed
            .as_ref()
            .map(|(_, parsed)| parsed.skipped.clone())
            .unwrap_or_default();
        let custom_mapping = custom.get_untracked();
        let parsed_unused = match &parsed {
            Some((_, parsed)) => unused_columns(parsed, &mapping)
                .into_iter()
                .filter(|(header, _)| {
                    !(custom_mapping.keys()).any(|col| parsed.headers.get(*col) == Some(header))
                })
                .collect(),
            None => (card_unused.get_untracked().into_iter().enumerate())
                .filter(|(col, _)| !custom_mapping.contains_key(col))
                .map(|(_, unused)| unused)
                .collect(),
        };
        let properties = card_unused.get_untracked();
        let chosen_text = card_text.get_untracked();
        let from_cards = chosen_cards.is_some();
        let n_rows = match (&chosen_cards, &parsed) {
            (Some((_, cards)), _) => cards.len(),
            (None, Some((_, parsed))) => parsed.rows.len(),
            (None, None) => return,
        };
        progress.set(Some((0, n_rows)));
        spawn_local(async move {
            // Rows become customers a slice at a time, yielding between slices, so a large
            // file never holds the page's thread for long (the documents are built by the
            // engine, off this thread).
            let mut row_warnings: Vec<(u64, String)> = Vec::new();
            // New fields are defined first (none: no book change), then every column or
            // property mapped to a field reads into it.
            let fields = match define_fields(repo, &custom_mapping).await {
                Ok(fields) => fields,
                Err(err) => {
                    progress.set(None);
                    error.set(Some(format!(
                        "Nothing imported: the new fields could not be made: {err}"
                    )));
                    return;
                }
            };
            let rows: Vec<(u64, Result<Customer, String>)> = match (chosen_cards, parsed) {
                (Some((_, cards)), _) => {
                    // With properties going into custom fields, the file is read again.
                    let cards = match (&chosen_text, fields.is_empty()) {
                        (Some(text), false) => {
                            let by_property: CardFields = (fields.into_iter())
                                .filter_map(|(col, field)| {
                                    properties.get(col).map(|(name, _)| (name.clone(), field))
                                })
                                .collect();
                            parse_vcards_with(text, &by_property, &mut random_id, now())
                        }
                        _ => cards,
                    };
                    cards
                        .into_iter()
                        .map(|(line, card)| {
                            (
                                line,
                                card.map(|card| {
                                    row_warnings
                                        .extend(card.warnings.into_iter().map(|w| (line, w)));
                                    card.customer
                                }),
                            )
                        })
                        .collect()
                }
                (None, Some((_, parsed))) => {
                    let at = now();
                    let mut ids = random_id;
                    // The date order is read from the file as mapped now.
                    let choices = ImportChoices {
                        stages: stage_map,
                        custom: fields,
                        ..ImportChoices::for_file(&parsed, &mapping)
                    };
                    let mut rows = Vec::with_capacity(parsed.rows.len());
                    let mut slice_started = now_ms();
                    for (line, row) in &parsed.rows {
                        let outcome = row_to_customer_with(row, &mapping, &choices, &mut ids, at)
                            .map(|row| {
                                row_warnings.extend(row.warnings.into_iter().map(|w| (*line, w)));
                                row.customer
                            });
                        rows.push((*line, outcome));
                        if now_ms() - slice_started > 20.0 {
                            common::perf::yield_now().await;
                            slice_started = now_ms();
                        }
                    }
                    rows
                }
                (None, None) => return,
            };
            let mut result = Report {
                from_cards,
                left_out: parsed_left_out,
                unused: parsed_unused,
                warnings: row_warnings,
                ..Report::default()
            };
            // Duplicates are looked for in the whole book, so it must have been read.
            repo.book_loaded().await;
            let mut index = repo.book.with_untracked(DuplicateIndex::new);
            common::perf::yield_now().await;
            let mut to_create: Vec<Customer> = Vec::new();
            let mut to_merge: Vec<(CustomerId, Customer)> = Vec::new();
            let mut slice_started = now_ms();
            for (line, outcome) in rows {
                match outcome {
                    Ok(customer) => match (index.find(&customer), policy) {
                        (Some(_), OnDuplicate::Skip) => result.skipped += 1,
                        (Some(existing), OnDuplicate::Merge) => to_merge.push((existing, customer)),
                        _ => {
                            index.add(&customer);
                            to_create.push(customer);
                        }
                    },
                    Err(message) => result.errors.push((line, message)),
                }
                if now_ms() - slice_started > 20.0 {
                    common::perf::yield_now().await;
                    slice_started = now_ms();
                }
            }
            common::perf::add_timing("import: parse rows and find duplicates", started);
            let total = to_create.len() + to_merge.len();
            progress.set(Some((0, total)));
            let created = to_create.len();
            if let Err(err) = repo
                .create_many(to_create.into_iter(), BATCH, move |n| {
                    progress.set(Some((n, total)))
                })
                .await
            {
                error.set(Some(format!(
                    "The import stopped: {err}. Customers written so far are kept."
                )));
            } else {
                result.created = created;
            }
            let author = repo.author_name();
            for (done, (existing, row)) in to_merge.into_iter().enumerate() {
                let author = author.clone();
                let outcome = repo.update(&existing, move |current| {
                    let fill: Vec<MergeField> = MergeField::ALL.into_iter().filter(|&f| default_takes_other(f, current, &row)).collect();
                    let history = random_id();
                    let mut updated = merged(current, &row, &fill, &author, now(), &history);
                    // Custom values the customer lacks are filled from the row.
                    for (field, value) in &row.custom {
                        updated.custom.entry(field.clone()).or_insert_with(|| value.clone());
                    }
                    for (field, chosen) in &row.custom_sets {
                        updated.custom_sets.entry(field.clone()).or_insert_with(|| chosen.clone());
                    }
                    if let Some(note) = updated.activities.get_mut(&history) {
                        note.summary = "Updated from a CSV import: empty fields filled, new emails, phones and tags added.".into();
                        note.outcome = "import".into();
                    }
                    *current = updated;
                }).await;
                match outcome {
                    Ok(_) => result.merged += 1,
                    Err(err) => result.errors.push((0, format!("{existing}: {err}"))),
                }
                progress.set(Some((created + done + 1, total)));
            }
            result.millis = now_ms() - started;
            progress.set(None);
            report.set(Some(result));
            file.set(None);
            cards.set(None);
            raw.set(None);
        });
    };
    view! {
        <div class="detail" data-testid="import-page">
            <DetailTopbar back="/menu" back_label="Menu" title="Import"/>
            <section class="card">
                <h2 class="section-title">"Customers from a CSV or vCard file"</h2>
                <p class="hint">"Exports of Google Contacts, Outlook, HubSpot, Salesforce, Zoho, Pipedrive and LinkedIn are recognised; any other CSV can be mapped column by column; vCard from any phone. Works offline."</p>
                <label class="button file-button">
                    "Choose a CSV or vCard file…"
                    <input type="file" accept=".csv,text/csv,.vcf,text/vcard" data-testid="import-file" on:change=choose/>
                </label>
                {move || error.get().map(|e| view! { <p class="banner banner-error" role="alert" data-testid="import-error">{e}</p> })}
                {move || raw.get().map(|(name, bytes)| view! {
                    <label class="field">
                        <span class="field-label">"Characters read as"</span>
                        <select data-testid="import-encoding"
                            on:change=move |ev| {
                                let label = event_target_value(&ev);
                                if let Some(chosen) = TextEncoding::ALL.into_iter().find(|e| e.label() == label) {
                                    load(name.clone(), &bytes, chosen);
                                }
                            }>
                            {TextEncoding::ALL.into_iter().map(|e| view! {
                                <option value=e.label() selected=move || encoding.get() == e>{e.label()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    {move || (unreadable.get() > 0).then(|| view! {
                        <p class="banner banner-error" role="alert" data-testid="import-unreadable">
                            {format!("{} cannot be read as {}: choose the file's encoding above (accents shown as \u{FFFD} are lost otherwise).", crate::components::count(unreadable.get(), "character", "characters"), encoding.get().label())}
                        </p>
                    })}
                })}
            </section>
            {move || file.get().map(|(name, parsed)| {
                let headers = parsed.headers.clone();
                let preview: Vec<Vec<String>> = parsed.rows.iter().take(5).map(|(_, row)| row.clone()).collect();
                view! {
                    <section class="card" data-testid="import-mapping">
                        <h2 class="section-title">{format!("{name}: {}", crate::components::count(parsed.rows.len(), "row", "rows"))}</h2>
                        <p data-testid="import-layout">{move || format!("Recognised as: {}", layout.get().label())}</p>
                        <label class="field">
                            <span class="field-label">"Exported from"</span>
                            <select data-testid="import-layout-choice"
                                on:change={
                                    let headers = parsed.headers.clone();
                                    move |ev| {
                                        let label = event_target_value(&ev);
                                        if let Some(chosen) = Layout::ALL.into_iter().find(|l| l.label() == label) {
                                            layout.set(chosen);
                                            targets.set(map_columns(chosen, &headers));
                                        }
                                    }
                                }>
                                {Layout::ALL.into_iter().map(|l| view! {
                                    <option value=l.label() selected=move || layout.get() == l>{l.label()}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        {(!parsed.skipped.is_empty()).then(|| view! {
                            <p class="hint" data-testid="import-skipped-lines">{format!("{} not contacts will be left out (before the header row, or a report's footer).", match parsed.skipped.len() { 1 => "1 line that is".to_string(), n => format!("{n} lines that are") })}</p>
                        })}
                        <div class="mapping">
                            {headers.into_iter().enumerate().map(|(col, header)| {
                                let sample = preview.iter().map(|row| row.get(col).cloned().unwrap_or_default()).find(|v| !v.trim().is_empty()).unwrap_or_default();
                                view! {
                                    <label class="field mapping-row">
                                        <span class="field-label">{header.clone()} <span class="hint">{if sample.is_empty() { String::new() } else { format!(" e.g. {sample}") }}</span></span>
                                        <select data-testid="import-target" data-column=header.clone()
                                            on:change={
                                                let parsed = parsed.clone();
                                                move |ev| {
                                                    let label = event_target_value(&ev);
                                                    if let Some(id) = label.strip_prefix("field:") {
                                                        targets.update(|all| if let Some(slot) = all.get_mut(col) { *slot = Target::Ignore });
                                                        custom.update(|custom| { custom.insert(col, CustomMapping::Existing(id.to_string())); });
                                                    } else if label == "new-field" {
                                                        let position = repo.settings.with_untracked(|s| s.fields.values().map(|f| f.position).max().unwrap_or(0)) + 1 + col as i64;
                                                        let field = field_from_column(&parsed, col, position, now());
                                                        targets.update(|all| if let Some(slot) = all.get_mut(col) { *slot = Target::Ignore });
                                                        custom.update(|custom| { custom.insert(col, CustomMapping::New(field)); });
                                                    } else if let Some(target) = Target::ALL.iter().find(|t| t.label() == label) {
                                                        custom.update(|custom| { custom.remove(&col); });
                                                        targets.update(|all| if let Some(slot) = all.get_mut(col) { *slot = *target });
                                                    }
                                                }
                                            }>
                                            {Target::ALL.iter().map(|t| view! {
                                                <option value=t.label() selected=move || custom.with(|c| !c.contains_key(&col)) && targets.with(|all| all.get(col) == Some(t))>{t.label()}</option>
                                            }).collect_view()}
                                            <FieldOptions custom col new_label=header.trim().to_string()/>
                                        </select>
                                        <NewFieldHint custom col/>
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                    </section>
                }
            })}
            {move || file.with(|parsed| parsed.as_ref().map(|(_, parsed)| {
                targets.with(|targets| stages.with(|chosen| stage_values(parsed, targets, chosen)))
            })).filter(|values| !values.is_empty()).map(|values| view! {
                <section class="card" data-testid="import-stages">
                    <h2 class="section-title">"Stages"</h2>
                    <p class="hint">"The file's stage values and the stage each becomes; change any of them."</p>
                    {(values.len() > STAGE_VALUES_SHOWN).then(|| view! {
                        <p class="hint">{format!("The {STAGE_VALUES_SHOWN} most frequent of {} values; the others become the stage they name, or are kept in the notes.", values.len())}</p>
                    })}
                    <div class="mapping">
                        {values.into_iter().take(STAGE_VALUES_SHOWN).map(|found| {
                            let value = found.value.clone();
                            view! {
                                <label class="field mapping-row">
                                    <span class="field-label">{found.value.clone()} <span class="hint">{format!(" {} {}", found.rows, if found.rows == 1 { "row" } else { "rows" })}</span></span>
                                    <select data-testid="import-stage" data-value=found.value.clone()
                                        on:change=move |ev| {
                                            let chosen = LifecycleStage::parse(&event_target_value(&ev));
                                            stages.update(|map| map.set(&value, chosen));
                                        }>
                                        {LifecycleStage::ALL.into_iter().map(|stage| view! {
                                            <option value=stage.as_str() selected=found.stage == Some(stage)>{stage.label()}</option>
                                        }).collect_view()}
                                        <option value="" selected=found.stage.is_none()>"Keep in the notes"</option>
                                    </select>
                                </label>
                            }
                        }).collect_view()}
                    </div>
                </section>
            })}
            {move || cards.get().map(|(name, parsed)| view! {
                <section class="card" data-testid="import-cards">
                    <h2 class="section-title">{format!("{name}: {} contact cards", parsed.len())}</h2>
                    <p data-testid="import-layout">"Recognised as: vCard"</p>
                    {move || {
                        let properties = card_unused.get();
                        let text = card_text.get();
                        (!properties.is_empty()).then(|| view! {
                            <p class="hint">"Details the cards hold that have no built-in place: keep them in one of your fields, or in a new field made from them."</p>
                            <div class="mapping" data-testid="import-card-properties">
                                {properties.into_iter().enumerate().map(|(col, (property, n))| {
                                    let label = property_label(&property);
                                    let values = text.as_ref().map(|t| property_values(t, &property)).unwrap_or_default();
                                    let sample = values.first().cloned().unwrap_or_default();
                                    let new_label = label.clone();
                                    view! {
                                        <label class="field mapping-row">
                                            <span class="field-label">{format!("{label} ({property})")} <span class="hint">{format!(" {n} {}, e.g. {sample}", if n == 1 { "card" } else { "cards" })}</span></span>
                                            <select data-testid="import-property" data-property=property.clone()
                                                on:change=move |ev| {
                                                    let chosen = event_target_value(&ev);
                                                    if let Some(id) = chosen.strip_prefix("field:") {
                                                        custom.update(|custom| { custom.insert(col, CustomMapping::Existing(id.to_string())); });
                                                    } else if chosen == "new-field" {
                                                        let position = repo.settings.with_untracked(|s| s.fields.values().map(|f| f.position).max().unwrap_or(0)) + 1 + col as i64;
                                                        let field = field_from_values(&new_label, values.iter().map(String::as_str), position, now());
                                                        custom.update(|custom| { custom.insert(col, CustomMapping::New(field)); });
                                                    } else {
                                                        custom.update(|custom| { custom.remove(&col); });
                                                    }
                                                }>
                                                <option value="" selected=move || custom.with(|c| !c.contains_key(&col))>"Don't import"</option>
                                                <FieldOptions custom col new_label=label.clone()/>
                                            </select>
                                            <NewFieldHint custom col/>
                                        </label>
                                    }
                                }).collect_view()}
                            </div>
                        })
                    }}
                </section>
            })}
            {move || {
                let count = cards.with(|c| c.as_ref().map(|(_, p)| p.len())).or_else(|| file.with(|f| f.as_ref().map(|(_, p)| p.rows.len())));
                count.map(|count| view! {
                    <section class="card" data-testid="import-options">
                        <fieldset class="merge-field">
                            <legend>"Rows with the email or phone of an existing customer"</legend>
                            {[(OnDuplicate::Skip, "skip", "Skip them"), (OnDuplicate::Merge, "merge", "Merge into the existing customer"), (OnDuplicate::Create, "create", "Create new customers anyway")].into_iter().map(|(choice, id, label)| view! {
                                <label class="merge-choice">
                                    <input type="radio" name="on-duplicate" data-testid=format!("on-duplicate-{id}")
                                        prop:checked=move || on_duplicate.get() == choice on:change=move |_| on_duplicate.set(choice)/>
                                    <span>{label}</span>
                                </label>
                            }).collect_view()}
                        </fieldset>
                        <button class="button primary" data-testid="import-run" disabled=move || progress.get().is_some() on:click=run>
                            {format!("Import {count} {}", if count == 1 { "row" } else { "rows" })}
                        </button>
                    </section>
                })
            }}
            {move || progress.get().map(|(done, total)| view! {
                <section class="card" data-testid="import-progress">
                    <progress max=total.max(1) value=done></progress>
                    <p class="hint">{format!("{done} of {total}")}</p>
                </section>
            })}
            {move || report.get().map(|r| view! {
                <section class="card" data-testid="import-report">
                    <h2 class="section-title">"Import finished"</h2>
                    <p data-testid="import-summary">{format!("{} imported, {} merged, {} skipped as duplicates, {} with errors, {} ({:.1} s).",
                        r.created, r.merged, r.skipped, match r.errors.len() { 1 => "1 row".to_string(), n => format!("{n} rows") },
                        match r.warnings.len() { 1 => "1 warning".to_string(), n => format!("{n} warnings") }, r.millis / 1000.0)}</p>
                    <ul class="import-errors">
                        {r.errors.iter().take(200).map(|(line, message)| view! {
                            <li data-testid="import-row-error">{if *line > 0 { format!("Line {line}: {message}") } else { message.clone() }}</li>
                        }).collect_view()}
                    </ul>
                    {(!r.warnings.is_empty()).then(|| view! {
                        <p class="hint" data-testid="import-warnings">{match r.warnings.len() {
                            1 => "1 warning (a value without a place is kept in the customer's notes):".to_string(),
                            n => format!("{n} warnings (values without a place are kept in the customers' notes):"),
                        }}</p>
                        <ul class="import-notes">
                            {r.warnings.iter().take(200).map(|(line, message)| view! {
                                <li data-testid="import-row-warning">{format!("Line {line}: {message}")}</li>
                            }).collect_view()}
                        </ul>
                    })}
                    {(!r.unused.is_empty()).then(|| view! {
                        <p class="hint" data-testid="import-unused">{format!("Not imported{}: {}.", if r.from_cards { "" } else { " (mapped to \"Don't import\")" },
                            r.unused.iter().map(|(column, n)| format!("{column} ({n} {})", if *n == 1 { "value" } else { "values" })).collect::<Vec<_>>().join(", "))}</p>
                    })}
                    {(!r.left_out.is_empty()).then(|| view! {
                        <p class="hint" data-testid="import-left-out">{match r.left_out.len() {
                            1 => "1 line of the file is not a contact and was left out:".to_string(),
                            n => format!("{n} lines of the file are not contacts and were left out:"),
                        }}</p>
                        <ul class="import-notes">
                            {r.left_out.iter().take(50).map(|(line, why)| view! {
                                <li data-testid="import-left-out-line">{format!("Line {line}: {why}")}</li>
                            }).collect_view()}
                        </ul>
                    })}
                </section>
            })}
        </div>
    }
}

/// The options of a column's (or property's) select that send it to one of the book's
/// fields, or to a new field named `new_label`.
#[component]
fn FieldOptions(
    custom: RwSignal<BTreeMap<usize, CustomMapping>>,
    col: usize,
    new_label: String,
) -> impl IntoView {
    let repo = use_repo();
    view! {
        {move || repo.settings.with(|s| crate::routes::fields::ordered_fields(&s.fields, false)).into_iter().map(|(id, field)| {
            let chosen = id.clone();
            view! {
                <option value=format!("field:{id}") selected=move || custom.with(|c| matches!(c.get(&col), Some(CustomMapping::Existing(f)) if *f == chosen))>{format!("Field: {}", field.name)}</option>
            }
        }).collect_view()}
        <option value="new-field" selected=move || custom.with(|c| matches!(c.get(&col), Some(CustomMapping::New(_))))>{format!("New field “{new_label}”")}</option>
    }
}

/// What a new field made for column (or property) `col` will be, once chosen.
#[component]
fn NewFieldHint(custom: RwSignal<BTreeMap<usize, CustomMapping>>, col: usize) -> impl IntoView {
    move || {
        custom.with(|c| match c.get(&col) {
            Some(CustomMapping::New(field)) => Some(view! {
                <span class="hint" data-testid="import-new-field">{new_field_words(field)}</span>
            }),
            _ => None,
        })
    }
}

/// How a new field made from a column or property is described: its type and choices.
fn new_field_words(field: &FieldDefinition) -> String {
    let mut words = format!("A new field of type {}", field.kind.label().to_lowercase());
    if field.kind.has_choices() {
        let labels: Vec<&str> = (field.offered_choices().into_iter())
            .map(|(_, l)| l)
            .collect();
        words.push_str(&format!(" with the choices {}", labels.join(", ")));
    }
    words.push_str(", guessed from the values.");
    words
}

/// A vCard's unused properties (by position) named like one of the book's fields (by its
/// name, or the property's: `X-INDUSTRY` goes to "Industry"): property → field id.
fn card_columns(
    properties: &[(String, usize)],
    fields: &BTreeMap<String, FieldDefinition>,
) -> BTreeMap<usize, String> {
    let labels: Vec<String> = (properties.iter())
        .map(|(name, _)| property_label(name))
        .collect();
    custom_columns(&labels, &[], fields)
}

/// Where a column goes among the book's custom fields.
#[derive(Clone, Debug, PartialEq)]
enum CustomMapping {
    /// An existing field, by id.
    Existing(String),
    /// A field made for it (named after its header, of the type its values suggest).
    New(FieldDefinition),
}

/// Defines the new fields of `mapping` in the book (one change) and returns every mapped
/// column's field id and definition.
async fn define_fields(
    repo: crate::repo::Repo,
    mapping: &BTreeMap<usize, CustomMapping>,
) -> Result<BTreeMap<usize, (String, FieldDefinition)>, String> {
    let mut columns = BTreeMap::new();
    let mut new_fields = Vec::new();
    for (col, mapped) in mapping {
        match mapped {
            CustomMapping::Existing(id) => {
                if let Some(field) = repo.settings.with_untracked(|s| s.fields.get(id).cloned()) {
                    columns.insert(*col, (id.clone(), field));
                }
            }
            CustomMapping::New(field) => {
                let id = crate::routes::customer::short_id();
                new_fields.push((id.clone(), field.clone()));
                columns.insert(*col, (id, field.clone()));
            }
        }
    }
    if !new_fields.is_empty() {
        repo.update_book(move |s| s.fields.extend(new_fields))
            .await
            .map_err(|err| err.to_string())?;
    }
    Ok(columns)
}

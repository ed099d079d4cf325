//! "Already in your book?": the customers a person being entered may already be, while the
//! rep types (the whole local book, offline). Shown by quick capture and the new-customer
//! form, so neither creates a duplicate silently.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::search::duplicates::{likely_duplicates, Lead};
use shared::{CustomerId, CustomerSummary};

use crate::repo::use_repo;

/// The likely duplicates of `lead` (at most three), each with "Open" and, when `on_add` is
/// given, "Add to this one".
#[component]
pub fn DuplicateHints(
    lead: Memo<Lead>,
    #[prop(optional)] on_add: Option<Callback<CustomerId>>,
) -> impl IntoView {
    let repo = use_repo();
    let hints = Memo::new(move |_| {
        let lead = lead.get();
        repo.book.with(|book| {
            likely_duplicates(book, &lead, 3)
                .into_iter()
                .filter_map(|hint| {
                    let summary: CustomerSummary = book.get(&hint.id)?.clone();
                    Some((summary, hint))
                })
                .collect::<Vec<_>>()
        })
    });
    move || {
        let hints = hints.get();
        (!hints.is_empty()).then(|| view! {
            <section class="duplicates" data-testid="duplicate-hints" aria-live="polite">
                <h2 class="section-title">"Already in your book?"</h2>
                <ul>
                    {hints.into_iter().map(|(summary, hint)| {
                        let id = summary.id.clone();
                        let who = summary.display_name().to_string();
                        let reasons = hint.reasons.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ");
                        view! {
                            <li class="duplicate" data-testid="duplicate-hint" data-score=hint.score.to_string()>
                                <div class="duplicate-who">
                                    <strong>{who.clone()}</strong>
                                    <span class="hint">{if summary.name.is_empty() { String::new() } else { summary.company.clone() }}</span>
                                    <span class="hint">{reasons}</span>
                                </div>
                                <div class="duplicate-actions">
                                    <A href=format!("/customers/{}", summary.id) attr:class="button" attr:data-testid="open-existing"
                                        attr:aria-label=format!("Open {who}")>"Open"</A>
                                    {on_add.map(|add| view! {
                                        <button type="button" class="button primary" data-testid="add-to-existing"
                                            aria-label=format!("Add to {who}")
                                            on:click=move |_| add.run(id.clone())>"Add to this one"</button>
                                    })}
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })
    }
}

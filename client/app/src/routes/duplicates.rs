//! Duplicates: every likely pair in the book with its score and reasons, and the merge
//! screen (field by field, with a preview of the result). A merge is two synced edits — the
//! kept customer receives everything, then the other is archived with a pointer to it — so
//! it is never lossy, even if interrupted between the two.

use std::collections::HashSet;

use crate::components::{count, DetailTopbar};
use leptos::{prelude::*, task::spawn_local};
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
};
use shared::{
    crm::merge::{default_takes_other, merged, MergeField},
    search::duplicates::{scan_duplicates, DuplicatePair},
    Customer, CustomerId,
};

use crate::{repo::use_repo, routes::customer::random_id, time::now};
use common::perf::now_ms;

/// The list of likely duplicate pairs.
#[component]
pub fn DuplicatesPage() -> impl IntoView {
    let repo = use_repo();
    let scan_ms = RwSignal::new(0.0);
    let pairs = Memo::new(move |_| {
        let started = now_ms();
        let pairs = repo.book.with(scan_duplicates);
        scan_ms.set(now_ms() - started);
        pairs
    });
    let name_of = move |id: &CustomerId| {
        repo.book.with(|book| {
            book.get(id)
                .map(|s| {
                    let company = if s.name.is_empty() || s.company.is_empty() {
                        String::new()
                    } else {
                        format!(" · {}", s.company)
                    };
                    format!("{}{company}", s.display_name())
                })
                .unwrap_or_default()
        })
    };
    view! {
        <div class="detail" data-testid="duplicates-page">
            <DetailTopbar back="/menu" back_label="Menu" title="Duplicates"/>
            <p class="hint card" data-testid="duplicates-summary">{move || {
                let n = pairs.with(Vec::len);
                format!("{} among {} (scanned in {:.0} ms).",
                    count(n, "likely duplicate pair", "likely duplicate pairs"),
                    count(repo.book.with(|b| b.len()), "customer", "customers"), scan_ms.get())
            }}</p>
            <section class="card"><ul class="follow-up-list">
                {move || pairs.get().into_iter().take(200).map(|pair: DuplicatePair| {
                    let reasons = pair.reasons.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ");
                    view! {
                        <li class="follow-up" data-testid="duplicate-pair">
                            <A href=format!("/duplicates/{}/{}", pair.a, pair.b) attr:class="follow-up-body" attr:data-testid="review-pair">
                                <strong>{name_of(&pair.a)}</strong>
                                <strong>{name_of(&pair.b)}</strong>
                                <span class="hint">{format!("{} % · {reasons}", pair.score)}</span>
                            </A>
                        </li>
                    }
                }).collect_view()}
            </ul></section>
        </div>
    }
}

/// Merging one pair: `/duplicates/:a/:b`.
#[component]
pub fn MergePage() -> impl IntoView {
    let repo = use_repo();
    let params = use_params_map();
    let navigate = use_navigate();
    let ids = params.with_untracked(|p| {
        Some((
            p.get("a")?.parse::<CustomerId>().ok()?,
            p.get("b")?.parse::<CustomerId>().ok()?,
        ))
    });
    let pair = RwSignal::new(None::<(Customer, Customer)>);
    let error = RwSignal::new(None::<String>);
    // Which one is kept: false = the first.
    let keep_second = RwSignal::new(false);
    let take_other = RwSignal::new(HashSet::<MergeField>::new());
    if let Some((a, b)) = ids.clone() {
        spawn_local(async move {
            match (repo.customer(&a).await, repo.customer(&b).await) {
                (Ok(a), Ok(b)) => {
                    // By default the older record (the original) is kept.
                    let second_is_older = b.created_at < a.created_at;
                    keep_second.set(second_is_older);
                    let (keep, other) = if second_is_older { (&b, &a) } else { (&a, &b) };
                    take_other.set(
                        MergeField::ALL
                            .into_iter()
                            .filter(|&f| default_takes_other(f, keep, other))
                            .collect(),
                    );
                    pair.set(Some((a, b)));
                }
                (Err(err), _) | (_, Err(err)) => error.set(Some(err.to_string())),
            }
        });
    } else {
        error.set(Some("This link does not point to two customers.".into()));
    }
    let sides = move || {
        pair.get()
            .map(|(a, b)| if keep_second.get() { (b, a) } else { (a, b) })
    };
    let swap = move |_| {
        keep_second.update(|k| *k = !*k);
        if let Some((keep, other)) = sides() {
            take_other.set(
                MergeField::ALL
                    .into_iter()
                    .filter(|&f| default_takes_other(f, &keep, &other))
                    .collect(),
            );
        }
    };
    let history_id = random_id();
    let preview = move || {
        sides().map(|(keep, other)| {
            let chosen: Vec<MergeField> = take_other.with(|t| {
                MergeField::ALL
                    .into_iter()
                    .filter(|f| t.contains(f))
                    .collect()
            });
            merged(&keep, &other, &chosen, "", now(), "preview")
        })
    };
    let merging = RwSignal::new(false);
    let merge = move |_| {
        let Some((keep, other)) = sides() else { return };
        let chosen: Vec<MergeField> = take_other.with_untracked(|t| {
            MergeField::ALL
                .into_iter()
                .filter(|f| t.contains(f))
                .collect()
        });
        let author = repo.author_name();
        let result = merged(&keep, &other, &chosen, &author, now(), &history_id);
        let navigate = navigate.clone();
        merging.set(true);
        spawn_local(async move {
            // First the kept customer receives everything; only then is the other archived.
            let keep_id = keep.id.clone();
            let outcome = async {
                repo.update(&keep_id, move |c| *c = result).await?;
                let pointer = keep_id.clone();
                repo.update(&other.id, move |c| {
                    c.archived = true;
                    c.merged_into = Some(pointer);
                })
                .await
            }
            .await;
            merging.set(false);
            match outcome {
                Ok(_) => navigate(&format!("/customers/{keep_id}"), Default::default()),
                Err(err) => error.set(Some(format!("Not merged: {err}"))),
            }
        });
    };
    view! {
        <div class="detail" data-testid="merge-page">
            <DetailTopbar back="/duplicates" back_label="Duplicates" title="Merge"/>
            {move || error.get().map(|e| view! { <p class="banner banner-error" role="alert" data-testid="merge-error">{e}</p> })}
            {move || sides().map(|(keep, other)| view! {
                <section class="card">
                    <p>"Keeping " <strong data-testid="merge-keep">{keep.display_name().to_string()}</strong>
                       "; " <strong>{other.display_name().to_string()}</strong> " will be archived after its history is copied over."</p>
                    <button class="button" data-testid="merge-swap" on:click=swap>"Keep the other one instead"</button>
                </section>
                <section class="card">
                    <h2 class="section-title">"Choose each value"</h2>
                    {MergeField::ALL.into_iter().filter(|f| f.show(&keep) != f.show(&other)).map(|field| {
                        let mine = field.show(&keep);
                        let theirs = field.show(&other);
                        let name = format!("merge-{}", field.label());
                        view! {
                            <fieldset class="merge-field" data-testid="merge-field">
                                <legend>{field.label()}</legend>
                                <label class="merge-choice">
                                    <input type="radio" name=name.clone() prop:checked=move || !take_other.with(|t| t.contains(&field))
                                        on:change=move |_| take_other.update(|t| { t.remove(&field); })/>
                                    <span>{if mine.is_empty() { "(empty)".to_string() } else { mine.clone() }}</span>
                                </label>
                                <label class="merge-choice">
                                    <input type="radio" name=name data-testid="merge-take-other" prop:checked=move || take_other.with(|t| t.contains(&field))
                                        on:change=move |_| take_other.update(|t| { t.insert(field); })/>
                                    <span>{if theirs.is_empty() { "(empty)".to_string() } else { theirs.clone() }}</span>
                                </label>
                            </fieldset>
                        }
                    }).collect_view()}
                    <p class="hint">"Emails, phones, tags and notes of both are kept, and so is every activity, follow-up, feedback answer, purchase and deal."</p>
                </section>
            })}
            {move || preview().map(|result| view! {
                <section class="card" data-testid="merge-preview">
                    <h2 class="section-title">"Result"</h2>
                    <p><strong data-testid="preview-name">{result.display_name().to_string()}</strong>
                        {(!result.company.is_empty() && !result.name.is_empty()).then(|| format!(" · {}", result.company))}</p>
                    <p class="hint" data-testid="preview-contacts">{format!("{} · {}",
                        result.emails.iter().map(|e| e.value.clone()).collect::<Vec<_>>().join(", "),
                        result.phones.iter().map(|p| p.value.clone()).collect::<Vec<_>>().join(", "))}</p>
                    <p class="hint" data-testid="preview-records">{format!("{} (with the merge note), {}, {}, {}, {}, {}",
                        count(result.activities.len(), "activity", "activities"), count(result.tasks.len(), "follow-up", "follow-ups"),
                        count(result.feedback.len(), "feedback answer", "feedback answers"), count(result.purchases.len(), "purchase", "purchases"),
                        count(result.deals.len(), "deal", "deals"), count(result.tags.len(), "tag", "tags"))}</p>
                    <button class="button primary" data-testid="merge-confirm" disabled=move || merging.get() on:click=merge.clone()>"Merge"</button>
                </section>
            })}
        </div>
    }
}

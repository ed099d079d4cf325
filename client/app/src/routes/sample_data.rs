//! Sample data: fills the book with a realistic, deterministic set of customers so a rep can
//! try Fieldbook, and so tests and benchmarks can measure large books
//! (`/sample-data?n=10000&seed=1&auto=1` starts at once; `&fields=1` defines ten custom
//! fields and fills them; `&records=1` adds 5-50 activities,
//! purchases, follow-ups and feedback to each customer, `&activities=N` exactly N activities;
//! `?fixture=dashboard&auto=1` writes the dashboard fixture of `shared::seed`;
//! `?touch=N&auto=1` changes N existing customers instead, as another device of the rep would:
//! each moves one stage and gets a logged call, two saves each, so 2 x N changes to sync).

use crate::components::DetailTopbar;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::use_query_map;

use crate::{repo::use_repo, time::now};

/// Customers written per IndexedDB transaction.
const BATCH_SIZE: usize = 250;

/// The sample-data screen.
#[component]
pub fn SampleData() -> impl IntoView {
    let repo = use_repo();
    let query = use_query_map();
    let n_wanted = RwSignal::new(
        query
            .with_untracked(|q| q.get("n").and_then(|n| n.parse::<usize>().ok()))
            .unwrap_or(200),
    );
    let seed = query
        .with_untracked(|q| q.get("seed").and_then(|s| s.parse::<u64>().ok()))
        .unwrap_or(1);
    // `activities=N`: each customer gets a history of N activities (and purchases, follow-ups,
    // feedback); `records=1`: 5 to 50 activities each, as a realistic book.
    let activities =
        query.with_untracked(|q| q.get("activities").and_then(|a| a.parse::<usize>().ok()));
    let records = query.with_untracked(|q| q.get("records").is_some());
    // `fields=1`: the ten sample custom fields are defined, and every customer fills them.
    let custom_fields = query.with_untracked(|q| q.get("fields").is_some());
    // `fixture=dashboard`: the seven customers whose KPIs the tests work out by hand.
    let fixture = query.with_untracked(|q| q.get("fixture").is_some_and(|f| f == "dashboard"));
    let touch = query.with_untracked(|q| q.get("touch").and_then(|n| n.parse::<usize>().ok()));
    let n_written = RwSignal::new(0usize);
    let running = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Result<f64, String>>);

    let start = move || {
        if running.get_untracked() {
            return;
        }
        running.set(true);
        outcome.set(None);
        n_written.set(0);
        let n = n_wanted.get_untracked().min(100_000);
        // Continue numbering after what is already there, so running twice adds new people.
        let first_idx = repo.book.with_untracked(|book| book.len()) as u64;
        spawn_local(async move {
            let started = js_sys::Date::now();
            let at = now();
            if custom_fields {
                let defined = repo
                    .update_book(|s| {
                        for (id, field) in shared::seed::custom_fields() {
                            s.fields.entry(id).or_insert(field);
                        }
                    })
                    .await;
                if let Err(err) = defined {
                    outcome.set(Some(Err(format!(
                        "the sample fields were not defined: {err}"
                    ))));
                    running.set(false);
                    return;
                }
            }
            let customers = (first_idx..first_idx + n as u64).map(move |customer_idx| {
                let mut customer = shared::seed::customer(seed, customer_idx, at);
                let n_activities =
                    activities.or(records.then(|| 5 + (customer_idx * 7919 % 46) as usize));
                if let Some(n_activities) = n_activities {
                    shared::seed::add_records(&mut customer, seed, n_activities, at);
                }
                if custom_fields {
                    shared::seed::add_custom_values(&mut customer, seed, customer_idx);
                }
                customer
            });
            let result = if let Some(n_touched) = touch {
                n_wanted.set(n_touched);
                touch_customers(repo, n_touched, move |done| n_written.set(done)).await
            } else if fixture {
                n_wanted.set(shared::seed::dashboard_fixture().len());
                repo.create_many(
                    shared::seed::dashboard_fixture().into_iter(),
                    BATCH_SIZE,
                    move |done| n_written.set(done),
                )
                .await
            } else {
                repo.create_many(customers, BATCH_SIZE, move |done| n_written.set(done))
                    .await
            };
            outcome.set(Some(
                result
                    .map(|_| js_sys::Date::now() - started)
                    .map_err(|err| err.to_string()),
            ));
            running.set(false);
        });
    };
    if query.with_untracked(|q| q.get("auto").is_some()) {
        Effect::new(move |started: Option<bool>| {
            if started == Some(true) {
                return true;
            }
            if repo.load_state.get() != crate::repo::LoadState::Ready {
                return false;
            }
            start();
            true
        });
    }

    view! {
        <div class="detail" data-testid="sample-data-page">
            <DetailTopbar back="/" back_label="Customers"/>
            <section class="card">
                <h1>"Sample data"</h1>
                <p class="hint">"Adds made-up customers to this device so you can try search and filters on a large book. They are ordinary customers: archive them when you are done."</p>
                <label class="field">
                    <span class="field-label">"How many customers"</span>
                    <input type="number" inputmode="numeric" min="1" max="100000" data-testid="sample-count"
                        prop:value=move || n_wanted.get().to_string()
                        on:input=move |ev| n_wanted.set(event_target_value(&ev).parse().unwrap_or(0))/>
                </label>
                <button class="button primary" data-testid="sample-start" disabled=move || running.get() on:click=move |_| start()>
                    {move || if running.get() { "Adding…" } else { "Add sample customers" }}
                </button>
                <progress max=move || n_wanted.get().to_string() value=move || n_written.get().to_string()></progress>
                <p data-testid="sample-progress">{move || format!("{} of {} written", n_written.get(), n_wanted.get())}</p>
                {move || outcome.get().map(|outcome| match outcome {
                    Ok(ms) => view! { <p class="ok" data-testid="sample-done">{format!("Done: {} in {:.1} s.", crate::components::count(n_written.get_untracked(), "customer", "customers"), ms / 1000.0)}</p> }.into_any(),
                    Err(message) => view! { <p class="field-error" data-testid="sample-error">{message}</p> }.into_any(),
                })}
            </section>
        </div>
    }
}

/// Moves the first `n` active customers (by name) one stage on and logs a call with each, as
/// two saves per customer; `progress` gets the number of customers done.
async fn touch_customers(
    repo: crate::repo::Repo,
    n: usize,
    progress: impl Fn(usize),
) -> Result<usize, crate::repo::RepoError> {
    use shared::{
        model::records::{Activity, ActivityKind},
        LifecycleStage,
    };
    let ids: Vec<shared::CustomerId> = repo.book.with_untracked(|book| {
        book.query(&shared::ListQuery::default())
            .into_iter()
            .take(n)
            .filter_map(|idx| book.entry(idx).map(|summary| summary.id.clone()))
            .collect()
    });
    let device = repo.author_name();
    for (done, id) in ids.iter().enumerate() {
        let at = now();
        let device_for_stage = device.clone();
        repo.update(id, move |customer| {
            let from = customer.stage;
            let next = LifecycleStage::ALL
                .iter()
                .position(|stage| *stage == from)
                .map_or(from, |idx| {
                    LifecycleStage::ALL[(idx + 1) % LifecycleStage::ALL.len()]
                });
            customer.stage = next;
            customer.record_stage_change(Some(from), at, &device_for_stage);
        })
        .await?;
        let call = Activity::new(ActivityKind::Call, at, &device);
        repo.update(id, move |customer| {
            customer
                .activities
                .insert(crate::routes::customer::random_id(), call);
        })
        .await?;
        progress(done + 1);
    }
    Ok(ids.len())
}

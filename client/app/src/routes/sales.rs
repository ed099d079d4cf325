//! Products, purchases and deals: the catalog screen, the purchases and deals cards on the
//! customer page, and the pipeline board (tap a deal's stage to move it on a phone; columns
//! on a tablet).

use crate::components::DetailTopbar;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use shared::{
    crm::pipeline::{board, move_deal, open_totals},
    crm::suggestions::cross_sell,
    documents::book_doc::{PipelineStage, Product, StageOutcome},
    model::records::{format_money, parse_money, Deal, Purchase},
    CalendarDate,
};

use crate::{
    repo::{use_repo, RepoError},
    routes::customer::{random_id, Editor, FieldError},
    time::{day, now},
};

/// The currency new products and deals start with.
pub const DEFAULT_CURRENCY: &str = "EUR";

/// Shows a repo error under a form.
fn error_text(err: RepoError) -> String {
    match err {
        RepoError::Invalid(invalid) => invalid.to_string(),
        other => other.to_string(),
    }
}

/// The product catalog: add, edit the price, archive.
#[component]
pub fn ProductsPage() -> impl IntoView {
    let repo = use_repo();
    let name = RwSignal::new(String::new());
    let sku = RwSignal::new(String::new());
    let price = RwSignal::new(String::new());
    let currency = RwSignal::new(DEFAULT_CURRENCY.to_string());
    let error = RwSignal::new(None::<String>);
    let add = move |_| {
        let Some(price_cents) = parse_money(&price.get_untracked()) else {
            error.set(Some(format!(
                "\"{}\" is not a price (e.g. 12.50)",
                price.get_untracked()
            )));
            return;
        };
        let product = Product {
            name: name.get_untracked().trim().to_string(),
            sku: sku.get_untracked().trim().to_string(),
            price_cents,
            currency: currency.get_untracked().trim().to_uppercase(),
            archived: false,
        };
        spawn_local(async move {
            let id = random_id();
            match repo
                .update_book(move |s| {
                    s.products.insert(id, product);
                })
                .await
            {
                Ok(()) => {
                    error.set(None);
                    name.set(String::new());
                    sku.set(String::new());
                    price.set(String::new());
                }
                Err(err) => error.set(Some(error_text(err))),
            }
        });
    };
    view! {
        <div class="detail" data-testid="products-page">
            <DetailTopbar back="/menu" back_label="Menu" title="Products"/>
            <section class="card">
                <h2 class="section-title">"New product"</h2>
                <div class="composer">
                    <label class="field"><span class="field-label">"Name"</span>
                        <input type="text" data-testid="product-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/></label>
                    <div class="field-row">
                        <label class="field"><span class="field-label">"SKU"</span>
                            <input type="text" data-testid="product-sku" autocapitalize="characters" prop:value=move || sku.get() on:input=move |ev| sku.set(event_target_value(&ev))/></label>
                        <label class="field"><span class="field-label">"Currency"</span>
                            <input type="text" data-testid="product-currency" maxlength="3" autocapitalize="characters" prop:value=move || currency.get() on:input=move |ev| currency.set(event_target_value(&ev))/></label>
                    </div>
                    <label class="field"><span class="field-label">"Price"</span>
                        <input type="text" inputmode="decimal" data-testid="product-price" placeholder="0.00" prop:value=move || price.get() on:input=move |ev| price.set(event_target_value(&ev))/></label>
                    {move || error.get().map(|e| view! { <p class="field-error" role="alert" data-testid="product-error">{e}</p> })}
                    <button class="button primary" data-testid="product-add" on:click=add>"Add product"</button>
                </div>
            </section>
            <section class="card">
                <h2 class="section-title">"Catalog"</h2>
                <ul class="follow-up-list">
                    {move || {
                        let settings = repo.settings.get();
                        let mut products: Vec<(String, Product)> = settings.products.into_iter().collect();
                        shared::order::sort_by_key(&mut products, |(_, p)| (p.archived, p.name.to_lowercase()));
                        if products.is_empty() {
                            return view! { <li class="hint" data-testid="no-products">"No products yet."</li> }.into_any();
                        }
                        products.into_iter().map(|(id, product)| {
                            let archived = product.archived;
                            let price_id = id.clone();
                            view! {
                                <li class="follow-up" class:done=archived data-testid="product">
                                    <div class="follow-up-body">
                                        <strong data-testid="product-title">{product.name.clone()}</strong>
                                        <span class="hint">{format!("{}{}", if product.sku.is_empty() { String::new() } else { format!("{} · ", product.sku) }, format_money(product.price_cents, &product.currency))}</span>
                                    </div>
                                    <input type="text" inputmode="decimal" class="price-input" aria-label=format!("Price of {}", product.name) data-testid="product-price-edit"
                                        prop:value=format!("{}.{:02}", product.price_cents / 100, product.price_cents % 100)
                                        on:change=move |ev| {
                                            let text = event_target_value(&ev);
                                            let id = price_id.clone();
                                            match parse_money(&text) {
                                                Some(cents) => spawn_local(async move {
                                                    if let Err(err) = repo.update_book(move |s| if let Some(p) = s.products.get_mut(&id) { p.price_cents = cents }).await {
                                                        error.set(Some(error_text(err)));
                                                    }
                                                }),
                                                None => error.set(Some(format!("\"{text}\" is not a price (e.g. 12.50)"))),
                                            }
                                        }/>
                                    <button class="button" data-testid="product-archive" on:click=move |_| {
                                        let id = id.clone();
                                        spawn_local(async move {
                                            let _ = repo.update_book(move |s| if let Some(p) = s.products.get_mut(&id) { p.archived = !archived; }).await;
                                        });
                                    }>{if archived { "Restore" } else { "Archive" }}</button>
                                </li>
                            }
                        }).collect_view().into_any()
                    }}
                </ul>
            </section>
        </div>
    }
}

/// Purchases on the customer page: lifetime value, the list, and "Record purchase".
#[component]
pub fn PurchasesCard(editor: Editor) -> impl IntoView {
    let repo = use_repo();
    let product = RwSignal::new(String::new());
    let quantity = RwSignal::new("1".to_string());
    let price = RwSignal::new(String::new());
    let date = RwSignal::new(day(now()));
    let field = RwSignal::new(format!("purchases.{}", random_id()));
    let local_error = RwSignal::new(None::<String>);
    let choose = move |id: String| {
        let listed = repo
            .settings
            .with_untracked(|s| s.products.get(&id).map(|p| p.price_cents));
        if let Some(cents) = listed {
            price.set(format!("{}.{:02}", cents / 100, cents % 100));
        }
        product.set(id);
    };
    let record = move |_| {
        let chosen = product.get_untracked();
        let Some(listed) = repo
            .settings
            .with_untracked(|s| s.products.get(&chosen).cloned())
        else {
            local_error.set(Some("Choose a product.".into()));
            return;
        };
        let Ok(qty) = quantity.get_untracked().trim().parse::<u32>() else {
            local_error.set(Some(format!(
                "\"{}\" is not a quantity.",
                quantity.get_untracked()
            )));
            return;
        };
        let Some(unit_price_cents) = parse_money(&price.get_untracked()) else {
            local_error.set(Some(format!(
                "\"{}\" is not a price (e.g. 12.50).",
                price.get_untracked()
            )));
            return;
        };
        let Some(on) = CalendarDate::parse(&date.get_untracked()) else {
            local_error.set(Some("Enter the date of the purchase.".into()));
            return;
        };
        local_error.set(None);
        let purchase = Purchase {
            product_id: chosen,
            product_name: listed.name,
            quantity: qty,
            unit_price_cents,
            currency: listed.currency,
            date: on,
        };
        let key = field.get_untracked();
        let id = key.trim_start_matches("purchases.").to_string();
        editor.save(
            key,
            move |c| {
                c.purchases.insert(id, purchase);
            },
            move || {
                product.set(String::new());
                quantity.set("1".into());
                price.set(String::new());
                field.set(format!("purchases.{}", random_id()));
            },
        );
    };
    let purchases = Memo::new(move |_| {
        editor.read(|c| {
            let mut list: Vec<(String, Purchase)> = c
                .purchases
                .iter()
                .map(|(id, p)| (id.clone(), p.clone()))
                .collect();
            shared::order::sort_by(&mut list, |a, b| {
                b.1.date
                    .cmp(&a.1.date)
                    .then(a.1.product_name.cmp(&b.1.product_name))
            });
            list
        })
    });
    let suggestions = Memo::new(move |_| {
        let id = editor.read(|c| Some(c.id.clone()));
        let Some(id) = id else { return Vec::new() };
        repo.book.with(|book| {
            book.get(&id)
                .map(|summary| cross_sell(book, summary, 3))
                .unwrap_or_default()
        })
    });
    let product_name = move |id: &str| {
        repo.settings
            .with(|s| s.products.get(id).map(|p| p.name.clone()))
            .unwrap_or_else(|| id.trim_start_matches("p-").replace('-', " "))
    };
    view! {
        <section class="card" data-testid="purchases-card">
            <h2 class="section-title">"Purchases"</h2>
            {move || {
                let list = suggestions.get();
                (!list.is_empty()).then(|| view! {
                    <div class="suggestions" data-testid="cross-sell">
                        <strong>"Suggested next"</strong>
                        <ul>
                            {list.into_iter().map(|s| view! {
                                <li data-testid="cross-sell-item">
                                    <strong>{product_name(&s.product)}</strong>
                                    {format!(": bought by {} of the {} customers who also bought {}.", s.together, s.of, product_name(&s.because_of))}
                                </li>
                            }).collect_view()}
                        </ul>
                    </div>
                })
            }}
            <p data-testid="lifetime-value">{move || {
                let list = purchases.get();
                let list: Vec<&shared::model::records::Purchase> = list.iter().map(|(_, p)| p).collect();
                let (currency, value) = shared::model::records::lifetime_value(&list, DEFAULT_CURRENCY);
                format!("Lifetime value: {}", value.describe(&currency))
            }}</p>
            <ul class="follow-up-list">
                {move || purchases.get().into_iter().take(20).map(|(id, p)| view! {
                    <li class="follow-up" data-testid="purchase">
                        <div class="follow-up-body">
                            <strong>{format!("{} × {}", p.quantity, p.product_name)}</strong>
                            <span class="hint">{format!("{} · {} each · {}", p.date, format_money(p.unit_price_cents, &p.currency), format_money(p.total_cents(), &p.currency))}</span>
                        </div>
                        <crate::routes::activities::DeleteRecord editor list=crate::routes::activities::RecordList::Purchase id=id what="this purchase"/>
                    </li>
                }).collect_view()}
            </ul>
            <div class="composer">
                {move || repo.settings.with(|s| s.active_products().is_empty()).then(|| view! {
                    <p class="hint">"No products yet: " <A href="/products" attr:data-testid="add-products">"add your products"</A> "."</p>
                })}
                <label class="field"><span class="field-label">"Product"</span>
                    <select data-testid="purchase-product" prop:value=move || product.get() on:change=move |ev| choose(event_target_value(&ev))>
                        <option value="">"Choose…"</option>
                        {move || repo.settings.with(|s| s.active_products().into_iter().map(|(id, p)| view! {
                            <option value=id.to_string()>{format!("{} · {}", p.name, format_money(p.price_cents, &p.currency))}</option>
                        }).collect_view())}
                    </select></label>
                <div class="field-row">
                    <label class="field"><span class="field-label">"Quantity"</span>
                        <input type="text" inputmode="numeric" data-testid="purchase-quantity" prop:value=move || quantity.get() on:input=move |ev| quantity.set(event_target_value(&ev))/></label>
                    <label class="field"><span class="field-label">"Unit price"</span>
                        <input type="text" inputmode="decimal" data-testid="purchase-price" prop:value=move || price.get() on:input=move |ev| price.set(event_target_value(&ev))/></label>
                </div>
                <label class="field"><span class="field-label">"Date"</span>
                    <input type="date" data-testid="purchase-date" prop:value=move || date.get() on:change=move |ev| date.set(event_target_value(&ev))/></label>
                {move || local_error.get().map(|e| view! { <p class="field-error" role="alert" data-testid="purchase-error">{e}</p> })}
                {move || view! { <FieldError editor field=field.get()/> }}
                <button class="button primary" data-testid="purchase-add" on:click=record>"Record purchase"</button>
            </div>
        </section>
    }
}

/// Deals on the customer page: each with its stage (tap to move), and "New deal".
#[component]
pub fn DealsCard(editor: Editor) -> impl IntoView {
    let repo = use_repo();
    let title = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let close = RwSignal::new(String::new());
    let field = RwSignal::new(format!("deals.{}", random_id()));
    let local_error = RwSignal::new(None::<String>);
    let add = move |_| {
        let Some(value_cents) = parse_money(&value.get_untracked()) else {
            local_error.set(Some(format!(
                "\"{}\" is not an amount (e.g. 1200).",
                value.get_untracked()
            )));
            return;
        };
        let expected_close = CalendarDate::parse(&close.get_untracked());
        let first = repo
            .settings
            .with_untracked(|s| s.pipeline().into_iter().next());
        let Some(first) = first else { return };
        local_error.set(None);
        let deal = Deal {
            title: title.get_untracked().trim().to_string(),
            stage: first.id,
            value_cents,
            currency: DEFAULT_CURRENCY.into(),
            expected_close,
            created_at: now(),
            closed_at: None,
        };
        let key = field.get_untracked();
        let id = key.trim_start_matches("deals.").to_string();
        editor.save(
            key,
            move |c| {
                c.deals.insert(id, deal);
            },
            move || {
                title.set(String::new());
                value.set(String::new());
                close.set(String::new());
                field.set(format!("deals.{}", random_id()));
            },
        );
    };
    let deals = Memo::new(move |_| {
        editor.read(|c| {
            let mut list: Vec<(String, Deal)> = c
                .deals
                .iter()
                .map(|(id, d)| (id.clone(), d.clone()))
                .collect();
            shared::order::sort_by(&mut list, |a, b| {
                a.1.closed_at
                    .is_some()
                    .cmp(&b.1.closed_at.is_some())
                    .then(b.1.created_at.cmp(&a.1.created_at))
            });
            list
        })
    });
    view! {
        <section class="card" data-testid="deals-card">
            <h2 class="section-title">"Deals"</h2>
            <ul class="follow-up-list">
                {move || {
                    let pipeline = repo.settings.with(|s| s.pipeline());
                    deals.get().into_iter().map(|(id, deal)| {
                        let pipeline_for_change = pipeline.clone();
                        let delete_id = id.clone();
                        view! {
                            <li class="follow-up deal" data-testid="deal">
                                <div class="follow-up-body">
                                    <strong data-testid="deal-title">{deal.title.clone()}</strong>
                                    <span class="hint">{format!("{}{}", format_money(deal.value_cents, &deal.currency),
                                        deal.expected_close.map(|d| format!(" · close by {d}")).unwrap_or_default())}</span>
                                </div>
                                <select class="stage-select" data-testid="deal-stage" aria-label="Stage" prop:value=deal.stage.clone()
                                    on:change=move |ev| {
                                        let chosen = event_target_value(&ev);
                                        if let Some(stage) = pipeline_for_change.iter().find(|s| s.id == chosen).cloned() {
                                            let id = id.clone();
                                            let at = now();
                                            editor.save(format!("deals.{id}"), move |c| {
                                                if let Some(deal) = c.deals.get_mut(&id) { move_deal(deal, &stage, at); }
                                            }, || {});
                                        }
                                    }>
                                    {pipeline.iter().map(|stage| view! {
                                        <option value=stage.id.clone() selected=stage.id == deal.stage>{stage.name.clone()}</option>
                                    }).collect_view()}
                                </select>
                                <crate::routes::activities::DeleteRecord editor list=crate::routes::activities::RecordList::Deal id=delete_id what="this deal"/>
                            </li>
                        }
                    }).collect_view()
                }}
            </ul>
            <div class="composer">
                <label class="field"><span class="field-label">"New deal"</span>
                    <input type="text" data-testid="deal-title-input" placeholder="e.g. 3 espresso machines" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/></label>
                <div class="field-row">
                    <label class="field"><span class="field-label">{format!("Value ({DEFAULT_CURRENCY})")}</span>
                        <input type="text" inputmode="decimal" data-testid="deal-value" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/></label>
                    <label class="field"><span class="field-label">"Expected close"</span>
                        <input type="date" data-testid="deal-close" prop:value=move || close.get() on:change=move |ev| close.set(event_target_value(&ev))/></label>
                </div>
                {move || local_error.get().map(|e| view! { <p class="field-error" role="alert" data-testid="deal-error">{e}</p> })}
                {move || view! { <FieldError editor field=format!("{}.title", field.get())/> }}
                <button class="button primary" data-testid="deal-add" on:click=add>"Add deal"</button>
            </div>
        </section>
    }
}

/// The pipeline board.
#[component]
pub fn PipelinePage() -> impl IntoView {
    let repo = use_repo();
    let columns = Memo::new(move |_| {
        let pipeline = repo.settings.with(|s| s.pipeline());
        repo.book.with(|book| board(book, &pipeline))
    });
    let move_to = move |customer: shared::CustomerId, deal_id: String, stage: PipelineStage| {
        let at = now();
        spawn_local(async move {
            if let Err(err) = repo
                .update(&customer, move |c| {
                    if let Some(deal) = c.deals.get_mut(&deal_id) {
                        move_deal(deal, &stage, at);
                    }
                })
                .await
            {
                tracing::error!(%err, "cannot move the deal");
            }
        });
    };
    view! {
        <div class="detail pipeline-page" data-testid="pipeline-page">
            <DetailTopbar back="/menu" back_label="Menu" title="Pipeline"/>
            <PipelineEditor/>
            <p class="card" data-testid="pipeline-totals">{move || {
                let (total, weighted) = open_totals(&columns.get());
                format!("Open pipeline {} · weighted forecast {}", format_money(total, DEFAULT_CURRENCY), format_money(weighted, DEFAULT_CURRENCY))
            }}</p>
            <div class="board">
                {move || {
                    let columns = columns.get();
                    let stages: Vec<PipelineStage> = columns.iter().map(|c| c.stage.clone()).collect();
                    columns.into_iter().map(|column| {
                        let stages = stages.clone();
                        view! {
                            <section class="board-column" class:closed=column.stage.outcome != StageOutcome::Open
                                data-testid=format!("stage-{}", column.stage.id)>
                                <h2 class="section-title">{format!("{} ({})", column.stage.name, column.deals.len())}</h2>
                                <p class="hint" data-testid="stage-total">{format!("{} · {}%", format_money(column.total_cents, DEFAULT_CURRENCY), column.stage.probability)}</p>
                                <ul>
                                    {column.deals.into_iter().map(|entry| {
                                        let stages = stages.clone();
                                        let customer = entry.customer.clone();
                                        let deal_id = entry.deal.id.clone();
                                        let move_label = format!("Move {} ({}) to stage", entry.deal.title, entry.customer_name);
                                        view! {
                                            <li class="board-deal" data-testid="board-deal">
                                                <A href=format!("/customers/{}", entry.customer) attr:class="follow-up-body">
                                                    <strong data-testid="board-deal-title">{entry.deal.title.clone()}</strong>
                                                    <span class="hint">{format!("{} · {}", entry.customer_name, format_money(entry.deal.value_cents, &entry.deal.currency))}</span>
                                                </A>
                                                <select class="stage-select" data-testid="board-deal-stage" aria-label=move_label prop:value=entry.deal.stage.clone()
                                                    on:change=move |ev| {
                                                        let chosen = event_target_value(&ev);
                                                        if let Some(stage) = stages.iter().find(|s| s.id == chosen).cloned() {
                                                            move_to(customer.clone(), deal_id.clone(), stage);
                                                        }
                                                    }>
                                                    {stages.iter().map(|s| view! { <option value=s.id.clone() selected=s.id == entry.deal.stage>{s.name.clone()}</option> }).collect_view()}
                                                </select>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            </section>
                        }
                    }).collect_view()
                }}
            </div>
        </div>
    }
}

/// Editing the pipeline's stages: rename, probability, add an open stage, remove one (its
/// deals show in the first stage), move up. Saved in the book document, so every device of
/// the rep uses the same pipeline.
#[component]
fn PipelineEditor() -> impl IntoView {
    let repo = use_repo();
    let open = RwSignal::new(false);
    let draft = RwSignal::new(Vec::<PipelineStage>::new());
    let error = RwSignal::new(None::<String>);
    let start = move |_| {
        draft.set(repo.settings.with_untracked(|s| s.pipeline()));
        error.set(None);
        open.set(true);
    };
    let save = move |_| {
        let stages = draft.get_untracked();
        spawn_local(async move {
            match repo.update_book(move |s| s.pipeline = stages).await {
                Ok(()) => open.set(false),
                Err(err) => error.set(Some(error_text(err))),
            }
        });
    };
    view! {
        <section class="card">
            {move || if !open.get() {
                view! { <button class="button" data-testid="edit-pipeline" on:click=start>"Edit stages"</button> }.into_any()
            } else {
                view! {
                    <div class="composer" data-testid="pipeline-editor">
                        {move || draft.get().into_iter().enumerate().map(|(idx, stage)| {
                            let outcome = match stage.outcome { StageOutcome::Open => "open", StageOutcome::Won => "won", StageOutcome::Lost => "lost" };
                            view! {
                                <div class="field-row stage-row" data-testid="stage-row">
                                    <input type="text" data-testid="stage-name" aria-label=format!("Name of stage {}", idx + 1) prop:value=stage.name.clone()
                                        on:change=move |ev| { let v = event_target_value(&ev); draft.update(|d| if let Some(s) = d.get_mut(idx) { s.name = v }) }/>
                                    <div class="stage-controls">
                                        <input type="text" inputmode="numeric" aria-label=format!("Probability % of stage {}", stage.name) data-testid="stage-probability" prop:value=stage.probability.to_string()
                                            on:change=move |ev| { let v = event_target_value(&ev).trim().parse::<u8>().unwrap_or(0); draft.update(|d| if let Some(s) = d.get_mut(idx) { s.probability = v }) }/>
                                        <span class="hint">{format!("% · {outcome}")}</span>
                                        <button class="button" aria-label=format!("Move stage {} up", stage.name) data-testid="stage-up" disabled=idx == 0
                                            on:click=move |_| draft.update(|d| if idx > 0 { d.swap(idx, idx - 1) })>"↑"</button>
                                        <button class="button" aria-label=format!("Remove stage {}", stage.name) data-testid="stage-remove"
                                            on:click=move |_| draft.update(|d| { if idx < d.len() { d.remove(idx); } })>"✕"</button>
                                    </div>
                                </div>
                            }
                        }).collect_view()}
                        <button class="button" data-testid="stage-add" on:click=move |_| draft.update(|d| {
                            let at = d.iter().position(|s| s.outcome != StageOutcome::Open).unwrap_or(d.len());
                            d.insert(at, PipelineStage { id: random_id(), name: "New stage".into(), probability: 50, outcome: StageOutcome::Open });
                        })>"Add a stage"</button>
                        {move || error.get().map(|e| view! { <p class="field-error" role="alert" data-testid="pipeline-error">{e}</p> })}
                        <div class="field-row">
                            <button class="button primary" data-testid="pipeline-save" on:click=save>"Save stages"</button>
                            <button class="button" data-testid="pipeline-cancel" on:click=move |_| open.set(false)>"Cancel"</button>
                        </div>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

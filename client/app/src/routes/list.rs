//! The customer list: search-as-you-type, filters, sort, and a virtualised list that renders
//! only the rows on screen, so 50,000 customers scroll as smoothly as 50.

use leptos::{html, prelude::*};
use leptos_router::components::A;
use shared::model::custom_fields::{ConditionOp, CustomCondition, FieldKind};
use shared::search::book::CustomSort;
use shared::{search::book::EntryIdx, Book, LifecycleStage, ListQuery, QueryResult, SortOrder};

use crate::{
    components::{SaveStatus, StageBadge, StorageErrorBanner, SyncIndicator},
    repo::{use_repo, LoadState, Repo},
};
use common::perf::mark;

/// Height of one row in pixels; fixed so the visible window is a simple division.
const ROW_HEIGHT: f64 = 72.0;
/// Rows rendered above and below the visible ones.
const OVERSCAN: usize = 4;

/// The list's search and filters, kept while the rep opens customers and comes back.
#[derive(Clone, Copy)]
pub struct ListState {
    /// Text in the search box.
    pub text: RwSignal<String>,
    /// Stage filter.
    pub stage: RwSignal<Option<LifecycleStage>>,
    /// Tag filter.
    pub tag: RwSignal<Option<String>>,
    /// Show archived customers instead of active ones.
    pub archived: RwSignal<bool>,
    /// Order.
    pub sort: RwSignal<SortOrder>,
    /// A custom field's value to filter by (a choice, yes or no).
    pub custom: RwSignal<Option<CustomCondition>>,
    /// A custom field to order by instead of `sort`.
    pub custom_sort: RwSignal<Option<CustomSort>>,
    /// Only the customers this member owns (a team book's "My customers").
    pub owner: RwSignal<Option<String>>,
}

impl ListState {
    /// An empty search over active customers, by name.
    pub fn new() -> ListState {
        ListState {
            text: RwSignal::new(String::new()),
            stage: RwSignal::new(None),
            tag: RwSignal::new(None),
            archived: RwSignal::new(false),
            sort: RwSignal::new(SortOrder::Name),
            custom: RwSignal::new(None),
            custom_sort: RwSignal::new(None),
            owner: RwSignal::new(None),
        }
    }

    fn query(&self) -> ListQuery {
        ListQuery {
            text: self.text.get(),
            stage: self.stage.get(),
            tag: self.tag.get(),
            archived: self.archived.get(),
            sort: self.sort.get(),
            custom: self.custom.get(),
            custom_sort: self.custom_sort.get(),
            owner: self.owner.get(),
        }
    }
}

impl Default for ListState {
    fn default() -> Self {
        ListState::new()
    }
}

/// What the list pane shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Loading,
    Empty,
    Rows,
}

/// The list pane.
#[component]
pub fn CustomerList() -> impl IntoView {
    let repo = use_repo();
    let state = expect_context::<ListState>();
    // Each keystroke refines the previous result when it can (typing forward). While the
    // whole book is read, the rows are the list's first screen's.
    let query_result: Memo<QueryResult> = Memo::new(move |previous: Option<&QueryResult>| {
        let query = state.query();
        repo.first_screen.with(|first| match first {
            Some(first) => first.book.query_from(&query, previous),
            None => repo.book.with(|book| book.query_from(&query, previous)),
        })
    });
    let results = query_result;
    let scroll_top = RwSignal::new(0.0_f64);
    let viewport_height = RwSignal::new(800.0_f64);
    let scroller = NodeRef::<html::Div>::new();

    // Measure the scroller whenever the window changes size.
    let measure = move || {
        if let Some(element) = scroller.get_untracked() {
            viewport_height.set(f64::from(element.client_height()).max(ROW_HEIGHT));
        }
    };
    Effect::new(move |_| {
        if scroller.get().is_some() {
            measure();
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    // A new search starts at the top.
    Effect::new(move |previous: Option<()>| {
        results.track();
        // Only when scrolled: setting scrollTop makes the browser lay out the page at once,
        // a second layout per keystroke.
        if previous.is_some() && scroll_top.get_untracked() != 0.0 {
            if let Some(element) = scroller.get_untracked() {
                element.set_scroll_top(0);
            }
            scroll_top.set(0.0);
        }
    });

    // While the book is read, its first screen (`Repo::first_screen`): drawn only for the
    // query every start shows (active customers by name, nothing typed or filtered).
    let first_screen = Memo::new(move |_| {
        repo.first_screen
            .with(|first| first.as_ref().map(|first| first.counts.clone()))
            .filter(|_| state.query() == ListQuery::default())
    });
    // The moment the list first shows the first screen: benchmarks read this mark.
    Effect::new(move |marked: Option<bool>| {
        if marked == Some(true) {
            return true;
        }
        if first_screen.with(Option::is_none) {
            return false;
        }
        request_animation_frame(|| mark("fieldbook:first-screen"));
        true
    });

    // Mark the moment the list first shows the stored book: benchmarks read this mark. Then
    // this tab's engine boots (`Engine::start` held it while the list was made).
    let engine = expect_context::<crate::engine::Engine>();
    Effect::new(move |marked: Option<bool>| {
        if marked == Some(true) {
            return true;
        }
        if repo.load_state.get() != LoadState::Ready {
            return false;
        }
        request_animation_frame(move || {
            mark("fieldbook:list-ready");
            engine.release();
        });
        true
    });

    let visible_rows = Memo::new(move |_| {
        let first = ((scroll_top.get() / ROW_HEIGHT).floor() as usize).saturating_sub(OVERSCAN);
        let n_visible = (viewport_height.get() / ROW_HEIGHT).ceil() as usize + 2 * OVERSCAN;
        // Keyed by entry and the entry's version: a row is drawn again when its customer
        // changed (an edit on another device), and kept otherwise — also when it moved (a
        // download's customers arriving above it, a search narrowing): its position is a
        // style of its own (`row_positions`). Drawing every visible row again as a
        // download's customers arrived was the page's longest task during a download.
        results.with(|results| {
            let entries = &results.entries;
            let last = (first + n_visible).min(entries.len());
            let first = first.min(last);
            with_shown_book(repo, |book| {
                entries[first..last]
                    .iter()
                    .enumerate()
                    .map(|(offset, &entry_idx)| {
                        let version = book.entry_version(entry_idx).unwrap_or_default();
                        (first + offset, entry_idx, version)
                    })
                    .collect::<Vec<_>>()
            })
        })
    });
    let row_positions = Memo::new(move |_| {
        visible_rows.with(|rows| {
            (rows.iter())
                .map(|&(position, entry_idx, _)| (entry_idx, position))
                .collect::<std::collections::HashMap<EntryIdx, usize>>()
        })
    });

    let n_results = move || results.with(|results| results.entries.len());
    // The counts of the first screen while it shows (`None` inside: not known).
    let first_counts = move || {
        first_screen.with(|first| {
            (first.as_ref()).map(|counts| counts.as_ref().map(|c| (c.active, c.archived)))
        })
    };
    // The rows the list scrolls through: the whole book's count while its first screen shows.
    let list_len = move || match first_counts() {
        Some(Some((active, _))) => active.max(n_results()),
        _ => n_results(),
    };
    // The customers shown, for moving them to another territory (team books).
    let shown_ids = Signal::derive(move || {
        results.with(|results| {
            with_shown_book(repo, |book| {
                (results.entries.iter())
                    .filter_map(|&entry| book.entry(entry).map(|summary| summary.id.to_string()))
                    .collect()
            })
        })
    });
    let (n_active, n_archived) = (
        Memo::new(move |_| repo.book.with(|book| book.active_and_archived().0)),
        Memo::new(move |_| repo.book.with(|book| book.active_and_archived().1)),
    );
    // While the first screen shows, the filters offer what it knows of the whole book.
    let stage_counts = Memo::new(move |_| match first_screen.get() {
        Some(counts) => counts
            .map(|counts| counts.stages.to_vec())
            .unwrap_or_default(),
        None => repo.book.with(|book| book.stage_counts()).to_vec(),
    });
    let tags = Memo::new(move |_| match first_screen.get() {
        Some(counts) => counts.and_then(|counts| counts.tags).unwrap_or_default(),
        None => repo.book.with(|book| book.tags()),
    });
    let shape = Memo::new(move |_| {
        if repo.load_state.get() == LoadState::Loading && first_screen.with(Option::is_none) {
            Shape::Loading
        } else if n_results() == 0 {
            Shape::Empty
        } else {
            Shape::Rows
        }
    });
    let filtering = move || {
        !state.text.with(|text| text.trim().is_empty())
            || state.stage.with(Option::is_some)
            || state.tag.with(Option::is_some)
            || state.custom.with(Option::is_some)
    };
    // The book's choice and yes/no fields, as "Field: value" filters, and its number,
    // amount and date fields as orders.
    let field_filters = Memo::new(move |_| {
        repo.settings.with(|s| {
            let mut options: Vec<(String, String)> = Vec::new();
            for (id, field) in crate::routes::fields::ordered_fields(&s.fields, false) {
                let values: Vec<(String, String)> = match field.kind {
                    FieldKind::YesNo => {
                        vec![("yes".into(), "Yes".into()), ("no".into(), "No".into())]
                    }
                    FieldKind::Choice | FieldKind::Choices => (field.offered_choices().into_iter())
                        .map(|(choice, label)| (choice.to_string(), label.to_string()))
                        .collect(),
                    _ => continue,
                };
                for (value, label) in values {
                    options.push((
                        format!("{}={}={value}", field.kind.stored(), id),
                        format!("{}: {label}", field.name),
                    ));
                }
            }
            options
        })
    });
    let field_sorts = Memo::new(move |_| {
        repo.settings.with(|s| {
            (crate::routes::fields::ordered_fields(&s.fields, false).into_iter())
                .filter(|(_, field)| {
                    matches!(
                        field.kind,
                        FieldKind::Number | FieldKind::Money | FieldKind::Date
                    )
                })
                .flat_map(|(id, field)| {
                    let (up, down) = if field.kind == FieldKind::Date {
                        ("earliest", "latest")
                    } else {
                        ("lowest", "highest")
                    };
                    [
                        (
                            format!("field:{}:{id}:asc", field.kind.stored()),
                            format!("{}, {up} first", field.name),
                        ),
                        (
                            format!("field:{}:{id}:desc", field.kind.stored()),
                            format!("{}, {down} first", field.name),
                        ),
                    ]
                })
                .collect::<Vec<_>>()
        })
    });
    let custom_filter_value = move || {
        state.custom.with(|condition| {
            condition
                .as_ref()
                .map(|c| format!("{}={}={}", c.kind.stored(), c.field, c.value))
                .unwrap_or_default()
        })
    };
    let sort_value = move || match state.custom_sort.get() {
        Some(by) => format!(
            "field:{}:{}:{}",
            by.kind.stored(),
            by.field,
            if by.descending { "desc" } else { "asc" }
        ),
        None => state.sort.get().as_str().to_string(),
    };

    view! {
        <header class="topbar">
            <h1 class="brand">"Fieldbook"</h1>
            <SaveStatus/>
            <crate::routes::follow_ups::FollowUpsLink/>
            <A href="/menu" attr:class="icon-link" attr:aria-label="Menu" attr:data-testid="open-menu">"☰"</A>
            <A href="/capture" attr:class="capture-link" attr:data-testid="quick-capture">"+ Lead"</A>
        </header>
        <div class="sync-bar">
            {crate::book::current().map(|book| view! {
                <span class="book-name" data-testid="book-title">{book.title()}</span>
            })}
            <SyncIndicator/>
        </div>
        <ReadOnlyBanner/>
        <StorageErrorBanner/>
        <crate::routes::erase::SetAsideNotice/>
        <crate::routes::team::MovedBanner/>
        // Early in the tab order (it was the last of 20+ stops); placed by CSS at the
        // bottom corner of the list.
        <A href="/customers/new" attr:class="fab" attr:data-testid="add-customer" attr:aria-label="Add customer">
            <span aria-hidden="true">"+"</span>
        </A>
        <div class="list-controls">
            <input
                class="search"
                type="search"
                inputmode="search"
                enterkeyhint="search"
                autocomplete="off"
                placeholder="Search name, company, email, phone, tag"
                aria-label="Search customers"
                data-testid="search"
                prop:value=move || state.text.get()
                on:input=move |ev| state.text.set(event_target_value(&ev))
            />
            <div class="filters">
                {crate::book::current().map(|book| {
                    let me = book.me.clone();
                    view! {
                        <select
                            aria-label="Whose customers"
                            data-testid="filter-owner"
                            on:change=move |ev| {
                                let mine = event_target_value(&ev) == "mine";
                                state.owner.set(mine.then(|| me.clone()));
                            }
                            prop:value=move || if state.owner.with(Option::is_some) { "mine" } else { "" }
                        >
                            <option value="">"Everyone's"</option>
                            <option value="mine">"My customers"</option>
                        </select>
                    }
                })}
                <select
                    aria-label="Filter by stage"
                    data-testid="filter-stage"
                    on:change=move |ev| state.stage.set(LifecycleStage::parse(&event_target_value(&ev)))
                    prop:value=move || state.stage.get().map(|s| s.as_str()).unwrap_or("")
                >
                    <option value="">"All stages"</option>
                    {move || stage_counts.get().into_iter().map(|(stage, n)| view! {
                        <option value=stage.as_str() selected=move || state.stage.get() == Some(stage)>
                            {format!("{} ({n})", stage.label())}
                        </option>
                    }).collect_view()}
                </select>
                <select
                    aria-label="Filter by tag"
                    data-testid="filter-tag"
                    on:change=move |ev| {
                        let tag = event_target_value(&ev);
                        state.tag.set((!tag.is_empty()).then_some(tag));
                    }
                    prop:value=move || state.tag.get().unwrap_or_default()
                >
                    <option value="">"All tags"</option>
                    {move || tags.get().into_iter().map(|(tag, n)| {
                        let selected_tag = tag.clone();
                        view! {
                            <option value=tag.clone() selected=move || state.tag.get().as_deref() == Some(selected_tag.as_str())>
                                {format!("#{tag} ({n})")}
                            </option>
                        }
                    }).collect_view()}
                </select>
                {move || (!field_filters.with(Vec::is_empty)).then(|| view! {
                    <select
                        aria-label="Filter by field"
                        data-testid="filter-field"
                        on:change=move |ev| {
                            let chosen = event_target_value(&ev);
                            let mut parts = chosen.splitn(3, '=');
                            let condition = match (parts.next().and_then(FieldKind::parse), parts.next(), parts.next()) {
                                (Some(kind), Some(field), Some(value)) => Some(CustomCondition {
                                    field: field.to_string(),
                                    kind,
                                    op: ConditionOp::Equals,
                                    value: value.to_string(),
                                }),
                                _ => None,
                            };
                            state.custom.set(condition);
                        }
                        prop:value=custom_filter_value
                    >
                        <option value="">"All fields"</option>
                        {move || field_filters.get().into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                    </select>
                })}
                <select
                    aria-label="Sort"
                    data-testid="sort"
                    on:change=move |ev| {
                        let chosen = event_target_value(&ev);
                        if let Some(sort) = SortOrder::parse(&chosen) {
                            state.sort.set(sort);
                            state.custom_sort.set(None);
                        } else if let Some(rest) = chosen.strip_prefix("field:") {
                            let parts: Vec<&str> = rest.splitn(3, ':').collect();
                            if let [kind, field, direction] = parts[..] {
                                state.custom_sort.set(FieldKind::parse(kind).map(|kind| CustomSort {
                                    field: field.to_string(),
                                    kind,
                                    descending: direction == "desc",
                                }));
                            }
                        }
                    }
                    prop:value=sort_value
                >
                    <option value="name">"A–Z"</option>
                    <option value="updated">"Latest edits"</option>
                    {move || field_sorts.get().into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                </select>
            </div>
            <div class="list-meta">
                <span data-testid="result-count">
                    {move || {
                        match first_counts() {
                            Some(Some((active, _))) => return format!(
                                "{active} {}",
                                if active == 1 { "customer" } else { "customers" }
                            ),
                            Some(None) => return String::new(),
                            None => {}
                        }
                        let n = n_results();
                        let archived = state.archived.get();
                        let total = if archived { n_archived.get() } else { n_active.get() };
                        let counted = if filtering() { total } else { n };
                        let noun = match (archived, counted) {
                            (true, _) => "archived",
                            (false, 1) => "customer",
                            (false, _) => "customers",
                        };
                        if filtering() {
                            format!("{n} of {total} {noun}")
                        } else {
                            format!("{n} {noun}")
                        }
                    }}
                </span>
                <button
                    class="link-button"
                    data-testid="toggle-archived"
                    on:click=move |_| state.archived.update(|archived| *archived = !*archived)
                >
                    {move || if state.archived.get() {
                        "Show active".to_string()
                    } else {
                        match first_counts() {
                            Some(Some((_, archived))) => format!("Archived ({archived})"),
                            Some(None) => "Archived".to_string(),
                            None => format!("Archived ({})", n_archived.get()),
                        }
                    }}
                </button>
                <crate::routes::team::MoveShown ids=shown_ids/>
            </div>
        </div>
        <div
            class="list-scroll"
            node_ref=scroller
            data-testid="customer-list"
            data-ready=move || (repo.load_state.get() == LoadState::Ready).to_string()
            data-first-screen=move || first_screen.with(Option::is_some).to_string()
            on:scroll=move |ev| {
                let element: web_sys::Element = event_target(&ev);
                scroll_top.set(f64::from(element.scroll_top()));
            }
        >
            {move || {
                // Only a change of shape rebuilds the list: a count that changes (a download
                // adding customers) keeps its rows.
                match shape.get() {
                    Shape::Loading => return view! { <p class="empty">"Opening your book…"</p> }.into_any(),
                    Shape::Empty => return view! { <EmptyList/> }.into_any(),
                    Shape::Rows => {}
                }
                view! {
                    <div class="list-body" style=move || format!("height:{}px", list_len() as f64 * ROW_HEIGHT)>
                        <For each=move || visible_rows.get() key=|row| (row.1, row.2) let:row>
                            <CustomerRow
                                position=Signal::derive(move || row_positions.with(|p| p.get(&row.1).copied().unwrap_or(row.0)))
                                entry_idx=row.1/>
                        </For>
                    </div>
                }.into_any()
            }}
        </div>
    }
}

/// `f` over the book the list shows (untracked): its first screen while the whole book is
/// read, then the whole book.
fn with_shown_book<R>(repo: Repo, f: impl Fn(&Book) -> R) -> R {
    repo.first_screen
        .with_untracked(|first| first.as_ref().map(|first| f(&first.book)))
        .unwrap_or_else(|| repo.book.with_untracked(|book| f(book)))
}

#[component]
fn CustomerRow(position: Signal<usize>, entry_idx: EntryIdx) -> impl IntoView {
    let repo = use_repo();
    let summary = with_shown_book(repo, |book| book.entry(entry_idx).cloned());
    let Some(summary) = summary else {
        return ().into_any();
    };
    let href = format!("/customers/{}", summary.id);
    // On a tablet the open customer stays highlighted in the list.
    let location = leptos_router::hooks::use_location();
    let selected_href = href.clone();
    // The customer's page or one of its sub-screens (its history) is open.
    let selected = Memo::new(move |_| {
        location.pathname.with(|path| {
            path.strip_prefix(selected_href.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    });
    let subtitle = [summary.company.as_str(), summary.job_title.as_str()]
        .into_iter()
        .filter(|part| !part.is_empty() && *part != summary.display_name())
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        // A plain link (the router intercepts it): cheaper to create than <A>, and search
        // re-creates every visible row on each keystroke.
        <a href=href class="row" class:selected=move || selected.get() aria-current=move || selected.get().then_some("page") style=move || format!("top:{}px", position.get() as f64 * ROW_HEIGHT) data-testid="customer-row">
            <span class="avatar" aria-hidden="true">{summary.initials()}</span>
            <span class="row-text">
                <span class="row-title" data-testid="row-name">{summary.display_name().to_string()}</span>
                <span class="row-subtitle">{subtitle}</span>
            </span>
            <span class="row-side">
                <StageBadge stage=summary.stage/>
                <span class="row-tags">
                    {summary.tags.iter().take(1).map(|tag| view! { <span class="tag">{format!("#{tag}")}</span> }).collect_view()}
                </span>
            </span>
        </a>
    }
    .into_any()
}

#[component]
fn EmptyList() -> impl IntoView {
    let repo = use_repo();
    let state = expect_context::<ListState>();
    move || {
        if repo.book.with(|book| book.is_empty()) {
            view! {
                <div class="empty" data-testid="empty-book">
                    <h2>"No customers yet"</h2>
                    <p>"Everything you add stays on this device and works without a network."</p>
                    <A href="/customers/new" attr:class="button primary">"Add your first customer"</A>
                    <A href="/sample-data" attr:class="button">"Try with sample data"</A>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="empty" data-testid="no-results">
                    <h2>"No customers match"</h2>
                    <p>{move || {
                        let text = state.text.get();
                        if text.trim().is_empty() {
                            "Try another filter.".to_string()
                        } else {
                            format!("Nothing found for “{}”.", text.trim())
                        }
                    }}</p>
                    <button class="button" on:click=move |_| {
                        state.text.set(String::new());
                        state.stage.set(None);
                        state.tag.set(None);
                        state.custom.set(None);
                    }>"Clear search and filters"</button>
                </div>
            }
            .into_any()
        }
    }
}

/// In a team book the member may only read (a viewer), every screen says so and editing is
/// disabled (`Panes`); the relay refuses her changes anyway.
#[component]
fn ReadOnlyBanner() -> impl IntoView {
    crate::book::current()
        .filter(|book| !book.writable())
        .map(|book| {
            view! {
                <div class="banner banner-info" role="status" data-testid="read-only-book">
                    {format!(
                        "You can read {} but not change it: you are a {} here. Ask a team admin for the rep role to edit.",
                        book.title(),
                        shared::sync::team::role_label(book.role).to_lowercase()
                    )}
                </div>
            }
        })
}

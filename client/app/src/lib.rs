//! Fieldbook's screens (Leptos, client-side rendered, wasm32), on the page's thread.
//!
//! # Flow
//!
//! [`App`] starts the tab's engine, a dedicated worker (`client/engine`) that owns the
//! documents, IndexedDB and sync, and links to it ([`engine`]). The [`repo::Repo`] and
//! [`sync::Sync`] hold what the screens show — the book of summaries, the catalog, the sync
//! state — kept current by the engine's events; the list ([`routes::list`]) searches and
//! filters that book in memory; the customer page ([`routes::customer`]) asks the engine for
//! one customer and sends each field edit back. This crate holds no Automerge code (the CI
//! checks the built wasm, `scripts/check-ui-wasm.sh`).
//!
//! # Layout
//!
//! - [`engine`]: the worker and its messages (`shared::sync::engine_protocol`).
//! - [`repo`]: the handle components use to read and change customers; save states.
//! - [`sync`]: the sync state shown and the account actions.
//! - [`routes`]: one file per screen.
//! - [`components`]: pieces shared by screens (save and sync indicators, stage badge).
//! - [`time`]: the browser clock and time formatting.
//! - [`pwa`]: service worker registration and the "new version" banner.
//! - [`export`]: the file of unsynced changes (export and import).
//! - [`device`]: persistent storage, usage and quota, installed or not, iOS Safari.
//! - [`book`], [`other_books`]: which book this tab shows; the device's other books, kept
//!   in sync by engines of their own.

pub mod book;
pub mod components;
pub mod device;
pub mod engine;
pub mod export;
pub mod other_books;
pub mod pwa;
pub mod repo;
pub mod routes;
pub mod screens;
pub mod sync;
pub mod time;

use leptos::prelude::*;
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    hooks::use_location,
    path, Lazy,
};

use crate::{
    repo::{LoadState, Repo},
    routes::{
        list::{CustomerList, ListState},
        settings::InstallNudge,
    },
};

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let engine = engine::Engine::start();
    let repo = Repo::start(engine);
    let sync = sync::Sync::start(engine);
    // Only now: the repo and sync listen, so no event the engine sent early is lost.
    engine.connect();
    provide_context(engine);
    provide_context(repo);
    provide_context(book::TeamMembers::new());
    // Search reads the custom values the book's fields say are text (or choices).
    Effect::new(move |_| {
        let search = repo
            .settings
            .with(|s| shared::search::book::CustomSearch::of(&s.fields));
        if repo
            .book
            .with_untracked(|book| *book.custom_search() != search)
        {
            repo.book.update(|book| book.set_custom_search(search));
        }
    });
    provide_context(sync);
    provide_context(other_books::OtherBooks::start(engine, sync));
    provide_context(ListState::new());
    provide_context(pwa::Pwa::start(engine.started()));
    provide_context(routes::follow_ups::FollowUps::start(repo));
    provide_context(routes::feedback::SurveyMode::start());
    screens::preload_when_settled(move || repo.load_state.get() == LoadState::Ready);
    // Only a change between failed and not failed rebuilds the screens: Loading → Ready must
    // not, or whatever the rep started while the book was loading (a form, an import) is lost.
    let failure = Memo::new(move |_| match repo.load_state.get() {
        LoadState::Failed(message) => Some(message),
        _ if engine.problem.get().is_some() => engine.problem.get(),
        _ if engine.role.get() == engine::Role::Unsupported => Some(engine::unsupported_message()),
        _ => None,
    });
    // Which part this tab plays, for tests and for whoever inspects the page.
    Effect::new(move |_| {
        let role = match engine.role.get() {
            engine::Role::Starting => "electing",
            engine::Role::Writer => "writer",
            engine::Role::Follower => "follower",
            engine::Role::Unsupported => "unsupported",
        };
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-tab-role", role);
        }
    });
    view! {
        <pwa::UpdateBanner/>
        <components::HeldBookBanner/>
        <InstallNudge/>
        <Router>
            {move || match failure.get() {
                Some(message) => view! {
                    <div class="fatal" data-testid="storage-unavailable">
                        <h1>"Fieldbook is paused"</h1>
                        <p data-testid="storage-unavailable-reason">{message}</p>
                        <p>"Your customers are kept on this device. If this persists, check that the browser is not in a private mode that blocks storage."</p>
                        <button class="button primary" on:click=|_| { let _ = window().location().reload(); }>"Reload"</button>
                    </div>
                }.into_any(),
                None => view! { <Shell/> }.into_any(),
            }}
        </Router>
    }
}

/// Two panes: the list, and the screen of the current route. On a phone only one shows at a
/// time; on a tablet both, side by side. The list stays mounted, so its search and scroll
/// position survive opening a customer.
#[component]
fn Shell() -> impl IntoView {
    let location = use_location();
    let detail_open = move || location.pathname.get() != "/";
    let survey = expect_context::<routes::feedback::SurveyMode>();
    view! {
        <routes::feedback::SurveyOverlay/>
        <routes::team::MembersRefresher/>
        // Under a survey, the rep's screens take no clicks and no focus.
        // The pipeline board takes the whole width of a tablet for its columns.
        <div class="app" class:detail-open=detail_open class:wide=move || location.pathname.with(|path| path == "/pipeline" || path.starts_with("/dashboard")) inert=move || survey.is_active()>
            <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                <ParentRoute path=path!("") view=Panes>
                    <Route path=path!("") view=NothingSelected/>
                    <Route path=path!("customers/new") view={Lazy::<screens::NewCustomer>::new()}/>
                    <Route path=path!("customers/:id") view={Lazy::<screens::CustomerPage>::new()}/>
                    <Route path=path!("customers/:id/history") view={Lazy::<screens::CustomerHistory>::new()}/>
                    <Route path=path!("customers/:id/history/:field") view={Lazy::<screens::FieldHistory>::new()}/>
                    <Route path=path!("customers/:id/erase") view={Lazy::<screens::EraseCustomer>::new()}/>
                    <Route path=path!("sample-data") view={Lazy::<screens::SampleData>::new()}/>
                    <Route path=path!("account") view={Lazy::<screens::AccountPage>::new()}/>
                    <Route path=path!("team") view={Lazy::<screens::TeamsPage>::new()}/>
                    <Route path=path!("team/:id") view={Lazy::<screens::TeamPage>::new()}/>
                    <Route path=path!("team/:id/dashboard") view={Lazy::<screens::TeamDashboardPage>::new()}/>
                    <Route path=path!("join") view={Lazy::<screens::JoinPage>::new()}/>
                    <Route path=path!("capture") view={Lazy::<screens::QuickCapture>::new()}/>
                    <Route path=path!("settings") view={Lazy::<screens::Settings>::new()}/>
                    <Route path=path!("settings/fields") view={Lazy::<screens::FieldsPage>::new()}/>
                    <Route path=path!("follow-ups") view={Lazy::<screens::FollowUpsPage>::new()}/>
                    <Route path=path!("menu") view={Lazy::<screens::MenuPage>::new()}/>
                    <Route path=path!("recent") view={Lazy::<screens::RecentChanges>::new()}/>
                    <Route path=path!("segments") view={Lazy::<screens::SegmentsPage>::new()}/>
                    <Route path=path!("import") view={Lazy::<screens::ImportPage>::new()}/>
                    <Route path=path!("duplicates") view={Lazy::<screens::DuplicatesPage>::new()}/>
                    <Route path=path!("duplicates/:a/:b") view={Lazy::<screens::MergePage>::new()}/>
                    <Route path=path!("products") view={Lazy::<screens::ProductsPage>::new()}/>
                    <Route path=path!("pipeline") view={Lazy::<screens::PipelinePage>::new()}/>
                    <Route path=path!("dashboard") view={Lazy::<screens::DashboardPage>::new()}/>
                    <Route path=path!("dashboard/customers") view={Lazy::<screens::DashboardCustomers>::new()}/>
                    <Route path=path!("survey/:id/:kind") view={Lazy::<screens::StartSurvey>::new()}/>
                </ParentRoute>
            </Routes>
        </div>
    }
}

#[component]
fn Panes() -> impl IntoView {
    // A new screen in the detail pane starts at its top, not where the last one was scrolled.
    let location = use_location();
    let detail = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |_| {
        location.pathname.track();
        if let Some(pane) = detail.get_untracked() {
            pane.set_scroll_top(0);
        }
        focus_new_screen();
    });
    let read_only = book::current().is_some_and(|book| !book.writable());
    let locked = move || {
        read_only
            && !location.pathname.with(|path| {
                ["/menu", "/team", "/account", "/join", "/settings"]
                    .iter()
                    .any(|open| path.starts_with(open))
            })
    };
    // One `main` landmark around both panes (`display: contents`: the panes stay the app
    // grid's columns), so it holds whatever a phone shows and both on a tablet.
    view! {
        <main class="panes">
            <section class="pane-list" aria-label="Customers">
                <CustomerList/>
            </section>
            <section class="pane-detail" node_ref=detail>
                // A team book the member may only read: every form control of its screens is
                // disabled (the team, menu and account screens stay usable).
                {move || locked().then(|| view! {
                    <p class="banner banner-info" role="status" data-testid="read-only-detail">
                        "Read only: you are a viewer in this team's territory."
                    </p>
                })}
                <fieldset class="contents" disabled=locked>
                    <leptos_router::components::Outlet/>
                </fieldset>
            </section>
        </main>
    }
}

/// After a navigation, the keyboard focus goes where the new screen starts: a form's first
/// field (`data-autofocus`) unless the rep is already in one of its fields; otherwise, when the focus was lost (the control that
/// navigated is gone, so the focus fell to the page's body), the screen's heading. The
/// screen may render after its data arrives, so it is looked for a few times.
fn focus_new_screen() {
    use wasm_bindgen::JsCast;
    fn attempt(left: u32) {
        let document = document();
        // The rep is already in one of the new screen's fields (a tap on "Company" before
        // the screen finished rendering): the focus stays there. Moving it to the first
        // field now would send the rest of what she types into the wrong field.
        let typing_here = document.active_element().is_some_and(|active| {
            active
                .matches(".pane-detail input, .pane-detail select, .pane-detail textarea")
                .unwrap_or(false)
        });
        if typing_here {
            return;
        }
        let target = document
            .query_selector(".pane-detail [data-autofocus]")
            .ok()
            .flatten()
            .or_else(|| {
                let lost = document
                    .active_element()
                    .is_none_or(|active| document.body().is_some_and(|body| *active == **body));
                lost.then(|| {
                    document
                        .query_selector(
                            ".pane-detail h1, .pane-detail [data-testid=customer-heading]",
                        )
                        .ok()
                        .flatten()
                })
                .flatten()
            });
        match target.and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok()) {
            Some(el) => {
                if el.get_attribute("tabindex").is_none()
                    && !el
                        .matches("input, select, textarea, button, a")
                        .unwrap_or(false)
                {
                    let _ = el.set_attribute("tabindex", "-1");
                }
                let _ = el.focus();
            }
            None if left > 0 => {
                set_timeout(
                    move || attempt(left - 1),
                    std::time::Duration::from_millis(50),
                );
            }
            None => {}
        }
    }
    request_animation_frame(|| attempt(10));
}

#[component]
fn NothingSelected() -> impl IntoView {
    view! {
        <div class="nothing-selected">
            <p>"Select a customer to see and edit everything about them."</p>
        </div>
    }
}

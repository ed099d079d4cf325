//! The detail pane's screens as lazily loaded routes, in three groups whose code is split out
//! of the page's first wasm into one chunk per group (`scripts/build-screens.mjs` splits the
//! linked wasm at these points with `wasm-split-cli`), so the page fetches and compiles only
//! the list, the shell and the engine link before the list is usable. A group's chunk is
//! fetched on the first visit to one of its screens (from the service worker's cache: every
//! chunk is precached), or earlier by [`preload_all`] once the list shows on a device that
//! already holds the app. Code two groups share goes into a shared chunk, loaded with either.

use leptos::prelude::*;
use leptos::wasm_split::{wasm_split, SplitLoaderError};
use leptos_router::LazyRoute;

use crate::routes::{
    account::AccountPage,
    capture::QuickCapture,
    customer::CustomerPage,
    dashboard, duplicates,
    erase::EraseCustomer,
    feedback::StartSurvey,
    fields::FieldsPage,
    follow_ups::FollowUpsPage,
    history,
    import::ImportPage,
    menu::MenuPage,
    new_customer::NewCustomer,
    sales,
    sample_data::SampleData,
    segments::SegmentsPage,
    settings::Settings,
    team,
    team_dashboard::{self, TeamDashboardPage},
};
use dashboard::{DashboardCustomers, DashboardPage};
use duplicates::{DuplicatesPage, MergePage};
use history::{CustomerHistory, FieldHistory, RecentChanges};
use sales::{PipelinePage, ProductsPage};
use team::{JoinPage, TeamPage, TeamsPage};

/// Groups of screens, each split into one chunk (`group => preload_fn { Screen => load_fn }`):
/// a route per screen component, named like it (`Lazy::<screens::X>` shows `<X/>`), whose
/// code loads with its group's chunk. `Screen => load_fn before ahead_fn` also calls
/// `ahead_fn` (code of the page's first wasm) as the route is chosen, so the engine starts
/// reading what the screen will ask for while its chunk loads and its view is built. Few
/// groups keep the files few (code two groups share goes into a chunk of its own, one per
/// combination).
macro_rules! lazy_screens {
    ($($group:ident => $preload:ident { $($screen:ident => $load:ident $(before $ahead:path)?),* $(,)? })*) => {
        $(
            /// Nothing but the group's chunk: its preload loads the chunk.
            #[wasm_split($group, wasm_split_path = ::leptos::wasm_split, fallible, preload($preload))]
            fn $group() -> Result<(), SplitLoaderError> {
                Ok(())
            }

            $(
                #[wasm_split($group, wasm_split_path = ::leptos::wasm_split, fallible)]
                fn $load() -> Result<AnyView, SplitLoaderError> {
                    Ok(view! { <$screen/> }.into_any())
                }

                #[doc = concat!("The route of [`", stringify!($screen), "`], loaded with the `", stringify!($group), "` chunk.")]
                // Braced: a unit struct would also take the component function's name.
                pub struct $screen {}

                impl LazyRoute for $screen {
                    // Run by the router as the route is chosen, before the chunk loads.
                    fn data() -> Self {
                        // Every screen but the list asks the engine for what it shows.
                        crate::engine::release_held();
                        $($ahead();)?
                        $screen {}
                    }

                    async fn view(_this: Self) -> AnyView {
                        $load().await.unwrap_or_else(not_loaded)
                    }

                    async fn preload() {
                        let _ = $preload().await;
                    }
                }
            )*
        )*

        /// Loads every group's chunk ahead of its first use, one after the other, each once
        /// no edit is in flight (its compile would hold the edit's answer). A chunk that
        /// failed to load is tried again on its screen's first use.
        pub async fn preload_all() {
            $(
                crate::repo::after_edits().await;
                if let Err(error) = $preload().await {
                    tracing::warn!(group = stringify!($group), %error, "screens not preloaded");
                }
            )*
        }
    };
}

lazy_screens! {
    // A customer and what a rep does from the list: the most used screens.
    customer => preload_customer {
        CustomerPage => customer_page,
        NewCustomer => new_customer,
        QuickCapture => quick_capture,
        CustomerHistory => customer_history,
        FieldHistory => field_history,
        EraseCustomer => erase_customer,
        StartSurvey => start_survey,
        MenuPage => menu_page,
        FollowUpsPage => follow_ups_page,
        RecentChanges => recent_changes,
    }
    // Figures and the pipeline.
    insights => preload_insights {
        DashboardPage => dashboard_page before dashboard::read_facts_ahead,
        DashboardCustomers => dashboard_customers before dashboard::read_facts_ahead,
        TeamDashboardPage => team_dashboard_page before team_dashboard::ask_ahead,
        PipelinePage => pipeline_page,
        SegmentsPage => segments_page,
        ProductsPage => products_page,
    }
    // Setting things up: the account, teams, fields, imports and clean-up.
    setup => preload_setup {
        AccountPage => account_page,
        TeamsPage => teams_page,
        TeamPage => team_page,
        JoinPage => join_page,
        Settings => settings,
        FieldsPage => fields_page,
        ImportPage => import_page,
        DuplicatesPage => duplicates_page,
        MergePage => merge_page,
        SampleData => sample_data,
    }
}

/// What the detail pane shows when a screen's chunk could not be loaded: offline on a
/// device whose service worker has not finished storing this build, or a failed download.
/// Nothing is lost: the list and every screen already loaded keep working.
fn not_loaded(error: SplitLoaderError) -> AnyView {
    tracing::warn!(%error, "screen not loaded");
    view! {
        <div class="screen-not-loaded" role="alert" data-testid="screen-not-loaded">
            <h1>"This screen is not on this device yet"</h1>
            <p>"It downloads the first time it is needed, and this device could not download it. Connect to the internet and try again; your customers and everything saved are safe."</p>
            <div class="screen-not-loaded-actions">
                <button class="button primary" on:click=|_| { let _ = window().location().reload(); }>"Try again"</button>
                // On a phone the list is behind this pane: the way back to it.
                <a class="button" href="/" data-testid="screen-not-loaded-back">"Back to your customers"</a>
            </div>
        </div>
    }
    .into_any()
}

/// Once the list shows on a device whose service worker already holds this build (a second
/// visit or later: every chunk is in its cache), loads every screen's chunk in the
/// background, so the first tap on a customer or the dashboard waits for no fetch and no
/// compile. On a first visit the service worker is still downloading the build, and
/// fetching the chunks here as well would download them twice: each loads on first use.
pub fn preload_when_settled(ready: impl Fn() -> bool + 'static) {
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) || !ready() {
            return done.unwrap_or(false);
        }
        let navigator = window().navigator();
        // No `serviceWorker` at all outside a secure context (its getter would throw).
        let controlled = js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false)
            && navigator.service_worker().controller().is_some();
        if controlled {
            set_timeout(
                || leptos::task::spawn_local(preload_all()),
                std::time::Duration::from_millis(PRELOAD_AFTER_LIST_MS),
            );
        }
        true
    });
}

/// How long after the list shows the chunks start loading: the list's first frames and the
/// engine's start come first.
const PRELOAD_AFTER_LIST_MS: u64 = 300;

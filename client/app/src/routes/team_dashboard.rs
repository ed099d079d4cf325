//! `/team/:id/dashboard`: the team dashboard (issue 21) — a manager's or admin's figures
//! for the whole team, each territory and each rep (the customers' owner), for a month, a
//! quarter or a year, with the team compared with the period before.
//!
//! Every territory is a book of its own on the device (`crate::book`). While this screen is
//! open it starts an engine for each territory other than this tab's book
//! (`Engine::start_book`): each keeps its territory in sync — downloading it the first time —
//! or follows the tab that does, and says how far it is. This tab's engine reads the
//! territories' databases and computes the figures (`EngineRequest::TeamDashboard`,
//! `shared::crm::team_kpi`); a territory's commit computes them again, so the figures follow
//! what reps do in the field as it arrives. Closing the screen stops those engines.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::{use_location, use_params_map};
use shared::{
    crm::kpi::{format_duration, format_figure, DashboardRequest, Period, PeriodKind},
    crm::team_kpi::{Headline, TeamDashboardAnswer, TeamDashboardRequest, TeamFigures, TeamRow},
    model::records::format_money_short,
    sync::engine_protocol::EngineEvent,
    sync::team::{TeamBook, TeamInfo},
    sync::{SyncPhase, SyncStatus},
};

use crate::components::{sync_status::describe, DetailTopbar};
use crate::engine::{Engine, ListenerId};
use crate::repo::use_repo;
use crate::routes::dashboard::{today, utc_offset_ms};
use crate::routes::sales::DEFAULT_CURRENCY;
use crate::routes::team::{load_teams, team_of};
use crate::sync::use_sync;

/// How long after a territory's commit the figures are computed again (a download commits
/// a page every few hundred milliseconds: one computation for several).
const RECOMPUTE_AFTER_MS: f64 = 400.0;

/// The same while a territory downloads (see where it is used): each computation then reads
/// every territory's logs beside the downloads' writes (100–300 ms of the engines' time on
/// two cores), and the screen shows each territory's progress meanwhile.
const RECOMPUTE_WHILE_DOWNLOADING_MS: f64 = 3_000.0;

/// Where a territory's copy on this device stands.
#[derive(Debug, Clone, PartialEq)]
enum TerritoryCopy {
    /// Its engine is starting.
    Starting,
    /// What its engine (or this tab's, for this tab's book) says.
    Status(SyncStatus),
}

impl TerritoryCopy {
    fn describe(&self) -> String {
        match self {
            TerritoryCopy::Starting => "Opening…".into(),
            TerritoryCopy::Status(status) => describe(status).replace("your book", "the territory"),
        }
    }

    fn phase(&self) -> &'static str {
        match self {
            TerritoryCopy::Starting => "starting",
            TerritoryCopy::Status(status) if status.bootstrap.is_some() => "downloading",
            TerritoryCopy::Status(status) => match status.phase {
                SyncPhase::UpToDate => "synced",
                SyncPhase::Offline => "offline",
                SyncPhase::LocalOnly => "local",
                SyncPhase::Connecting | SyncPhase::Syncing => "syncing",
            },
        }
    }
}

#[component]
pub fn TeamDashboardPage() -> impl IntoView {
    let sync = use_sync();
    let params = use_params_map();
    let team_id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let location = use_location();
    let path = Memo::new(move |_| location.pathname.get());
    let (teams, refresh) = load_teams();
    Effect::new(move |_| {
        if sync.ready.get() && sync.session.with(Option::is_some) && !team_id.get().is_empty() {
            refresh();
        }
    });
    let team = team_of(teams, team_id);
    let back = move || format!("/team/{}", team_id.get());
    view! {
        <div class="detail dashboard" data-testid="team-dashboard">
            {move || view! { <DetailTopbar back=back() back_label="Team" title="Team dashboard"/> }}
            {move || match team.get() {
                None if sync.ready.get() && sync.session.with(Option::is_none) => view! {
                    <p class="card hint">"Sign in to see your team's figures."</p>
                }.into_any(),
                None => view! { <p class="empty">"Loading…"</p> }.into_any(),
                Some(Err(message)) => view! { <p class="empty" data-testid="team-missing">{message}</p> }.into_any(),
                Some(Ok(team)) if !team.role.sees_every_territory() => view! {
                    <p class="card hint" data-testid="team-dashboard-managers-only">
                        "The team dashboard is for the team's managers and admins. Each of your \
                         territories has its own dashboard: open the territory, then Dashboard."
                    </p>
                }.into_any(),
                Some(Ok(team)) => view! { <TeamFiguresView team path/> }.into_any(),
            }}
        </div>
    }
}

/// What the screen asks the engine for: the figures of `territories` for the period of
/// `kind` containing today, and what the device kept (shown if nothing changed since).
fn team_request(
    territories: Vec<TeamBook>,
    kind: PeriodKind,
    known: Option<shared::crm::team_kpi::TeamDashboardKey>,
) -> TeamDashboardRequest {
    TeamDashboardRequest {
        request: DashboardRequest {
            period: Period::containing(kind, today()),
            today: today(),
            utc_offset_ms: utc_offset_ms(),
            not_contacted_days: 30,
            scope: None,
            default_currency: DEFAULT_CURRENCY.to_string(),
        },
        territories,
        known,
    }
}

/// The team's territories as books on this device, for `me`.
fn team_books(team: &TeamInfo, me: &str) -> Vec<TeamBook> {
    (team.territories.iter())
        .map(|territory| TeamBook::of(team, territory, me))
        .collect()
}

/// The period a team dashboard opens on.
const FIRST_PERIOD: PeriodKind = PeriodKind::Quarter;

/// As the team dashboard is tapped: asks the engine now for the figures the screen will ask
/// for first (the team as last listed on this device), while the screen's chunk loads and
/// its view is built. The screen's own question, the same, then waits in the engine for
/// this one's answer (`Repo::team_dashboard`) instead of reading the territories again.
pub fn ask_ahead() {
    let (Some(repo), Some(sync)) = (
        use_context::<crate::repo::Repo>(),
        use_context::<crate::sync::Sync>(),
    ) else {
        return;
    };
    let Some(me) = sync
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.email.clone()))
    else {
        return;
    };
    let team_id = use_params_map().with_untracked(|p| p.get("id").unwrap_or_default());
    let Some(team) = crate::book::cached_teams(&me)
        .and_then(|teams| teams.into_iter().find(|team| team.id == team_id))
        .filter(|team| team.role.sees_every_territory())
    else {
        return;
    };
    let books = team_books(&team, &me);
    let known = crate::book::kept_team_key(&me, &team.id, FIRST_PERIOD);
    let request = team_request(books, FIRST_PERIOD, known);
    common::perf::mark("fieldbook:team-dashboard-asked-ahead");
    spawn_local(async move {
        if let Err(err) = repo.team_dashboard(request).await {
            tracing::warn!(cause = %err, "team dashboard not asked ahead");
        }
    });
}

#[component]
fn TeamFiguresView(team: TeamInfo, path: Memo<String>) -> impl IntoView {
    let repo = use_repo();
    let sync = use_sync();
    let me = sync
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.email.clone()))
        .unwrap_or_default();
    let books = team_books(&team, &me);
    let kind = RwSignal::new(FIRST_PERIOD);
    let figures = RwSignal::new(None::<Result<TeamFigures, String>>);
    let copies = RwSignal::new(
        books
            .iter()
            .map(|book| (book.territory.clone(), TerritoryCopy::Starting))
            .collect::<HashMap<String, TerritoryCopy>>(),
    );
    // A territory committed something: the figures are computed again, once for a burst.
    let changed = RwSignal::new(0u64);
    let here = crate::book::current().map(|book| book.territory);
    // The territories' engines start once the first figures (from what the device holds)
    // are on screen: their start (wasm, each book read) would otherwise compete with that
    // first read on a phone's few cores. A territory the device keeps in sync anyway has its
    // engine running already (`OtherBooks`).
    let other_books = crate::other_books::use_other_books();
    let engines: Arc<Mutex<Vec<(String, Engine, ListenerId)>>> = Arc::default();
    let start_engines = {
        let engines = Arc::clone(&engines);
        let books = books.clone();
        let here = here.clone();
        move || {
            let Ok(mut engines) = engines.lock() else {
                return;
            };
            if !engines.is_empty() {
                return;
            }
            for book in &books {
                if here.as_deref() == Some(book.territory.as_str()) {
                    continue;
                }
                let (engine, state) = other_books.borrow(book);
                let territory = book.territory.clone();
                let show = move |status: SyncStatus| {
                    copies.try_update(|copies| {
                        copies.insert(territory.clone(), TerritoryCopy::Status(status));
                    });
                };
                // (An engine the device keeps reported its state before this screen came.)
                if let Some(state) = state.get_untracked() {
                    show(state.status);
                }
                let listener = engine.listen(move |event| match event {
                    EngineEvent::Sync(state) => show(state.status.clone()),
                    // (Not `Book`: an engine's start, or a takeover, changes nothing stored.)
                    EngineEvent::Committed { .. }
                    | EngineEvent::Moved { .. }
                    | EngineEvent::Erased { .. }
                    | EngineEvent::Wiped => {
                        changed.try_update(|n| *n += 1);
                    }
                    _ => {}
                });
                engines.push((book.territory.clone(), engine, listener));
            }
        }
    };
    // This tab's book, when it is one of the territories: its own engine's state and commits.
    if let Some(territory) = here.filter(|t| books.iter().any(|b| &b.territory == t)) {
        Effect::new(move |_| {
            let status = sync.status.get();
            copies.update(|copies| {
                copies.insert(territory.clone(), TerritoryCopy::Status(status));
            });
        });
        Effect::new(move |_| {
            repo.facts_version.track();
            changed.update(|n| *n += 1);
        });
    }
    // Released when the screen goes, and — since the router does not always dispose a
    // replaced route at once — when the address leaves it (once: the list is emptied).
    let stop_engines = {
        let engines = Arc::clone(&engines);
        move || {
            if let Ok(mut engines) = engines.lock() {
                for (territory, engine, listener) in engines.drain(..) {
                    engine.unlisten(listener);
                    other_books.release(&territory);
                }
            }
        }
    };
    on_cleanup(stop_engines.clone());
    let left = RwSignal::new(false);
    Effect::new(move |_| {
        if !path.with(|path| path.ends_with("/dashboard")) {
            left.set(true);
            stop_engines();
        }
    });

    // One computation at a time; a change meanwhile asks for one more after it.
    let running = StoredValue::new(false);
    let again = StoredValue::new(false);
    let books = StoredValue::new(books);
    let me = StoredValue::new(me);
    let team_id = StoredValue::new(team.id.clone());
    let compute = move || {
        if running.get_value() {
            again.set_value(true);
            return;
        }
        running.set_value(true);
        let start_engines = start_engines.clone();
        spawn_local(async move {
            loop {
                again.set_value(false);
                let period_kind = kind.get_untracked();
                // The figures last computed on this device for this team and period: shown
                // only once the engine says nothing they count changed since.
                let (me, team_id) = (me.get_value(), team_id.get_value());
                let kept = crate::book::kept_team_figures(&me, &team_id, period_kind);
                let request = team_request(
                    books.get_value(),
                    period_kind,
                    kept.as_ref().map(|kept| kept.key.clone()),
                );
                common::perf::mark("fieldbook:team-dashboard-asked");
                let answer = match repo.team_dashboard(request).await {
                    Ok(TeamDashboardAnswer::Unchanged) => match kept {
                        Some(kept) => Ok(kept.figures),
                        None => Err("no figures were kept to show".to_string()),
                    },
                    Ok(TeamDashboardAnswer::Computed { figures, key }) => {
                        if let Some(key) = key {
                            crate::book::keep_team_figures(
                                &me,
                                crate::book::KeptTeamFigures {
                                    team: team_id.clone(),
                                    kind: period_kind,
                                    key,
                                    figures: (*figures).clone(),
                                },
                            );
                        }
                        Ok(*figures)
                    }
                    Err(err) => Err(err.to_string()),
                };
                // (A screen already gone: its signals may be disposed.)
                if left.try_get_untracked().unwrap_or(true) {
                    return;
                }
                figures.set(Some(answer));
                common::perf::mark("fieldbook:team-dashboard-computed");
                start_engines();
                if !again.get_value() {
                    break;
                }
                // While a territory downloads, its commits come every few hundred ms, and
                // each computation reads every territory's database again (100–250 ms of
                // this tab's engine, beside the downloads on a phone's few cores): the next
                // one waits longer then, but not past the end of the downloads: the last
                // download's end is computed at once (what the manager waits for).
                let waited = common::perf::now_ms();
                let mut was_downloading = false;
                loop {
                    let elapsed = common::perf::now_ms() - waited;
                    let downloading = copies
                        .try_with_untracked(|copies| {
                            copies.values().any(|copy| {
                                matches!(copy, TerritoryCopy::Status(status) if status.bootstrap.is_some())
                            })
                        })
                        .unwrap_or(false);
                    if elapsed >= RECOMPUTE_WHILE_DOWNLOADING_MS
                        || (!downloading && (was_downloading || elapsed >= RECOMPUTE_AFTER_MS))
                    {
                        break;
                    }
                    was_downloading |= downloading;
                    common::perf::sleep(20).await;
                }
            }
            running.set_value(false);
        });
    };
    Effect::new(move |_| {
        kind.track();
        changed.track();
        compute();
    });

    // The rows come in the order asked: the team's territories'.
    let spaces: Vec<String> = team.territories.iter().map(|t| t.space.clone()).collect();
    view! {
        <section class="card dashboard-controls">
            <h2 data-testid="team-dashboard-title">{team.name.clone()}</h2>
            <div class="period-switch" role="group" aria-label="Period">
                {PeriodKind::ALL.into_iter().map(|k| view! {
                    <button class="chip-button" data-testid=format!("team-period-{}", k.as_str())
                        aria-pressed=move || (kind.get() == k).to_string()
                        on:click=move |_| kind.set(k)>{k.label()}</button>
                }).collect_view()}
            </div>
            <p class="period-label" data-testid="team-period-label">{move || {
                let period = Period::containing(kind.get(), today());
                format!("{} · compared with {}", period.label(), period.previous().label())
            }}</p>
        </section>
        {move || match figures.get() {
            None => view! { <p class="card hint" role="status">"Reading the territories…"</p> }.into_any(),
            Some(Err(message)) => view! {
                <p class="card hint" role="alert" data-testid="team-dashboard-error">
                    {format!("The team dashboard cannot read the territories: {message}")}
                </p>
            }.into_any(),
            Some(Ok(figures)) => {
                let previous = Period::containing(kind.get_untracked(), today()).previous().label();
                let spaces = spaces.clone();
                view! {
                    <TeamTiles figures=figures.clone() previous/>
                    <section class="card">
                        <h2>"By territory"</h2>
                        <ul class="team-rows">
                            {figures.territories.iter().zip(spaces).map(|(row, space)| {
                                let space = StoredValue::new(space);
                                let copy = move || copies.with(|c| space.with_value(|space| c.get(space).cloned()).unwrap_or(TerritoryCopy::Starting));
                                view! {
                                    <li class="team-row" data-testid="team-territory" data-name=row.label.clone()
                                        data-copy=move || copy().phase()>
                                        <strong>{row.label.clone()}</strong>
                                        <span class="hint" data-testid="territory-copy">{move || copy().describe()}</span>
                                        <RowFigures row=row.clone() currency=figures.currency.clone()/>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                    <section class="card">
                        <h2>"By rep"</h2>
                        <p class="hint">"Each rep's customers in every territory, by the customer's owner."</p>
                        <ul class="team-rows">
                            {figures.owners.iter().map(|row| {
                                let label = if row.label.is_empty() { "No owner".to_string() } else { row.label.clone() };
                                view! {
                                    <li class="team-row" data-testid="team-rep" data-name=row.label.clone()>
                                        <strong>{label}</strong>
                                        <RowFigures row=row.clone() currency=figures.currency.clone()/>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                }.into_any()
            }
        }}
    }
}

/// The whole team's figures, compared with the period before.
#[component]
fn TeamTiles(figures: TeamFigures, previous: String) -> impl IntoView {
    let (now, before, currency) = (&figures.team, &figures.previous, &figures.currency);
    let count =
        |testid: &'static str, label: &'static str, now: usize, before: usize, up_is_good: bool| {
            let change = now as i64 - before as i64;
            let class = match change {
                0 => "delta",
                c if (c > 0) == up_is_good => "delta good",
                _ => "delta bad",
            };
            let delta = format!(
                "{}{change} vs {previous}",
                if change > 0 { "+" } else { "" }
            );
            view! {
                <div class="tile" data-testid=testid>
                    <span class="tile-label">{label}</span>
                    <strong class="tile-value" data-testid="kpi-value">{now.to_string()}</strong>
                    <span class=class>{delta}</span>
                </div>
            }
        };
    let plain = |testid: &'static str, label: &'static str, value: String, detail: String| {
        view! {
            <div class="tile" data-testid=testid>
                <span class="tile-label">{label}</span>
                <strong class="tile-value" data-testid="kpi-value">{value}</strong>
                <span class="tile-detail">{detail}</span>
            </div>
        }
    };
    view! {
        <div class="tiles team-tiles" data-testid="team-tiles">
            {plain("team-customers", "Customers", now.customers.to_string(), "in every territory".into())}
            {count("team-leads", "Leads captured", now.leads_captured, before.leads_captured, true)}
            {count("team-new-customers", "New customers", now.new_customers, before.new_customers, true)}
            {plain("team-revenue", "Revenue", format_money_short(now.revenue_cents, currency),
                crate::components::count(now.orders, "order", "orders"))}
            {plain("team-pipeline", "Open pipeline", format_money_short(now.pipeline_cents, currency),
                crate::components::count(now.open_deals, "deal", "deals"))}
            {count("team-activities", "Activities", now.activities as usize, before.activities as usize, true)}
            {plain("team-complaints", "Open complaints", now.unresolved.to_string(),
                format!("{} received · first response {}", now.complaints, format_duration(now.first_response_ms)))}
            {plain("team-nps", "NPS", format_figure(now.nps, 0, ""),
                format!("churn {}", format_figure(now.churn_rate, 1, "%")))}
        </div>
    }
}

/// One territory's or rep's figures, as a compact list of label-value pairs.
#[component]
fn RowFigures(row: TeamRow, currency: String) -> impl IntoView {
    let Headline {
        customers,
        leads_captured,
        new_customers,
        revenue_cents,
        pipeline_cents,
        activities,
        unresolved,
        not_contacted,
        ..
    } = row.figures;
    let pairs = [
        ("customers", "Customers", customers.to_string()),
        ("leads", "Leads", leads_captured.to_string()),
        ("new-customers", "New customers", new_customers.to_string()),
        (
            "revenue",
            "Revenue",
            format_money_short(revenue_cents, &currency),
        ),
        (
            "pipeline",
            "Pipeline",
            format_money_short(pipeline_cents, &currency),
        ),
        ("activities", "Activities", activities.to_string()),
        ("complaints", "Open complaints", unresolved.to_string()),
        (
            "not-contacted",
            "Not contacted 30 d",
            not_contacted.to_string(),
        ),
    ];
    view! {
        <dl class="row-figures">
            {pairs.into_iter().map(|(key, label, value)| view! {
                <div data-testid=format!("row-{key}")><dt>{label}</dt><dd>{value}</dd></div>
            }).collect_view()}
        </dl>
    }
}

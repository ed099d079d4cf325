//! The dashboard: the customer KPIs of the book (or of a saved segment) over a period,
//! compared with the period before, computed on the device from the dashboard facts
//! (`shared::crm::kpi`), offline like everything else. Every figure links to the customers
//! behind it (`/dashboard/customers?key=…`, same query).
//!
//! The period, segment and "not contacted" window live in the URL query, so the back button
//! and a reload keep them: `period=month|quarter|year|custom`, `from`/`to` (custom, or an
//! anchor day for the others), `segment` (a saved segment's id), `quiet` (days).

use std::sync::Arc;

use crate::components::DetailTopbar;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::{components::A, hooks::use_navigate, hooks::use_query_map, NavigateOptions};
use shared::{
    crm::kpi::{
        definition, format_duration, format_figure, DashboardFigures, DashboardRequest, FieldRow,
        Figure, Kpis, Period, PeriodKind, FIELD_KEY, LEADS_TAG_KEY,
    },
    crm::segments::members,
    documents::book_doc::StageOutcome,
    model::custom_fields::{FieldDefinition, FieldKind},
    model::records::{format_money, format_money_short, ActivityKind},
    CalendarDate, CustomerId, LifecycleStage,
};

use crate::{
    components::charts::{Column, Columns, HBar, HBars, Sparkline},
    repo::{use_repo, LoadState},
    routes::sales::DEFAULT_CURRENCY,
    time::now,
};
use common::perf::{mark, now_ms};

/// What the dashboard shows, from the URL query.
#[derive(Debug, Clone, PartialEq)]
struct DashboardQuery {
    /// `None` for a custom range.
    kind: Option<PeriodKind>,
    period: Period,
    segment: String,
    quiet: u32,
}

impl DashboardQuery {
    fn read(query: &leptos_router::params::ParamsMap, today: CalendarDate) -> DashboardQuery {
        let date = |key: &str| query.get(key).and_then(|text| CalendarDate::parse(&text));
        let kind_text = query.get("period").unwrap_or_default();
        let kind = match kind_text.as_str() {
            "custom" => None,
            text => Some(PeriodKind::parse(text).unwrap_or(PeriodKind::Quarter)),
        };
        let period = match kind {
            Some(kind) => Period::containing(kind, date("from").unwrap_or(today)),
            None => Period::between(date("from").unwrap_or(today), date("to").unwrap_or(today)),
        };
        DashboardQuery {
            kind,
            period,
            segment: query.get("segment").unwrap_or_default(),
            quiet: query
                .get("quiet")
                .and_then(|days| days.parse().ok())
                .filter(|days| (1..=3650).contains(days))
                .unwrap_or(30),
        }
    }

    fn to_query(&self) -> String {
        let mut parts = vec![format!(
            "period={}",
            self.kind.map_or("custom", PeriodKind::as_str)
        )];
        parts.push(format!("from={}", self.period.first));
        if self.kind.is_none() {
            parts.push(format!("to={}", self.period.last));
        }
        if !self.segment.is_empty() {
            parts.push(format!("segment={}", self.segment));
        }
        if self.quiet != 30 {
            parts.push(format!("quiet={}", self.quiet));
        }
        parts.join("&")
    }

    fn link(&self, key: &str) -> String {
        format!("/dashboard/customers?key={key}&{}", self.to_query())
    }
}

/// The `localStorage` key remembering that this device's rep uses the dashboard.
const USED_KEY: &str = "fieldbook-dashboard-used";

/// For a rep who has opened the dashboard on this device before: reads the dashboard facts
/// into memory a moment after the book is ready (off the start's critical path), so the
/// dashboard opens without reading them. Others never pay their memory.
pub fn preload_if_used(repo: crate::repo::Repo) {
    let used = crate::device::local_storage()
        .and_then(|storage| storage.get_item(USED_KEY).ok().flatten())
        .is_some();
    if used {
        spawn_local(async move {
            common::perf::sleep(1_000).await;
            if let Err(err) = repo.load_facts(|_, _| {}).await {
                tracing::warn!(cause = %err, "dashboard facts not preloaded");
            }
            mark("fieldbook:facts-preloaded");
        });
    }
}

/// As a dashboard screen is tapped: asks the engine to read every customer's facts now,
/// while the screen's chunk loads and its view is built, rather than once the screen asks
/// for its figures (the engine reads them once for both, see its `load_facts`).
pub fn read_facts_ahead() {
    let Some(repo) = use_context::<crate::repo::Repo>() else {
        return;
    };
    spawn_local(async move {
        if let Err(err) = repo.load_facts(|_, _| {}).await {
            tracing::warn!(cause = %err, "dashboard facts not read ahead");
        }
    });
}

/// Today's local date.
pub(crate) fn today() -> CalendarDate {
    crate::time::local_date(now())
}

/// The device's offset from UTC, in milliseconds.
pub(crate) fn utc_offset_ms() -> i64 {
    -(js_sys::Date::new_0().get_timezone_offset() as i64) * 60_000
}

/// The figures of both periods, over the customers in scope.
struct Computed {
    current: Kpis,
    previous: Kpis,
    currency: String,
    /// The leads captured by tag, most first.
    leads_by_tag: Vec<(String, usize)>,
    /// Each breakdown field's rows, by field id.
    by_field: Vec<(String, Vec<FieldRow>)>,
    compute_ms: f64,
}

/// The query, what the engine answered (the latest question's), and a loading or error
/// message.
type Asked<T> = (
    Memo<DashboardQuery>,
    RwSignal<Option<Arc<T>>>,
    RwSignal<Option<String>>,
);

/// Asks the engine for the dashboard's figures whenever the query or the book changes.
fn use_dashboard() -> Asked<Computed> {
    use_asked(
        || (),
        |repo, request, progress, started| async move {
            let figures = repo.dashboard(request, progress).await?;
            let DashboardFigures {
                current,
                previous,
                currency,
                leads_by_tag,
                by_field,
                ..
            } = figures;
            mark("fieldbook:dashboard-computed");
            // After the render this answer starts, before the frame that shows it.
            request_animation_frame(|| mark("fieldbook:dashboard-frame"));
            Ok(Computed {
                current,
                previous,
                currency,
                leads_by_tag,
                by_field,
                compute_ms: now_ms() - started,
            })
        },
    )
}

/// Asks the engine `ask` about the dashboard the URL query describes, again whenever the
/// query, what `track` reads, the settings or some customer's facts change (with a
/// segment, also the book); the engine reads the facts first if needed, with progress. An
/// answer to an older question is dropped.
fn use_asked<T, Fut>(
    track: impl Fn() + 'static,
    ask: impl Fn(crate::repo::Repo, DashboardRequest, Box<dyn Fn(usize, usize)>, f64) -> Fut
        + Copy
        + 'static,
) -> Asked<T>
where
    T: Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, crate::repo::RepoError>> + 'static,
{
    let repo = use_repo();
    let query_map = use_query_map();
    let today = today();
    let query = Memo::new(move |_| query_map.with(|q| DashboardQuery::read(q, today)));
    let answer = RwSignal::new(None::<Arc<T>>);
    let status = RwSignal::new(Some("Reading the book…".to_string()));
    if let Some(storage) = crate::device::local_storage() {
        let _ = storage.set_item(USED_KEY, "1");
    }
    let asked = StoredValue::new(0u64);
    Effect::new(move |_| {
        repo.facts_version.track();
        track();
        let query = query.get();
        let settings = repo.settings.get();
        // A segment's members come from the book: asked again once it is read (a dashboard
        // opened by a link or a reload would otherwise count none); later changes of a
        // customer change its facts too.
        let segment = settings.segments.get(&query.segment);
        if segment.is_some() && repo.load_state.get() != LoadState::Ready {
            // Its members are read off the whole book: counted once it is read, not from
            // the list's first screen or an empty book.
            return;
        }
        let scope: Option<Vec<CustomerId>> = segment.map(|segment| {
            repo.book
                .with_untracked(|book| members(book, &segment.filter, now()))
        });
        let request = DashboardRequest {
            period: query.period,
            today,
            utc_offset_ms: utc_offset_ms(),
            not_contacted_days: query.quiet,
            scope,
            default_currency: DEFAULT_CURRENCY.to_string(),
        };
        asked.update_value(|n| *n += 1);
        let this = asked.get_value();
        spawn_local(async move {
            let started = now_ms();
            mark("fieldbook:dashboard-asked");
            let progress = Box::new(move |done, missing| {
                status.set(Some(format!(
                    "Preparing the dashboard: {done} of {missing} customers…"
                )))
            });
            let answered = ask(repo, request, progress, started).await;
            if asked.get_value() != this {
                return;
            }
            match answered {
                Ok(value) => {
                    status.set(None);
                    answer.set(Some(Arc::new(value)));
                }
                Err(err) => status.set(Some(format!("The dashboard cannot read the book: {err}"))),
            }
        });
    });
    (query, answer, status)
}

fn signed(delta: f64, decimals: usize, unit: &str) -> String {
    if delta.abs() < 0.5 * 10f64.powi(-(decimals as i32)) {
        format!("±0{unit}")
    } else if delta > 0.0 {
        format!("+{delta:.decimals$}{unit}")
    } else {
        format!("−{:.decimals$}{unit}", -delta)
    }
}

/// A change between two figures; `None` when either has no value.
fn delta(current: Figure, previous: Figure, decimals: usize, unit: &str) -> Option<(String, f64)> {
    let (current, previous) = (current?, previous?);
    Some((
        signed(current - previous, decimals, unit),
        current - previous,
    ))
}

/// A relative change, for money and durations.
fn relative(current: Figure, previous: Figure) -> Option<(String, f64)> {
    let (current, previous) = (current?, previous?);
    (previous != 0.0).then(|| {
        let change = (current - previous) / previous.abs() * 100.0;
        (signed(change, 0, "%"), change)
    })
}

struct Tile {
    testid: &'static str,
    label: &'static str,
    value: String,
    detail: Option<String>,
    delta: Option<(String, f64)>,
    /// Whether a rise is good news (false for churn or response times).
    up_is_good: bool,
    key: &'static str,
    spark: Option<Vec<f64>>,
}

fn money(cents: f64, currency: &str) -> String {
    format_money(cents.round() as i64, currency)
}

fn tiles(c: &Computed, quiet: u32) -> Vec<Tile> {
    let (now, before) = (&c.current, &c.previous);
    let count = |n: usize| Some(n as f64);
    let open_value: i64 = now.pipeline.iter().map(|s| s.value_cents).sum();
    let weighted: i64 = now.pipeline.iter().map(|s| s.weighted_cents).sum();
    let open_deals: usize = now.pipeline.iter().map(|s| s.deals).sum();
    vec![
        Tile {
            testid: "kpi-leads-captured",
            label: "Leads captured",
            value: now.leads_captured.len().to_string(),
            detail: Some(format!("{} added in all", now.added.len())),
            delta: delta(
                count(now.leads_captured.len()),
                count(before.leads_captured.len()),
                0,
                "",
            ),
            up_is_good: true,
            key: "leads-captured",
            spark: None,
        },
        Tile {
            testid: "kpi-new-customers",
            label: "New customers",
            value: now.new_customers.len().to_string(),
            detail: Some("prospects and leads converted".into()),
            delta: delta(
                count(now.new_customers.len()),
                count(before.new_customers.len()),
                0,
                "",
            ),
            up_is_good: true,
            key: "new-customers",
            spark: None,
        },
        Tile {
            testid: "kpi-nps",
            label: "NPS",
            value: format_figure(now.nps.score, 0, ""),
            detail: Some(crate::components::count(
                now.nps.promoters + now.nps.passives + now.nps.detractors,
                "answer",
                "answers",
            )),
            delta: delta(now.nps.score, before.nps.score, 0, ""),
            up_is_good: true,
            key: "nps-responded",
            spark: None,
        },
        Tile {
            testid: "kpi-csat",
            label: "CSAT",
            value: format_figure(now.csat.value, 0, "%"),
            detail: Some(crate::components::count(
                now.csat.responses,
                "answer",
                "answers",
            )),
            delta: delta(now.csat.value, before.csat.value, 0, " pts"),
            up_is_good: true,
            key: "csat-responded",
            spark: None,
        },
        Tile {
            testid: "kpi-ces",
            label: "CES",
            value: format_figure(now.ces.value, 1, ""),
            detail: Some(format!(
                "{}, 1-7",
                crate::components::count(now.ces.responses, "answer", "answers")
            )),
            delta: delta(now.ces.value, before.ces.value, 1, ""),
            up_is_good: true,
            key: "ces-responded",
            spark: None,
        },
        Tile {
            testid: "kpi-churn",
            label: "Churn rate",
            value: format_figure(now.churn.churn_rate, 1, "%"),
            detail: Some(format!(
                "{} of {} active",
                now.churn.churned.len(),
                now.churn.active_at_start.len()
            )),
            delta: delta(now.churn.churn_rate, before.churn.churn_rate, 1, " pts"),
            up_is_good: false,
            key: "churned",
            spark: None,
        },
        Tile {
            testid: "kpi-retention",
            label: "Retention",
            value: format_figure(now.churn.retention_rate, 1, "%"),
            detail: Some(format!("{} won back", now.churn.won_back.len())),
            delta: delta(
                now.churn.retention_rate,
                before.churn.retention_rate,
                1,
                " pts",
            ),
            up_is_good: true,
            key: "retained",
            spark: None,
        },
        Tile {
            testid: "kpi-clv",
            label: "Lifetime value",
            value: now.lifetime_value.value_cents.map_or("—".into(), |cents| {
                format_money_short(cents.round() as i64, &c.currency)
            }),
            detail: Some(format!(
                "average of {} to date",
                crate::components::count(
                    now.lifetime_value.customers_valued.len(),
                    "buyer",
                    "buyers"
                )
            )),
            delta: relative(
                now.lifetime_value.value_cents,
                before.lifetime_value.value_cents,
            ),
            up_is_good: true,
            key: "valued",
            spark: None,
        },
        Tile {
            testid: "kpi-revenue",
            label: "Revenue",
            value: format_money_short(now.lifetime_value.revenue_cents, &c.currency),
            detail: Some(crate::components::count(
                now.lifetime_value.orders,
                "order",
                "orders",
            )),
            delta: relative(
                Some(now.lifetime_value.revenue_cents as f64),
                Some(before.lifetime_value.revenue_cents as f64),
            ),
            up_is_good: true,
            key: "buyers",
            spark: Some(
                now.revenue_by_month
                    .iter()
                    .map(|m| m.cents as f64)
                    .collect(),
            ),
        },
        Tile {
            testid: "kpi-first-response",
            label: "First response",
            value: format_duration(now.complaints.first_response.median_ms),
            detail: Some(format!(
                "median · p90 {}",
                format_duration(now.complaints.first_response.p90_ms)
            )),
            delta: relative(
                now.complaints.first_response.median_ms,
                before.complaints.first_response.median_ms,
            ),
            up_is_good: false,
            key: "complaints",
            spark: None,
        },
        Tile {
            testid: "kpi-resolution",
            label: "Resolution",
            value: format_duration(now.complaints.resolution.median_ms),
            detail: Some(format!(
                "median · p90 {}",
                format_duration(now.complaints.resolution.p90_ms)
            )),
            delta: relative(
                now.complaints.resolution.median_ms,
                before.complaints.resolution.median_ms,
            ),
            up_is_good: false,
            key: "complaints",
            spark: None,
        },
        Tile {
            testid: "kpi-pipeline",
            label: "Open pipeline",
            value: format_money_short(open_value, &c.currency),
            detail: Some(format!(
                "{open_deals} deals · forecast {}",
                format_money_short(weighted, &c.currency)
            )),
            delta: None,
            up_is_good: true,
            key: "pipeline",
            spark: None,
        },
        Tile {
            testid: "kpi-not-contacted",
            label: "Not contacted",
            value: now.not_contacted.len().to_string(),
            detail: Some(format!("in {quiet} days")),
            delta: delta(
                count(now.not_contacted.len()),
                count(before.not_contacted.len()),
                0,
                "",
            ),
            up_is_good: false,
            key: "not-contacted",
            spark: None,
        },
    ]
}

/// "How is this computed?" under a section: the definition of each of its figures.
#[component]
fn HowComputed(figures: &'static [(&'static str, &'static str)]) -> impl IntoView {
    view! {
        <details class="how">
            <summary>"How is this computed?"</summary>
            {figures.iter().map(|(name, figure)| view! {
                <p><strong>{format!("{name}: ")}</strong>{definition(figure)}</p>
            }).collect_view()}
        </details>
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The class colouring each activity kind in the weekly chart.
fn kind_class(kind: ActivityKind) -> &'static str {
    match kind {
        ActivityKind::Call => "part-call",
        ActivityKind::Meeting => "part-meeting",
        ActivityKind::Visit => "part-visit",
        ActivityKind::Email => "part-email",
        ActivityKind::Message => "part-message",
        ActivityKind::Note => "part-note",
        ActivityKind::Complaint => "part-complaint",
    }
}

/// The dashboard screen.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let repo = use_repo();
    let navigate = use_navigate();
    let (query, computed, status) = use_dashboard();
    let go = move |edit: Box<dyn FnOnce(&mut DashboardQuery)>| {
        let mut next = query.get_untracked();
        edit(&mut next);
        navigate(
            &format!("/dashboard?{}", next.to_query()),
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
    };
    let go = StoredValue::new_local(go);
    let set_kind = move |kind: Option<PeriodKind>| {
        go.with_value(|go| {
            go(Box::new(move |q| {
                if kind.is_none() && q.kind.is_some() {
                    // A custom range starts as the period shown.
                    q.kind = None;
                } else {
                    q.kind = kind;
                    q.period = Period::containing(kind.unwrap_or(PeriodKind::Month), today());
                }
            }))
        })
    };
    let set_dates = move |first: Option<CalendarDate>, last: Option<CalendarDate>| {
        go.with_value(|go| {
            go(Box::new(move |q| {
                q.kind = None;
                q.period = Period::between(
                    first.unwrap_or(q.period.first),
                    last.unwrap_or(q.period.last),
                );
            }))
        })
    };
    let segments = Memo::new(move |_| {
        repo.settings.with(|s| {
            let mut list: Vec<(String, String)> = s
                .segments
                .iter()
                .map(|(id, segment)| (id.clone(), segment.name.clone()))
                .collect();
            shared::order::sort_by_key(&mut list, |a| a.1.to_lowercase());
            list
        })
    });

    view! {
        <div class="detail dashboard" data-testid="dashboard-page"
            data-ready=move || computed.with(|c| c.is_some()).then_some("true")>
            <DetailTopbar back="/" back_label="Customers" title="Dashboard"/>
            <section class="card dashboard-controls">
                <div class="period-switch" role="group" aria-label="Period">
                    {PeriodKind::ALL.into_iter().map(|kind| view! {
                        <button class="chip-button" data-testid=format!("period-{}", kind.as_str())
                            aria-pressed=move || (query.with(|q| q.kind) == Some(kind)).to_string()
                            on:click=move |_| set_kind(Some(kind))>{kind.label()}</button>
                    }).collect_view()}
                    <button class="chip-button" data-testid="period-custom"
                        aria-pressed=move || query.with(|q| q.kind.is_none()).to_string()
                        on:click=move |_| set_kind(None)>"Custom"</button>
                </div>
                {move || query.with(|q| q.kind.is_none()).then(|| view! {
                    <div class="field-row">
                        <label class="field"><span class="field-label">"From"</span>
                            <input type="date" data-testid="period-from" prop:value=move || query.with(|q| q.period.first.to_string())
                                on:change=move |ev| set_dates(CalendarDate::parse(&event_target_value(&ev)), None)/></label>
                        <label class="field"><span class="field-label">"To"</span>
                            <input type="date" data-testid="period-to" prop:value=move || query.with(|q| q.period.last.to_string())
                                on:change=move |ev| set_dates(None, CalendarDate::parse(&event_target_value(&ev)))/></label>
                    </div>
                })}
                <div class="field-row">
                    <label class="field"><span class="field-label">"Customers"</span>
                        <select data-testid="dashboard-segment" prop:value=move || query.with(|q| q.segment.clone())
                            on:change=move |ev| { let id = event_target_value(&ev); go.with_value(|go| go(Box::new(move |q| q.segment = id))) }>
                            <option value="">"Whole book"</option>
                            {move || segments.get().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                        </select></label>
                    <label class="field"><span class="field-label">"Not contacted in"</span>
                        <select data-testid="dashboard-quiet" prop:value=move || query.with(|q| q.quiet.to_string())
                            on:change=move |ev| { let days = event_target_value(&ev).parse().unwrap_or(30); go.with_value(|go| go(Box::new(move |q| q.quiet = days))) }>
                            {[14u32, 30, 60, 90, 180].map(|d| view! { <option value=d.to_string()>{format!("{d} days")}</option> }).collect_view()}
                        </select></label>
                </div>
                <p class="period-label" data-testid="period-label">{move || query.with(|q| format!("{} · compared with {}", q.period.label(), q.period.previous().label()))}</p>
            </section>
            {move || status.get().map(|message| view! { <p class="card hint" role="status" data-testid="dashboard-status">{message}</p> })}
            {move || computed.get().map(|c| dashboard_body(c, query.get_untracked()))}
        </div>
    }
}

fn dashboard_body(c: Arc<Computed>, query: DashboardQuery) -> impl IntoView {
    let repo = use_repo();
    let settings = repo.settings.get_untracked();
    let now = &c.current;
    let link = |key: &str| query.link(key);
    // "vs Q3 2026"; a custom range's long label reads "vs previous period".
    let previous_label = query.period.previous().label();
    let versus = if query.kind.is_some() || previous_label.len() <= 14 {
        format!("vs {previous_label}")
    } else {
        "vs previous period".to_string()
    };
    let tile_views = tiles(&c, query.quiet)
        .into_iter()
        .map(|tile| {
            let versus = versus.clone();
            let delta = tile.delta.map(|(text, change)| {
                let good = (change > 0.0) == tile.up_is_good;
                let class = if change.abs() < 1e-9 { "delta" } else if good { "delta good" } else { "delta bad" };
                view! { <span class=class data-testid="kpi-delta">{format!("{text} {versus}")}</span> }
            });
            view! {
                <A href=link(tile.key) attr:class="tile" attr:data-testid=tile.testid>
                    <span class="tile-label">{tile.label}</span>
                    <strong class="tile-value" data-testid="kpi-value">{tile.value}</strong>
                    {tile.detail.map(|d| view! { <span class="tile-detail">{d}</span> })}
                    {delta}
                    {tile.spark.map(|values| view! { <Sparkline values=values label=format!("{} trend", tile.label)/> })}
                </A>
            }
        })
        .collect_view();

    // A row counting customers (or answers), linking to the customers behind it.
    let count_row = |label: &str, n: usize, key: &str| HBar {
        label: label.to_string(),
        value: n as f64,
        text: n.to_string(),
        href: link(key),
        class: "hbar-fill",
    };
    let funnel_rows: Vec<HBar> = now
        .funnel
        .iter()
        .map(|step| {
            count_row(
                step.stage.label(),
                step.customers.len(),
                &format!("stage-{}", step.stage.as_str()),
            )
        })
        .collect();
    let conversions = now
        .conversions
        .iter()
        .enumerate()
        .map(|(step, conversion)| {
            let steps = format!("{} → {}", conversion.from.label(), conversion.to.label());
            let rate = format_figure(conversion.rate, 0, "%");
            let counts = format!("{} of {}", conversion.converted.len(), conversion.entered.len());
            view! {
                <li class="conversion">
                    <A href=link(&format!("converted-{step}")) attr:class="conversion-link" attr:data-testid="conversion">
                        <span>{steps}</span>
                        <strong>{rate}</strong>
                        <span class="hint">{counts}</span>
                    </A>
                </li>
            }
        })
        .collect_view();

    let lead_rows: Vec<HBar> = (c.leads_by_tag.iter())
        .take(8)
        .map(|(tag, n)| count_row(tag, *n, &format!("{LEADS_TAG_KEY}{tag}")))
        .collect();

    let nps_rows = vec![
        count_row("Promoters (9-10)", now.nps.promoters, "nps-promoters"),
        count_row("Passives (7-8)", now.nps.passives, "nps-passives"),
        count_row("Detractors (0-6)", now.nps.detractors, "nps-detractors"),
    ];

    let churn = &now.churn;
    let churn_rows = vec![
        count_row(
            "Active at start",
            churn.active_at_start.len(),
            "active-at-start",
        ),
        count_row("Retained", churn.retained.len(), "retained"),
        count_row("Churned", churn.churned.len(), "churned"),
        count_row("of which stopped buying", churn.lapsed.len(), "lapsed"),
        count_row("Won back", churn.won_back.len(), "won-back"),
    ];

    let clv = &now.lifetime_value;
    let currency = c.currency.clone();
    let clv_inputs = format!(
        "{} = {} average order × {} purchases a year × {} years",
        clv.projected_cents
            .map_or("—".into(), |cents| money(cents, &currency)),
        clv.average_order_cents
            .map_or("—".into(), |cents| money(cents, &currency)),
        format_figure(clv.purchases_per_year, 2, ""),
        format_figure(clv.lifespan_years, 2, ""),
    );
    let other_currency = (clv.other_currency_orders > 0).then(|| {
        format!(
            "{} in other currencies {} not counted in {currency} figures.",
            crate::components::count(clv.other_currency_orders, "purchase", "purchases"),
            if clv.other_currency_orders == 1 {
                "is"
            } else {
                "are"
            }
        )
    });

    let month_columns: Vec<Column> = now
        .revenue_by_month
        .iter()
        .enumerate()
        .map(|(i, m)| Column {
            label: MONTHS[(m.month as usize + 11) % 12].to_string(),
            parts: vec![(m.cents as f64, "part-revenue")],
            text: format_money(m.cents, &currency),
            muted: !m.in_period,
            href: Some(link(&format!("month-{i}"))),
        })
        .collect();

    let product_name = |id: &str, fallback: &str| {
        settings
            .products
            .get(id)
            .map_or_else(|| fallback.to_string(), |p| p.name.clone())
    };
    let by_revenue: Vec<HBar> = now
        .products_by_revenue
        .iter()
        .take(5)
        .map(|p| HBar {
            label: product_name(&p.product_id, &p.name),
            value: p.revenue_cents as f64,
            text: format_money(p.revenue_cents, &currency),
            href: link(&format!("product-{}", p.product_id)),
            class: "hbar-fill",
        })
        .collect();
    let by_quantity: Vec<HBar> = now
        .products_by_quantity
        .iter()
        .take(5)
        .map(|p| HBar {
            label: product_name(&p.product_id, &p.name),
            value: p.quantity as f64,
            text: format!("{} sold", p.quantity),
            href: link(&format!("product-{}", p.product_id)),
            class: "hbar-fill",
        })
        .collect();

    let pipeline_rows: Vec<HBar> = now
        .pipeline
        .iter()
        .filter(|s| s.stage.outcome == StageOutcome::Open)
        .map(|s| HBar {
            label: format!("{} ({}%)", s.stage.name, s.stage.probability),
            value: s.value_cents as f64,
            text: format!(
                "{} · {} weighted",
                format_money(s.value_cents, &currency),
                format_money(s.weighted_cents, &currency)
            ),
            href: link(&format!("pipeline-{}", s.stage.id)),
            class: "hbar-fill",
        })
        .collect();

    let complaints = &now.complaints;
    let week_columns: Vec<Column> = now
        .activities
        .weeks
        .iter()
        .map(|week| Column {
            label: format!(
                "{} {}",
                week.monday.day,
                MONTHS[(week.monday.month as usize + 11) % 12]
            ),
            parts: ActivityKind::ALL
                .iter()
                .zip(&week.counts)
                .map(|(kind, n)| (f64::from(*n), kind_class(*kind)))
                .collect(),
            text: crate::components::count(
                week.counts.iter().sum::<u32>() as usize,
                "activity",
                "activities",
            ),
            muted: false,
            href: None,
        })
        .collect();
    let kind_rows: Vec<HBar> = ActivityKind::ALL
        .iter()
        .zip(&now.activities.totals)
        .map(|(kind, n)| HBar {
            label: kind.label().to_string(),
            value: f64::from(*n),
            text: n.to_string(),
            href: link(&format!("activity-{}", kind.as_str())),
            class: kind_class(*kind),
        })
        .collect();

    view! {
        <div class="dashboard-body" data-testid="dashboard-body" data-query=query.to_query()>
            <p class="hint dashboard-meta" data-testid="dashboard-meta">
                {format!("{} · computed in {:.1} ms on this device", crate::components::count(now.customers.len(), "customer", "customers"), c.compute_ms)}
            </p>
            <div class="tiles">{tile_views}</div>
            <div class="dashboard-grid">
                <section class="card" data-testid="section-funnel">
                    <h2 class="section-title">"Lifecycle funnel"</h2>
                    <HBars rows=funnel_rows centered=true testid="funnel"/>
                    <ul class="conversions">{conversions}</ul>
                    <HowComputed figures=&[("Funnel", "funnel"), ("Conversion", "conversion"), ("New customers", "new_customers")]/>
                </section>
                <section class="card" data-testid="section-leads">
                    <h2 class="section-title">"Leads captured"</h2>
                    <p class="hint" data-testid="leads-summary">{format!("{} · {} added in all", crate::components::count(now.leads_captured.len(), "lead", "leads"), now.added.len())}</p>
                    {if lead_rows.is_empty() {
                        view! { <p class="hint" data-testid="leads-by-tag-empty">"No tags on the leads of this period."</p> }.into_any()
                    } else {
                        view! { <h3 class="subsection-title">"By tag (event, interest)"</h3><HBars rows=lead_rows testid="leads-by-tag"/> }.into_any()
                    }}
                    <HowComputed figures=&[("Leads captured", "leads_captured")]/>
                </section>
                <section class="card" data-testid="section-satisfaction">
                    <h2 class="section-title">"Satisfaction"</h2>
                    <HBars rows=nps_rows testid="nps-breakdown"/>
                    <p class="hint">{format!("CSAT {} of {} · CES average {}", format_figure(now.csat.value, 0, "%"), crate::components::count(now.csat.responses, "answer", "answers"), format_figure(now.ces.value, 1, ""))}</p>
                    <HowComputed figures=&[("NPS", "nps"), ("CSAT", "csat"), ("CES", "ces")]/>
                </section>
                <section class="card" data-testid="section-churn">
                    <h2 class="section-title">"Churn and retention"</h2>
                    <HBars rows=churn_rows testid="churn-breakdown"/>
                    <HowComputed figures=&[("Churn rate", "churn"), ("Retention", "retention")]/>
                </section>
                <section class="card" data-testid="section-revenue">
                    <h2 class="section-title">"Revenue by month"</h2>
                    <Columns columns=month_columns label="Revenue by month" testid="revenue-chart"/>
                    <p class="hint" data-testid="clv-inputs">{format!("Projected lifetime value: {clv_inputs}")}</p>
                    {other_currency.map(|text| view! { <p class="hint">{text}</p> })}
                    <HowComputed figures=&[("Revenue", "revenue"), ("Lifetime value", "clv")]/>
                </section>
                <section class="card" data-testid="section-products">
                    <h2 class="section-title">"Best-selling products"</h2>
                    <h3 class="subsection-title">"By revenue"</h3>
                    <HBars rows=by_revenue testid="products-by-revenue"/>
                    <h3 class="subsection-title">"By units sold"</h3>
                    <HBars rows=by_quantity testid="products-by-quantity"/>
                    <HowComputed figures=&[("Best sellers", "products")]/>
                </section>
                <section class="card" data-testid="section-pipeline">
                    <h2 class="section-title">"Open pipeline"</h2>
                    <HBars rows=pipeline_rows testid="pipeline-stages"/>
                    <HowComputed figures=&[("Open pipeline", "pipeline")]/>
                </section>
                <section class="card" data-testid="section-complaints">
                    <h2 class="section-title">"Complaints"</h2>
                    <dl class="figures">
                        <dt>"Received"</dt><dd data-testid="complaints-received">{complaints.received.to_string()}</dd>
                        <dt>"First response"</dt><dd data-testid="complaints-first-response">{format!("median {} · p90 {}", format_duration(complaints.first_response.median_ms), format_duration(complaints.first_response.p90_ms))}</dd>
                        <dt>"Resolution"</dt><dd data-testid="complaints-resolution">{format!("median {} · p90 {}", format_duration(complaints.resolution.median_ms), format_duration(complaints.resolution.p90_ms))}</dd>
                    </dl>
                    <A href=link("unresolved") attr:class="button" attr:data-testid="complaints-unresolved">{format!("{} with an unresolved complaint", crate::components::count(complaints.unresolved.len(), "customer", "customers"))}</A>
                    <HowComputed figures=&[("Complaint times", "complaints")]/>
                </section>
                <ByField c=c.clone() query=query.clone()/>
                <section class="card" data-testid="section-activities">
                    <h2 class="section-title">"Activities per week"</h2>
                    <Columns columns=week_columns label="Activities per week, by kind" testid="activities-chart"/>
                    <HBars rows=kind_rows testid="activity-kinds"/>
                    <HowComputed figures=&[("Activities", "activities"), ("Not contacted", "not_contacted")]/>
                </section>
            </div>
        </div>
    }
}

/// The book's fields a dashboard breaks down by: choices and yes/no.
fn breakdown_fields(repo: &crate::repo::Repo) -> Vec<(String, FieldDefinition)> {
    repo.settings
        .with(|s| crate::routes::fields::ordered_fields(&s.fields, false))
        .into_iter()
        .filter(|(_, field)| {
            matches!(
                field.kind,
                FieldKind::Choice | FieldKind::Choices | FieldKind::YesNo
            )
        })
        .collect()
}

/// The rows of field `id` for the customers in the dashboard's scope.
fn field_rows<'a>(c: &'a Computed, id: &str) -> &'a [FieldRow] {
    (c.by_field.iter())
        .find(|(field, _)| field == id)
        .map_or(&[], |(_, rows)| rows.as_slice())
}

/// Customers and revenue by the value of a choice or yes/no field.
#[component]
fn ByField(c: Arc<Computed>, query: DashboardQuery) -> impl IntoView {
    let repo = use_repo();
    let fields = breakdown_fields(&repo);
    let chosen = RwSignal::new(fields.first().map(|(id, _)| id.clone()).unwrap_or_default());
    if fields.is_empty() {
        return view! {
            <section class="card" data-testid="section-by-field">
                <h2 class="section-title">"By your fields"</h2>
                <p class="hint">"Define a choice or yes/no field (Settings → Fields) to count customers and revenue by it."</p>
            </section>
        }.into_any();
    }
    let currency = c.currency.clone();
    view! {
        <section class="card" data-testid="section-by-field">
            <h2 class="section-title">"By your fields"</h2>
            <select aria-label="Field" data-testid="by-field-choice" prop:value=move || chosen.get()
                on:change=move |ev| chosen.set(event_target_value(&ev))>
                {fields.into_iter().map(|(id, field)| view! { <option value=id>{field.name}</option> }).collect_view()}
            </select>
            {move || {
                let id = chosen.get();
                let shares = field_rows(&c, &id);
                let customers: Vec<HBar> = shares.iter().enumerate().map(|(row, share)| HBar {
                    label: share.label.clone(),
                    value: share.customers as f64,
                    text: share.customers.to_string(),
                    href: query.link(&format!("{FIELD_KEY}{id}:{row}")),
                    class: "hbar-fill",
                }).collect();
                let revenue: Vec<HBar> = shares.iter().enumerate().filter(|(_, share)| share.revenue_cents > 0).map(|(row, share)| HBar {
                    label: share.label.clone(),
                    value: share.revenue_cents as f64,
                    text: format_money(share.revenue_cents, &currency),
                    href: query.link(&format!("{FIELD_KEY}{id}:{row}")),
                    class: "hbar-fill",
                }).collect();
                view! {
                    <h3 class="subsection-title">"Customers"</h3>
                    <HBars rows=customers testid="by-field-customers"/>
                    <h3 class="subsection-title">"Revenue in the period"</h3>
                    {if revenue.is_empty() {
                        view! { <p class="hint" data-testid="by-field-no-revenue">"No purchases in the period."</p> }.into_any()
                    } else {
                        view! { <HBars rows=revenue testid="by-field-revenue"/> }.into_any()
                    }}
                }
            }}
        </section>
    }.into_any()
}

/// The customers behind one figure.
#[component]
pub fn DashboardCustomers() -> impl IntoView {
    let repo = use_repo();
    let query_map = use_query_map();
    let key = Memo::new(move |_| query_map.with(|q| q.get("key").unwrap_or_default()));
    // The engine holds the customers behind each figure: asked for this one's.
    let (query, found, status) = use_asked(
        move || key.track(),
        move |repo, request, progress, _| async move {
            repo.dashboard_customers(request, key.get_untracked(), progress)
                .await
        },
    );
    let shown = RwSignal::new(100usize);
    view! {
        <div class="detail" data-testid="drill-page">
            <DetailTopbar back=Signal::derive(move || format!("/dashboard?{}", query.with(DashboardQuery::to_query))) back_label="Dashboard" title="Customers"/>
            {move || status.get().map(|message| view! { <p class="card hint" role="status">{message}</p> })}
            {move || match found.get().as_deref().cloned() {
                None => ().into_any(),
                Some(None) => view! { <p class="card empty" data-testid="drill-unknown">"This figure does not exist (any more). Go back to the dashboard."</p> }.into_any(),
                Some(Some((title, ids))) => {
                    let total = ids.len();
                    let rows: Vec<(String, String, String, LifecycleStage)> = repo.book.with_untracked(|book| {
                        ids.iter().take(shown.get()).filter_map(|id| book.get(id)).map(|s| {
                            let hint = [s.company.clone(), s.city.clone()]
                                .into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" · ");
                            (s.id.to_string(), s.display_name().to_string(), hint, s.stage)
                        }).collect()
                    });
                    view! {
                        <section class="card">
                            <h2 class="section-title" data-testid="drill-title">{title}</h2>
                            <p class="hint" data-testid="drill-count">{move || query.with(|q| format!("{} · {}", crate::components::count(total, "customer", "customers"), q.period.label()))}</p>
                            <ul class="follow-up-list">
                                {rows.into_iter().map(|(id, name, hint, stage)| view! {
                                    <li class="follow-up" data-testid="drill-customer">
                                        <A href=format!("/customers/{id}") attr:class="follow-up-body">
                                            <strong>{name}</strong>
                                            <span class="hint">{hint}</span>
                                        </A>
                                        <crate::components::StageBadge stage=stage/>
                                    </li>
                                }).collect_view()}
                            </ul>
                            {(total > shown.get_untracked()).then(|| view! {
                                <button class="button wide" data-testid="drill-more" on:click=move |_| shown.update(|n| *n += 100)>"Show more"</button>
                            })}
                        </section>
                    }.into_any()
                }
            }}
        </div>
    }
}

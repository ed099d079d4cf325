//! The activity timeline on the customer page: log a call, visit, meeting, email, message,
//! note or complaint in two taps (the kind, then Save), and follow complaints from open to
//! resolved.

use leptos::prelude::*;
use shared::{
    model::records::{Activity, ActivityKind, ComplaintStatus, Direction},
    Channel, Timestamp,
};

use crate::{
    repo::use_repo,
    routes::customer::{random_id, Editor, FieldError},
    time::{local_input, now, parse_local_input, when},
};

/// Activities shown before "Show more".
const PAGE: usize = 30;

/// Outcomes offered as one-tap chips, per kind.
fn outcomes(kind: ActivityKind) -> &'static [&'static str] {
    match kind {
        ActivityKind::Call => &["Reached", "No answer", "Left a voicemail", "Call back"],
        ActivityKind::Visit | ActivityKind::Meeting => &[
            "Interested",
            "Order placed",
            "Not interested",
            "Follow-up needed",
        ],
        ActivityKind::Email | ActivityKind::Message => &["Sent", "Replied", "Waiting for reply"],
        ActivityKind::Note | ActivityKind::Complaint => &[],
    }
}

/// The "Log" buttons, the composer and the timeline.
#[component]
pub fn ActivityLog(editor: Editor) -> impl IntoView {
    let composing = RwSignal::new(None::<ActivityKind>);
    let shown = RwSignal::new(PAGE);
    let timeline = Memo::new(move |_| {
        editor.read(|c| {
            c.timeline()
                .into_iter()
                .map(|(id, activity)| (id.to_string(), activity.clone()))
                .collect::<Vec<_>>()
        })
    });
    view! {
        <section class="card" data-testid="activity-log">
            <h2 class="section-title">"Activity"</h2>
            <div class="log-buttons" role="group" aria-label="Log an activity">
                {ActivityKind::ALL.iter().map(|&kind| view! {
                    <button
                        class="button log-button"
                        class:selected=move || composing.get() == Some(kind)
                        aria-pressed=move || (composing.get() == Some(kind)).to_string()
                        data-testid=format!("log-{}", kind.as_str())
                        on:click=move |_| composing.set(Some(kind))
                    >{kind.label()}</button>
                }).collect_view()}
            </div>
            {move || composing.get().map(|kind| view! { <Composer editor kind on_done=move || composing.set(None)/> })}
            <ol class="timeline" data-testid="timeline">
                {move || {
                    let items = timeline.get();
                    let total = items.len();
                    let now = now();
                    let rows = items
                        .into_iter()
                        .take(shown.get())
                        .map(|(id, activity)| view! { <TimelineItem editor id activity now/> })
                        .collect_view();
                    view! {
                        {(total == 0).then(|| view! { <li class="hint">"Nothing logged yet."</li> })}
                        {rows}
                        {(total > shown.get()).then(|| view! {
                            <li>
                                <button class="button" data-testid="timeline-more" on:click=move |_| shown.update(|n| *n += PAGE)>
                                    {format!("Show more ({} older)", total - shown.get_untracked())}
                                </button>
                            </li>
                        })}
                    }
                }}
            </ol>
        </section>
    }
}

/// The form of a new activity, prefilled so that Save alone logs it "now".
#[component]
fn Composer(
    editor: Editor,
    kind: ActivityKind,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let repo = use_repo();
    let id = random_id();
    let field = format!("activities.{id}");
    let prefilled = local_input(now());
    let at = RwSignal::new(prefilled.clone());
    let direction = RwSignal::new(Activity::new(kind, Timestamp(0), "").direction);
    let outcome = RwSignal::new(String::new());
    let summary = RwSignal::new(String::new());
    let save = {
        let field = field.clone();
        move |_| {
            // Left as prefilled: the exact moment of Save (the input only has minutes, and
            // two activities logged in one minute must keep their order).
            let typed = at.get_untracked();
            let at = if typed == prefilled {
                Some(now())
            } else {
                parse_local_input(&typed)
            };
            let Some(at) = at else {
                editor.errors.update(|errors| {
                    errors.insert(format!("{field}.at"), "enter a date and time".into());
                });
                return;
            };
            let author = repo.author_name();
            let mut activity = Activity::new(kind, at, &author);
            activity.direction = direction.get_untracked();
            activity.outcome = outcome.get_untracked().trim().to_string();
            activity.summary = summary.get_untracked().trim().to_string();
            let id = id.clone();
            editor.save(
                field.clone(),
                move |c| {
                    c.activities.insert(id, activity);
                },
                on_done,
            );
        }
    };
    view! {
        <div class="composer" data-testid="activity-composer">
            <h3 class="composer-title">{format!("Log a {}", kind.label().to_lowercase())}</h3>
            <label class="field">
                <span class="field-label">"When"</span>
                <input type="datetime-local" data-testid="activity-at" prop:value=move || at.get()
                    on:change=move |ev| at.set(event_target_value(&ev))/>
                <FieldError editor field=format!("{field}.at")/>
            </label>
            {(kind != ActivityKind::Note && kind != ActivityKind::Complaint).then(|| view! {
                <div class="chips" role="group" aria-label="Direction">
                    {Direction::ALL.iter().map(|&d| view! {
                        <button class="choice" class:selected=move || direction.get() == Some(d)
                            aria-pressed=move || (direction.get() == Some(d)).to_string()
                            data-testid=format!("direction-{}", d.as_str())
                            on:click=move |_| direction.set(Some(d))>{d.label()}</button>
                    }).collect_view()}
                </div>
            })}
            {(!outcomes(kind).is_empty()).then(|| view! {
                <div class="chips" role="group" aria-label="Outcome">
                    {outcomes(kind).iter().map(|&o| view! {
                        <button class="choice" class:selected=move || outcome.get() == o
                            aria-pressed=move || (outcome.get() == o).to_string()
                            data-testid="activity-outcome"
                            on:click=move |_| outcome.set(if outcome.get_untracked() == o { String::new() } else { o.to_string() })>{o}</button>
                    }).collect_view()}
                </div>
            })}
            <label class="field">
                <span class="field-label">{if kind == ActivityKind::Complaint { "What is the complaint?" } else { "Summary (optional)" }}</span>
                <textarea rows="3" data-testid="activity-summary" prop:value=move || summary.get()
                    on:input=move |ev| summary.set(event_target_value(&ev))></textarea>
                <FieldError editor field=format!("{field}.summary")/>
            </label>
            <FieldError editor field=field.clone()/>
            <div class="form-actions">
                <button class="button primary" data-testid="activity-save" on:click=save>"Save"</button>
                <button class="button" data-testid="activity-cancel" on:click=move |_| on_done()>"Cancel"</button>
            </div>
        </div>
    }
}

/// "2 h 5 min", "3 days 4 h".
fn duration(ms: i64) -> String {
    let minutes = ms / 60_000;
    match minutes {
        m if m < 60 => format!("{m} min"),
        m if m < 24 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} days {} h", m / (24 * 60), (m / 60) % 24),
    }
}

#[component]
fn TimelineItem(editor: Editor, id: String, activity: Activity, now: Timestamp) -> impl IntoView {
    let channel = activity
        .channel
        .filter(|&channel| Some(channel) != activity.kind.default_channel())
        .map(Channel::label);
    let meta = [
        Some(when(activity.at, now)),
        activity.direction.map(|d| d.label().to_string()),
        channel.map(str::to_string),
        (!activity.author.is_empty()).then(|| format!("by {}", activity.author)),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let complaint = activity.complaint.clone().map(|progress| {
        let opened = activity.at;
        let next = match progress.status {
            ComplaintStatus::Open => Some((ComplaintStatus::InProgress, "Start handling")),
            ComplaintStatus::InProgress => Some((ComplaintStatus::Resolved, "Mark resolved")),
            ComplaintStatus::Resolved => Some((ComplaintStatus::Open, "Reopen")),
        };
        let times = [
            progress.first_response_ms(opened).map(|ms| format!("first response {}", duration(ms))),
            progress.resolution_ms(opened).map(|ms| format!("resolved in {}", duration(ms))),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
        let id = id.clone();
        view! {
            <div class="complaint">
                <span class=format!("status status-{}", progress.status.as_str()) data-testid="complaint-status">{progress.status.label()}</span>
                <span class="hint" data-testid="complaint-times">{times}</span>
                {next.map(|(status, label)| view! {
                    <button class="button" data-testid="complaint-advance" on:click=move |_| {
                        let id = id.clone();
                        let at = crate::time::now();
                        editor.save(format!("activities.{id}"), move |c| {
                            if let Some(progress) = c.activities.get_mut(&id).and_then(|a| a.complaint.as_mut()) {
                                progress.set_status(status, at);
                            }
                        }, || {});
                    }>{label}</button>
                })}
            </div>
        }
    });
    let editing = RwSignal::new(false);
    let summary = activity.summary.clone();
    let draft = RwSignal::new(summary.clone());
    let id_for_edit = id.clone();
    view! {
        <li class=format!("timeline-item kind-{}", activity.kind.as_str()) data-testid="timeline-item">
            <div class="timeline-head">
                <strong data-testid="timeline-kind">{activity.kind.label()}</strong>
                {(!activity.outcome.is_empty()).then(|| view! { <span class="outcome" data-testid="timeline-outcome">{activity.outcome.clone()}</span> })}
                <DeleteRecord editor list=RecordList::Activity id=id.clone() what=format!("this {}", activity.kind.label().to_lowercase())/>
            </div>
            <p class="hint">{meta}</p>
            {move || if editing.get() {
                let id = id_for_edit.clone();
                view! {
                    <div class="composer">
                        <textarea rows="3" data-testid="timeline-edit-summary" prop:value=move || draft.get()
                            on:input=move |ev| draft.set(event_target_value(&ev))></textarea>
                        <div class="field-row">
                            <button class="button primary" data-testid="timeline-edit-save" on:click=move |_| {
                                let id = id.clone();
                                let text = draft.get_untracked().trim().to_string();
                                editor.save(format!("activities.{id}.summary"), move |c| {
                                    if let Some(activity) = c.activities.get_mut(&id) { activity.summary = text; }
                                }, move || editing.set(false));
                            }>"Save"</button>
                            <button class="button" on:click=move |_| editing.set(false)>"Cancel"</button>
                        </div>
                    </div>
                }.into_any()
            } else {
                let summary = summary.clone();
                view! {
                    {(!summary.is_empty()).then(|| view! { <p class="timeline-summary" data-testid="timeline-summary">{summary.clone()}</p> })}
                    <button class="link-button edit-link" data-testid="timeline-edit" on:click=move |_| editing.set(true)>"Edit"</button>
                }.into_any()
            }}
            {complaint}
        </li>
    }
}

/// Which list of a customer's records an entry belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RecordList {
    /// An activity.
    Activity,
    /// A follow-up.
    Task,
    /// A purchase.
    Purchase,
    /// A deal.
    Deal,
}

impl RecordList {
    fn key(self) -> &'static str {
        match self {
            RecordList::Activity => "activities",
            RecordList::Task => "tasks",
            RecordList::Purchase => "purchases",
            RecordList::Deal => "deals",
        }
    }
}

/// "✕": deletes one record after the rep confirms (entered by mistake); the deletion syncs.
#[component]
pub fn DeleteRecord(
    editor: Editor,
    list: RecordList,
    id: String,
    #[prop(into)] what: String,
) -> impl IntoView {
    view! {
        <button class="button delete-record" aria-label=format!("Delete {what}") data-testid="delete-record" on:click=move |_| {
            let confirmed = window()
                .confirm_with_message(&format!("Delete {what}? It is removed on every device."))
                .unwrap_or(false);
            if !confirmed {
                return;
            }
            let id = id.clone();
            editor.save(format!("{}.{id}", list.key()), move |c| {
                match list {
                    RecordList::Activity => { c.activities.remove(&id); }
                    RecordList::Task => { c.tasks.remove(&id); }
                    RecordList::Purchase => { c.purchases.remove(&id); }
                    RecordList::Deal => { c.deals.remove(&id); }
                }
            }, || {});
        }>"✕"</button>
    }
}

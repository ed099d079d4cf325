//! Follow-ups: the card on the customer page (open tasks, done/undone, a new follow-up, a
//! recurring check-in), the Today / Overdue / Upcoming screen across the book, the badge in
//! the list header, reminders through the Notifications API while the app runs, and the
//! export of follow-ups as an .ics calendar file.

use std::collections::HashSet;
use std::time::Duration;

use crate::components::DetailTopbar;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use shared::{
    crm::follow_ups::{follow_ups, FollowUp, FollowUpViews},
    crm::suggestions::{upcoming, Occasion},
    formats::ics::{calendar, CalendarItem},
    model::records::{Priority, Task},
    CustomerId, Timestamp,
};

use crate::{
    export,
    repo::{use_repo, Repo},
    routes::customer::{random_id, Editor, FieldError},
    time::{day, days_after, local_input, now, parse_local_input, start_of_day, when},
};

/// Check-in intervals offered, in days.
const CHECK_IN_CHOICES: [u32; 6] = [7, 14, 30, 60, 90, 180];

/// The book's follow-ups, recomputed when the book changes or the clock ticks (every 30 s);
/// provided once by the app.
#[derive(Clone, Copy)]
pub struct FollowUps {
    /// Now, ticking.
    pub now: RwSignal<Timestamp>,
    /// Overdue, today, upcoming.
    pub views: Memo<FollowUpViews>,
    /// The same, only hers in a team book (assigned to her or to anyone).
    pub mine: Memo<FollowUpViews>,
}

impl FollowUps {
    /// Starts the clock and the reminders.
    pub fn start(repo: Repo) -> FollowUps {
        let clock = RwSignal::new(now());
        set_interval(move || clock.set(now()), Duration::from_secs(30));
        let views = Memo::new(move |_| {
            let now = clock.get();
            let today = start_of_day(now);
            let tomorrow = days_after(now, 1);
            repo.book.with(|book| follow_ups(book, today, tomorrow))
        });
        // In a team book the badge and the reminders are hers: assigned to her or to anyone.
        let me = crate::book::current().map(|book| book.me);
        let mine = Memo::new(move |_| {
            let mut views = views.get();
            if let Some(me) = &me {
                for group in [&mut views.overdue, &mut views.today, &mut views.upcoming] {
                    group.retain(|item| item.is_for(me));
                }
            }
            views
        });
        let follow_ups = FollowUps {
            now: clock,
            views,
            mine,
        };
        follow_ups.remind();
        follow_ups
    }

    /// Shows a notification when a follow-up falls due while the app runs (if the rep allowed
    /// notifications); the badge in the list header is the fallback.
    fn remind(self) {
        let started = now();
        let notified = StoredValue::new_local(HashSet::<String>::new());
        Effect::new(move |_| {
            let now = self.now.get();
            if notification_permission() != "granted" {
                return;
            }
            self.mine.with(|views| {
                for item in views.overdue.iter().chain(&views.today) {
                    // Only what falls due from now on: no burst of old ones at start-up.
                    if item.due <= started || item.due > now {
                        continue;
                    }
                    let key = format!(
                        "{}/{}",
                        item.customer,
                        item.task.as_deref().unwrap_or("check-in")
                    );
                    if notified.with_value(|seen| seen.contains(&key)) {
                        continue;
                    }
                    notified.update_value(|seen| {
                        seen.insert(key);
                    });
                    notify(&format!("{} — {}", item.title, item.customer_name));
                }
            });
        });
    }
}

/// The app's [`FollowUps`].
pub fn use_follow_ups() -> FollowUps {
    expect_context::<FollowUps>()
}

/// "granted", "denied", "default", or "unsupported" where the browser has no Notifications
/// API (Safari on iOS outside an installed app): calling it there would throw.
fn notification_permission() -> String {
    let supported =
        js_sys::Reflect::has(&window(), &wasm_bindgen::JsValue::from_str("Notification"))
            .unwrap_or(false);
    if !supported {
        return "unsupported".to_string();
    }
    match web_sys::Notification::permission() {
        web_sys::NotificationPermission::Granted => "granted",
        web_sys::NotificationPermission::Denied => "denied",
        _ => "default",
    }
    .to_string()
}

fn notify(body: &str) {
    let options = web_sys::NotificationOptions::new();
    options.set_body(body);
    options.set_icon("/icons/icon-192.png");
    if let Err(err) = web_sys::Notification::new_with_options("Follow-up due", &options) {
        tracing::warn!(?err, "cannot show a notification");
    }
}

/// "Follow-ups" in the list header, with the number due now (overdue and today).
#[component]
pub fn FollowUpsLink() -> impl IntoView {
    let follow_ups = use_follow_ups();
    let due = move || follow_ups.mine.with(FollowUpViews::due_now);
    view! {
        <A href="/follow-ups" attr:class="icon-link follow-ups-link" attr:aria-label="Follow-ups" attr:data-testid="follow-ups-link">
            "✓"
            {move || (due() > 0).then(|| view! { <span class="count-badge" data-testid="follow-ups-badge">{due()}</span> })}
        </A>
    }
}

/// The follow-ups screen: Overdue, Today, Upcoming.
#[component]
pub fn FollowUpsPage() -> impl IntoView {
    let repo = use_repo();
    let follow_ups = use_follow_ups();
    let permission = RwSignal::new(notification_permission());
    let message = RwSignal::new(None::<String>);
    // In a team book: her follow-ups (and unassigned ones) by default, or everyone's.
    let team_me = crate::book::current().map(|book| book.me);
    let only_mine = RwSignal::new(true);
    let ask = move |_| {
        spawn_local(async move {
            if let Ok(promise) = web_sys::Notification::request_permission() {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            }
            permission.set(notification_permission());
        });
    };
    let export_ics = move |_| {
        let items: Vec<CalendarItem> = follow_ups.views.with_untracked(|views| {
            views
                .overdue
                .iter()
                .chain(&views.today)
                .chain(&views.upcoming)
                .map(|item| CalendarItem {
                    uid: format!(
                        "{}-{}@fieldbook",
                        item.customer,
                        item.task.as_deref().unwrap_or("check-in")
                    ),
                    title: format!("{} — {}", item.title, item.customer_name),
                    due: item.due,
                    description: repo
                        .book
                        .with_untracked(|book| {
                            book.get(&item.customer).map(|s| {
                                [
                                    s.company.clone(),
                                    s.phones.first().cloned().unwrap_or_default(),
                                ]
                                .join("\n")
                            })
                        })
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                })
                .collect()
        });
        let at = now();
        message.set(Some(
            match export::download_as(
                &format!("fieldbook-follow-ups-{}.ics", day(at)),
                &calendar(&items, at),
                "text/calendar",
            ) {
                Ok(()) => format!(
                    "Exported {} to a calendar file.",
                    match items.len() {
                        1 => "1 follow-up".to_string(),
                        n => format!("{n} follow-ups"),
                    }
                ),
                Err(err) => format!("Export failed: {err}"),
            },
        ));
    };
    view! {
        <div class="detail" data-testid="follow-ups-page">
            <DetailTopbar back="/" back_label="Customers" title="Follow-ups"/>
            <div class="card follow-up-tools">
                {move || match permission.get().as_str() {
                    "granted" => view! { <p class="hint" data-testid="reminders-state">"Reminders are on: a notification shows when a follow-up falls due while Fieldbook is open."</p> }.into_any(),
                    "denied" => view! { <p class="hint" data-testid="reminders-state">"Notifications are blocked for Fieldbook in this browser; the number on ✓ shows what is due."</p> }.into_any(),
                    "unsupported" => view! { <p class="hint" data-testid="reminders-state">"This browser cannot show notifications (on iPhone, add Fieldbook to the Home Screen first); the number on ✓ shows what is due."</p> }.into_any(),
                    _ => view! {
                        <button class="button" data-testid="enable-reminders" on:click=ask>"Turn on reminders"</button>
                    }.into_any(),
                }}
                <button class="button" data-testid="export-ics" on:click=export_ics>"Export to calendar (.ics)"</button>
                {move || message.get().map(|text| view! { <p class="hint" role="status" data-testid="ics-message">{text}</p> })}
            </div>
            {team_me.clone().map(|_| view! {
                <div class="card">
                    <label class="field">
                        <span class="field-label">"Whose follow-ups"</span>
                        <select data-testid="follow-ups-whose" on:change=move |ev| only_mine.set(event_target_value(&ev) == "mine")>
                            <option value="mine" selected=move || only_mine.get()>"Mine and anyone's"</option>
                            <option value="all" selected=move || !only_mine.get()>"Everyone's"</option>
                        </select>
                    </label>
                </div>
            })}
            {move || {
                let views = if only_mine.get() { follow_ups.mine.get() } else { follow_ups.views.get() };
                let now = follow_ups.now.get();
                let empty = views.overdue.is_empty() && views.today.is_empty() && views.upcoming.is_empty();
                view! {
                    <PersonalTouches/>
                    {empty.then(|| view! { <p class="empty" data-testid="no-follow-ups">"Nothing to follow up. Add follow-ups from a customer's page."</p> })}
                    <FollowUpGroup title="Overdue" testid="overdue" items=views.overdue now/>
                    <FollowUpGroup title="Today" testid="today" items=views.today now/>
                    <FollowUpGroup title="Upcoming" testid="upcoming" items=views.upcoming now/>
                }
            }}
        </div>
    }
}

#[component]
fn FollowUpGroup(
    title: &'static str,
    testid: &'static str,
    items: Vec<FollowUp>,
    now: Timestamp,
) -> impl IntoView {
    let repo = use_repo();
    (!items.is_empty()).then(|| view! {
        <section class="card" data-testid=format!("follow-ups-{testid}")>
            <h2 class="section-title">{format!("{title} ({})", items.len())}</h2>
            <ul class="follow-up-list">
                {items.into_iter().map(|item| {
                    let href = format!("/customers/{}", item.customer);
                    let done = item.task.clone().map(|task_id| {
                        let customer: CustomerId = item.customer.clone();
                        view! {
                            <button class="button check-button" data-testid="follow-up-done" aria-label="Mark done" on:click=move |_| {
                                let customer = customer.clone();
                                let task_id = task_id.clone();
                                let at = crate::time::now();
                                spawn_local(async move {
                                    if let Err(err) = repo.update(&customer, move |c| {
                                        if let Some(task) = c.tasks.get_mut(&task_id) { task.done_at = Some(at); }
                                    }).await {
                                        tracing::error!(%err, "cannot complete the follow-up");
                                    }
                                });
                            }>"✓"</button>
                        }
                    });
                    view! {
                        <li class="follow-up" data-testid="follow-up">
                            {done}
                            <A href=href attr:class="follow-up-body">
                                <strong data-testid="follow-up-title">{item.title.clone()}</strong>
                                <span class="hint">{format!("{} · {}", item.customer_name, when(item.due, now))}</span>
                            </A>
                            {(item.priority == Priority::High).then(|| view! { <span class="status status-open">"High"</span> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    })
}

/// Birthdays and customer anniversaries of the next 14 days.
#[component]
fn PersonalTouches() -> impl IntoView {
    let repo = use_repo();
    let follow_ups = use_follow_ups();
    let items = Memo::new(move |_| {
        let today = crate::time::local_date(follow_ups.now.get());
        repo.book.with(|book| upcoming(book, today, 14))
    });
    move || {
        let items = items.get();
        (!items.is_empty()).then(|| view! {
            <section class="card" data-testid="personal-touches">
                <h2 class="section-title">{format!("Birthdays and anniversaries ({})", items.len())}</h2>
                <ul class="follow-up-list">
                    {items.into_iter().take(50).map(|item| {
                        let when = match item.in_days { 0 => "today".to_string(), 1 => "tomorrow".to_string(), n => format!("in {n} days") };
                        let what = match item.occasion {
                            Occasion::Birthday => match item.years {
                                Some(age) => format!("Birthday {when} (turns {age})"),
                                None => format!("Birthday {when}"),
                            },
                            Occasion::Anniversary => {
                                let years = item.years.unwrap_or_default();
                                format!("{years} year{} as a customer {when}", if years == 1 { "" } else { "s" })
                            }
                        };
                        view! {
                            <li class="follow-up" data-testid="personal-touch">
                                <A href=format!("/customers/{}", item.customer) attr:class="follow-up-body">
                                    <strong>{item.name.clone()}</strong>
                                    <span class="hint">{what}</span>
                                </A>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })
    }
}

/// The follow-ups card on the customer page.
#[component]
pub fn FollowUpsCard(editor: Editor) -> impl IntoView {
    let tasks = Memo::new(move |_| {
        editor.read(|c| {
            let mut tasks: Vec<(String, Task)> = c
                .tasks
                .iter()
                .map(|(id, t)| (id.clone(), t.clone()))
                .collect();
            shared::order::sort_by(&mut tasks, |a, b| {
                a.1.is_open()
                    .cmp(&b.1.is_open())
                    .reverse()
                    .then(a.1.due.cmp(&b.1.due))
            });
            tasks
        })
    });
    let title = RwSignal::new(String::new());
    // Default due time: tomorrow at 9:00.
    let default_due = move || local_input(Timestamp(days_after(now(), 1).0 + 9 * 3_600_000));
    let due = RwSignal::new(default_due());
    let priority = RwSignal::new(Priority::Normal);
    // In a team book a follow-up is for a member (herself unless she picks another).
    let team_book = crate::book::current();
    let me = team_book
        .as_ref()
        .map(|book| book.me.clone())
        .unwrap_or_default();
    let assignee = RwSignal::new(me.clone());
    let new_field = RwSignal::new(format!("tasks.{}", random_id()));
    let add = move |_| {
        let field = new_field.get_untracked();
        let Some(due_at) = parse_local_input(&due.get_untracked()) else {
            editor.errors.update(|errors| {
                errors.insert(format!("{field}.due"), "enter a due date and time".into());
            });
            return;
        };
        let task = Task {
            title: title.get_untracked().trim().to_string(),
            due: due_at,
            priority: priority.get_untracked(),
            done_at: None,
            created_at: now(),
            assignee: assignee.get_untracked(),
        };
        let id = field.trim_start_matches("tasks.").to_string();
        let me = me.clone();
        editor.save(
            field,
            move |c| {
                c.tasks.insert(id, task);
            },
            move || {
                title.set(String::new());
                due.set(default_due());
                priority.set(Priority::Normal);
                assignee.set(me.clone());
                new_field.set(format!("tasks.{}", random_id()));
            },
        );
    };
    view! {
        <section class="card" data-testid="follow-ups-card">
            <h2 class="section-title">"Follow-ups"</h2>
            <ul class="follow-up-list">
                {move || {
                    let now = now();
                    tasks.get().into_iter().map(|(id, task)| {
                        let open = task.is_open();
                        let toggle = {
                            let id = id.clone();
                            move |_| {
                                let id = id.clone();
                                let at = crate::time::now();
                                editor.save(format!("tasks.{id}"), move |c| {
                                    if let Some(task) = c.tasks.get_mut(&id) {
                                        task.done_at = if task.done_at.is_some() { None } else { Some(at) };
                                    }
                                }, || {});
                            }
                        };
                        view! {
                            <li class="follow-up" class:done=!open data-testid="task">
                                <button class="button check-button" data-testid="task-toggle" aria-pressed=(!open).to_string()
                                    aria-label=if open { "Mark done" } else { "Mark not done" } on:click=toggle>
                                    {if open { "" } else { "✓" }}
                                </button>
                                <div class="follow-up-body">
                                    <strong data-testid="task-title">{task.title.clone()}</strong>
                                    <span class="hint">{
                                        let overdue = open && task.due < now;
                                        format!("{}{}{}{}", if overdue { "Overdue · " } else { "" }, when(task.due, now),
                                            if task.priority == Priority::Normal { String::new() } else { format!(" · {} priority", task.priority.label()) },
                                            if task.assignee.is_empty() { String::new() } else { format!(" · for {}", task.assignee) })
                                    }</span>
                                    {open.then(|| {
                                        let id = id.clone();
                                        view! {
                                            <input type="datetime-local" class="reschedule" aria-label="Reschedule" data-testid="task-reschedule"
                                                prop:value=local_input(task.due)
                                                on:change=move |ev| {
                                                    if let Some(due) = parse_local_input(&event_target_value(&ev)) {
                                                        let id = id.clone();
                                                        editor.save(format!("tasks.{id}"), move |c| {
                                                            if let Some(task) = c.tasks.get_mut(&id) { task.due = due; }
                                                        }, || {});
                                                    }
                                                }/>
                                        }
                                    })}
                                </div>
                                <crate::routes::activities::DeleteRecord editor list=crate::routes::activities::RecordList::Task id=id.clone() what="this follow-up"/>
                            </li>
                        }
                    }).collect_view()
                }}
            </ul>
            <div class="composer">
                <label class="field">
                    <span class="field-label">"New follow-up"</span>
                    <input type="text" data-testid="task-title-input" placeholder="e.g. Send the quote" prop:value=move || title.get()
                        on:input=move |ev| title.set(event_target_value(&ev))/>
                    {move || view! { <FieldError editor field=format!("{}.title", new_field.get())/> }}
                </label>
                <div class="field-row">
                    <label class="field">
                        <span class="field-label">"Due"</span>
                        <input type="datetime-local" data-testid="task-due" prop:value=move || due.get()
                            on:change=move |ev| due.set(event_target_value(&ev))/>
                        {move || view! { <FieldError editor field=format!("{}.due", new_field.get())/> }}
                    </label>
                    <label class="field">
                        <span class="field-label">"Priority"</span>
                        <select data-testid="task-priority" prop:value=move || priority.get().as_str()
                            on:change=move |ev| if let Some(p) = Priority::parse(&event_target_value(&ev)) { priority.set(p) }>
                            {Priority::ALL.iter().map(|p| view! { <option value=p.as_str()>{p.label()}</option> }).collect_view()}
                        </select>
                    </label>
                </div>
                {team_book.is_some().then(|| {
                    let members = use_context::<crate::book::TeamMembers>().unwrap_or_default();
                    view! {
                        <label class="field">
                            <span class="field-label">"For"</span>
                            <select data-testid="task-assignee" on:change=move |ev| assignee.set(event_target_value(&ev))>
                                <option value="" selected=move || assignee.with(String::is_empty)>"Anyone in the team"</option>
                                {move || members.0.get().into_iter().map(|email| {
                                    let this = email.clone();
                                    view! { <option value=email.clone() selected=move || assignee.with(|a| a.eq_ignore_ascii_case(&this))>{email.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    }
                })}
                <button class="button primary" data-testid="task-add" on:click=add>"Add follow-up"</button>
            </div>
            <label class="field">
                <span class="field-label">"Recurring check-in"</span>
                <select data-testid="check-in-days"
                    prop:value=editor.value(|c| c.check_in_days.map(|d| d.to_string()).unwrap_or_default())
                    on:change=move |ev| {
                        let days = event_target_value(&ev).parse::<u32>().ok();
                        editor.save("check_in_days".into(), move |c| c.check_in_days = days, || {});
                    }>
                    <option value="">"None"</option>
                    {CHECK_IN_CHOICES.iter().map(|d| view! {
                        <option value=d.to_string() selected=move || editor.read(|c| c.check_in_days == Some(*d))>{format!("Every {d} days since the last contact")}</option>
                    }).collect_view()}
                </select>
                <FieldError editor field="check_in_days"/>
                {move || editor.read(|c| c.check_in_due()).map(|at| view! {
                    <span class="hint" data-testid="check-in-due">{format!("Next check-in: {}", when(at, now()))}</span>
                })}
            </label>
        </section>
    }
}

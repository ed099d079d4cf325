//! Feedback: NPS, CSAT and CES answers on the customer page, and the survey mode — the rep
//! hands the tablet to the customer, who answers with large buttons; only a press-and-hold
//! (which a customer does not do by accident) brings the rep's screens back.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::{
    model::records::{Feedback, FeedbackKind, NpsCategory},
    Channel, CustomerId,
};

use crate::{
    repo::use_repo,
    routes::customer::{random_id, Editor},
    time::{now, when},
};

/// How long the rep holds the unlock button, in milliseconds.
const UNLOCK_HOLD_MS: u64 = 1_500;

/// The feedback card on the customer page: latest score of each survey, the answers, and the
/// buttons that start survey mode.
#[component]
pub fn FeedbackCard(editor: Editor) -> impl IntoView {
    let answers = Memo::new(move |_| {
        editor.read(|c| {
            let mut answers: Vec<Feedback> = c.feedback.values().cloned().collect();
            shared::order::sort_by_key(&mut answers, |answer| std::cmp::Reverse(answer.at));
            answers
        })
    });
    let customer_id = move || {
        editor
            .read(|c| Some(c.id.clone()))
            .map(|id| id.to_string())
            .unwrap_or_default()
    };
    view! {
        <section class="card" data-testid="feedback-card">
            <h2 class="section-title">"Feedback"</h2>
            <div class="score-tiles">
                {FeedbackKind::ALL.iter().map(|&kind| {
                    let latest = move || answers.with(|all| all.iter().find(|a| a.kind == kind).map(|a| a.score));
                    view! {
                        <div class="score-tile" data-testid=format!("latest-{}", kind.as_str())>
                            <span class="score-label">{kind.label()}</span>
                            <strong class="score-value">{move || latest().map_or("—".to_string(), |s| s.to_string())}</strong>
                            <span class="hint">{move || match (kind, latest()) {
                                (FeedbackKind::Nps, Some(score)) => NpsCategory::of(score).label().to_string(),
                                (_, Some(_)) => {
                                    let (low, high) = kind.range();
                                    format!("on {low}–{high}")
                                }
                                (_, None) => "no answer yet".to_string(),
                            }}</span>
                        </div>
                    }
                }).collect_view()}
            </div>
            <p class="hint">"Hand the device to the customer:"</p>
            <div class="survey-buttons">
                {FeedbackKind::ALL.iter().map(|&kind| view! {
                    <a class="button" data-testid=format!("start-survey-{}", kind.as_str())
                        href=move || format!("/survey/{}/{}", customer_id(), kind.as_str())>{format!("{} survey", kind.label())}</a>
                }).collect_view()}
            </div>
            <ul class="feedback-list">
                {move || {
                    let now = now();
                    answers.get().into_iter().take(10).map(|answer| view! {
                        <li data-testid="feedback-answer">
                            <strong>{format!("{} {}", answer.kind.label(), answer.score)}</strong>
                            <span class="hint">{format!(" · {}", when(answer.at, now))}</span>
                            {(!answer.comment.is_empty()).then(|| view! { <p class="timeline-summary">{format!("“{}”", answer.comment)}</p> })}
                        </li>
                    }).collect_view()
                }}
            </ul>
        </section>
    }
}

/// Where survey mode keeps its lock across reloads of the tab.
const SURVEY_KEY: &str = "fieldbook.survey";

/// A survey in progress: the customer answering and the survey.
#[derive(Clone, PartialEq)]
struct ActiveSurvey {
    customer: CustomerId,
    kind: FeedbackKind,
}

/// Survey mode, provided once by the app. While a survey is active it covers every screen,
/// whatever the URL (the back button or a reload does not reveal the rep's data); only the
/// press-and-hold ends it.
#[derive(Clone, Copy)]
pub struct SurveyMode {
    active: RwSignal<Option<ActiveSurvey>>,
}

impl SurveyMode {
    /// Survey mode, still locked if the tab was reloaded during a survey.
    pub fn start() -> SurveyMode {
        let restored = session_storage()
            .and_then(|s| s.get_item(SURVEY_KEY).ok().flatten())
            .and_then(|text| {
                let (id, kind) = text.split_once('/')?;
                Some(ActiveSurvey {
                    customer: id.parse().ok()?,
                    kind: FeedbackKind::parse(kind)?,
                })
            });
        SurveyMode {
            active: RwSignal::new(restored),
        }
    }

    /// Whether a survey covers the screens.
    pub fn is_active(self) -> bool {
        self.active.with(Option::is_some)
    }

    fn set(self, survey: Option<ActiveSurvey>) {
        if let Some(storage) = session_storage() {
            let _ = match &survey {
                Some(s) => {
                    storage.set_item(SURVEY_KEY, &format!("{}/{}", s.customer, s.kind.as_str()))
                }
                None => storage.remove_item(SURVEY_KEY),
            };
        }
        self.active.set(survey);
    }
}

fn session_storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

/// `/survey/:id/:kind`: starts survey mode over the customer's page.
#[component]
pub fn StartSurvey() -> impl IntoView {
    let mode = expect_context::<SurveyMode>();
    let params = use_params_map();
    let navigate = use_navigate();
    let customer =
        params.with_untracked(|p| p.get("id").and_then(|id| id.parse::<CustomerId>().ok()));
    let kind = params.with_untracked(|p| p.get("kind").and_then(|k| FeedbackKind::parse(&k)));
    match (customer, kind) {
        (Some(customer), Some(kind)) => {
            let target = format!("/customers/{customer}");
            mode.set(Some(ActiveSurvey { customer, kind }));
            navigate(&target, leptos_router::NavigateOptions { replace: true, ..Default::default() });
            ().into_any()
        }
        _ => view! { <p class="empty" data-testid="survey-invalid">"This survey link is not valid."</p> }.into_any(),
    }
}

/// The survey screen over everything, while survey mode is active.
#[component]
pub fn SurveyOverlay() -> impl IntoView {
    let mode = expect_context::<SurveyMode>();
    move || {
        mode.active
            .get()
            .map(|survey| view! { <Survey customer_id=survey.customer kind=survey.kind/> })
    }
}

#[component]
fn Survey(customer_id: CustomerId, kind: FeedbackKind) -> impl IntoView {
    let repo = use_repo();
    let score = RwSignal::new(None::<u8>);
    let comment = RwSignal::new(String::new());
    let sent = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = {
        let customer_id = customer_id.clone();
        move |_| {
            let Some(chosen) = score.get_untracked() else {
                error.set(Some("Please choose a score.".into()));
                return;
            };
            let answer = Feedback {
                kind,
                score: chosen,
                at: now(),
                channel: Some(Channel::InPerson),
                comment: comment.get_untracked().trim().to_string(),
            };
            let customer_id = customer_id.clone();
            spawn_local(async move {
                let id = random_id();
                match repo
                    .update(&customer_id, move |c| {
                        c.feedback.insert(id, answer);
                    })
                    .await
                {
                    Ok(_) => {
                        error.set(None);
                        sent.set(true);
                    }
                    Err(err) => error.set(Some(format!("Not saved: {err}"))),
                }
            });
        }
    };
    let (low, high) = kind.range();
    view! {
        <div class="survey" data-testid="survey" role="dialog" aria-modal="true" aria-label=format!("Survey: {}", kind.question())>
            {move || if sent.get() {
                view! {
                    <div class="survey-thanks" data-testid="survey-thanks">
                        <h1>"Thank you!"</h1>
                        <p>"Please hand the device back."</p>
                    </div>
                }.into_any()
            } else {
                view! {
                    <div class="survey-question">
                        <h1 data-testid="survey-question">{kind.question()}</h1>
                        <div class=format!("survey-scores survey-scores-{}", kind.as_str()) role="group" aria-label="Score">
                            {(low..=high).map(|n| view! {
                                <button class="survey-score" class:selected=move || score.get() == Some(n)
                                    aria-pressed=move || (score.get() == Some(n)).to_string()
                                    data-testid=format!("survey-score-{n}") on:click=move |_| score.set(Some(n))>{n}</button>
                            }).collect_view()}
                        </div>
                        <div class="survey-ends">
                            <span>{match kind { FeedbackKind::Nps => "Not at all likely", FeedbackKind::Csat => "Very unsatisfied", FeedbackKind::Ces => "Very difficult" }}</span>
                            <span>{match kind { FeedbackKind::Nps => "Extremely likely", FeedbackKind::Csat => "Very satisfied", FeedbackKind::Ces => "Very easy" }}</span>
                        </div>
                        <label class="field">
                            <span class="field-label">"Anything to add? (optional)"</span>
                            <textarea rows="3" data-testid="survey-comment" prop:value=move || comment.get()
                                on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
                        </label>
                        {move || error.get().map(|e| view! { <p class="field-error" role="alert" data-testid="survey-error">{e}</p> })}
                        <button class="button primary survey-submit" data-testid="survey-submit" on:click=submit.clone()>"Send"</button>
                    </div>
                }.into_any()
            }}
            <HoldToUnlock customer_id/>
        </div>
    }
}

/// "For the rep: press and hold to return": a press of 1.5 s leaves survey mode.
#[component]
fn HoldToUnlock(customer_id: CustomerId) -> impl IntoView {
    let mode = expect_context::<SurveyMode>();
    let navigate = use_navigate();
    let holding = RwSignal::new(false);
    let timer = StoredValue::new_local(None::<TimeoutHandle>);
    let cancel = move || {
        holding.set(false);
        if let Some(handle) = timer.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    };
    let start = move |_: ()| {
        cancel();
        holding.set(true);
        let navigate = navigate.clone();
        let target = format!("/customers/{customer_id}");
        let handle = set_timeout_with_handle(
            move || {
                holding.set(false);
                mode.set(None);
                navigate(&target, Default::default());
            },
            Duration::from_millis(UNLOCK_HOLD_MS),
        );
        timer.set_value(handle.ok());
    };
    // The keyboard (and a switch mapped to Space or Enter) holds it the same way: the key
    // held down for the whole time; its repeats do not restart the count.
    let is_hold_key = |ev: &leptos::ev::KeyboardEvent| matches!(ev.key().as_str(), " " | "Enter");
    let key_down = {
        let start = start.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if is_hold_key(&ev) {
                ev.prevent_default();
                if !ev.repeat() {
                    start(());
                }
            }
        }
    };
    let key_up = move |ev: leptos::ev::KeyboardEvent| {
        if is_hold_key(&ev) {
            ev.prevent_default();
            cancel();
        }
    };
    view! {
        <button class="survey-unlock" class:holding=move || holding.get() data-testid="survey-unlock"
            aria-describedby="survey-unlock-how"
            on:pointerdown=move |_| start(()) on:pointerup=move |_| cancel() on:pointerleave=move |_| cancel()
            on:pointercancel=move |_| cancel() on:contextmenu=|ev| ev.prevent_default()
            on:keydown=key_down on:keyup=key_up on:blur=move |_| cancel()>
            {move || if holding.get() { "Keep holding…" } else { "For the rep: press and hold to return" }}
        </button>
        <span id="survey-unlock-how" class="visually-hidden">"Hold a touch, the mouse button, Space or Enter for a second and a half."</span>
    }
}

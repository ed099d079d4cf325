//! Teams (issue 21): `/team` (join by code, the account's teams, start a team), `/team/:id`
//! (territories, members and their roles, invites with the code shown large) and `/join`
//! (an invite link: its secret is in the URL's fragment, which no server ever receives).
//!
//! Everything here is the relay's team API, called by the engine with this device's token
//! (`Sync::team`); the relay enforces every rule — these screens only offer what the
//! member's role allows and say why when the relay refuses.

use leptos::{prelude::*, task::spawn_local};
use leptos_router::{components::A, hooks::use_params_map};
use shared::sync::team::{
    role_description, role_label, InviteInfo, InviteStatus, MemberInfo, NewInvite, Role,
    SpaceAccess, TeamBook, TeamCall, TeamInfo, TerritoryInfo,
};

use crate::components::DetailTopbar;
use crate::sync::{use_sync, ApiError};
use crate::time::{now, when};

/// `/team`.
#[component]
pub fn TeamsPage() -> impl IntoView {
    let sync = use_sync();
    let signed_in = Memo::new(move |_| sync.session.with(Option::is_some));
    view! {
        <div class="detail" data-testid="teams-page">
            <DetailTopbar back="/menu" back_label="Menu" title="Team"/>
            {move || match (sync.ready.get(), signed_in.get()) {
                (false, _) => view! { <p class="empty">"Loading…"</p> }.into_any(),
                (true, false) => view! { <SignInFirst/> }.into_any(),
                (true, true) => view! {
                    <JoinTeam/>
                    <YourTeams/>
                    <StartTeam/>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn SignInFirst() -> impl IntoView {
    view! {
        <section class="card" data-testid="team-sign-in-first">
            <h2>"Teams need an account"</h2>
            <p class="hint">"A team's customers are shared through the relay, so every member signs in. Your own book stays yours."</p>
            <A href="/account" attr:class="button primary wide" attr:data-testid="team-go-sign-in">"Sign in or create an account"</A>
        </section>
    }
}

/// Something the relay is asked for: not yet answered, a refusal's words, or the answer.
pub(crate) type Loaded<T> = RwSignal<Option<Result<T, String>>>;

/// The account's teams, loaded once per visit (and after joining or starting one).
/// The team `team_id` of the account's `teams`, once they are loaded; an error when she
/// is not (or no longer) a member.
pub(crate) fn team_of(
    teams: Loaded<Vec<TeamInfo>>,
    team_id: Memo<String>,
) -> Memo<Option<Result<TeamInfo, String>>> {
    Memo::new(move |_| {
        let id = team_id.get();
        teams.with(|teams| match teams {
            None => None,
            Some(Err(message)) => Some(Err(message.clone())),
            Some(Ok(list)) => Some(
                list.iter()
                    .find(|t| t.id == id)
                    .cloned()
                    .ok_or_else(|| "You are not a member of this team (any more).".to_string()),
            ),
        })
    })
}

/// The account's teams and how to ask the relay for them again. Until it answers — and
/// when it cannot be reached — they are the list last seen on this device for the account
/// (`crate::book::cached_teams`), so the team screens and the team dashboard work offline.
pub(crate) fn load_teams() -> (Loaded<Vec<TeamInfo>>, impl Fn() + Copy) {
    let sync = use_sync();
    let teams: Loaded<Vec<TeamInfo>> = RwSignal::new(None);
    let refresh = move || {
        let email = sync
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.email.clone()));
        if teams.with_untracked(Option::is_none) {
            if let Some(cached) = email.as_deref().and_then(crate::book::cached_teams) {
                teams.set(Some(Ok(cached)));
            }
        }
        spawn_local(async move {
            match sync.team::<Vec<TeamInfo>>(TeamCall::List).await {
                Ok(list) => {
                    if let Some(email) = &email {
                        crate::book::cache_teams(email, &list);
                    }
                    if teams.with_untracked(|t| t.as_ref() != Some(&Ok(list.clone()))) {
                        teams.set(Some(Ok(list)));
                    }
                }
                // The list as last seen stays; without one, the relay's words.
                Err(err) if teams.with_untracked(|t| !matches!(t, Some(Ok(_)))) => {
                    teams.set(Some(Err(err.message)));
                }
                Err(err) => tracing::info!(cause = %err.message, "teams as last seen"),
            }
        });
    };
    (teams, refresh)
}

#[component]
fn JoinTeam() -> impl IntoView {
    let sync = use_sync();
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let joined = RwSignal::new(None::<TeamInfo>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let typed = code.get_untracked();
        if shared::sync::team::normalize_invite_code(&typed).is_none() {
            error.set(Some(
                "An invite code has 10 letters and digits, like K7QM4-XPD2R.".into(),
            ));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let call = TeamCall::Accept {
                code: Some(typed),
                secret: None,
            };
            match sync.team::<TeamInfo>(call).await {
                Ok(team) => {
                    code.set(String::new());
                    joined.set(Some(team));
                }
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card" data-testid="join-team">
            <h2>"Join a team"</h2>
            <form on:submit=submit>
                <label class="field">
                    <span>"Invite code"</span>
                    <input type="text" class="invite-code-input" data-testid="invite-code" placeholder="K7QM4-XPD2R"
                        autocapitalize="characters" autocomplete="off" spellcheck="false" enterkeyhint="go"
                        prop:value=move || code.get() on:input=move |ev| { code.set(event_target_value(&ev)); error.set(None); }/>
                </label>
                {move || error.get().map(|message| view! { <p class="banner banner-error" role="alert" data-testid="join-error">{message}</p> })}
                <button type="submit" class="button primary wide" data-testid="join" disabled=move || busy.get()>
                    {move || if busy.get() { "Joining…" } else { "Join" }}
                </button>
            </form>
            {move || joined.get().map(|team| view! { <Joined team/> })}
        </section>
    }
}

#[component]
fn Joined(team: TeamInfo) -> impl IntoView {
    // Her territories start downloading now, whichever book she stays in.
    crate::other_books::use_other_books().refresh();
    let href = format!("/team/{}", team.id);
    view! {
        <p class="banner banner-info" role="status" data-testid="joined">
            "You joined " <strong>{team.name.clone()}</strong> " as " {role_label(team.role).to_lowercase()} ". "
            <A href=href attr:data-testid="joined-open">"Open the team"</A>
        </p>
    }
}

#[component]
fn YourTeams() -> impl IntoView {
    let (teams, refresh) = load_teams();
    refresh();
    view! {
        <section class="card" data-testid="your-teams">
            <h2>"Your teams"</h2>
            {move || match teams.get() {
                None => view! { <p class="hint">"Loading…"</p> }.into_any(),
                Some(Err(message)) => view! { <p class="hint">{message}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <p class="hint" data-testid="no-teams">"You are in no team yet. Join one with a code from a colleague, or start one below."</p>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="follow-up-list">
                        {list.into_iter().map(|team| {
                            let territories = team.territories.iter().map(|t| t.name.clone()).collect::<Vec<_>>().join(", ");
                            let href = format!("/team/{}", team.id);
                            let name = team.name.clone();
                            let label = team.name.clone();
                            view! {
                                <li class="follow-up">
                                    <A href=href attr:class="follow-up-body" attr:data-testid="team-entry" attr:data-name=name>
                                        <strong>{label}</strong>
                                        <span class="hint">{format!("{} · {}", role_label(team.role), if territories.is_empty() { "no territory yet".to_string() } else { territories })}</span>
                                    </A>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn StartTeam() -> impl IntoView {
    let sync = use_sync();
    let name = RwSignal::new(String::new());
    let territory = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let navigate = leptos_router::hooks::use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        if let Err(message) = shared::sync::team::team_name(&name.get_untracked()) {
            error.set(Some(ApiError {
                message: format!("Team name: {message}."),
                fields: Vec::new(),
            }));
            return;
        }
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let first = territory.get_untracked();
            let call = TeamCall::Create {
                name: name.get_untracked(),
                territory: (!first.trim().is_empty()).then_some(first),
            };
            match sync.team::<TeamInfo>(call).await {
                Ok(team) => navigate(&format!("/team/{}", team.id), Default::default()),
                Err(err) => error.set(Some(err)),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card" data-testid="start-team">
            <h2>"Start a team"</h2>
            <p class="hint">"You become its admin: you invite colleagues, give them roles and split the team's customers into territories (regions, key accounts…). Each rep's devices download only her territories."</p>
            <form on:submit=submit>
                <label class="field">
                    <span>"Team name"</span>
                    <input type="text" data-testid="team-name" placeholder="Acme field sales"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span>"First territory"</span>
                    <input type="text" data-testid="team-territory" placeholder="All customers"
                        prop:value=move || territory.get() on:input=move |ev| territory.set(event_target_value(&ev))/>
                </label>
                {move || error.get().map(|e| view! { <p class="banner banner-error" role="alert" data-testid="start-team-error">{e.message}</p> })}
                <button type="submit" class="button primary wide" data-testid="create-team" disabled=move || busy.get()>
                    {move || if busy.get() { "Creating…" } else { "Create team" }}
                </button>
            </form>
        </section>
    }
}

/// `/join#<secret>`: an invite link.
#[component]
pub fn JoinPage() -> impl IntoView {
    let sync = use_sync();
    let secret = StoredValue::new(
        window()
            .location()
            .hash()
            .unwrap_or_default()
            .trim_start_matches('#')
            .to_string(),
    );
    let signed_in = Memo::new(move |_| sync.session.with(Option::is_some));
    let error = RwSignal::new(None::<String>);
    let joined = RwSignal::new(None::<TeamInfo>);
    let busy = RwSignal::new(false);
    let join = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let secret = secret.get_value();
        spawn_local(async move {
            let call = TeamCall::Accept {
                code: None,
                secret: Some(secret),
            };
            match sync.team::<TeamInfo>(call).await {
                Ok(team) => joined.set(Some(team)),
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="detail" data-testid="join-page">
            <DetailTopbar back="/team" back_label="Team" title="Join a team"/>
            <section class="card">
                {move || match (sync.ready.get(), signed_in.get()) {
                    (false, _) => view! { <p class="empty">"Loading…"</p> }.into_any(),
                    (true, false) => view! {
                        <p>"You were invited to a team. Sign in (or create an account) on this device first, then open the link again."</p>
                        <A href="/account" attr:class="button primary wide">"Sign in"</A>
                    }.into_any(),
                    (true, true) => view! {
                        <p>"You were invited to a team. Joining shares the team's customers of your territories with this account; your own book stays yours."</p>
                        {move || error.get().map(|message| view! { <p class="banner banner-error" role="alert" data-testid="join-error">{message}</p> })}
                        {move || match joined.get() {
                            Some(team) => view! { <Joined team/> }.into_any(),
                            None => view! {
                                <button class="button primary wide" data-testid="join-link" disabled=move || busy.get() on:click=join>
                                    {move || if busy.get() { "Joining…" } else { "Join the team" }}
                                </button>
                            }.into_any(),
                        }}
                    }.into_any(),
                }}
            </section>
        </div>
    }
}

/// `/team/:id`.
#[component]
pub fn TeamPage() -> impl IntoView {
    let sync = use_sync();
    let params = use_params_map();
    let team_id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let (teams, refresh) = load_teams();
    let team = team_of(teams, team_id);
    let members = RwSignal::new(None::<Result<Vec<MemberInfo>, String>>);
    let load_members = move || {
        let team = team_id.get_untracked();
        spawn_local(async move {
            let answer = sync
                .team::<Vec<MemberInfo>>(TeamCall::Members { team: team.clone() })
                .await;
            if let Ok(list) = &answer {
                let emails: Vec<String> = list.iter().map(|m| m.email.clone()).collect();
                crate::book::cache_members(&team, &emails);
            }
            members.set(Some(answer.map_err(|e| e.message)));
        });
    };
    // Once the engine reports the session (right after a reload it may not have yet), and
    // again when another team is opened.
    Effect::new(move |_| {
        if sync.ready.get() && sync.session.with(Option::is_some) && !team_id.get().is_empty() {
            refresh();
            load_members();
        }
    });
    let reload = move || {
        refresh();
        load_members();
    };
    view! {
        <div class="detail" data-testid="team-page">
            <DetailTopbar back="/team" back_label="Teams" title="Team"/>
            {move || match team.get() {
                None if sync.ready.get() && sync.session.with(Option::is_none) => view! { <SignInFirst/> }.into_any(),
                None => view! { <p class="empty">"Loading…"</p> }.into_any(),
                Some(Err(message)) => view! { <p class="empty" data-testid="team-missing">{message}</p> }.into_any(),
                Some(Ok(team)) => {
                    let admin = team.role.manages_team();
                    view! {
                        <section class="card" data-testid="team-summary">
                            <h2 data-testid="team-title">{team.name.clone()}</h2>
                            <p>"Your role: " <strong data-testid="my-role">{role_label(team.role)}</strong></p>
                            <p class="hint">{role_description(team.role)}</p>
                            {(team.shared_access == SpaceAccess::ReadOnly).then(|| view! {
                                <p class="hint" data-testid="shared-read-only">"The team's catalog, pipeline and fields are the managers' to change; you work with them."</p>
                            })}
                            {team.role.sees_every_territory().then(|| view! {
                                <A href=format!("/team/{}/dashboard", team.id) attr:class="button" attr:data-testid="team-dashboard-link">"Team dashboard"</A>
                            })}
                        </section>
                        <Territories team=team.clone() reload/>
                        <Members team=team.clone() members reload/>
                        {admin.then(|| view! { <Invites team=team.clone()/> })}
                    }.into_any()
                }
            }}
        </div>
    }
}

#[component]
fn Territories(team: TeamInfo, reload: impl Fn() + Copy + Send + 'static) -> impl IntoView {
    let sync = use_sync();
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let admin = team.role.manages_team();
    let team_id = team.id.clone();
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Err(message) = shared::sync::team::team_name(&name.get_untracked()) {
            error.set(Some(format!("Territory name: {message}.")));
            return;
        }
        let team = team_id.clone();
        spawn_local(async move {
            let call = TeamCall::AddTerritory {
                team,
                name: name.get_untracked(),
            };
            match sync.team::<TerritoryInfo>(call).await {
                Ok(_) => {
                    name.set(String::new());
                    error.set(None);
                    reload();
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <section class="card" data-testid="territories">
            <h2>"Territories"</h2>
            <p class="hint">{if team.role.sees_every_territory() {
                "You see every territory."
            } else {
                "Your devices download only the territories you belong to."
            }}</p>
            <ul class="device-list">
                {team.territories.iter().map(|territory| {
                    let me = sync.session.with_untracked(|s| s.as_ref().map(|s| s.email.clone())).unwrap_or_default();
                    let book = TeamBook::of(&team, territory, &me);
                    let here = crate::book::current().is_some_and(|current| current.territory == territory.space);
                    view! {
                        <li class="device" data-testid="territory" data-name=territory.name.clone()>
                            <div>
                                <strong>{territory.name.clone()}</strong>
                                <span class="badge">{match territory.access {
                                    SpaceAccess::ReadWrite => "can edit",
                                    SpaceAccess::ReadOnly => "read only",
                                }}</span>
                            </div>
                            {if here {
                                view! { <span class="hint" data-testid="territory-open-here">"Open in this tab"</span> }.into_any()
                            } else {
                                view! {
                                    <button class="button" data-testid="open-territory"
                                        aria-label=format!("Open the customers of {}", territory.name)
                                        on:click=move |_| crate::book::open(Some(book.clone()))>"Open"</button>
                                }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {admin.then(|| view! {
                <form on:submit=add class="inline-form">
                    <label class="field">
                        <span>"New territory"</span>
                        <input type="text" data-testid="new-territory" placeholder="South, Key accounts…"
                            prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    </label>
                    {move || error.get().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
                    <button type="submit" class="button" data-testid="add-territory">"Add territory"</button>
                </form>
            })}
        </section>
    }
}

#[component]
fn Members(
    team: TeamInfo,
    members: RwSignal<Option<Result<Vec<MemberInfo>, String>>>,
    reload: impl Fn() + Copy + Send + 'static,
) -> impl IntoView {
    let sync = use_sync();
    let admin = team.role.manages_team();
    let error = RwSignal::new(None::<String>);
    let territories = team.territories.clone();
    let team_id = team.id.clone();
    let me = move || {
        sync.session
            .with_untracked(|s| s.as_ref().map(|s| s.account_id.clone()))
            .unwrap_or_default()
    };
    let change = move |call: TeamCall| {
        spawn_local(async move {
            match sync.team::<()>(call).await {
                Ok(()) => error.set(None),
                Err(err) => error.set(Some(err.message)),
            }
            // Either way the list shows what the relay holds (a refused role change puts
            // the select back).
            reload();
        });
    };
    view! {
        <section class="card" data-testid="members">
            <h2>"Members"</h2>
            {move || error.get().map(|message| view! { <p class="banner banner-error" role="alert" data-testid="member-error">{message}</p> })}
            <ul class="device-list">
                {move || match members.get() {
                    None => view! { <li class="hint">"Loading…"</li> }.into_any(),
                    Some(Err(message)) => view! { <li class="hint">{message}</li> }.into_any(),
                    Some(Ok(list)) => list.into_iter().map(|member| {
                        let team = team_id.clone();
                        let account = member.account_id.clone();
                        let names = member.territories.iter()
                            .filter_map(|space| territories.iter().find(|t| &t.space == space).map(|t| t.name.clone()))
                            .collect::<Vec<_>>();
                        let is_me = member.account_id == me();
                        let where_ = if member.role.sees_every_territory() {
                            "every territory".to_string()
                        } else if names.is_empty() {
                            "no territory".to_string()
                        } else {
                            names.join(", ")
                        };
                        let email = member.email.clone();
                        view! {
                            <li class="member" data-testid="member" data-email=member.email.clone()>
                                <div class="member-who">
                                    <strong>{member.email.clone()}</strong>
                                    {is_me.then(|| view! { <span class="badge">"you"</span> })}
                                    <p class="hint">{format!("{} · {}", role_label(member.role), where_)}</p>
                                </div>
                                {admin.then(|| {
                                    let (team_a, account_a) = (team.clone(), account.clone());
                                    let (team_b, account_b) = (team.clone(), account.clone());
                                    let email = email.clone();
                                    view! {
                                        <div class="member-actions">
                                            <label class="visually-hidden" for=format!("role-{account}")>{format!("Role of {}", member.email)}</label>
                                            <select id=format!("role-{account}") data-testid="member-role" prop:value=member.role.as_str()
                                                on:change=move |ev| {
                                                    let Some(role) = Role::parse(&event_target_value(&ev)) else { return };
                                                    change(TeamCall::SetMember { team: team_a.clone(), account: account_a.clone(), role: Some(role), territories: None });
                                                }>
                                                {Role::ALL.into_iter().map(|role| view! { <option value=role.as_str()>{role_label(role)}</option> }).collect_view()}
                                            </select>
                                            <button class="button danger" data-testid="remove-member" on:click=move |_| {
                                                let question = if is_me {
                                                    "Leave this team? Its customers will be removed from your devices once every change you made is backed up.".to_string()
                                                } else {
                                                    format!("Remove {email} from the team? Her devices stop receiving the team's customers at once.")
                                                };
                                                if !window().confirm_with_message(&question).unwrap_or(false) {
                                                    return;
                                                }
                                                change(TeamCall::RemoveMember { team: team_b.clone(), account: account_b.clone() });
                                            }>{if is_me { "Leave" } else { "Remove" }}</button>
                                        </div>
                                    }
                                })}
                                {(!admin && is_me).then(|| {
                                    let (team, account) = (team.clone(), account.clone());
                                    view! {
                                        <button class="button danger" data-testid="leave-team" on:click=move |_| {
                                            if !window().confirm_with_message("Leave this team? Its customers will be removed from your devices once every change you made is backed up.").unwrap_or(false) {
                                                return;
                                            }
                                            change(TeamCall::RemoveMember { team: team.clone(), account: account.clone() });
                                        }>"Leave"</button>
                                    }
                                })}
                            </li>
                        }
                    }).collect_view().into_any(),
                }}
            </ul>
        </section>
    }
}

/// Expiry choices for an invite, in hours.
const EXPIRIES: [(u32, &str); 4] = [
    (24, "1 day"),
    (72, "3 days"),
    (168, "7 days"),
    (720, "30 days"),
];

/// How many people an invite may bring in.
const USES: [u32; 4] = [1, 5, 10, 50];

#[component]
fn Invites(team: TeamInfo) -> impl IntoView {
    let sync = use_sync();
    let role = RwSignal::new(Role::Rep);
    let chosen = RwSignal::new(
        team.territories
            .first()
            .map(|t| vec![t.space.clone()])
            .unwrap_or_default(),
    );
    let hours = RwSignal::new(72u32);
    let uses = RwSignal::new(1u32);
    let made = RwSignal::new(None::<NewInvite>);
    let error = RwSignal::new(None::<String>);
    let list = RwSignal::new(None::<Result<Vec<InviteInfo>, String>>);
    let team_id = team.id.clone();
    let load = {
        let team_id = team_id.clone();
        move || {
            let team = team_id.clone();
            spawn_local(async move {
                let answer = sync
                    .team::<Vec<InviteInfo>>(TeamCall::Invites { team })
                    .await;
                list.set(Some(answer.map_err(|e| e.message)));
            });
        }
    };
    load();
    let make = {
        let team_id = team_id.clone();
        let load = load.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let team = team_id.clone();
            let load = load.clone();
            let territories = if role.get_untracked().sees_every_territory() {
                Vec::new()
            } else {
                chosen.get_untracked()
            };
            if territories.is_empty() && !role.get_untracked().sees_every_territory() {
                error.set(Some(
                    "Choose at least one territory: a rep or viewer sees only hers.".into(),
                ));
                return;
            }
            spawn_local(async move {
                let call = TeamCall::Invite {
                    team,
                    role: role.get_untracked(),
                    territories,
                    expires_in_hours: hours.get_untracked(),
                    max_uses: uses.get_untracked(),
                };
                match sync.team::<NewInvite>(call).await {
                    Ok(invite) => {
                        error.set(None);
                        made.set(Some(invite));
                        load();
                    }
                    Err(err) => error.set(Some(err.message)),
                }
            });
        }
    };
    let territories = team.territories.clone();
    let names = team.territories.clone();
    view! {
        <section class="card" data-testid="invites">
            <h2>"Invite a colleague"</h2>
            <form on:submit=make>
                <label class="field">
                    <span>"Role"</span>
                    <select data-testid="invite-role" prop:value=move || role.get().as_str()
                        on:change=move |ev| if let Some(r) = Role::parse(&event_target_value(&ev)) { role.set(r) }>
                        {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{role_label(r)}</option> }).collect_view()}
                    </select>
                    <span class="hint">{move || role_description(role.get())}</span>
                </label>
                {move || (!role.get().sees_every_territory()).then(|| view! {
                    <fieldset class="field" data-testid="invite-territories">
                        <legend class="field-label">"Territories"</legend>
                        {territories.iter().map(|territory| {
                            let space = territory.space.clone();
                            let space_for_change = space.clone();
                            view! {
                                <label class="check">
                                    <input type="checkbox" data-testid="invite-territory" data-name=territory.name.clone()
                                        prop:checked=move || chosen.with(|c| c.contains(&space))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            chosen.update(|c| {
                                                c.retain(|s| *s != space_for_change);
                                                if on { c.push(space_for_change.clone()); }
                                            });
                                        }/>
                                    <span>{territory.name.clone()}</span>
                                </label>
                            }
                        }).collect_view()}
                    </fieldset>
                })}
                <div class="field-row">
                    <label class="field">
                        <span>"Expires in"</span>
                        <select data-testid="invite-expiry" prop:value=move || hours.get().to_string()
                            on:change=move |ev| if let Ok(h) = event_target_value(&ev).parse() { hours.set(h) }>
                            {EXPIRIES.into_iter().map(|(h, label)| view! { <option value=h.to_string()>{label}</option> }).collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        <span>"People"</span>
                        <select data-testid="invite-uses" prop:value=move || uses.get().to_string()
                            on:change=move |ev| if let Ok(n) = event_target_value(&ev).parse() { uses.set(n) }>
                            {USES.into_iter().map(|n| view! { <option value=n.to_string()>{n.to_string()}</option> }).collect_view()}
                        </select>
                    </label>
                </div>
                {move || error.get().map(|message| view! { <p class="banner banner-error" role="alert" data-testid="invite-error">{message}</p> })}
                <button type="submit" class="button primary wide" data-testid="make-invite">"Make invite"</button>
            </form>
            {move || made.get().map(|invite| view! { <MadeInvite invite/> })}
        </section>
        <section class="card" data-testid="invite-list">
            <h2>"Invites"</h2>
            <ul class="device-list">
                {move || match list.get() {
                    None => view! { <li class="hint">"Loading…"</li> }.into_any(),
                    Some(Err(message)) => view! { <li class="hint">{message}</li> }.into_any(),
                    Some(Ok(invites)) if invites.is_empty() => view! { <li class="hint">"No invites yet."</li> }.into_any(),
                    Some(Ok(invites)) => invites.into_iter().map(|invite| {
                        let where_ = invite.territories.iter()
                            .filter_map(|space| names.iter().find(|t| &t.space == space).map(|t| t.name.clone()))
                            .collect::<Vec<_>>().join(", ");
                        let status = match invite.status {
                            InviteStatus::Open => format!("open until {}", when(shared::Timestamp(invite.expires_at), now())),
                            InviteStatus::UsedUp => "used".to_string(),
                            InviteStatus::Expired => "expired".to_string(),
                            InviteStatus::Revoked => "withdrawn".to_string(),
                        };
                        let open = invite.status == InviteStatus::Open;
                        let (team, id) = (team_id.clone(), invite.id.clone());
                        let load = load.clone();
                        view! {
                            <li class="device" data-testid="invite" data-status=format!("{:?}", invite.status)>
                                <div>
                                    <strong>{role_label(invite.role)}</strong>
                                    {(!where_.is_empty()).then(|| format!(" · {where_}"))}
                                    <p class="hint">{format!("{status} · used {} of {}", invite.uses, invite.max_uses)}</p>
                                </div>
                                {open.then(|| view! {
                                    <button class="button danger" data-testid="revoke-invite" on:click=move |_| {
                                        let (team, invite, load) = (team.clone(), id.clone(), load.clone());
                                        spawn_local(async move {
                                            let _ = sync.team::<()>(TeamCall::RevokeInvite { team, invite }).await;
                                            load();
                                        });
                                    }>"Withdraw"</button>
                                })}
                            </li>
                        }
                    }).collect_view().into_any(),
                }}
            </ul>
        </section>
    }
}

/// A new invite: the code large enough to read aloud across a stand, and the link.
#[component]
fn MadeInvite(invite: NewInvite) -> impl IntoView {
    let (protocol, host) = {
        let location = window().location();
        (
            location.protocol().unwrap_or_default(),
            location.host().unwrap_or_default(),
        )
    };
    let link = format!("{protocol}//{host}/join#{}", invite.secret);
    let copied = RwSignal::new(false);
    let copy = {
        let link = link.clone();
        move |_| {
            let clipboard = window().navigator().clipboard();
            let _ = clipboard.write_text(&link);
            copied.set(true);
        }
    };
    let until = when(shared::Timestamp(invite.invite.expires_at), now());
    let people = match invite.invite.max_uses {
        1 => "one person".to_string(),
        n => format!("{n} people"),
    };
    view! {
        <div class="invite-made" data-testid="invite-made" role="status">
            <p class="hint">"Read this code aloud or show it; it works for " {people} " until " {until} "."</p>
            <p class="invite-code" data-testid="invite-code-shown" aria-label=format!("Invite code {}", spelled(&invite.code))>{invite.code.clone()}</p>
            <p class="hint">"Or send the link (it holds the invite's secret: share it only with them):"</p>
            <p class="invite-link" data-testid="invite-link">{link.clone()}</p>
            <button class="button" data-testid="copy-invite-link" on:click=copy>{move || if copied.get() { "Link copied" } else { "Copy link" }}</button>
        </div>
    }
}

/// A code letter by letter, for screen readers ("K 7 Q M 4 - X P D 2 R").
fn spelled(code: &str) -> String {
    code.chars().map(String::from).collect::<Vec<_>>().join(" ")
}

/// In a team book: refreshes the team's member list this device keeps for the owner picker
/// once the engine reports the session (offline, the last list stays).
#[component]
pub fn MembersRefresher() -> impl IntoView {
    let sync = use_sync();
    if let Some(book) = crate::book::current() {
        let done = StoredValue::new(false);
        let members = use_context::<crate::book::TeamMembers>();
        Effect::new(move |_| {
            if done.get_value() || !sync.ready.get() || sync.session.with(Option::is_none) {
                return;
            }
            done.set_value(true);
            let team = book.team.clone();
            spawn_local(async move {
                let call = TeamCall::Members { team: team.clone() };
                if let Ok(list) = sync.team::<Vec<MemberInfo>>(call).await {
                    let emails: Vec<String> = list.iter().map(|m| m.email.clone()).collect();
                    crate::book::cache_members(&team, &emails);
                    if let Some(members) = members {
                        members.0.set(emails);
                    }
                }
            });
        });
    }
}

/// Above the list: how many customers moved to another territory of the team and how many
/// of this device's edits went with them, until the rep dismisses it.
#[component]
pub fn MovedBanner() -> impl IntoView {
    let repo = crate::repo::use_repo();
    let error = RwSignal::new(None::<String>);
    let dismiss = move |_| {
        spawn_local(async move {
            if let Err(err) = repo.dismiss_moved().await {
                error.set(Some(format!("Not dismissed: {err}")));
            }
        });
    };
    move || {
        // From her own book, customers only ever go into a team (her book brought in).
        let destination = match crate::book::current() {
            Some(_) => "another territory",
            None => "a team territory",
        };
        repo.moved.get().text_to(destination).map(|text| {
            view! {
                <div class="banner banner-info banner-row" role="status" data-testid="moved-notice">
                    <span>{text}</span>
                    <button class="button" data-testid="dismiss-moved" on:click=dismiss>"OK"</button>
                    {move || error.get().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
                </div>
            }
        })
    }
}

/// Moves the customers the list shows (a search, an owner, a filter) into a territory. In a
/// team book, for an admin or a manager: to another territory of the team. In her own book,
/// for anyone signed in: into a territory of one of her teams she may write — her book (or
/// part of it) brought into the team. The relay moves them; the list drops them as soon as
/// the move reaches this device, and offline edits to them (a rep's, or her other
/// devices') follow them.
#[component]
pub fn MoveShown(ids: Signal<Vec<String>>) -> impl IntoView {
    let sync = use_sync();
    let book = crate::book::current();
    // Where from: this team book's territory, or her own book's space once the session is
    // known — and only if she is in a team (as last listed here) with a territory to fill.
    let from = Memo::new(move |_| match crate::book::current() {
        Some(book) => book.role.sees_every_territory().then_some(book.territory),
        None => sync.session.with(|session| {
            let session = session.as_ref()?;
            crate::book::track_teams();
            let teams = crate::book::cached_teams(&session.email).unwrap_or_default();
            let writable = (teams.iter().flat_map(|team| &team.territories))
                .any(|territory| territory.access == SpaceAccess::ReadWrite);
            writable.then(|| session.space_id.clone())
        }),
    });
    move || {
        let book = book.clone();
        from.get().map(|from| view! { <MovePanel ids from book/> })
    }
}

#[component]
fn MovePanel(ids: Signal<Vec<String>>, from: String, book: Option<TeamBook>) -> impl IntoView {
    let sync = use_sync();
    let repo = crate::repo::use_repo();
    let other_books = crate::other_books::use_other_books();
    let open = RwSignal::new(false);
    // From her own book: her catalog, pipeline and fields go along (where she may set the
    // team's).
    let bring_settings = RwSignal::new(true);
    let target = RwSignal::new(0usize);
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    // Where they can go, from the account's teams (`load_teams`: as last seen until the
    // relay answers).
    let (teams, load) = load_teams();
    let targets = {
        let book = book.clone();
        Memo::new(move |_| {
            let me = (sync
                .session
                .with_untracked(|s| s.as_ref().map(|s| s.email.clone())))
            .unwrap_or_default();
            teams.with(|teams| {
                (teams.as_ref()).map(|teams| {
                    (teams.as_ref().map_err(Clone::clone))
                        .and_then(|teams| MoveTarget::of(teams, book.as_ref(), &me))
                })
            })
        })
    };
    let toggle = move |_| {
        outcome.set(None);
        if !open.get_untracked() {
            target.set(0);
            load();
        }
        open.update(|open| *open = !*open);
    };
    let own_book_move = book.is_none();
    let go = StoredValue::new(move || {
        let customers = ids.get_untracked();
        let chosen = targets.with_untracked(|loaded| {
            (loaded.as_ref())
                .and_then(|t| t.as_ref().ok())
                .and_then(|t| t.get(target.get_untracked()).cloned())
        });
        let Some(to) = chosen.filter(|_| !customers.is_empty()) else {
            return;
        };
        let from = from.clone();
        busy.set(true);
        spawn_local(async move {
            let mut moved = 0;
            let mut skipped = Vec::new();
            let mut failed = None;
            let chunks = customers.chunks(shared::sync::handover::MAX_MOVE_CUSTOMERS);
            for chunk in chunks {
                let call = TeamCall::Move {
                    team: to.team.clone(),
                    from: from.clone(),
                    to: to.space.clone(),
                    customers: chunk.to_vec(),
                };
                match sync.team::<shared::sync::handover::MoveOutcome>(call).await {
                    Ok(done) => {
                        moved += done.moved.len();
                        skipped.extend(done.skipped);
                        if customers.len() > chunk.len() {
                            outcome
                                .set(Some(Ok(format!("Moving… {moved} of {}", customers.len()))));
                        }
                    }
                    Err(err) => {
                        failed = Some(err.message);
                        break;
                    }
                }
            }
            // Her catalog, pipeline and fields, into the team's (what it lacks).
            let brought = match (
                &failed,
                moved > 0 && own_book_move && bring_settings.get_untracked(),
            ) {
                (None, true) if to.shared_writable => Some(
                    bring_book_settings(other_books, &to.book, repo.settings.get_untracked()).await,
                ),
                _ => None,
            };
            busy.set(false);
            let name = &to.label;
            let words = match moved {
                1 => format!("Moved 1 customer to {name}."),
                n => format!("Moved {n} customers to {name}."),
            };
            let words = match skipped.len() {
                0 => words,
                n => format!("{words} {n} stayed: {}.", skipped[0].reason),
            };
            let words = match brought {
                Some(Ok(true)) => {
                    format!("{words} Your catalog, pipeline and fields are the team's too.")
                }
                Some(Err(message)) => {
                    format!("{words} Your catalog, pipeline and fields were not copied: {message}")
                }
                Some(Ok(false)) | None => words,
            };
            let all_moved = failed.is_none();
            outcome.set(Some(match failed {
                None => Ok(words),
                Some(message) if moved == 0 => Err(format!("Not moved: {message}")),
                Some(message) => Err(format!("{words} The rest were not moved: {message}")),
            }));
            if all_moved {
                open.set(false);
            }
        });
    });
    let own_book = book.is_none();
    view! {
        <button class="link-button" data-testid="move-shown" on:click=toggle
            disabled=move || ids.with(Vec::is_empty)>
            {move || {
                let which = match ids.with(Vec::len) { 1 => "this customer".to_string(), n => format!("these {n}") };
                if own_book { format!("Move {which} into a team…") } else { format!("Move {which} to…") }
            }}
        </button>
        {move || outcome.get().map(|outcome| match outcome {
            Ok(text) => view! { <p class="banner banner-info" role="status" data-testid="move-done">{text}</p> }.into_any(),
            Err(text) => view! { <p class="field-error" role="alert" data-testid="move-error">{text}</p> }.into_any(),
        })}
        {move || open.get().then(|| view! {
            <div class="card move-panel" data-testid="move-panel">
                {move || match targets.get() {
                    None => view! { <p class="hint">"Loading territories…"</p> }.into_any(),
                    Some(Err(message)) => view! { <p class="field-error" role="alert">{message}</p> }.into_any(),
                    Some(Ok(list)) if list.is_empty() && own_book => view! {
                        <p class="hint" data-testid="move-no-team">"You are in no team with a territory you may add customers to. Start or join one under Menu → Team."</p>
                    }.into_any(),
                    Some(Ok(list)) if list.is_empty() => view! {
                        <p class="hint">"This team has no other territory. An admin adds one on the Team screen."</p>
                    }.into_any(),
                    Some(Ok(list)) => view! {
                        <label class="field">
                            <span>"To territory"</span>
                            <select data-testid="move-target" prop:value=move || target.get().to_string()
                                on:change=move |ev| target.set(event_target_value(&ev).parse().unwrap_or(0))>
                                {list.into_iter().enumerate().map(|(at, t)| view! { <option value=at.to_string()>{t.label}</option> }).collect_view()}
                            </select>
                        </label>
                        {move || (own_book && targets.with(|t| {
                            (t.as_ref()).and_then(|t| t.as_ref().ok())
                                .and_then(|t| t.get(target.get()))
                                .is_some_and(|t| t.shared_writable)
                        })).then(|| view! {
                            <label class="check">
                                <input type="checkbox" data-testid="move-bring-settings"
                                    prop:checked=move || bring_settings.get()
                                    on:change=move |ev| bring_settings.set(event_target_checked(&ev))/>
                                <span>"Also bring my catalog, pipeline and custom fields (what the team does not have yet)"</span>
                            </label>
                        })}
                        <p class="hint">{if own_book {
                            "They leave your own book for the team's: your colleagues in that territory see them, and edits made offline on your other devices follow them."
                        } else {
                            "Reps offline with edits to them lose nothing: their edits follow the customers."
                        }}</p>
                        <button class="button primary" data-testid="move-confirm" on:click=move |_| go.with_value(|go| go())
                            disabled=move || busy.get()>
                            {move || if busy.get() { "Moving…".to_string() } else {
                                match ids.with(Vec::len) { 1 => "Move 1 customer".to_string(), n => format!("Move {n} customers") }
                            }}
                        </button>
                    }.into_any(),
                }}
            </div>
        })}
    }
}

/// Adds what `mine` (her own book's settings) has and the team's book lacks to the team's
/// catalog, pipeline and fields, through `book`'s engine once its copy is up to date.
/// `Ok(false)`: nothing to add.
async fn bring_book_settings(
    other_books: crate::other_books::OtherBooks,
    book: &TeamBook,
    mine: shared::documents::book_doc::BookSettings,
) -> Result<bool, String> {
    let (engine, _) = other_books.borrow(book);
    let answer = async {
        let (team, version) = (other_books.settings_when_synced(&book.territory, 30_000.0))
            .await
            .ok_or_else(|| {
                "the team's book could not be brought up to date (offline?)".to_string()
            })?;
        let after = team.with_brought(&mine);
        if after == team {
            return Ok(false);
        }
        let request = shared::sync::engine_protocol::EngineRequest::UpdateBook {
            version,
            after: Box::new(after),
        };
        engine
            .ask(request)
            .await
            .map(|_| true)
            .map_err(|err| err.to_string())
    }
    .await;
    other_books.release(&book.territory);
    answer
}

/// A territory customers can be moved to, as the move panel offers it.
#[derive(Debug, Clone, PartialEq)]
struct MoveTarget {
    team: String,
    space: String,
    /// The territory's name; "Team · Territory" when moving from the own book.
    label: String,
    /// The territory as a book of this device.
    book: TeamBook,
    /// Whether she may change the team's catalog, pipeline and fields.
    shared_writable: bool,
}

impl MoveTarget {
    /// From team book `book`: the team's other territories; from the own book (`None`):
    /// every territory of her teams she may write.
    fn of(
        teams: &[TeamInfo],
        book: Option<&TeamBook>,
        me: &str,
    ) -> Result<Vec<MoveTarget>, String> {
        let target = |team: &TeamInfo, territory: &TerritoryInfo, label: String| MoveTarget {
            team: team.id.clone(),
            space: territory.space.clone(),
            label,
            book: TeamBook::of(team, territory, me),
            shared_writable: team.shared_access == SpaceAccess::ReadWrite,
        };
        match book {
            Some(book) => {
                let team = (teams.iter().find(|info| info.id == book.team))
                    .ok_or_else(|| "You are no longer in this team.".to_string())?;
                Ok((team.territories.iter())
                    .filter(|t| t.space != book.territory)
                    .map(|t| target(team, t, t.name.clone()))
                    .collect())
            }
            None => Ok(teams
                .iter()
                .flat_map(|team| {
                    (team.territories.iter())
                        .filter(|t| t.access == SpaceAccess::ReadWrite)
                        .map(move |t| target(team, t, format!("{} · {}", team.name, t.name)))
                })
                .collect()),
        }
    }
}

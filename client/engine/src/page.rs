//! The link between this engine and its tab's screens (`client/app`): their requests,
//! answered once each, and the events they show live (see
//! `shared::sync::engine_protocol`). Also what the writer engine does for the other tabs'
//! engines ([`Tabs::serve`]).

use std::collections::BTreeMap;
use std::rc::Rc;

use js_sys::Uint8Array;
use leptos::prelude::*;
use shared::crm::kpi::{DashboardFigures, DashboardRequest};
use shared::model::custom_fields::FieldDefinition;
use shared::sync::engine_protocol::{
    decode, encode, EngineError, EngineEvent, EngineRequest, EngineRole, FromEngine, Reply,
    ToEngine,
};
use shared::sync::tab_protocol::{RequestId, SyncState, TabRequest};
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::{
    repo::{LoadState, Repo, RepoError},
    sync::{ApiError, Sync},
    tabs::{Role, Tabs},
};

/// Serves this tab's screens and, when elected writer, the other tabs' engines.
pub fn serve(tabs: Tabs, repo: Repo, sync: Sync) {
    tabs.serve(move |request| async move {
        match request {
            TabRequest::Store(uploads) => repo.import_changes(uploads).await.map(|_| ()),
            TabRequest::SignedIn(session) => sync.start_session(session).await,
            TabRequest::SignOut { discard_unsent } => {
                sync.sign_out_here(discard_unsent).await;
                Ok(())
            }
            TabRequest::Hello => {
                sync.announce();
                Ok(())
            }
            TabRequest::DismissSetAside(key) => repo
                .dismiss_set_aside(key)
                .await
                .map_err(|err| err.to_string()),
            TabRequest::DismissMoved => repo.dismiss_moved().await.map_err(|err| err.to_string()),
        }
    });
    repo.tell_page_with(Rc::new(|event| post(&FromEngine::Event(event))));
    Effect::new(move |_| {
        let role = match tabs.role.get() {
            Role::Electing => return,
            Role::Writer => EngineRole::Writer,
            Role::Follower => EngineRole::Follower,
            Role::Unsupported => EngineRole::Unsupported,
        };
        post(&FromEngine::Event(EngineEvent::Role(role)));
    });
    Effect::new(move |_| {
        let settings = repo.settings.get();
        post(&FromEngine::Event(EngineEvent::Settings {
            settings: Box::new(settings),
            version: repo.book_version(),
        }));
    });
    Effect::new(move |_| {
        if let LoadState::Failed(message) = repo.load_state.get() {
            post(&FromEngine::Event(EngineEvent::LoadFailed(message)));
        }
    });
    Effect::new(move |_| {
        let state = SyncState {
            status: sync.status.get(),
            session: sync.session.get(),
            notice: sync.notice.get(),
            held: sync.held.get(),
        };
        post(&FromEngine::Event(EngineEvent::Sync(Box::new(state))));
    });
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let Ok(array) = event.data().dyn_into::<Uint8Array>() else {
            return;
        };
        match decode::<ToEngine>(&array.to_vec()) {
            Ok(ToEngine::Online(online)) => sync.set_online(online),
            Ok(ToEngine::Holds { data_version }) => repo.page_holds(data_version),
            Ok(ToEngine::Ask { id, now, request }) => {
                let arrived = common::perf::now_ms();
                // Tests and benchmarks count them (an edit of the customer shown is one).
                common::perf::add_count("engine: requests", 1);
                let dashboard = matches!(request, EngineRequest::Dashboard(_));
                if dashboard {
                    common::perf::mark("fieldbook:dashboard-ask-arrived");
                }
                leptos::task::spawn_local(async move {
                    if dashboard {
                        common::perf::mark("fieldbook:dashboard-ask-started");
                    }
                    crate::clock::follow_page(now);
                    let result = answer(repo, sync, id, request).await;
                    let answered = common::perf::now_ms();
                    if dashboard {
                        common::perf::mark("fieldbook:dashboard-answered");
                    }
                    post(&FromEngine::Answer { id, result });
                    if dashboard {
                        common::perf::add_timing("dashboard: answer posted", answered);
                        common::perf::add_timing("dashboard: in the engine", arrived);
                    }
                })
            }
            Err(err) => tracing::warn!(cause = %err, "ignoring a message from the page"),
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Lives as long as the worker.
    on_message.forget();
}

/// Posts a message to the page, its bytes transferred rather than copied.
fn post(message: &FromEngine) {
    let bytes = Uint8Array::from(encode(message).as_slice());
    if let Err(err) = common::global::post_transferred(&js_sys::global(), &bytes) {
        tracing::warn!(cause = ?err, "could not tell the page");
    }
}

async fn answer(
    repo: Repo,
    sync: Sync,
    id: RequestId,
    request: EngineRequest,
) -> Result<Reply, EngineError> {
    let progress = move |done: usize, total: usize| {
        post(&FromEngine::Progress { id, done, total });
    };
    match request {
        EngineRequest::Customer(customer_id) => Ok(Reply::Customer(Box::new(
            repo.customer_versioned(&customer_id).await?,
        ))),
        EngineRequest::History(customer_id) => {
            Ok(Reply::History(repo.history(&customer_id).await?))
        }
        EngineRequest::RecentChanges { since } => {
            Ok(Reply::RecentChanges(repo.recent_changes(since).await?))
        }
        EngineRequest::PutBack {
            customer,
            field,
            value,
        } => match repo.put_back(&customer, &field, &value).await? {
            Some(_) => Ok(Reply::Updated(Some(Box::new(
                repo.customer_versioned(&customer).await?,
            )))),
            None => Ok(Reply::Updated(None)),
        },
        EngineRequest::Erase { customer, keep_as } => {
            repo.erase(&customer, keep_as).await?;
            Ok(Reply::Done)
        }
        EngineRequest::SetAside => Ok(Reply::SetAside(repo.set_aside().await?)),
        EngineRequest::MovedNotice => Ok(Reply::Moved(repo.moved_notice().await?)),
        EngineRequest::TeamDashboard(request) => Ok(Reply::TeamDashboard(Box::new(
            repo.team_dashboard(&request).await?,
        ))),
        EngineRequest::DismissMoved => {
            repo.dismiss_moved().await?;
            Ok(Reply::Done)
        }
        EngineRequest::DismissSetAside { key } => {
            repo.dismiss_set_aside(key).await?;
            Ok(Reply::Done)
        }
        EngineRequest::Create(customer) => {
            let created = repo.create(*customer).await?;
            Ok(Reply::Customer(Box::new(
                repo.customer_versioned(&created.id).await?,
            )))
        }
        EngineRequest::Update { version, after } => Ok(Reply::Updated(
            repo.update_to(version, *after, id).await?.map(Box::new),
        )),
        EngineRequest::ResolveConflict {
            customer,
            field,
            op,
        } => {
            let resolved = repo.resolve_conflict(&customer, &field, &op).await?;
            match resolved {
                Some(_) => Ok(Reply::Updated(Some(Box::new(
                    repo.customer_versioned(&customer).await?,
                )))),
                None => Ok(Reply::Updated(None)),
            }
        }
        EngineRequest::UpdateBook { version, after } => {
            repo.update_book_to(version, *after).await?;
            Ok(Reply::Done)
        }
        EngineRequest::CreateMany {
            customers,
            batch_size,
            more_follow,
            continues,
        } => {
            let total = customers.len();
            let written = repo
                .create_many(customers, batch_size, more_follow, continues, |done| {
                    progress(done, total)
                })
                .await?;
            Ok(Reply::Count(written))
        }
        EngineRequest::ImportChanges(uploads) => repo
            .import_changes(uploads)
            .await
            .map(Reply::Count)
            .map_err(EngineError::Failed),
        EngineRequest::Backup => repo
            .backup()
            .await
            .map(Reply::Uploads)
            .map_err(EngineError::Failed),
        EngineRequest::Unsynced => repo
            .unsynced_changes()
            .await
            .map(Reply::Uploads)
            .map_err(EngineError::Failed),
        EngineRequest::Facts => {
            repo.load_facts(progress).await?;
            Ok(Reply::Done)
        }
        EngineRequest::Dashboard(request) => {
            let (mut figures, fields) = dashboard(repo, &request, progress).await?;
            let started = common::perf::now_ms();
            repo.with_summaries(|summaries| figures.describe(&fields, |id| summaries.get(id)));
            common::perf::add_timing("dashboard: describe", started);
            Ok(Reply::Dashboard(Box::new(figures)))
        }
        EngineRequest::DashboardCustomers { request, key } => {
            let (figures, fields) = dashboard(repo, &request, progress).await?;
            let found = repo.with_summaries(|summaries| {
                figures.customers_behind(&key, &fields, |id| summaries.get(id))
            });
            Ok(Reply::DashboardCustomers(found))
        }
        EngineRequest::SignIn {
            create,
            email,
            password,
            device_name,
        } => {
            sync.sign_in(create, email, password, device_name).await?;
            Ok(Reply::Done)
        }
        EngineRequest::SignOut { discard_unsent } => {
            sync.sign_out(discard_unsent).await;
            Ok(Reply::Done)
        }
        EngineRequest::Devices => Ok(Reply::Devices(sync.devices().await?)),
        EngineRequest::Revoke(device_id) => {
            sync.revoke(device_id).await?;
            Ok(Reply::Done)
        }
        EngineRequest::Team(call) => Ok(Reply::Json(sync.team(call).await?)),
    }
}

impl From<RepoError> for EngineError {
    fn from(error: RepoError) -> EngineError {
        match error {
            RepoError::Invalid(errors) => EngineError::Invalid(errors),
            RepoError::NotFound => EngineError::NotFound,
            other => EngineError::Failed(other.to_string()),
        }
    }
}

impl From<ApiError> for EngineError {
    fn from(error: ApiError) -> EngineError {
        EngineError::Api {
            message: error.message,
            fields: error.fields,
        }
    }
}

/// A dashboard's figures over the facts in memory (read first if needed, with progress),
/// and the book's custom fields. What the screens show from the list's summaries (leads by
/// tag, rows by field) is added by the figures' request only: a tap's needs none of it.
async fn dashboard(
    repo: Repo,
    request: &DashboardRequest,
    progress: impl Fn(usize, usize) + 'static,
) -> Result<(DashboardFigures, BTreeMap<String, FieldDefinition>), EngineError> {
    common::perf::add_count("dashboard: requests", 1);
    let asked = common::perf::now_ms();
    repo.load_facts(progress).await?;
    common::perf::add_timing("dashboard: facts in memory", asked);
    let started = common::perf::now_ms();
    let (pipeline, fields) = repo
        .settings
        .with_untracked(|settings| (settings.pipeline(), settings.fields.clone()));
    let figures = repo
        .with_facts(|all| shared::crm::kpi::dashboard(all, request, &pipeline))
        .ok_or(EngineError::Failed(
            "the dashboard facts are not in memory".into(),
        ))?;
    common::perf::add_timing("dashboard: compute", started);
    Ok((figures, fields))
}

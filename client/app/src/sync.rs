//! [`Sync`]: what the sync indicator and the account screens show, as the engine reports it
//! (the WebSocket, the outbox and the account API run in the writer tab's engine), and the
//! account actions, carried out by the engine.

use leptos::prelude::*;
use shared::sync::engine_protocol::{EngineError, EngineEvent, EngineRequest, Reply};
use shared::sync::tab_protocol::SyncState;
use shared::sync::{SyncPhase, SyncStatus};

use crate::engine::Engine;

/// What the relay returned at sign-up or sign-in; and the account's devices as the relay
/// lists them.
pub use shared::sync::account::{DeviceInfo, HeldBook, Session as SessionInfo};

/// An API failure: a sentence, and per-field messages for forms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiError {
    /// What went wrong.
    pub message: String,
    /// Field → message.
    pub fields: Vec<(String, String)>,
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> ApiError {
        match error {
            EngineError::Api { message, fields } => ApiError { message, fields },
            other => ApiError {
                message: other.to_string(),
                fields: Vec::new(),
            },
        }
    }
}

/// The sync handle, provided as context.
#[derive(Clone, Copy)]
pub struct Sync {
    /// What the indicator shows.
    pub status: RwSignal<SyncStatus>,
    /// The signed-in account on this device.
    pub session: RwSignal<Option<SessionInfo>>,
    /// A message for the rep (e.g. signed out from another device).
    pub notice: RwSignal<Option<String>>,
    /// Whether the engine has reported the sync state.
    pub ready: RwSignal<bool>,
    /// A book kept after sign-out because some of its changes were never backed up.
    pub held: RwSignal<Option<HeldBook>>,
    engine: Engine,
}

impl Sync {
    /// Shows what `engine` reports.
    pub fn start(engine: Engine) -> Sync {
        let sync = Sync {
            status: RwSignal::new(SyncStatus {
                phase: SyncPhase::LocalOnly,
                unsent: 0,
                last_synced: None,
                bootstrap: None,
                problem: None,
                retry_at: None,
            }),
            session: RwSignal::new(None),
            notice: RwSignal::new(None),
            ready: RwSignal::new(false),
            held: RwSignal::new(None),
            engine,
        };
        engine.listen(move |event| {
            if let EngineEvent::Sync(state) = event {
                let SyncState {
                    status,
                    session,
                    notice,
                    held,
                } = state.as_ref().clone();
                // Only what changed: a screen re-renders on every set (a form would lose
                // what the rep typed).
                set_if_changed(sync.status, status);
                set_if_changed(sync.session, session);
                set_if_changed(sync.notice, notice);
                set_if_changed(sync.held, held);
                set_if_changed(sync.ready, true);
            }
        });
        sync
    }

    /// Signs up (`create`) or in, and starts syncing (in the writer tab's engine).
    pub async fn sign_in(
        self,
        create: bool,
        email: String,
        password: String,
        device_name: String,
    ) -> Result<(), ApiError> {
        self.engine
            .ask(EngineRequest::SignIn {
                create,
                email,
                password,
                device_name,
            })
            .await?;
        // The book is about to hold a whole account: ask the browser to keep it.
        leptos::task::spawn_local(async {
            let _ = crate::device::request_persistence().await;
        });
        Ok(())
    }

    /// Signs this device out. Unless `discard_unsent`, a book with changes never backed up
    /// is held, not removed.
    pub async fn sign_out(self, discard_unsent: bool) {
        if let Err(err) = self
            .engine
            .ask(EngineRequest::SignOut { discard_unsent })
            .await
        {
            self.notice.set(Some(format!("Could not sign out: {err}")));
        }
    }

    /// This account's devices.
    pub async fn devices(self) -> Result<Vec<DeviceInfo>, ApiError> {
        match self.engine.ask(EngineRequest::Devices).await? {
            Reply::Devices(devices) => Ok(devices),
            other => Err(ApiError {
                message: format!("the engine answered something unexpected: {other:?}"),
                fields: Vec::new(),
            }),
        }
    }

    /// Revokes another device of the account; its open connection closes at once.
    pub async fn revoke(self, device_id: String) -> Result<(), ApiError> {
        self.engine.ask(EngineRequest::Revoke(device_id)).await?;
        Ok(())
    }

    /// A call of the relay's team API (made by the engine with this device's token), its
    /// answer read as `T` (`()` for calls that answer nothing).
    pub async fn team<T: serde::de::DeserializeOwned>(
        self,
        call: shared::sync::team::TeamCall,
    ) -> Result<T, ApiError> {
        let unexpected = |detail: String| ApiError {
            message: format!("the relay answered something unexpected: {detail}"),
            fields: Vec::new(),
        };
        match self.engine.ask(EngineRequest::Team(call)).await? {
            Reply::Json(json) => {
                serde_json::from_str(&json).map_err(|err| unexpected(err.to_string()))
            }
            other => Err(unexpected(format!("{other:?}"))),
        }
    }
}

fn set_if_changed<T: PartialEq + Send + std::marker::Sync + 'static>(
    signal: RwSignal<T>,
    value: T,
) {
    if signal.with_untracked(|current| *current != value) {
        signal.set(value);
    }
}

/// The sync handle provided to the component tree.
pub fn use_sync() -> Sync {
    expect_context::<Sync>()
}

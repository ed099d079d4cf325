//! The installed-app side: registers the service worker (`client/sw.js`, completed at build
//! time by `scripts/build-sw.mjs`) and offers a new version when one is waiting.
//!
//! A new build's worker installs in the background but does not take over by itself, so a
//! page never mixes files of two builds; the banner's "Reload" asks it to take over and
//! reloads once it controls the page.

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{ServiceWorker, ServiceWorkerRegistration, ServiceWorkerState};

/// Whether a new version waits, shared with the banner.
#[derive(Clone, Copy)]
pub struct Pwa {
    /// The waiting worker of a newer build, if any.
    waiting: RwSignal<Option<ServiceWorker>, LocalStorage>,
}

impl Pwa {
    /// Registers `/sw.js` when the browser supports service workers (they need a secure
    /// context: https, or http on localhost/127.0.0.1), once `engine_ready` resolves.
    pub fn start(engine_ready: impl std::future::Future<Output = ()> + 'static) -> Pwa {
        let pwa = Pwa {
            waiting: RwSignal::new_local(None),
        };
        let navigator = window().navigator();
        if !js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker")).unwrap_or(false) {
            return pwa;
        }
        let container = navigator.service_worker();
        // Reload once a new worker took control after the rep asked for it.
        let on_controller_change = Closure::<dyn Fn()>::new(move || {
            if pwa.waiting.get_untracked().is_some() {
                let _ = window().location().reload();
            }
        });
        container.set_oncontrollerchange(Some(on_controller_change.as_ref().unchecked_ref()));
        on_controller_change.forget();
        leptos::task::spawn_local(async move {
            // Only once the engine worker runs: its files (not content-hashed) are then in the
            // HTTP cache, so the precache revalidates them instead of downloading them a
            // second time while the worker is still fetching them.
            engine_ready.await;
            let promise = container.register("/sw.js");
            match wasm_bindgen_futures::JsFuture::from(promise).await {
                Ok(registration) => {
                    if let Ok(registration) = registration.dyn_into::<ServiceWorkerRegistration>() {
                        pwa.watch(registration);
                    }
                }
                Err(err) => tracing::warn!(cause = ?err, "service worker registration failed"),
            }
        });
        pwa
    }

    fn watch(self, registration: ServiceWorkerRegistration) {
        let has_controller = || window().navigator().service_worker().controller().is_some();
        // A worker already waiting from an earlier visit.
        if let Some(waiting) = registration.waiting() {
            if has_controller() {
                self.offer(waiting);
            }
        }
        let registration_for_update = registration.clone();
        let on_update = Closure::<dyn Fn()>::new(move || {
            let Some(installing) = registration_for_update.installing() else {
                return;
            };
            let worker = installing.clone();
            let on_state = Closure::<dyn Fn()>::new(move || {
                // Installed while another version controls this page: offer it. (The very
                // first install has no controller: nothing to offer.)
                if worker.state() == ServiceWorkerState::Installed && has_controller() {
                    self.offer(worker.clone());
                }
            });
            installing.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
            on_state.forget();
        });
        registration.set_onupdatefound(Some(on_update.as_ref().unchecked_ref()));
        on_update.forget();
    }

    fn offer(self, worker: ServiceWorker) {
        self.waiting.set(Some(worker));
    }

    /// Whether a newer version is ready to take over.
    pub fn update_available(self) -> bool {
        self.waiting.with(Option::is_some)
    }

    /// Asks the waiting version to take over; the page reloads when it has.
    pub fn apply_update(self) {
        if let Some(worker) = self.waiting.get_untracked() {
            let message = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&message, &"type".into(), &"skip-waiting".into());
            if let Err(err) = worker.post_message(&message) {
                tracing::warn!(cause = ?err, "could not ask the new version to take over");
            }
        }
    }
}

/// The "new version available" banner.
#[component]
pub fn UpdateBanner() -> impl IntoView {
    let pwa = expect_context::<Pwa>();
    move || {
        pwa.update_available().then(|| {
            view! {
                <div class="banner banner-info update-banner" data-testid="update-banner" role="status">
                    <span>"A new version of Fieldbook is ready."</span>
                    <button class="button primary" data-testid="update-reload" on:click=move |_| pwa.apply_update()>
                        "Reload"
                    </button>
                </div>
            }
        })
    }
}

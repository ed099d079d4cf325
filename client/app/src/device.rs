//! What the browser says about this device: persistent storage, usage and quota, whether
//! the app runs installed, and iOS Safari (which deletes a website's data after 7 days
//! without use unless it is installed on the home screen).

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// This origin's `localStorage`, if the browser allows it (private modes may not).
pub fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn storage_manager() -> Option<web_sys::StorageManager> {
    let navigator = web_sys::window()?.navigator();
    js_sys::Reflect::has(&navigator, &"storage".into())
        .unwrap_or(false)
        .then(|| navigator.storage())
}

/// Whether the browser keeps this site's data even under storage pressure.
pub async fn persisted() -> Option<bool> {
    let promise = storage_manager()?.persisted().ok()?;
    JsFuture::from(promise).await.ok()?.as_bool()
}

/// Asks the browser to keep this site's data (Chromium decides silently, Firefox asks the
/// user). Called when there is something worth keeping: after a save, and at sign-in.
pub async fn request_persistence() -> Option<bool> {
    if persisted().await == Some(true) {
        return Some(true);
    }
    let promise = storage_manager()?.persist().ok()?;
    JsFuture::from(promise).await.ok()?.as_bool()
}

/// Bytes used and available to this site.
pub async fn estimate() -> Option<(f64, f64)> {
    let promise = storage_manager()?.estimate().ok()?;
    // A dictionary, not a class instance: `dyn_into` would refuse it.
    let estimate: web_sys::StorageEstimate = JsFuture::from(promise).await.ok()?.unchecked_into();
    Some((estimate.get_usage()?, estimate.get_quota()?))
}

/// Whether the app runs from the home screen (standalone display mode).
pub fn installed() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let standalone = window
        .match_media("(display-mode: standalone)")
        .ok()
        .flatten()
        .is_some_and(|query| query.matches());
    // iOS Safari's own flag.
    let ios_standalone = js_sys::Reflect::get(&window.navigator(), &"standalone".into())
        .ok()
        .and_then(|value| value.as_bool())
        .unwrap_or(false);
    standalone || ios_standalone
}

/// Whether this is Safari on an iPhone or iPad (where storage of sites not installed is
/// deleted after 7 days without use).
pub fn ios_safari() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    let agent = navigator.user_agent().unwrap_or_default();
    let touch_mac = agent.contains("Macintosh") && navigator.max_touch_points() > 1;
    let ios = agent.contains("iPhone") || agent.contains("iPad") || touch_mac;
    // Other iOS browsers (CriOS, FxiOS, EdgiOS) cannot install web apps the same way.
    ios && agent.contains("Safari")
        && !agent.contains("CriOS")
        && !agent.contains("FxiOS")
        && !agent.contains("EdgiOS")
}

/// "1.2 MB".
pub fn bytes(n: f64) -> String {
    if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else {
        format!("{:.0} KB", n / 1e3)
    }
}

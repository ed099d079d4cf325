//! The relay's account API in JSON (`/api/signup`, `/api/signin`, `/api/devices`): the
//! records both the relay and the app read and write.

use serde::{Deserialize, Serialize};

/// What a successful sign-up or sign-in returns to the device (and the device keeps).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Session {
    /// The account.
    pub account_id: String,
    /// Its email.
    pub email: String,
    /// The account's own space (its book).
    pub space_id: String,
    /// This device.
    pub device_id: String,
    /// This device's name.
    pub device_name: String,
    /// This device's secret token; shown once.
    pub token: String,
}

/// A name for a device from its browser's user agent ("Chrome on Android", "Safari on
/// iPhone"): the name a device signs in with unless the rep types another, and the name its
/// changes carry before it signs in (so another device never shows them as "this device").
pub fn device_label(user_agent: &str) -> String {
    let browser = if user_agent.contains("Edg/") {
        "Edge"
    } else if user_agent.contains("Firefox/") || user_agent.contains("FxiOS/") {
        "Firefox"
    } else if user_agent.contains("CriOS/")
        || user_agent.contains("Chrome/")
        || user_agent.contains("Chromium/")
    {
        "Chrome"
    } else if user_agent.contains("Safari/") {
        "Safari"
    } else {
        "Browser"
    };
    let system = if user_agent.contains("iPhone") {
        "iPhone"
    } else if user_agent.contains("iPad") {
        "iPad"
    } else if user_agent.contains("Android") {
        "Android"
    } else if user_agent.contains("CrOS") {
        "ChromeOS"
    } else if user_agent.contains("Mac OS") {
        "Mac"
    } else if user_agent.contains("Windows") {
        "Windows"
    } else {
        "Linux"
    };
    format!("{browser} on {system}")
}

/// A device, as the devices screen lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it signed in (ms since the epoch).
    pub created_at: i64,
    /// When the relay last heard from it (ms since the epoch).
    pub last_seen_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
    /// Whether it is the device asking.
    pub current: bool,
}

/// A book kept on a device that was signed out while it still held changes the relay never
/// acknowledged: nothing is removed until the rep exported them or chose to remove them
/// (kept in the device's storage, so a reload still says so).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HeldBook {
    /// The account the changes belong to.
    pub email: String,
    /// Its space: signing in again to this space resumes sending them; another account is
    /// refused until they are exported or removed (they must not reach someone else's book).
    pub space_id: String,
    /// Why the device was signed out, for the rep.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::device_label;

    #[test]
    fn a_device_is_named_after_its_browser_and_system() {
        for (agent, name) in [
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1",
                "Chrome on iPad",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:132.0) Gecko/20100101 Firefox/132.0",
                "Firefox on Mac",
            ),
            ("", "Browser on Linux"),
        ] {
            assert_eq!(device_label(agent), name, "{agent}");
        }
    }
}

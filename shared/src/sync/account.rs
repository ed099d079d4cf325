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

//! [`Timestamp`]: a point in time, always supplied by the runtime.

use autosurgeon::{reconcile::NoKey, Hydrate, HydrateError, Reconcile, Reconciler};

/// Milliseconds since the Unix epoch (UTC).
///
/// `shared` never reads a clock: the browser passes `Date.now()` and the relay passes the
/// system time, so tests can use fixed instants.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

// Stored as an Automerge integer. Written by hand rather than derived: the derived newtype
// impl hydrates only as a struct field, not inside an `Option` (`Option<Timestamp>`).
impl Reconcile for Timestamp {
    type Key<'a> = NoKey;

    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.i64(self.0)
    }
}

impl Hydrate for Timestamp {
    fn hydrate_int(value: i64) -> Result<Self, HydrateError> {
        Ok(Timestamp(value))
    }

    fn hydrate_uint(value: u64) -> Result<Self, HydrateError> {
        i64::try_from(value)
            .map(Timestamp)
            .map_err(|_| HydrateError::unexpected("a timestamp", value.to_string()))
    }
}

impl Timestamp {
    /// Milliseconds in one day.
    pub const DAY_MS: i64 = 86_400_000;

    /// The civil date (UTC) of this instant as (year, month 1-12, day 1-31).
    pub fn civil_date(self) -> (i32, u32, u32) {
        civil_from_days(self.0.div_euclid(Self::DAY_MS))
    }
}

/// Converts a civil date into days since 1970-01-01 (Howard Hinnant's `days_from_civil`),
/// the inverse of [`civil_from_days`].
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Converts days since 1970-01-01 into a (year, month, day) civil date (Howard Hinnant's
/// `civil_from_days` algorithm).
pub fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let day_of_year = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(Timestamp(0).civil_date(), (1970, 1, 1));
        // 2026-11-22T10:00:00Z
        assert_eq!(Timestamp(1_795_341_600_000).civil_date(), (2026, 11, 22));
        // 2024-02-29T23:59:59Z, a leap day.
        assert_eq!(Timestamp(1_709_251_199_000).civil_date(), (2024, 2, 29));
        assert_eq!(Timestamp(-1).civil_date(), (1969, 12, 31));
    }

    #[test]
    fn day_numbers_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(
            days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 28),
            2
        );
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}

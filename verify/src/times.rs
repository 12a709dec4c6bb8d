//! Time conversions shared by the checks, the errors' messages and the report.

use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

/// RFC 3339 text of a time (for messages).
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// A time from seconds since the epoch. X.509 times end at 9999-12-31, within range; beyond
/// it, saturates.
pub(crate) fn datetime(since_epoch: Duration) -> OffsetDateTime {
    i64::try_from(since_epoch.as_secs())
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or(PrimitiveDateTime::MAX.assume_utc())
}

/// Whole seconds since the epoch, if not before it.
pub(crate) fn unix_secs(t: OffsetDateTime) -> Option<u64> {
    u64::try_from(t.unix_timestamp()).ok()
}

//! The catalog's single timestamp encoding: RFC 3339 UTC text with exactly six fractional
//! digits, so that text order is time order in SQLite and PostgreSQL alike.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

use crate::CatalogError;

/// The current time, truncated to the microsecond precision the catalog stores (so a value read
/// back compares equal to the value written).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Encodes a timestamp for storage.
pub fn encode(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Decodes a stored timestamp.
pub fn decode(text: &str) -> Result<DateTime<Utc>, CatalogError> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|e| CatalogError::Storage(format!("unreadable timestamp `{text}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_sorts_as_text() {
        let a = now();
        let b = a + chrono::Duration::microseconds(1);
        assert_eq!(decode(&encode(a)).unwrap(), a);
        assert!(encode(a) < encode(b));
        assert!(encode(a).ends_with('Z'));
        assert!(decode("yesterday").is_err());
    }
}

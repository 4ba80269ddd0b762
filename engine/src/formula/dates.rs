//! Dates in formulas: string literals that stand for dates or timestamps, and the units of
//! `DATE_DIFF`/`DATE_ADD`.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::arrow::datatypes::IntervalMonthDayNano;
use datafusion::common::ScalarValue;

use crate::types::ColumnType;

/// The typed literal a string such as `'2024-01-31'` or `'2024-01-31 09:30:00'` stands for, when
/// it is one; compared with a date or timestamp column it is used instead of the text.
pub(crate) fn temporal_literal(text: &str) -> Option<(ScalarValue, ColumnType)> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let days = date
            .signed_duration_since(DateTime::UNIX_EPOCH.date_naive())
            .num_days();
        return Some((
            ScalarValue::Date32(Some(i32::try_from(days).ok()?)),
            ColumnType::Date,
        ));
    }
    let naive = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .or_else(|| {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.naive_utc())
    })?;
    let micros = naive.and_utc().timestamp_micros();
    Some((
        ScalarValue::TimestampMicrosecond(Some(micros), None),
        ColumnType::Timestamp,
    ))
}

/// A calendar or clock unit named in `DATE_DIFF`/`DATE_ADD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateUnit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl DateUnit {
    /// The unit named `text` (singular or plural, any case).
    pub(crate) fn parse(text: &str) -> Option<DateUnit> {
        let lower = text.trim().to_ascii_lowercase();
        let singular = lower.strip_suffix('s').unwrap_or(&lower);
        Some(match singular {
            "second" => DateUnit::Second,
            "minute" => DateUnit::Minute,
            "hour" => DateUnit::Hour,
            "day" => DateUnit::Day,
            "week" => DateUnit::Week,
            "month" => DateUnit::Month,
            "year" => DateUnit::Year,
            _ => return None,
        })
    }

    /// The unit's name in interval text such as `'3 day'`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            DateUnit::Second => "second",
            DateUnit::Minute => "minute",
            DateUnit::Hour => "hour",
            DateUnit::Day => "day",
            DateUnit::Week => "week",
            DateUnit::Month => "month",
            DateUnit::Year => "year",
        }
    }

    /// Length in seconds for fixed-length units; months and years have none.
    pub(crate) fn seconds(self) -> Option<i64> {
        match self {
            DateUnit::Second => Some(1),
            DateUnit::Minute => Some(60),
            DateUnit::Hour => Some(3_600),
            DateUnit::Day => Some(86_400),
            DateUnit::Week => Some(604_800),
            DateUnit::Month | DateUnit::Year => None,
        }
    }

    /// Whether moving a date by this unit keeps it a date (whole days or more).
    pub(crate) fn keeps_dates(self) -> bool {
        matches!(
            self,
            DateUnit::Day | DateUnit::Week | DateUnit::Month | DateUnit::Year
        )
    }

    /// `n` of this unit as an interval, or `None` if it does not fit.
    pub(crate) fn interval(self, n: i64) -> Option<IntervalMonthDayNano> {
        const NANOS_PER_SECOND: i64 = 1_000_000_000;
        Some(match self {
            DateUnit::Second | DateUnit::Minute | DateUnit::Hour => {
                let seconds = n.checked_mul(self.seconds()?)?;
                IntervalMonthDayNano::new(0, 0, seconds.checked_mul(NANOS_PER_SECOND)?)
            }
            DateUnit::Day => IntervalMonthDayNano::new(0, i32::try_from(n).ok()?, 0),
            DateUnit::Week => {
                IntervalMonthDayNano::new(0, i32::try_from(n.checked_mul(7)?).ok()?, 0)
            }
            DateUnit::Month => IntervalMonthDayNano::new(i32::try_from(n).ok()?, 0, 0),
            DateUnit::Year => {
                IntervalMonthDayNano::new(i32::try_from(n.checked_mul(12)?).ok()?, 0, 0)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_and_timestamp_strings_become_typed_literals() {
        assert_eq!(
            temporal_literal("2024-01-02"),
            Some((ScalarValue::Date32(Some(19_724)), ColumnType::Date))
        );
        assert_eq!(
            temporal_literal("1970-01-01 00:00:01.5"),
            Some((
                ScalarValue::TimestampMicrosecond(Some(1_500_000), None),
                ColumnType::Timestamp
            ))
        );
        assert_eq!(
            temporal_literal("1970-01-01T01:00:00+01:00"),
            Some((
                ScalarValue::TimestampMicrosecond(Some(0), None),
                ColumnType::Timestamp
            ))
        );
        assert_eq!(temporal_literal("2024-13-01"), None);
        assert_eq!(temporal_literal("large"), None);
    }

    #[test]
    fn units_accept_plurals_and_reject_unknown_names() {
        assert_eq!(DateUnit::parse("Days"), Some(DateUnit::Day));
        assert_eq!(DateUnit::parse("week"), Some(DateUnit::Week));
        assert_eq!(DateUnit::parse("fortnight"), None);
        assert_eq!(
            DateUnit::Year.interval(2),
            Some(IntervalMonthDayNano::new(24, 0, 0))
        );
        assert_eq!(DateUnit::Hour.interval(i64::MAX), None);
    }
}

//! PostgreSQL's text output for scalar values, byte for byte.
//!
//! Clients parse these strings (psql shows them, drivers in text mode decode them), so they follow
//! PostgreSQL 16 with `DateStyle = ISO, MDY`, `IntervalStyle = postgres` and
//! `extra_float_digits = 1`: shortest round-trip floats, `Infinity`/`NaN`, timestamps without
//! trailing fractional zeros, `+00`-style offsets, `BC` years and `1 year 2 mons 3 days 04:05:06`
//! intervals.

use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};

/// Microseconds in a day.
pub(crate) const MICROS_PER_DAY: i64 = 86_400_000_000;
const MICROS_PER_HOUR: i64 = 3_600_000_000;
const MICROS_PER_MINUTE: i64 = 60_000_000;
const MICROS_PER_SECOND: i64 = 1_000_000;

/// Writes `true`/`false` as PostgreSQL does: `t`/`f`.
pub(crate) fn write_bool(buf: &mut BytesMut, value: bool) {
    buf.put_u8(if value { b't' } else { b'f' });
}

/// Writes any integer in decimal.
pub(crate) fn write_int<I: itoa::Integer>(buf: &mut BytesMut, value: I) {
    let mut digits = itoa::Buffer::new();
    buf.put_slice(digits.format(value).as_bytes());
}

/// Writes a `float8` the way PostgreSQL's `float8out` does.
pub(crate) fn write_f64(buf: &mut BytesMut, value: f64) {
    if let Some(special) = float_special(value.is_nan(), value.is_infinite(), value < 0.0) {
        buf.put_slice(special.as_bytes());
        return;
    }
    let mut scientific = StackStr::new();
    // `{:e}` prints the shortest digits that round-trip, in scientific notation.
    let _ = write!(scientific, "{value:e}");
    write_shortest(buf, scientific.as_str(), 15);
}

/// Writes a `float4` the way PostgreSQL's `float4out` does.
pub(crate) fn write_f32(buf: &mut BytesMut, value: f32) {
    if let Some(special) = float_special(value.is_nan(), value.is_infinite(), value < 0.0) {
        buf.put_slice(special.as_bytes());
        return;
    }
    let mut scientific = StackStr::new();
    let _ = write!(scientific, "{value:e}");
    write_shortest(buf, scientific.as_str(), 6);
}

fn float_special(nan: bool, infinite: bool, negative: bool) -> Option<&'static str> {
    if nan {
        Some("NaN")
    } else if infinite {
        Some(if negative { "-Infinity" } else { "Infinity" })
    } else {
        None
    }
}

/// Lays out Rust's shortest scientific form (`-1.25e-7`) like PostgreSQL's Ryu output: fixed
/// notation when the decimal exponent is in `[-4, fixed_limit)`, otherwise `d.ddde+XX`.
fn write_shortest(buf: &mut BytesMut, scientific: &str, fixed_limit: i32) {
    let (negative, unsigned) = match scientific.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, scientific),
    };
    let (mantissa, exponent) = unsigned.split_once('e').unwrap_or((unsigned, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let mut digits = [0u8; 24];
    let mut len = 0;
    for &b in mantissa.as_bytes() {
        if b.is_ascii_digit() && len < digits.len() {
            digits[len] = b;
            len += 1;
        }
    }
    let digits = &digits[..len.max(1)];
    if negative {
        buf.put_u8(b'-');
    }
    if (-4..fixed_limit).contains(&exponent) {
        if exponent >= 0 {
            let int_len = exponent as usize + 1;
            if digits.len() <= int_len {
                buf.put_slice(digits);
                buf.put_bytes(b'0', int_len - digits.len());
            } else {
                buf.put_slice(&digits[..int_len]);
                buf.put_u8(b'.');
                buf.put_slice(&digits[int_len..]);
            }
        } else {
            buf.put_slice(b"0.");
            buf.put_bytes(b'0', (-exponent - 1) as usize);
            buf.put_slice(digits);
        }
    } else {
        buf.put_u8(digits[0]);
        if digits.len() > 1 {
            buf.put_u8(b'.');
            buf.put_slice(&digits[1..]);
        }
        buf.put_u8(b'e');
        buf.put_u8(if exponent < 0 { b'-' } else { b'+' });
        let magnitude = exponent.unsigned_abs();
        if magnitude < 10 {
            buf.put_u8(b'0');
        }
        write_int(buf, magnitude);
    }
}

/// A small fixed-capacity string for formatting floats without allocating.
struct StackStr {
    bytes: [u8; 48],
    len: usize,
}

impl StackStr {
    fn new() -> Self {
        StackStr {
            bytes: [0; 48],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("0e0")
    }
}

impl std::fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.bytes.len() {
            return Err(std::fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Proleptic Gregorian `(year, month, day)` of a day count since 1970-01-01 (year 0 is 1 BC).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's `civil_from_days`, valid over the whole i64 day range we can be given.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Writes `YYYY-MM-DD` and reports whether the year is BC (the caller appends ` BC` last).
fn write_ymd(buf: &mut BytesMut, days: i64) -> bool {
    let (year, month, day) = civil_from_days(days);
    let bc = year <= 0;
    let shown = if bc { 1 - year } else { year };
    if shown < 1000 {
        buf.put_bytes(
            b'0',
            if shown < 10 {
                3
            } else if shown < 100 {
                2
            } else {
                1
            },
        );
    }
    write_int(buf, shown);
    buf.put_u8(b'-');
    put_2digits(buf, month);
    buf.put_u8(b'-');
    put_2digits(buf, day);
    bc
}

fn put_2digits(buf: &mut BytesMut, value: u32) {
    buf.put_u8(b'0' + (value / 10 % 10) as u8);
    buf.put_u8(b'0' + (value % 10) as u8);
}

/// Writes `HH:MM:SS[.ffffff]` for microseconds within a day, trailing fractional zeros trimmed.
fn write_hms(buf: &mut BytesMut, micros_of_day: i64) {
    let seconds = micros_of_day / MICROS_PER_SECOND;
    put_2digits(buf, (seconds / 3600) as u32);
    buf.put_u8(b':');
    put_2digits(buf, (seconds / 60 % 60) as u32);
    buf.put_u8(b':');
    put_2digits(buf, (seconds % 60) as u32);
    write_fraction(buf, micros_of_day % MICROS_PER_SECOND);
}

/// Writes `.ffffff` with trailing zeros removed, nothing for a whole second.
fn write_fraction(buf: &mut BytesMut, micros: i64) {
    if micros == 0 {
        return;
    }
    let mut digits = [b'0'; 6];
    let mut rest = micros;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let end = digits.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
    buf.put_u8(b'.');
    buf.put_slice(&digits[..end]);
}

/// Writes a `date` from days since 1970-01-01.
pub(crate) fn write_date(buf: &mut BytesMut, days: i64) {
    if write_ymd(buf, days) {
        buf.put_slice(b" BC");
    }
}

/// Writes a `time` from microseconds since midnight.
pub(crate) fn write_time(buf: &mut BytesMut, micros: i64) {
    write_hms(buf, micros.rem_euclid(MICROS_PER_DAY));
}

/// Writes a `timestamp` (no offset) or, with `offset_seconds`, a `timestamptz` shown at that
/// UTC offset; `micros` is the wall-clock time at that offset, in microseconds since 1970.
pub(crate) fn write_timestamp(buf: &mut BytesMut, micros: i64, offset_seconds: Option<i32>) {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let bc = write_ymd(buf, days);
    buf.put_u8(b' ');
    write_hms(buf, micros.rem_euclid(MICROS_PER_DAY));
    if let Some(offset) = offset_seconds {
        write_offset(buf, offset);
    }
    if bc {
        buf.put_slice(b" BC");
    }
}

/// Writes a UTC offset as PostgreSQL does: `+00`, `+05:30`, `-03:00:15`.
fn write_offset(buf: &mut BytesMut, offset_seconds: i32) {
    buf.put_u8(if offset_seconds < 0 { b'-' } else { b'+' });
    let total = offset_seconds.unsigned_abs();
    put_2digits(buf, total / 3600);
    let minutes = total / 60 % 60;
    let seconds = total % 60;
    if minutes != 0 || seconds != 0 {
        buf.put_u8(b':');
        put_2digits(buf, minutes);
    }
    if seconds != 0 {
        buf.put_u8(b':');
        put_2digits(buf, seconds);
    }
}

/// Writes an `interval` in `IntervalStyle = postgres`, e.g. `1 year 2 mons -3 days +04:05:06.5`.
pub(crate) fn write_interval(buf: &mut BytesMut, months: i32, days: i32, micros: i64) {
    let mut is_zero = true;
    let mut is_before = false;
    write_interval_part(
        buf,
        i64::from(months / 12),
        "year",
        &mut is_zero,
        &mut is_before,
    );
    write_interval_part(
        buf,
        i64::from(months % 12),
        "mon",
        &mut is_zero,
        &mut is_before,
    );
    write_interval_part(buf, i64::from(days), "day", &mut is_zero, &mut is_before);
    if is_zero || micros != 0 {
        let hours = micros / MICROS_PER_HOUR;
        let minutes = micros % MICROS_PER_HOUR / MICROS_PER_MINUTE;
        let seconds = micros % MICROS_PER_MINUTE / MICROS_PER_SECOND;
        let fraction = micros % MICROS_PER_SECOND;
        if !is_zero {
            buf.put_u8(b' ');
        }
        if micros < 0 {
            buf.put_u8(b'-');
        } else if is_before {
            buf.put_u8(b'+');
        }
        let hours = hours.unsigned_abs();
        if hours < 10 {
            buf.put_u8(b'0');
        }
        write_int(buf, hours);
        buf.put_u8(b':');
        put_2digits(buf, minutes.unsigned_abs() as u32);
        buf.put_u8(b':');
        put_2digits(buf, seconds.unsigned_abs() as u32);
        write_fraction(buf, fraction.abs());
    }
}

fn write_interval_part(
    buf: &mut BytesMut,
    value: i64,
    unit: &str,
    is_zero: &mut bool,
    is_before: &mut bool,
) {
    if value == 0 {
        return;
    }
    if !*is_zero {
        buf.put_u8(b' ');
    }
    if *is_before && value > 0 {
        buf.put_u8(b'+');
    }
    write_int(buf, value);
    buf.put_u8(b' ');
    buf.put_slice(unit.as_bytes());
    if value != 1 {
        buf.put_u8(b's');
    }
    *is_before = value < 0;
    *is_zero = false;
}

/// Writes `bytea` in PostgreSQL's default hex output: `\x` then two lowercase digits a byte.
pub(crate) fn write_bytea(buf: &mut BytesMut, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.reserve(2 + bytes.len() * 2);
    buf.put_slice(b"\\x");
    for &b in bytes {
        buf.put_u8(HEX[usize::from(b >> 4)]);
        buf.put_u8(HEX[usize::from(b & 0x0f)]);
    }
}

/// Appends `element` (already in text form) to an array literal, quoted and escaped when
/// PostgreSQL's `array_out` would quote it.
pub(crate) fn write_array_element(buf: &mut BytesMut, element: &[u8]) {
    let needs_quotes = element.is_empty()
        || element.eq_ignore_ascii_case(b"NULL")
        || element.iter().any(|&b| {
            matches!(
                b,
                b'{' | b'}' | b',' | b'"' | b'\\' | b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c
            )
        });
    if !needs_quotes {
        buf.put_slice(element);
        return;
    }
    buf.put_u8(b'"');
    for &b in element {
        if b == b'"' || b == b'\\' {
            buf.put_u8(b'\\');
        }
        buf.put_u8(b);
    }
    buf.put_u8(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut BytesMut)) -> String {
        let mut buf = BytesMut::new();
        f(&mut buf);
        String::from_utf8(buf.to_vec()).unwrap()
    }

    #[test]
    fn float8_matches_postgres_output() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (-2.25, "-2.25"),
            (1234.5, "1234.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123456789012345.0, "123456789012345"),
            (1e15, "1e+15"),
            (1.2345e20, "1.2345e+20"),
            (1e100, "1e+100"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (value, expected) in cases {
            assert_eq!(text(|b| write_f64(b, *value)), *expected, "{value:?}");
        }
    }

    #[test]
    fn float4_uses_its_own_shortest_form_and_threshold() {
        assert_eq!(text(|b| write_f32(b, 0.1)), "0.1");
        assert_eq!(text(|b| write_f32(b, 100000.0)), "100000");
        assert_eq!(text(|b| write_f32(b, 1000000.0)), "1e+06");
        assert_eq!(text(|b| write_f32(b, 3.4028235e38)), "3.4028235e+38");
        assert_eq!(text(|b| write_f32(b, f32::NEG_INFINITY)), "-Infinity");
    }

    #[test]
    fn dates_and_timestamps_follow_iso_style() {
        // 2026-01-04 13:05:01.5 UTC
        let days = 20457;
        let micros = days * MICROS_PER_DAY + (13 * 3600 + 5 * 60 + 1) * 1_000_000 + 500_000;
        assert_eq!(text(|b| write_date(b, days)), "2026-01-04");
        assert_eq!(
            text(|b| write_timestamp(b, micros, None)),
            "2026-01-04 13:05:01.5"
        );
        assert_eq!(
            text(|b| write_timestamp(b, micros - 500_000, Some(0))),
            "2026-01-04 13:05:01+00"
        );
        assert_eq!(
            text(|b| write_timestamp(b, micros + 19_800 * 1_000_000, Some(19_800))),
            "2026-01-04 18:35:01.5+05:30"
        );
        assert_eq!(
            text(|b| write_timestamp(b, 123, None)),
            "1970-01-01 00:00:00.000123"
        );
    }

    #[test]
    fn dates_before_the_common_era_say_bc() {
        // 0001-01-01 is day -719162; one day earlier is 1 BC (year 0).
        assert_eq!(text(|b| write_date(b, -719_162)), "0001-01-01");
        assert_eq!(text(|b| write_date(b, -719_163)), "0001-12-31 BC");
        assert_eq!(
            text(|b| write_timestamp(b, -719_163 * MICROS_PER_DAY, Some(0))),
            "0001-12-31 00:00:00+00 BC"
        );
        assert_eq!(text(|b| write_date(b, 2_932_897)), "10000-01-01");
    }

    #[test]
    fn times_trim_fractional_zeros() {
        assert_eq!(text(|b| write_time(b, 0)), "00:00:00");
        assert_eq!(
            text(|b| write_time(b, (23 * 3600 + 59 * 60 + 59) * 1_000_000 + 120_000)),
            "23:59:59.12"
        );
    }

    #[test]
    fn intervals_match_postgres_style() {
        assert_eq!(text(|b| write_interval(b, 0, 0, 0)), "00:00:00");
        assert_eq!(
            text(|b| write_interval(b, 14, 3, (4 * 3600 + 5 * 60 + 6) * 1_000_000 + 500_000)),
            "1 year 2 mons 3 days 04:05:06.5"
        );
        assert_eq!(text(|b| write_interval(b, 1, 1, 0)), "1 mon 1 day");
        assert_eq!(
            text(|b| write_interval(b, 0, -1, 2 * 3600 * 1_000_000)),
            "-1 days +02:00:00"
        );
        assert_eq!(
            text(|b| write_interval(b, 0, 0, -(90 * 60 * 1_000_000))),
            "-01:30:00"
        );
        assert_eq!(
            text(|b| write_interval(b, 0, 0, 36 * 3600 * 1_000_000)),
            "36:00:00"
        );
        assert_eq!(text(|b| write_interval(b, -13, 0, 0)), "-1 years -1 mons");
    }

    #[test]
    fn bytea_is_hex() {
        assert_eq!(text(|b| write_bytea(b, &[0, 0xab, 0x10])), "\\x00ab10");
        assert_eq!(text(|b| write_bytea(b, &[])), "\\x");
    }

    #[test]
    fn array_elements_are_quoted_only_when_needed() {
        assert_eq!(text(|b| write_array_element(b, b"abc")), "abc");
        assert_eq!(text(|b| write_array_element(b, b"")), "\"\"");
        assert_eq!(text(|b| write_array_element(b, b"null")), "\"null\"");
        assert_eq!(text(|b| write_array_element(b, b"a b")), "\"a b\"");
        assert_eq!(
            text(|b| write_array_element(b, b"say \"hi\"\\")),
            "\"say \\\"hi\\\"\\\\\""
        );
    }
}

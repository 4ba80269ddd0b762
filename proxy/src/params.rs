//! Bound parameter values (`Bind` message) to DataFusion scalars of the planned types.
//!
//! Text-format values are parsed the way PostgreSQL parses input (`t`/`yes`/`on` for booleans,
//! `\x` hex for `bytea`, ISO dates and timestamps, interval syntax); binary values use
//! PostgreSQL's send formats (big-endian integers and floats, days and microseconds since
//! 2000-01-01, base-10000 `numeric`). Errors carry PostgreSQL's SQLSTATEs: 22P02 for text that
//! does not parse, 22P03 for malformed binary data.

use std::sync::Arc;

use arrow::datatypes::{DataType, IntervalMonthDayNano, IntervalUnit, TimeUnit};
use datafusion::common::ScalarValue;
use pgwire::api::Type;

use crate::numeric;
use crate::types::{param_data_type, pg_type};

/// Days from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch).
const PG_EPOCH_DAYS: i64 = 10_957;
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS * 86_400_000_000;

/// A parameter value that does not fit its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct ParamError {
    /// PostgreSQL's SQLSTATE for the failure.
    pub sqlstate: &'static str,
    /// What went wrong, naming the parameter.
    pub message: String,
}

impl ParamError {
    fn text(index: usize, data_type: &DataType, value: &str) -> Self {
        ParamError {
            sqlstate: "22P02",
            message: format!(
                "invalid input syntax for type {} (parameter ${}): \"{value}\"",
                pg_type(data_type).ty.name(),
                index + 1
            ),
        }
    }

    fn binary(index: usize, data_type: &DataType) -> Self {
        ParamError {
            sqlstate: "22P03",
            message: format!(
                "incorrect binary data format in bind parameter {} (type {})",
                index + 1,
                pg_type(data_type).ty.name()
            ),
        }
    }
}

/// Decodes parameter `index` (0-based) into a value of the planned type `data_type` from its
/// wire bytes (`None` is SQL NULL) in text or binary format.
///
/// Binary values arrive in the send format of the type the client declared in Parse, when it
/// declared one (an `int4` for a parameter planned as `int8`, a `numeric` compared with a float
/// column, a `uuid`), and are converted to the planned type.
pub(crate) fn decode(
    index: usize,
    bytes: Option<&[u8]>,
    binary: bool,
    data_type: &DataType,
    declared: Option<&Type>,
) -> Result<ScalarValue, ParamError> {
    let Some(bytes) = bytes else {
        return ScalarValue::try_new_null(data_type)
            .map_err(|_| ParamError::binary(index, data_type));
    };
    if !binary {
        let text = std::str::from_utf8(bytes).map_err(|_| ParamError {
            sqlstate: "22021",
            message: format!(
                "invalid byte sequence for encoding \"UTF8\" in parameter ${}",
                index + 1
            ),
        })?;
        return decode_text(index, text, data_type);
    }
    let wire = declared.and_then(|t| param_data_type(t.oid()).map(|w| (t, w)));
    let Some((declared, wire_type)) = wire else {
        return decode_binary(index, bytes, data_type);
    };
    let error = || ParamError::binary(index, &wire_type);
    let value = match *declared {
        Type::UUID => {
            let uuid: [u8; 16] = fixed(bytes).ok_or_else(error)?;
            ScalarValue::Utf8(Some(format_uuid(&uuid)))
        }
        Type::JSONB => {
            // jsonb_send: a version byte (1) and the JSON text.
            let text = match bytes.split_first() {
                Some((1, text)) => std::str::from_utf8(text).ok(),
                _ => None,
            };
            ScalarValue::Utf8(Some(text.ok_or_else(error)?.to_string()))
        }
        Type::NUMERIC => {
            // Exact digits, parsed straight into the planned type (decimal, float, integer).
            let decimal = numeric::read_binary(bytes).map_err(|e| ParamError {
                sqlstate: "22P03",
                message: format!("parameter ${}: {e}", index + 1),
            })?;
            return decode_text(index, &decimal_text(&decimal), data_type);
        }
        _ => decode_binary(index, bytes, &wire_type)?,
    };
    convert(index, value, data_type)
}

/// Converts a decoded value to the planned type.
fn convert(
    index: usize,
    value: ScalarValue,
    data_type: &DataType,
) -> Result<ScalarValue, ParamError> {
    if &value.data_type() == data_type {
        return Ok(value);
    }
    value.cast_to(data_type).map_err(|_| ParamError {
        sqlstate: "42804",
        message: format!(
            "parameter ${} of type {} cannot be used as type {}",
            index + 1,
            pg_type(&value.data_type()).ty.name(),
            pg_type(data_type).ty.name()
        ),
    })
}

fn decode_text(index: usize, text: &str, data_type: &DataType) -> Result<ScalarValue, ParamError> {
    let error = || ParamError::text(index, data_type, text);
    match data_type {
        DataType::Utf8 => Ok(ScalarValue::Utf8(Some(text.to_string()))),
        DataType::LargeUtf8 => Ok(ScalarValue::LargeUtf8(Some(text.to_string()))),
        DataType::Utf8View => Ok(ScalarValue::Utf8View(Some(text.to_string()))),
        DataType::Boolean => parse_bool(text)
            .map(|b| ScalarValue::Boolean(Some(b)))
            .ok_or_else(error),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let bytes = parse_bytea(text).ok_or_else(error)?;
            Ok(match data_type {
                DataType::LargeBinary => ScalarValue::LargeBinary(Some(bytes)),
                DataType::BinaryView => ScalarValue::BinaryView(Some(bytes)),
                _ => ScalarValue::Binary(Some(bytes)),
            })
        }
        DataType::List(element) => {
            let items = parse_text_array(text).ok_or_else(error)?;
            let values = items
                .iter()
                .map(|item| match item {
                    Some(item) => decode_text(index, item, element.data_type()),
                    None => ScalarValue::try_new_null(element.data_type()).map_err(|_| error()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ScalarValue::List(ScalarValue::new_list_nullable(
                &values,
                element.data_type(),
            )))
        }
        DataType::Float32 | DataType::Float64 => {
            let value = parse_float(text).ok_or_else(error)?;
            Ok(match data_type {
                DataType::Float32 => ScalarValue::Float32(Some(value as f32)),
                _ => ScalarValue::Float64(Some(value)),
            })
        }
        _ => ScalarValue::try_from_string(text.trim().to_string(), data_type).map_err(|_| error()),
    }
}

/// PostgreSQL's boolean input: any unambiguous prefix of true/false/yes/no, on/off, 1/0.
fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim().to_ascii_lowercase();
    if t.is_empty() {
        return None;
    }
    let prefix_of = |word: &str| word.starts_with(&t);
    if prefix_of("true") || prefix_of("yes") || t == "on" || t == "1" {
        Some(true)
    } else if prefix_of("false") || prefix_of("no") || t == "off" || t == "of" || t == "0" {
        Some(false)
    } else {
        None
    }
}

/// PostgreSQL's float input, including `Infinity`, `-Infinity` and `NaN` in any case.
fn parse_float(text: &str) -> Option<f64> {
    let t = text.trim();
    match t.to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" | "inf" | "+inf" => Some(f64::INFINITY),
        "-infinity" | "-inf" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ => t.parse().ok(),
    }
}

/// `bytea` input: `\x` hex, or the traditional escape format (`\\`, `\ooo` octal).
fn parse_bytea(text: &str) -> Option<Vec<u8>> {
    if let Some(hex) = text.strip_prefix("\\x") {
        let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        if !digits.len().is_multiple_of(2) {
            return None;
        }
        return digits
            .chunks(2)
            .map(|pair| {
                let high = (pair[0] as char).to_digit(16)?;
                let low = (pair[1] as char).to_digit(16)?;
                Some((high * 16 + low) as u8)
            })
            .collect();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
        } else if bytes.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let octal = bytes.get(i + 1..i + 4)?;
            if !octal.iter().all(|b| (b'0'..=b'7').contains(b)) || octal[0] > b'3' {
                return None;
            }
            out.push(octal.iter().fold(0u8, |acc, d| acc * 8 + (d - b'0')));
            i += 4;
        }
    }
    Some(out)
}

fn decode_binary(
    index: usize,
    bytes: &[u8],
    data_type: &DataType,
) -> Result<ScalarValue, ParamError> {
    let error = || ParamError::binary(index, data_type);
    // Integers are accepted in any of PostgreSQL's widths, so an int4 sent for an int8
    // parameter (or the reverse, when it fits) still binds.
    let int = || -> Result<i64, ParamError> {
        match bytes.len() {
            2 => Ok(i64::from(i16::from_be_bytes([bytes[0], bytes[1]]))),
            4 => Ok(i64::from(i32::from_be_bytes(
                fixed(bytes).ok_or_else(error)?,
            ))),
            8 => Ok(i64::from_be_bytes(fixed(bytes).ok_or_else(error)?)),
            _ => Err(error()),
        }
    };
    let narrow = |value: i64, min: i64, max: i64| -> Result<i64, ParamError> {
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(ParamError {
                sqlstate: "22003",
                message: format!("parameter ${} is out of range for its type", index + 1),
            })
        }
    };
    let value = match data_type {
        DataType::Boolean => match bytes {
            [b] => ScalarValue::Boolean(Some(*b != 0)),
            _ => return Err(error()),
        },
        DataType::Int8 => {
            ScalarValue::Int8(Some(narrow(int()?, i8::MIN.into(), i8::MAX.into())? as i8))
        }
        DataType::Int16 => ScalarValue::Int16(Some(
            narrow(int()?, i16::MIN.into(), i16::MAX.into())? as i16,
        )),
        DataType::Int32 => ScalarValue::Int32(Some(
            narrow(int()?, i32::MIN.into(), i32::MAX.into())? as i32,
        )),
        DataType::Int64 => ScalarValue::Int64(Some(int()?)),
        DataType::UInt8 => ScalarValue::UInt8(Some(narrow(int()?, 0, u8::MAX.into())? as u8)),
        DataType::UInt16 => ScalarValue::UInt16(Some(narrow(int()?, 0, u16::MAX.into())? as u16)),
        DataType::UInt32 => ScalarValue::UInt32(Some(narrow(int()?, 0, u32::MAX.into())? as u32)),
        DataType::UInt64 => ScalarValue::UInt64(Some(narrow(int()?, 0, i64::MAX)? as u64)),
        DataType::Float32 | DataType::Float64 => {
            let value = match bytes.len() {
                4 => f64::from(f32::from_be_bytes(fixed(bytes).ok_or_else(error)?)),
                8 => f64::from_be_bytes(fixed(bytes).ok_or_else(error)?),
                _ => return Err(error()),
            };
            match data_type {
                DataType::Float32 => ScalarValue::Float32(Some(value as f32)),
                _ => ScalarValue::Float64(Some(value)),
            }
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = std::str::from_utf8(bytes).map_err(|_| error())?.to_string();
            match data_type {
                DataType::LargeUtf8 => ScalarValue::LargeUtf8(Some(text)),
                DataType::Utf8View => ScalarValue::Utf8View(Some(text)),
                _ => ScalarValue::Utf8(Some(text)),
            }
        }
        DataType::Binary => ScalarValue::Binary(Some(bytes.to_vec())),
        DataType::LargeBinary => ScalarValue::LargeBinary(Some(bytes.to_vec())),
        DataType::BinaryView => ScalarValue::BinaryView(Some(bytes.to_vec())),
        DataType::Date32 => {
            let days =
                i64::from(i32::from_be_bytes(fixed(bytes).ok_or_else(error)?)) + PG_EPOCH_DAYS;
            ScalarValue::Date32(Some(i32::try_from(days).map_err(|_| error())?))
        }
        DataType::Timestamp(unit, zone) => {
            let micros = i64::from_be_bytes(fixed(bytes).ok_or_else(error)?)
                .checked_add(PG_EPOCH_MICROS)
                .ok_or_else(error)?;
            timestamp(micros, *unit, zone.clone()).ok_or_else(error)?
        }
        DataType::Time64(TimeUnit::Microsecond) => ScalarValue::Time64Microsecond(Some(
            i64::from_be_bytes(fixed(bytes).ok_or_else(error)?),
        )),
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let raw: [u8; 16] = fixed(bytes).ok_or_else(error)?;
            let micros = i64::from_be_bytes(fixed(&raw[..8]).ok_or_else(error)?);
            let days = i32::from_be_bytes(fixed(&raw[8..12]).ok_or_else(error)?);
            let months = i32::from_be_bytes(fixed(&raw[12..]).ok_or_else(error)?);
            ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(
                months,
                days,
                micros.checked_mul(1_000).ok_or_else(error)?,
            )))
        }
        DataType::List(element) => decode_binary_array(index, bytes, element.data_type())?,
        DataType::Decimal128(precision, scale) => {
            let decimal = numeric::read_binary(bytes).map_err(|e| ParamError {
                sqlstate: "22P03",
                message: format!("parameter ${}: {e}", index + 1),
            })?;
            let text = decimal_text(&decimal);
            ScalarValue::try_from_string(text, &DataType::Decimal128(*precision, *scale))
                .map_err(|_| error())?
        }
        _ => return Err(error()),
    };
    Ok(value)
}

fn format_uuid(bytes: &[u8; 16]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Reads PostgreSQL's binary array format (one dimension) into a list of `element` values.
fn decode_binary_array(
    index: usize,
    bytes: &[u8],
    element: &DataType,
) -> Result<ScalarValue, ParamError> {
    let error = || {
        ParamError::binary(
            index,
            &DataType::List(Arc::new(arrow::datatypes::Field::new_list_field(
                element.clone(),
                true,
            ))),
        )
    };
    let word = |at: usize| -> Result<i32, ParamError> {
        bytes
            .get(at..at + 4)
            .and_then(fixed::<4>)
            .map(i32::from_be_bytes)
            .ok_or_else(error)
    };
    let dimensions = word(0)?;
    let element_oid = word(8)? as u32;
    let wire_element = Type::from_oid(element_oid);
    let mut values = Vec::new();
    match dimensions {
        0 => {}
        1 => {
            let count = usize::try_from(word(12)?).map_err(|_| error())?;
            let mut at = 20;
            for _ in 0..count {
                let len = word(at)?;
                at += 4;
                let value = if len < 0 {
                    ScalarValue::try_new_null(element).map_err(|_| error())?
                } else {
                    let end = at.checked_add(len as usize).ok_or_else(error)?;
                    let item = bytes.get(at..end).ok_or_else(error)?;
                    at = end;
                    decode(index, Some(item), true, element, wire_element.as_ref())?
                };
                values.push(value);
            }
            if at != bytes.len() {
                return Err(error());
            }
        }
        _ => {
            return Err(ParamError {
                sqlstate: "0A000",
                message: format!(
                    "parameter ${}: multidimensional arrays are not supported",
                    index + 1
                ),
            })
        }
    }
    Ok(ScalarValue::List(ScalarValue::new_list_nullable(
        &values, element,
    )))
}

/// Parses a one-dimensional array literal (`{1,NULL,"a b"}`) into its elements' text.
fn parse_text_array(text: &str) -> Option<Vec<Option<String>>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut items = Vec::new();
    if inner.trim().is_empty() {
        return Some(items);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut item = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => item.push(chars.next()?),
                    c => item.push(c),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                match c {
                    ',' => break,
                    '{' | '}' | '"' => return None,
                    '\\' => {
                        chars.next();
                        item.push(chars.next()?);
                    }
                    c => {
                        item.push(c);
                        chars.next();
                    }
                }
            }
            let trimmed = item.trim_end().to_string();
            item = trimmed;
        }
        let is_null = !quoted && item.eq_ignore_ascii_case("NULL");
        items.push((!is_null).then_some(item));
        match chars.next() {
            None => return Some(items),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

fn fixed<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

fn timestamp(micros: i64, unit: TimeUnit, zone: Option<Arc<str>>) -> Option<ScalarValue> {
    Some(match unit {
        TimeUnit::Second => ScalarValue::TimestampSecond(Some(micros.div_euclid(1_000_000)), zone),
        TimeUnit::Millisecond => {
            ScalarValue::TimestampMillisecond(Some(micros.div_euclid(1_000)), zone)
        }
        TimeUnit::Microsecond => ScalarValue::TimestampMicrosecond(Some(micros), zone),
        TimeUnit::Nanosecond => {
            ScalarValue::TimestampNanosecond(Some(micros.checked_mul(1_000)?), zone)
        }
    })
}

fn decimal_text(decimal: &numeric::Decimal) -> String {
    let mut buf = bytes::BytesMut::new();
    numeric::write_text(&mut buf, decimal.negative, &decimal.digits, decimal.scale);
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_parse_like_postgres_input() {
        assert_eq!(
            decode(0, Some(b"42"), false, &DataType::Int64, None),
            Ok(ScalarValue::Int64(Some(42)))
        );
        assert_eq!(
            decode(0, Some(b" yes "), false, &DataType::Boolean, None),
            Ok(ScalarValue::Boolean(Some(true)))
        );
        assert_eq!(
            decode(0, Some(b"f"), false, &DataType::Boolean, None),
            Ok(ScalarValue::Boolean(Some(false)))
        );
        assert_eq!(
            decode(0, Some(b"-Infinity"), false, &DataType::Float64, None),
            Ok(ScalarValue::Float64(Some(f64::NEG_INFINITY)))
        );
        assert_eq!(
            decode(0, Some(b"\\x00ff"), false, &DataType::Binary, None),
            Ok(ScalarValue::Binary(Some(vec![0, 255])))
        );
        assert_eq!(
            decode(0, Some(b"a\\\\b\\001"), false, &DataType::Binary, None),
            Ok(ScalarValue::Binary(Some(b"a\\b\x01".to_vec())))
        );
        assert_eq!(
            decode(0, Some(b"2026-01-04"), false, &DataType::Date32, None),
            Ok(ScalarValue::Date32(Some(20457)))
        );
        assert_eq!(
            decode(
                0,
                Some(b"2026-01-04 13:05:01.5"),
                false,
                &DataType::Timestamp(TimeUnit::Microsecond, None),
                None
            ),
            Ok(ScalarValue::TimestampMicrosecond(
                Some(1_767_531_901_500_000),
                None
            ))
        );
        assert_eq!(
            decode(0, Some(b"12.30"), false, &DataType::Decimal128(10, 2), None),
            Ok(ScalarValue::Decimal128(Some(1230), 10, 2))
        );
        assert_eq!(
            decode(1, None, false, &DataType::Int32, None),
            Ok(ScalarValue::Int32(None))
        );
    }

    #[test]
    fn arrays_decode_from_text_and_binary() {
        let list = DataType::List(Arc::new(arrow::datatypes::Field::new_list_field(
            DataType::Int64,
            true,
        )));
        let expected = ScalarValue::List(ScalarValue::new_list_nullable(
            &[
                ScalarValue::Int64(Some(1)),
                ScalarValue::Int64(None),
                ScalarValue::Int64(Some(3)),
            ],
            &DataType::Int64,
        ));
        assert_eq!(
            decode(0, Some(b"{1, NULL ,3}"), false, &list, None),
            Ok(expected.clone())
        );
        let mut binary = Vec::new();
        for v in [1i32, 1, 23, 3, 1] {
            binary.extend_from_slice(&v.to_be_bytes());
        }
        for element in [Some(1i32), None, Some(3)] {
            match element {
                Some(v) => {
                    binary.extend_from_slice(&4i32.to_be_bytes());
                    binary.extend_from_slice(&v.to_be_bytes());
                }
                None => binary.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        assert_eq!(
            decode(0, Some(&binary), true, &list, Some(&Type::INT4_ARRAY)),
            Ok(expected)
        );
        let strings = DataType::List(Arc::new(arrow::datatypes::Field::new_list_field(
            DataType::Utf8,
            true,
        )));
        assert_eq!(
            decode(
                0,
                Some(br#"{"a b","x\"y",NULL,"NULL"}"#),
                false,
                &strings,
                None
            ),
            Ok(ScalarValue::List(ScalarValue::new_list_nullable(
                &[
                    ScalarValue::Utf8(Some("a b".into())),
                    ScalarValue::Utf8(Some("x\"y".into())),
                    ScalarValue::Utf8(None),
                    ScalarValue::Utf8(Some("NULL".into())),
                ],
                &DataType::Utf8,
            )))
        );
        assert_eq!(
            decode(0, Some(b"{{1}}"), false, &list, None)
                .unwrap_err()
                .sqlstate,
            "22P02"
        );
    }

    #[test]
    fn declared_binary_types_convert_to_the_planned_type() {
        let mut numeric = Vec::new();
        for v in [2i16, 0, 0, 2] {
            numeric.extend_from_slice(&v.to_be_bytes());
        }
        numeric.extend_from_slice(&1u16.to_be_bytes());
        numeric.extend_from_slice(&5000u16.to_be_bytes());
        assert_eq!(
            decode(
                0,
                Some(&numeric),
                true,
                &DataType::Float64,
                Some(&Type::NUMERIC)
            ),
            Ok(ScalarValue::Float64(Some(1.5)))
        );
        assert_eq!(
            decode(
                0,
                Some(&9i32.to_be_bytes()),
                true,
                &DataType::Float64,
                Some(&Type::INT4)
            ),
            Ok(ScalarValue::Float64(Some(9.0)))
        );
    }

    #[test]
    fn bad_text_is_22p02_naming_the_parameter() {
        let err = decode(1, Some(b"abc"), false, &DataType::Int32, None).unwrap_err();
        assert_eq!(err.sqlstate, "22P02");
        assert!(err.message.contains("$2"), "{}", err.message);
        assert!(err.message.contains("int4"), "{}", err.message);
        assert_eq!(
            decode(0, Some(b"maybe"), false, &DataType::Boolean, None)
                .unwrap_err()
                .sqlstate,
            "22P02"
        );
    }

    #[test]
    fn binary_values_use_postgres_send_formats() {
        assert_eq!(
            decode(0, Some(&7i32.to_be_bytes()), true, &DataType::Int64, None),
            Ok(ScalarValue::Int64(Some(7)))
        );
        assert_eq!(
            decode(0, Some(&7i64.to_be_bytes()), true, &DataType::Int32, None),
            Ok(ScalarValue::Int32(Some(7)))
        );
        assert_eq!(
            decode(
                0,
                Some(&(i64::from(i32::MAX) + 1).to_be_bytes()),
                true,
                &DataType::Int32,
                None
            )
            .unwrap_err()
            .sqlstate,
            "22003"
        );
        assert_eq!(
            decode(
                0,
                Some(&2.5f64.to_be_bytes()),
                true,
                &DataType::Float64,
                None
            ),
            Ok(ScalarValue::Float64(Some(2.5)))
        );
        assert_eq!(
            decode(0, Some(&1i32.to_be_bytes()), true, &DataType::Date32, None),
            Ok(ScalarValue::Date32(Some(10_958)))
        );
        assert_eq!(
            decode(
                0,
                Some(&5i64.to_be_bytes()),
                true,
                &DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
                None
            ),
            Ok(ScalarValue::TimestampMicrosecond(
                Some(946_684_800_000_005),
                Some("+00:00".into())
            ))
        );
        let mut numeric = Vec::new();
        for v in [2i16, 0, 0, 2] {
            numeric.extend_from_slice(&v.to_be_bytes());
        }
        numeric.extend_from_slice(&1u16.to_be_bytes());
        numeric.extend_from_slice(&5000u16.to_be_bytes());
        assert_eq!(
            decode(0, Some(&numeric), true, &DataType::Decimal128(38, 10), None),
            Ok(ScalarValue::Decimal128(Some(15_000_000_000), 38, 10))
        );
        assert_eq!(
            decode(0, Some(&[1, 2, 3]), true, &DataType::Int32, None)
                .unwrap_err()
                .sqlstate,
            "22P03"
        );
        let uuid = [
            0x12u8, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0, 1, 2, 3, 4, 5, 6, 7,
        ];
        assert_eq!(
            decode(0, Some(&uuid), true, &DataType::Utf8, Some(&Type::UUID)),
            Ok(ScalarValue::Utf8(Some(
                "12345678-9abc-def0-0001-020304050607".into()
            )))
        );
        assert_eq!(
            decode(
                0,
                Some(b"\x01{}"),
                true,
                &DataType::Utf8,
                Some(&Type::JSONB)
            ),
            Ok(ScalarValue::Utf8(Some("{}".into())))
        );
    }
}

//! Arrow record batches to PostgreSQL `DataRow` messages, in text or binary per column.
//!
//! A whole batch is encoded into one buffer (each value length-prefixed in place, no per-value
//! allocation), then cut into one `DataRow` per row without copying. Writers are chosen once per
//! column and batch, so the per-value cost is a dynamic call plus the formatting itself. Every
//! Arrow type FlowForge can return has a text and a binary form; types without a PostgreSQL
//! counterpart are sent as `text` using Arrow's display format.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::str::FromStr;

use arrow::array::timezone::Tz;
use arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, FixedSizeListArray, GenericListArray, Int64Array,
    OffsetSizeTrait, RecordBatch,
};
use arrow::buffer::NullBuffer;
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Decimal256Type, Decimal32Type, Decimal64Type,
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType,
    Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    IntervalDayTimeType, IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow::error::ArrowError;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use bytes::{BufMut, BytesMut};
use chrono::{DateTime, Offset, TimeZone};
use pgwire::api::results::FieldFormat;
use pgwire::api::Type;
use pgwire::messages::data::DataRow;

use crate::numeric;
use crate::pg_text;
use crate::types::{self, pg_type};

/// Days from 1970-01-01 to PostgreSQL's epoch 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;
/// Microseconds from 1970-01-01 to PostgreSQL's epoch 2000-01-01.
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS * pg_text::MICROS_PER_DAY;

/// Why a batch could not be encoded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EncodeError {
    /// An Arrow operation (a cast of a dictionary column, a display formatter) failed.
    #[error("cannot encode result column: {0}")]
    Arrow(#[from] ArrowError),
    /// The batch does not have the columns the result was described with.
    #[error("result batch has {actual} columns, expected {expected}")]
    ColumnCount {
        /// Columns in the RowDescription.
        expected: usize,
        /// Columns in the batch.
        actual: usize,
    },
    /// An array's layout does not match its declared type (a backend bug).
    #[error("result column of type {0} has an unexpected layout")]
    Layout(DataType),
    /// A value does not fit the PostgreSQL type its column is announced as.
    #[error("value {value} is out of range for type {target}")]
    OutOfRange {
        /// The value, as text.
        value: String,
        /// The PostgreSQL type.
        target: &'static str,
    },
}

/// Session settings that change how values are written.
#[derive(Debug, Clone, Default)]
pub(crate) struct EncodeContext {
    /// The session `TimeZone` that `timestamptz` text is shown in; `None` is UTC.
    time_zone: Option<Tz>,
}

impl EncodeContext {
    /// A context showing `timestamptz` values in `time_zone` (an IANA name or a fixed offset).
    /// Returns `None` when the name is not a time zone.
    pub(crate) fn with_time_zone(time_zone: &str) -> Option<Self> {
        if is_utc(time_zone) {
            return Some(EncodeContext { time_zone: None });
        }
        let tz = Tz::from_str(time_zone).ok()?;
        Some(EncodeContext {
            time_zone: Some(tz),
        })
    }

    /// UTC offset, in seconds, of the session time zone at an instant.
    fn offset_seconds(&self, utc_micros: i64) -> i32 {
        let Some(tz) = &self.time_zone else {
            return 0;
        };
        DateTime::from_timestamp_micros(utc_micros)
            .map(|instant| {
                tz.offset_from_utc_datetime(&instant.naive_utc())
                    .fix()
                    .local_minus_utc()
            })
            .unwrap_or(0)
    }
}

/// Whether a `TimeZone` setting names UTC.
pub(crate) fn is_utc(time_zone: &str) -> bool {
    [
        "UTC",
        "Etc/UTC",
        "GMT",
        "Etc/GMT",
        "Z",
        "Zulu",
        "UCT",
        "Universal",
        "+00:00",
        "+00",
    ]
    .iter()
    .any(|name| name.eq_ignore_ascii_case(time_zone))
}

/// Encodes batches of one result into `DataRow`s with fixed per-column formats.
#[derive(Debug)]
pub(crate) struct RowEncoder {
    formats: Vec<FieldFormat>,
    context: EncodeContext,
    /// Columns announced as `oid` (4-byte unsigned in binary) rather than their Arrow type.
    oid_columns: Vec<bool>,
}

type WriteFn<'a> = Box<dyn Fn(usize, &mut BytesMut) -> Result<(), EncodeError> + 'a>;

/// One column of a batch, ready to write.
struct ColumnWriter<'a> {
    nulls: Option<NullBuffer>,
    write: WriteFn<'a>,
}

impl RowEncoder {
    /// An encoder writing column `i` in `formats[i]`.
    pub(crate) fn new(formats: Vec<FieldFormat>, context: EncodeContext) -> Self {
        RowEncoder {
            formats,
            context,
            oid_columns: Vec::new(),
        }
    }

    /// Declares the PostgreSQL type each column is announced as, so `bigint` values announced
    /// as `oid` are written in `oid`'s binary form.
    pub(crate) fn with_wire_types(mut self, types: &[Type]) -> Self {
        self.oid_columns = types
            .iter()
            .map(|t| {
                matches!(
                    *t,
                    Type::OID | Type::REGPROC | Type::REGCLASS | Type::REGTYPE
                )
            })
            .collect();
        self
    }

    /// Encodes every row of `batch` and appends one `DataRow` per row to `rows`.
    pub(crate) fn encode_batch(
        &self,
        batch: &RecordBatch,
        rows: &mut VecDeque<DataRow>,
    ) -> Result<(), EncodeError> {
        if batch.num_columns() != self.formats.len() {
            return Err(EncodeError::ColumnCount {
                expected: self.formats.len(),
                actual: batch.num_columns(),
            });
        }
        let arrays = batch
            .columns()
            .iter()
            .map(normalize)
            .collect::<Result<Vec<_>, _>>()?;
        let columns = arrays
            .iter()
            .zip(&self.formats)
            .enumerate()
            .map(|(i, (array, format))| {
                let as_oid = self.oid_columns.get(i).copied().unwrap_or(false);
                let write = match array.as_primitive_opt::<Int64Type>() {
                    Some(values) if as_oid && *format == FieldFormat::Binary => oid_writer(values),
                    _ => writer(array.as_ref(), *format, &self.context)?,
                };
                Ok(ColumnWriter {
                    nulls: array.logical_nulls(),
                    write,
                })
            })
            .collect::<Result<Vec<_>, EncodeError>>()?;

        let field_count = columns.len() as i16;
        let mut buf = BytesMut::with_capacity(batch.num_rows() * (columns.len() * 12 + 8));
        let mut ends = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            for column in &columns {
                if column.nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                    buf.put_i32(-1);
                } else {
                    write_framed(&mut buf, |buf| (column.write)(row, buf))?;
                }
            }
            ends.push(buf.len());
        }
        let mut start = 0;
        for end in ends {
            let data = buf.split_to(end - start);
            start = end;
            rows.push_back(DataRow::new(data, field_count));
        }
        Ok(())
    }
}

/// Writes `bigint` values as PostgreSQL's binary `oid`: 4 bytes, unsigned.
fn oid_writer(values: &Int64Array) -> WriteFn<'_> {
    Box::new(move |i, buf| {
        let value = values.value(i);
        let oid = u32::try_from(value).map_err(|_| EncodeError::OutOfRange {
            value: value.to_string(),
            target: "oid",
        })?;
        buf.put_u32(oid);
        Ok(())
    })
}

/// Writes a value preceded by its 4-byte length.
fn write_framed(
    buf: &mut BytesMut,
    write: impl FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let at = buf.len();
    buf.put_i32(0);
    write(buf)?;
    let len = (buf.len() - at - 4) as i32;
    buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Casts dictionary and run-end encoded arrays (also inside lists) to their value type.
fn normalize(array: &ArrayRef) -> Result<ArrayRef, EncodeError> {
    let target = types::value_type(array.data_type());
    if &target == array.data_type() {
        return Ok(array.clone());
    }
    Ok(cast(array, &target)?)
}

fn layout(array: &dyn Array) -> EncodeError {
    EncodeError::Layout(array.data_type().clone())
}

/// Picks the writer for one column.
fn writer<'a>(
    array: &'a dyn Array,
    format: FieldFormat,
    context: &'a EncodeContext,
) -> Result<WriteFn<'a>, EncodeError> {
    let binary = format == FieldFormat::Binary;
    let data_type = array.data_type().clone();
    let writer: WriteFn<'a> = match &data_type {
        DataType::Boolean => {
            let a = array.as_boolean_opt().ok_or_else(|| layout(array))?;
            if binary {
                Box::new(move |i, buf| {
                    buf.put_u8(u8::from(a.value(i)));
                    Ok(())
                })
            } else {
                Box::new(move |i, buf| {
                    pg_text::write_bool(buf, a.value(i));
                    Ok(())
                })
            }
        }
        DataType::Int8 => int::<Int8Type, _>(array, binary, |v, buf| buf.put_i16(v.into()))?,
        DataType::Int16 => int::<Int16Type, _>(array, binary, |v, buf| buf.put_i16(v))?,
        DataType::Int32 => int::<Int32Type, _>(array, binary, |v, buf| buf.put_i32(v))?,
        DataType::Int64 => int::<Int64Type, _>(array, binary, |v, buf| buf.put_i64(v))?,
        DataType::UInt8 => int::<UInt8Type, _>(array, binary, |v, buf| buf.put_i16(v.into()))?,
        DataType::UInt16 => int::<UInt16Type, _>(array, binary, |v, buf| buf.put_i32(v.into()))?,
        DataType::UInt32 => int::<UInt32Type, _>(array, binary, |v, buf| buf.put_i64(v.into()))?,
        DataType::UInt64 => int::<UInt64Type, _>(array, binary, |v, buf| {
            let mut digits = itoa::Buffer::new();
            numeric::write_binary(buf, false, digits.format(v).as_bytes(), 0);
        })?,
        DataType::Float16 => {
            let a = primitive::<Float16Type>(array)?;
            float32(move |i| a.value(i).to_f32(), binary)
        }
        DataType::Float32 => {
            let a = primitive::<Float32Type>(array)?;
            float32(move |i| a.value(i), binary)
        }
        DataType::Float64 => {
            let a = primitive::<Float64Type>(array)?;
            if binary {
                Box::new(move |i, buf| {
                    buf.put_f64(a.value(i));
                    Ok(())
                })
            } else {
                Box::new(move |i, buf| {
                    pg_text::write_f64(buf, a.value(i));
                    Ok(())
                })
            }
        }
        DataType::Decimal32(_, scale) => {
            let a = primitive::<Decimal32Type>(array)?;
            decimal(move |i| a.value(i).into(), *scale, binary)
        }
        DataType::Decimal64(_, scale) => {
            let a = primitive::<Decimal64Type>(array)?;
            decimal(move |i| a.value(i).into(), *scale, binary)
        }
        DataType::Decimal128(_, scale) => {
            let a = primitive::<Decimal128Type>(array)?;
            decimal(move |i| a.value(i), *scale, binary)
        }
        DataType::Decimal256(_, scale) => {
            let a = primitive::<Decimal256Type>(array)?;
            let scale = i32::from(*scale);
            Box::new(move |i, buf| {
                let text = a.value(i).to_string();
                let (negative, digits) = match text.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, text.as_str()),
                };
                if binary {
                    numeric::write_binary(buf, negative, digits.as_bytes(), scale);
                } else {
                    numeric::write_text(buf, negative, digits.as_bytes(), scale);
                }
                Ok(())
            })
        }
        DataType::Utf8 => {
            let a = array.as_string_opt::<i32>().ok_or_else(|| layout(array))?;
            raw_bytes(move |i| a.value(i).as_bytes())
        }
        DataType::LargeUtf8 => {
            let a = array.as_string_opt::<i64>().ok_or_else(|| layout(array))?;
            raw_bytes(move |i| a.value(i).as_bytes())
        }
        DataType::Utf8View => {
            let a = array.as_string_view_opt().ok_or_else(|| layout(array))?;
            raw_bytes(move |i| a.value(i).as_bytes())
        }
        DataType::Binary => {
            let a = array.as_binary_opt::<i32>().ok_or_else(|| layout(array))?;
            bytea(move |i| a.value(i), binary)
        }
        DataType::LargeBinary => {
            let a = array.as_binary_opt::<i64>().ok_or_else(|| layout(array))?;
            bytea(move |i| a.value(i), binary)
        }
        DataType::BinaryView => {
            let a = array.as_binary_view_opt().ok_or_else(|| layout(array))?;
            bytea(move |i| a.value(i), binary)
        }
        DataType::FixedSizeBinary(_) => {
            let a = array
                .as_fixed_size_binary_opt()
                .ok_or_else(|| layout(array))?;
            bytea(move |i| a.value(i), binary)
        }
        DataType::Date32 => {
            let a = primitive::<Date32Type>(array)?;
            date(move |i| i64::from(a.value(i)), binary)
        }
        DataType::Date64 => {
            let a = primitive::<Date64Type>(array)?;
            date(move |i| a.value(i).div_euclid(86_400_000), binary)
        }
        DataType::Time32(TimeUnit::Second) => {
            let a = primitive::<Time32SecondType>(array)?;
            time(move |i| i64::from(a.value(i)) * 1_000_000, binary)
        }
        DataType::Time32(_) => {
            let a = primitive::<Time32MillisecondType>(array)?;
            time(move |i| i64::from(a.value(i)) * 1_000, binary)
        }
        DataType::Time64(TimeUnit::Nanosecond) => {
            let a = primitive::<Time64NanosecondType>(array)?;
            time(move |i| a.value(i) / 1_000, binary)
        }
        DataType::Time64(_) => {
            let a = primitive::<Time64MicrosecondType>(array)?;
            time(move |i| a.value(i), binary)
        }
        DataType::Timestamp(unit, zone) => {
            let micros = timestamp_micros(array, *unit)?;
            timestamp(micros, zone.is_some(), binary, context)
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            let a = primitive::<IntervalYearMonthType>(array)?;
            interval(move |i| (a.value(i), 0, 0), binary)
        }
        DataType::Interval(IntervalUnit::DayTime) => {
            let a = primitive::<IntervalDayTimeType>(array)?;
            interval(
                move |i| {
                    let v = a.value(i);
                    (0, v.days, i64::from(v.milliseconds) * 1_000)
                },
                binary,
            )
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let a = primitive::<IntervalMonthDayNanoType>(array)?;
            interval(
                move |i| {
                    let v = a.value(i);
                    (v.months, v.days, v.nanoseconds / 1_000)
                },
                binary,
            )
        }
        DataType::Duration(unit) => {
            let micros = duration_micros(array, *unit)?;
            interval(move |i| (0, 0, micros(i)), binary)
        }
        DataType::List(_) if types::is_pg_array(&data_type) => {
            let a = array.as_list_opt::<i32>().ok_or_else(|| layout(array))?;
            pg_array(a.values().as_ref(), list_range(a), binary, context)?
        }
        DataType::LargeList(_) if types::is_pg_array(&data_type) => {
            let a = array.as_list_opt::<i64>().ok_or_else(|| layout(array))?;
            pg_array(a.values().as_ref(), list_range(a), binary, context)?
        }
        DataType::FixedSizeList(_, _) if types::is_pg_array(&data_type) => {
            let a = array
                .as_fixed_size_list_opt()
                .ok_or_else(|| layout(array))?;
            pg_array(a.values().as_ref(), fixed_list_range(a), binary, context)?
        }
        _ => display_text(array)?,
    };
    Ok(writer)
}

fn primitive<T: ArrowPrimitiveType>(
    array: &dyn Array,
) -> Result<&arrow::array::PrimitiveArray<T>, EncodeError> {
    array.as_primitive_opt::<T>().ok_or_else(|| layout(array))
}

/// Integers: decimal text, or `put` for the (widened) binary form.
fn int<'a, T, P>(array: &'a dyn Array, binary: bool, put: P) -> Result<WriteFn<'a>, EncodeError>
where
    T: ArrowPrimitiveType,
    T::Native: itoa::Integer,
    P: Fn(T::Native, &mut BytesMut) + 'a,
{
    let a = primitive::<T>(array)?;
    Ok(if binary {
        Box::new(move |i, buf| {
            put(a.value(i), buf);
            Ok(())
        })
    } else {
        Box::new(move |i, buf| {
            pg_text::write_int(buf, a.value(i));
            Ok(())
        })
    })
}

fn float32<'a>(value: impl Fn(usize) -> f32 + 'a, binary: bool) -> WriteFn<'a> {
    if binary {
        Box::new(move |i, buf| {
            buf.put_f32(value(i));
            Ok(())
        })
    } else {
        Box::new(move |i, buf| {
            pg_text::write_f32(buf, value(i));
            Ok(())
        })
    }
}

/// Decimals up to 128 bits: the unscaled integer and the column's scale.
fn decimal<'a>(unscaled: impl Fn(usize) -> i128 + 'a, scale: i8, binary: bool) -> WriteFn<'a> {
    let scale = i32::from(scale);
    Box::new(move |i, buf| {
        let value = unscaled(i);
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(value.unsigned_abs()).as_bytes();
        if binary {
            numeric::write_binary(buf, value < 0, digits, scale);
        } else {
            numeric::write_text(buf, value < 0, digits, scale);
        }
        Ok(())
    })
}

/// Strings: the UTF-8 bytes are both the text and the binary form.
fn raw_bytes<'a>(value: impl Fn(usize) -> &'a [u8] + 'a) -> WriteFn<'a> {
    Box::new(move |i, buf| {
        buf.put_slice(value(i));
        Ok(())
    })
}

fn bytea<'a>(value: impl Fn(usize) -> &'a [u8] + 'a, binary: bool) -> WriteFn<'a> {
    if binary {
        raw_bytes(value)
    } else {
        Box::new(move |i, buf| {
            pg_text::write_bytea(buf, value(i));
            Ok(())
        })
    }
}

/// Dates from days since 1970-01-01.
fn date<'a>(days: impl Fn(usize) -> i64 + 'a, binary: bool) -> WriteFn<'a> {
    if binary {
        Box::new(move |i, buf| {
            let pg_days = days(i).saturating_sub(PG_EPOCH_DAYS);
            buf.put_i32(pg_days.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32);
            Ok(())
        })
    } else {
        Box::new(move |i, buf| {
            pg_text::write_date(buf, days(i));
            Ok(())
        })
    }
}

/// Times of day from microseconds since midnight.
fn time<'a>(micros: impl Fn(usize) -> i64 + 'a, binary: bool) -> WriteFn<'a> {
    if binary {
        Box::new(move |i, buf| {
            buf.put_i64(micros(i));
            Ok(())
        })
    } else {
        Box::new(move |i, buf| {
            pg_text::write_time(buf, micros(i));
            Ok(())
        })
    }
}

type MicrosFn<'a> = Box<dyn Fn(usize) -> i64 + 'a>;

/// Microseconds since 1970 of each value of a timestamp array (nanoseconds round down, like
/// PostgreSQL's microsecond resolution).
fn timestamp_micros(array: &dyn Array, unit: TimeUnit) -> Result<MicrosFn<'_>, EncodeError> {
    Ok(match unit {
        TimeUnit::Second => {
            let a = primitive::<TimestampSecondType>(array)?;
            Box::new(move |i| a.value(i).saturating_mul(1_000_000))
        }
        TimeUnit::Millisecond => {
            let a = primitive::<TimestampMillisecondType>(array)?;
            Box::new(move |i| a.value(i).saturating_mul(1_000))
        }
        TimeUnit::Microsecond => {
            let a = primitive::<TimestampMicrosecondType>(array)?;
            Box::new(move |i| a.value(i))
        }
        TimeUnit::Nanosecond => {
            let a = primitive::<TimestampNanosecondType>(array)?;
            Box::new(move |i| a.value(i).div_euclid(1_000))
        }
    })
}

fn duration_micros(array: &dyn Array, unit: TimeUnit) -> Result<MicrosFn<'_>, EncodeError> {
    Ok(match unit {
        TimeUnit::Second => {
            let a = primitive::<DurationSecondType>(array)?;
            Box::new(move |i| a.value(i).saturating_mul(1_000_000))
        }
        TimeUnit::Millisecond => {
            let a = primitive::<DurationMillisecondType>(array)?;
            Box::new(move |i| a.value(i).saturating_mul(1_000))
        }
        TimeUnit::Microsecond => {
            let a = primitive::<DurationMicrosecondType>(array)?;
            Box::new(move |i| a.value(i))
        }
        TimeUnit::Nanosecond => {
            let a = primitive::<DurationNanosecondType>(array)?;
            Box::new(move |i| a.value(i) / 1_000)
        }
    })
}

/// Timestamps: `timestamptz` text is shown in the session time zone; binary is always
/// microseconds since 2000-01-01 UTC.
fn timestamp<'a>(
    micros: MicrosFn<'a>,
    with_zone: bool,
    binary: bool,
    context: &'a EncodeContext,
) -> WriteFn<'a> {
    if binary {
        Box::new(move |i, buf| {
            buf.put_i64(micros(i).saturating_sub(PG_EPOCH_MICROS));
            Ok(())
        })
    } else if with_zone {
        Box::new(move |i, buf| {
            let utc = micros(i);
            let offset = context.offset_seconds(utc);
            let local = utc.saturating_add(i64::from(offset) * 1_000_000);
            pg_text::write_timestamp(buf, local, Some(offset));
            Ok(())
        })
    } else {
        Box::new(move |i, buf| {
            pg_text::write_timestamp(buf, micros(i), None);
            Ok(())
        })
    }
}

/// Intervals from `(months, days, microseconds)`.
fn interval<'a>(parts: impl Fn(usize) -> (i32, i32, i64) + 'a, binary: bool) -> WriteFn<'a> {
    if binary {
        Box::new(move |i, buf| {
            let (months, days, micros) = parts(i);
            buf.put_i64(micros);
            buf.put_i32(days);
            buf.put_i32(months);
            Ok(())
        })
    } else {
        Box::new(move |i, buf| {
            let (months, days, micros) = parts(i);
            pg_text::write_interval(buf, months, days, micros);
            Ok(())
        })
    }
}

type RangeFn<'a> = Box<dyn Fn(usize) -> (usize, usize) + 'a>;

fn list_range<O: OffsetSizeTrait>(list: &GenericListArray<O>) -> RangeFn<'_> {
    Box::new(move |i| {
        let offsets = list.value_offsets();
        (offsets[i].as_usize(), offsets[i + 1].as_usize())
    })
}

fn fixed_list_range(list: &FixedSizeListArray) -> RangeFn<'_> {
    let size = list.value_length().max(0) as usize;
    Box::new(move |i| (i * size, (i + 1) * size))
}

/// One-dimensional PostgreSQL arrays: `{a,b,NULL}` in text, the array wire format in binary.
fn pg_array<'a>(
    values: &'a dyn Array,
    range: RangeFn<'a>,
    binary: bool,
    context: &'a EncodeContext,
) -> Result<WriteFn<'a>, EncodeError> {
    let element = writer(
        values,
        if binary {
            FieldFormat::Binary
        } else {
            FieldFormat::Text
        },
        context,
    )?;
    let nulls = values.logical_nulls();
    let is_null = move |j: usize| nulls.as_ref().is_some_and(|n| n.is_null(j));
    if binary {
        let element_oid = pg_type(values.data_type()).ty.oid();
        return Ok(Box::new(move |i, buf| {
            let (start, end) = range(i);
            let has_null = (start..end).any(&is_null);
            buf.put_i32(i32::from(end > start));
            buf.put_i32(i32::from(has_null));
            buf.put_u32(element_oid);
            if end > start {
                buf.put_i32((end - start) as i32);
                buf.put_i32(1);
            }
            for j in start..end {
                if is_null(j) {
                    buf.put_i32(-1);
                } else {
                    write_framed(buf, |buf| element(j, buf))?;
                }
            }
            Ok(())
        }));
    }
    let scratch = RefCell::new(BytesMut::new());
    Ok(Box::new(move |i, buf| {
        let (start, end) = range(i);
        buf.put_u8(b'{');
        for j in start..end {
            if j > start {
                buf.put_u8(b',');
            }
            if is_null(j) {
                buf.put_slice(b"NULL");
                continue;
            }
            let mut scratch = scratch.borrow_mut();
            scratch.clear();
            element(j, &mut scratch)?;
            pg_text::write_array_element(buf, &scratch);
        }
        buf.put_u8(b'}');
        Ok(())
    }))
}

/// Anything else as `text` in Arrow's display format (the same bytes in binary).
fn display_text(array: &dyn Array) -> Result<WriteFn<'_>, EncodeError> {
    let formatter = ArrayFormatter::try_new(array, &FormatOptions::default())?;
    Ok(Box::new(move |i, buf| {
        write!(buf, "{}", formatter.value(i))
            .map_err(|_| EncodeError::Layout(array.data_type().clone()))
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        BooleanArray, Date32Array, Decimal128Array, DictionaryArray, FixedSizeBinaryArray,
        Float32Array, Float64Array, Int32Array, Int64Array, IntervalMonthDayNanoArray, ListArray,
        NullArray, StringArray, StringViewArray, StructArray, TimestampMicrosecondArray,
        TimestampNanosecondArray, UInt64Array,
    };
    use arrow::datatypes::{Field, Int32Type, IntervalMonthDayNano, Schema};

    use super::*;

    /// Encodes a one-column batch and returns each row's single value (`None` for NULL).
    fn encode(
        array: ArrayRef,
        format: FieldFormat,
        context: EncodeContext,
    ) -> Vec<Option<Vec<u8>>> {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "c",
            array.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![array]).unwrap();
        let mut rows = VecDeque::new();
        RowEncoder::new(vec![format], context)
            .encode_batch(&batch, &mut rows)
            .unwrap();
        rows.into_iter()
            .map(|row| {
                assert_eq!(row.field_count, 1);
                let len = i32::from_be_bytes(row.data[..4].try_into().unwrap());
                (len >= 0).then(|| row.data[4..].to_vec())
            })
            .collect()
    }

    fn text(array: ArrayRef) -> Vec<Option<String>> {
        encode(array, FieldFormat::Text, EncodeContext::default())
            .into_iter()
            .map(|v| v.map(|b| String::from_utf8(b).unwrap()))
            .collect()
    }

    fn binary(array: ArrayRef) -> Vec<Option<Vec<u8>>> {
        encode(array, FieldFormat::Binary, EncodeContext::default())
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn scalars_in_text() {
        assert_eq!(
            text(Arc::new(BooleanArray::from(vec![
                Some(true),
                None,
                Some(false)
            ]))),
            vec![s("t"), None, s("f")]
        );
        assert_eq!(
            text(Arc::new(Int64Array::from(vec![i64::MIN, 0, 42]))),
            vec![s("-9223372036854775808"), s("0"), s("42")]
        );
        assert_eq!(
            text(Arc::new(UInt64Array::from(vec![u64::MAX]))),
            vec![s("18446744073709551615")]
        );
        assert_eq!(
            text(Arc::new(Float64Array::from(vec![
                1.5,
                f64::INFINITY,
                f64::NAN
            ]))),
            vec![s("1.5"), s("Infinity"), s("NaN")]
        );
        assert_eq!(
            text(Arc::new(Float32Array::from(vec![0.1f32]))),
            vec![s("0.1")]
        );
        assert_eq!(
            text(Arc::new(
                Decimal128Array::from(vec![12345, -5])
                    .with_precision_and_scale(10, 2)
                    .unwrap()
            )),
            vec![s("123.45"), s("-0.05")]
        );
        assert_eq!(
            text(Arc::new(StringViewArray::from(vec![Some("héllo"), None]))),
            vec![s("héllo"), None]
        );
        assert_eq!(
            text(Arc::new(
                FixedSizeBinaryArray::try_from_iter(vec![vec![1u8, 255]].into_iter()).unwrap()
            )),
            vec![s("\\x01ff")]
        );
        assert_eq!(
            text(Arc::new(Date32Array::from(vec![20457]))),
            vec![s("2026-01-04")]
        );
        assert_eq!(text(Arc::new(NullArray::new(2))), vec![None, None]);
    }

    #[test]
    fn timestamps_in_text_trim_zeros_and_show_the_session_zone() {
        let micros = 1_767_531_901_500_000; // 2026-01-04 13:05:01.5 UTC
        assert_eq!(
            text(Arc::new(TimestampMicrosecondArray::from(vec![micros]))),
            vec![s("2026-01-04 13:05:01.5")]
        );
        let zoned: ArrayRef =
            Arc::new(TimestampNanosecondArray::from(vec![micros * 1000]).with_timezone("UTC"));
        assert_eq!(text(zoned.clone()), vec![s("2026-01-04 13:05:01.5+00")]);
        let new_york = EncodeContext::with_time_zone("America/New_York").unwrap();
        let shown: Vec<_> = encode(zoned, FieldFormat::Text, new_york)
            .into_iter()
            .map(|v| String::from_utf8(v.unwrap()).unwrap())
            .collect();
        assert_eq!(shown, vec!["2026-01-04 08:05:01.5-05"]);
        assert!(EncodeContext::with_time_zone("Not/AZone").is_none());
    }

    #[test]
    fn intervals_in_both_formats() {
        let array: ArrayRef = Arc::new(IntervalMonthDayNanoArray::from(vec![
            IntervalMonthDayNano::new(14, 3, 3_600_000_000_000),
        ]));
        assert_eq!(
            text(array.clone()),
            vec![s("1 year 2 mons 3 days 01:00:00")]
        );
        let mut expected = Vec::new();
        expected.extend_from_slice(&3_600_000_000i64.to_be_bytes());
        expected.extend_from_slice(&3i32.to_be_bytes());
        expected.extend_from_slice(&14i32.to_be_bytes());
        assert_eq!(binary(array), vec![Some(expected)]);
    }

    #[test]
    fn binary_uses_postgres_epochs_and_widths() {
        assert_eq!(
            binary(Arc::new(Int32Array::from(vec![7]))),
            vec![Some(7i32.to_be_bytes().to_vec())]
        );
        assert_eq!(
            binary(Arc::new(Date32Array::from(vec![10_957 + 1]))),
            vec![Some(1i32.to_be_bytes().to_vec())]
        );
        assert_eq!(
            binary(Arc::new(TimestampMicrosecondArray::from(vec![
                946_684_800_000_000 + 5
            ]))),
            vec![Some(5i64.to_be_bytes().to_vec())]
        );
        assert_eq!(
            binary(Arc::new(Float64Array::from(vec![2.5]))),
            vec![Some(2.5f64.to_be_bytes().to_vec())]
        );
        assert_eq!(
            binary(Arc::new(StringArray::from(vec!["abc"]))),
            vec![Some(b"abc".to_vec())]
        );
    }

    #[test]
    fn dictionaries_encode_as_their_values() {
        let dict: DictionaryArray<Int32Type> =
            vec![Some("AAPL"), None, Some("AAPL")].into_iter().collect();
        assert_eq!(text(Arc::new(dict)), vec![s("AAPL"), None, s("AAPL")]);
    }

    #[test]
    fn lists_become_postgres_arrays() {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
            Some(vec![]),
            None,
        ]);
        let array: ArrayRef = Arc::new(list);
        assert_eq!(text(array.clone()), vec![s("{1,NULL,3}"), s("{}"), None]);
        let encoded = binary(array);
        let mut expected = Vec::new();
        for v in [1i32, 1, 23, 3, 1] {
            expected.extend_from_slice(&v.to_be_bytes());
        }
        for element in [Some(1i32), None, Some(3)] {
            match element {
                Some(v) => {
                    expected.extend_from_slice(&4i32.to_be_bytes());
                    expected.extend_from_slice(&v.to_be_bytes());
                }
                None => expected.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        assert_eq!(encoded[0], Some(expected));
        let mut empty = Vec::new();
        for v in [0i32, 0, 23] {
            empty.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(encoded[1], Some(empty));
        assert_eq!(encoded[2], None);
    }

    #[test]
    fn string_array_elements_are_quoted() {
        let values = StringArray::from(vec![Some("a b"), Some("plain"), None]);
        let list = ListArray::new(
            Arc::new(Field::new("item", DataType::Utf8, true)),
            arrow::buffer::OffsetBuffer::from_lengths([3]),
            Arc::new(values),
            None,
        );
        assert_eq!(text(Arc::new(list)), vec![s("{\"a b\",plain,NULL}")]);
    }

    #[test]
    fn structs_fall_back_to_text() {
        let st = StructArray::from(vec![(
            Arc::new(Field::new("a", DataType::Int32, false)),
            Arc::new(Int32Array::from(vec![1])) as ArrayRef,
        )]);
        assert_eq!(text(Arc::new(st)), vec![s("{a: 1}")]);
    }

    #[test]
    fn rows_are_split_without_mixing_values() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int32Array::from(vec![Some(1), None])),
                Arc::new(StringArray::from(vec![Some("x"), Some("yz")])),
            ],
        )
        .unwrap();
        let mut rows = VecDeque::new();
        RowEncoder::new(
            vec![FieldFormat::Text, FieldFormat::Binary],
            EncodeContext::default(),
        )
        .encode_batch(&batch, &mut rows)
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0].data[..], b"\0\0\0\x011\0\0\0\x01x");
        assert_eq!(&rows[1].data[..], b"\xff\xff\xff\xff\0\0\0\x02yz");
    }
}

//! Which PostgreSQL type each Arrow type travels as, and which Arrow type a client's parameter
//! type OID means.
//!
//! The mapping follows what a PostgreSQL client expects to decode: unsigned integers widen to the
//! next signed type (`UInt64` becomes `numeric`), dictionaries and run-end encodings travel as their
//! value type, one-dimensional lists of scalars become PostgreSQL arrays, and anything without a
//! faithful PostgreSQL counterpart (structs, maps, nested lists) is sent as `text`.

use arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};
use pgwire::api::Type;

/// Time zone DataFusion uses for parameters declared `timestamptz` by the client.
pub(crate) const UTC_OFFSET: &str = "+00:00";

/// How one result column is described in a RowDescription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PgType {
    /// The PostgreSQL type (its OID goes on the wire).
    pub ty: Type,
    /// `pg_type.typlen`: fixed width in bytes, or -1 for variable-width types.
    pub typlen: i16,
    /// `atttypmod`: precision and scale of a `numeric(p, s)`, -1 when none.
    pub typmod: i32,
}

impl PgType {
    fn fixed(ty: Type, typlen: i16) -> Self {
        PgType {
            ty,
            typlen,
            typmod: -1,
        }
    }

    fn varlena(ty: Type) -> Self {
        PgType {
            ty,
            typlen: -1,
            typmod: -1,
        }
    }
}

/// The Arrow type an array of `data_type` is encoded from: dictionaries and run-end encoded
/// arrays by their values, list elements likewise. Equal to the input when nothing changes.
pub(crate) fn value_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Dictionary(_, value) => value_type(value),
        DataType::RunEndEncoded(_, values) => value_type(values.data_type()),
        DataType::List(field) => DataType::List(normalized_field(field)),
        DataType::LargeList(field) => DataType::LargeList(normalized_field(field)),
        DataType::FixedSizeList(field, size) => {
            DataType::FixedSizeList(normalized_field(field), *size)
        }
        other => other.clone(),
    }
}

fn normalized_field(field: &Field) -> std::sync::Arc<Field> {
    std::sync::Arc::new(field.clone().with_data_type(value_type(field.data_type())))
}

/// The PostgreSQL type a result column is sent as: its Arrow type's, unless the field's
/// metadata names a catalog type the Arrow type cannot say (`oid`, `name`, `"char"`).
pub(crate) fn result_pg_type(field: &Field) -> PgType {
    let catalog = field
        .metadata()
        .get(flowforge_engine::session::PG_TYPE_METADATA)
        .map(String::as_str);
    match (catalog, field.data_type()) {
        (Some("oid"), DataType::Int64) => PgType::fixed(Type::OID, 4),
        (Some("regproc"), DataType::Int64) => PgType::fixed(Type::REGPROC, 4),
        (Some("regclass"), DataType::Int64) => PgType::fixed(Type::REGCLASS, 4),
        (Some("regtype"), DataType::Int64) => PgType::fixed(Type::REGTYPE, 4),
        (Some("name"), DataType::Utf8) => PgType::fixed(Type::NAME, 64),
        (Some("char"), DataType::Utf8) => PgType::fixed(Type::CHAR, 1),
        (Some("varchar"), DataType::Utf8) => PgType::varlena(Type::VARCHAR),
        (Some("json"), DataType::Utf8) => PgType::varlena(Type::JSON),
        (Some("pg_node_tree"), DataType::Utf8) => PgType::varlena(Type::PG_NODE_TREE),
        (Some("_name"), DataType::List(element)) if element.data_type() == &DataType::Utf8 => {
            PgType::varlena(Type::NAME_ARRAY)
        }
        (_, data_type) => pg_type(data_type),
    }
}

/// The PostgreSQL type a column of `data_type` is sent as.
pub(crate) fn pg_type(data_type: &DataType) -> PgType {
    let data_type = value_type(data_type);
    if let Some(scalar) = scalar_pg_type(&data_type) {
        return scalar;
    }
    if let Some(element) = list_element(&data_type) {
        if let Some(array) = scalar_pg_type(element).and_then(|e| array_type(&e.ty)) {
            return PgType::varlena(array);
        }
    }
    PgType::varlena(Type::TEXT)
}

/// The element type of a list type, for any of Arrow's list layouts.
pub(crate) fn list_element(data_type: &DataType) -> Option<&DataType> {
    match data_type {
        DataType::List(field) | DataType::LargeList(field) | DataType::FixedSizeList(field, _) => {
            Some(field.data_type())
        }
        _ => None,
    }
}

/// Whether values of this type are sent as a PostgreSQL array (rather than text).
pub(crate) fn is_pg_array(data_type: &DataType) -> bool {
    list_element(&value_type(data_type)).is_some() && pg_type(data_type).ty != Type::TEXT
}

/// The PostgreSQL type of a scalar Arrow type, `None` for nested and unsupported types.
pub(crate) fn scalar_pg_type(data_type: &DataType) -> Option<PgType> {
    let ty = match data_type {
        DataType::Boolean => PgType::fixed(Type::BOOL, 1),
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => PgType::fixed(Type::INT2, 2),
        DataType::Int32 | DataType::UInt16 => PgType::fixed(Type::INT4, 4),
        DataType::Int64 | DataType::UInt32 => PgType::fixed(Type::INT8, 8),
        DataType::UInt64 => PgType::varlena(Type::NUMERIC),
        DataType::Float16 | DataType::Float32 => PgType::fixed(Type::FLOAT4, 4),
        DataType::Float64 => PgType::fixed(Type::FLOAT8, 8),
        DataType::Decimal32(precision, scale)
        | DataType::Decimal64(precision, scale)
        | DataType::Decimal128(precision, scale)
        | DataType::Decimal256(precision, scale) => PgType {
            ty: Type::NUMERIC,
            typlen: -1,
            typmod: numeric_typmod(*precision, *scale),
        },
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            PgType::varlena(Type::TEXT)
        }
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => PgType::varlena(Type::BYTEA),
        DataType::Date32 | DataType::Date64 => PgType::fixed(Type::DATE, 4),
        DataType::Time32(_) | DataType::Time64(_) => PgType::fixed(Type::TIME, 8),
        DataType::Timestamp(_, None) => PgType::fixed(Type::TIMESTAMP, 8),
        DataType::Timestamp(_, Some(_)) => PgType::fixed(Type::TIMESTAMPTZ, 8),
        DataType::Interval(_) | DataType::Duration(_) => PgType::fixed(Type::INTERVAL, 16),
        _ => return None,
    };
    Some(ty)
}

/// `numeric(p, s)`'s type modifier as PostgreSQL packs it, or -1 when PostgreSQL could not
/// express the scale (negative, or larger than the precision).
fn numeric_typmod(precision: u8, scale: i8) -> i32 {
    if scale < 0 || i32::from(scale) > i32::from(precision) {
        return -1;
    }
    ((i32::from(precision) << 16) | i32::from(scale)) + 4
}

/// The array type whose elements are `element`.
fn array_type(element: &Type) -> Option<Type> {
    let array = match *element {
        Type::BOOL => Type::BOOL_ARRAY,
        Type::INT2 => Type::INT2_ARRAY,
        Type::INT4 => Type::INT4_ARRAY,
        Type::INT8 => Type::INT8_ARRAY,
        Type::FLOAT4 => Type::FLOAT4_ARRAY,
        Type::FLOAT8 => Type::FLOAT8_ARRAY,
        Type::NUMERIC => Type::NUMERIC_ARRAY,
        Type::TEXT => Type::TEXT_ARRAY,
        Type::BYTEA => Type::BYTEA_ARRAY,
        Type::DATE => Type::DATE_ARRAY,
        Type::TIME => Type::TIME_ARRAY,
        Type::TIMESTAMP => Type::TIMESTAMP_ARRAY,
        Type::TIMESTAMPTZ => Type::TIMESTAMPTZ_ARRAY,
        Type::INTERVAL => Type::INTERVAL_ARRAY,
        _ => return None,
    };
    Some(array)
}

/// The Arrow type a parameter declared as `oid` in a Parse message is planned and decoded as,
/// or `None` when the query should decide: the client left it unspecified (0) or named a type
/// FlowForge does not take as a parameter.
pub(crate) fn param_data_type(oid: u32) -> Option<DataType> {
    let ty = Type::from_oid(oid)?;
    if let Some(element) = array_element(&ty) {
        let element = param_data_type(element.oid())?;
        return Some(DataType::List(std::sync::Arc::new(Field::new_list_field(
            element, true,
        ))));
    }
    let data_type = match ty {
        Type::BOOL => DataType::Boolean,
        Type::INT2 => DataType::Int16,
        Type::INT4 => DataType::Int32,
        Type::INT8 | Type::OID => DataType::Int64,
        Type::FLOAT4 => DataType::Float32,
        Type::FLOAT8 => DataType::Float64,
        Type::NUMERIC => DataType::Decimal128(38, 10),
        Type::TEXT
        | Type::VARCHAR
        | Type::BPCHAR
        | Type::NAME
        | Type::CHAR
        | Type::JSON
        | Type::JSONB
        | Type::UUID => DataType::Utf8,
        Type::BYTEA => DataType::Binary,
        Type::DATE => DataType::Date32,
        Type::TIME => DataType::Time64(TimeUnit::Microsecond),
        Type::TIMESTAMP => DataType::Timestamp(TimeUnit::Microsecond, None),
        Type::TIMESTAMPTZ => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC_OFFSET.into())),
        Type::INTERVAL => DataType::Interval(IntervalUnit::MonthDayNano),
        _ => return None,
    };
    Some(data_type)
}

/// The element type of a PostgreSQL array type FlowForge takes as a parameter.
pub(crate) fn array_element(ty: &Type) -> Option<Type> {
    let element = match *ty {
        Type::BOOL_ARRAY => Type::BOOL,
        Type::INT2_ARRAY => Type::INT2,
        Type::INT4_ARRAY => Type::INT4,
        Type::INT8_ARRAY => Type::INT8,
        Type::FLOAT4_ARRAY => Type::FLOAT4,
        Type::FLOAT8_ARRAY => Type::FLOAT8,
        Type::NUMERIC_ARRAY => Type::NUMERIC,
        Type::TEXT_ARRAY => Type::TEXT,
        Type::VARCHAR_ARRAY => Type::VARCHAR,
        Type::BPCHAR_ARRAY => Type::BPCHAR,
        Type::NAME_ARRAY => Type::NAME,
        Type::BYTEA_ARRAY => Type::BYTEA,
        Type::DATE_ARRAY => Type::DATE,
        Type::TIMESTAMP_ARRAY => Type::TIMESTAMP,
        Type::TIMESTAMPTZ_ARRAY => Type::TIMESTAMPTZ,
        Type::UUID_ARRAY => Type::UUID,
        _ => return None,
    };
    Some(element)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn integers_widen_so_every_value_fits() {
        assert_eq!(pg_type(&DataType::UInt8).ty, Type::INT2);
        assert_eq!(pg_type(&DataType::UInt16).ty, Type::INT4);
        assert_eq!(pg_type(&DataType::UInt32).ty, Type::INT8);
        assert_eq!(pg_type(&DataType::UInt64).ty, Type::NUMERIC);
        assert_eq!(pg_type(&DataType::Int64).typlen, 8);
    }

    #[test]
    fn decimals_carry_precision_and_scale_in_the_typmod() {
        let t = pg_type(&DataType::Decimal128(18, 4));
        assert_eq!(t.ty, Type::NUMERIC);
        assert_eq!(t.typmod, ((18 << 16) | 4) + 4);
        assert_eq!(pg_type(&DataType::Decimal128(10, -2)).typmod, -1);
    }

    #[test]
    fn dictionaries_and_lists_map_through_their_values() {
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert_eq!(pg_type(&dict).ty, Type::TEXT);
        let list = DataType::List(Arc::new(Field::new("item", DataType::Int64, true)));
        assert_eq!(pg_type(&list).ty, Type::INT8_ARRAY);
        assert!(is_pg_array(&list));
        let list_of_dict = DataType::List(Arc::new(Field::new("item", dict, true)));
        assert_eq!(pg_type(&list_of_dict).ty, Type::TEXT_ARRAY);
        let nested = DataType::List(Arc::new(Field::new("item", list, true)));
        assert_eq!(pg_type(&nested).ty, Type::TEXT);
        assert!(!is_pg_array(&nested));
    }

    #[test]
    fn timestamps_with_a_zone_are_timestamptz() {
        let naive = DataType::Timestamp(TimeUnit::Nanosecond, None);
        let zoned = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        assert_eq!(pg_type(&naive).ty, Type::TIMESTAMP);
        assert_eq!(pg_type(&zoned).ty, Type::TIMESTAMPTZ);
    }

    #[test]
    fn parameter_oids_map_to_plannable_types() {
        assert_eq!(param_data_type(Type::INT4.oid()), Some(DataType::Int32));
        assert_eq!(param_data_type(Type::VARCHAR.oid()), Some(DataType::Utf8));
        assert_eq!(param_data_type(0), None);
        assert_eq!(param_data_type(Type::UNKNOWN.oid()), None);
        assert_eq!(
            param_data_type(Type::NUMERIC.oid()),
            Some(DataType::Decimal128(38, 10))
        );
        let list = param_data_type(Type::INT8_ARRAY.oid()).unwrap();
        assert_eq!(list_element(&list), Some(&DataType::Int64));
        assert_eq!(pg_type(&list).ty, Type::INT8_ARRAY);
    }
}

//! The PostgreSQL catalog functions psql and drivers call (`format_type`, `obj_description`,
//! `pg_table_is_visible`, ...), answered from the session's own catalog state.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, RwLock};

use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, BooleanArray, Int32Array, Int64Array, ListBuilder,
    StringArray, StringBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type};
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::tables::text_array;
use super::types::{format_type, is_known_type, BASE_TYPES, PSEUDO_TYPES};
use super::CatalogState;

/// How a catalog function computes its result column from its argument columns.
type Eval = fn(&CatalogState, &[ArrayRef], usize) -> Result<ArrayRef>;

/// A catalog function over the session's [`CatalogState`].
struct CatalogFunction {
    name: &'static str,
    returns: DataType,
    signature: Signature,
    eval: Eval,
    state: Arc<RwLock<CatalogState>>,
}

impl std::fmt::Debug for CatalogFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogFunction")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PartialEq for CatalogFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.state, &other.state)
    }
}

impl Eq for CatalogFunction {}

impl Hash for CatalogFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for CatalogFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.returns.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let state = self
            .state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(ColumnarValue::Array((self.eval)(&state, &arrays, rows)?))
    }
}

/// The catalog functions for a session, to register in its context.
pub(crate) fn catalog_functions(state: &Arc<RwLock<CatalogState>>) -> Vec<ScalarUDF> {
    let function = |name: &'static str, returns: DataType, eval: Eval| {
        ScalarUDF::new_from_impl(CatalogFunction {
            name,
            returns,
            signature: Signature::variadic_any(Volatility::Stable),
            eval,
            state: Arc::clone(state),
        })
    };
    vec![
        function("pg_table_is_visible", DataType::Boolean, table_is_visible),
        function("pg_type_is_visible", DataType::Boolean, type_is_visible),
        function(
            "pg_function_is_visible",
            DataType::Boolean,
            function_is_visible,
        ),
        function("format_type", DataType::Utf8, format_type_fn),
        function("pg_get_userbyid", DataType::Utf8, user_by_id),
        function("obj_description", DataType::Utf8, obj_description),
        function("col_description", DataType::Utf8, col_description),
        function("shobj_description", DataType::Utf8, null_text),
        function("pg_get_viewdef", DataType::Utf8, view_definition),
        function("pg_encoding_to_char", DataType::Utf8, encoding_to_char),
        function(
            "has_table_privilege",
            DataType::Boolean,
            has_table_privilege,
        ),
        function(
            "has_any_column_privilege",
            DataType::Boolean,
            has_table_privilege,
        ),
        function(
            "has_column_privilege",
            DataType::Boolean,
            has_table_privilege,
        ),
        function(
            "has_schema_privilege",
            DataType::Boolean,
            has_schema_privilege,
        ),
        function("has_database_privilege", DataType::Boolean, always_true),
        function("pg_has_role", DataType::Boolean, always_true),
        function("pg_get_expr", DataType::Utf8, null_text),
        function("pg_get_constraintdef", DataType::Utf8, null_text),
        function("pg_get_indexdef", DataType::Utf8, null_text),
        function("pg_get_triggerdef", DataType::Utf8, null_text),
        function("pg_get_ruledef", DataType::Utf8, null_text),
        function("pg_get_partkeydef", DataType::Utf8, null_text),
        function("pg_get_serial_sequence", DataType::Utf8, null_text),
        function("pg_get_statisticsobjdef_columns", DataType::Utf8, null_text),
        function("pg_tablespace_location", DataType::Utf8, null_text),
        function("pg_get_function_result", DataType::Utf8, function_result),
        function(
            "pg_get_function_arguments",
            DataType::Utf8,
            function_arguments,
        ),
        function(
            "pg_get_function_identity_arguments",
            DataType::Utf8,
            function_arguments,
        ),
        function("to_regclass", DataType::Int64, to_regclass),
        function("to_regtype", DataType::Int64, to_regtype),
        function("to_regproc", DataType::Int64, to_regproc),
        function("pg_collation_is_visible", DataType::Boolean, always_true),
        function("pg_conversion_is_visible", DataType::Boolean, always_true),
        function("pg_opclass_is_visible", DataType::Boolean, always_true),
        function("pg_operator_is_visible", DataType::Boolean, always_true),
        function("format", DataType::Utf8, format_fn),
        function("current_setting", DataType::Utf8, current_setting),
        function("quote_ident", DataType::Utf8, quote_ident),
        function("parse_ident", text_array(), parse_ident),
        function("array_lower", DataType::Int32, array_lower),
        function("array_upper", DataType::Int32, array_upper),
        function("pg_relation_size", DataType::Int64, zero_bigint),
        function("pg_total_relation_size", DataType::Int64, zero_bigint),
        function("pg_table_size", DataType::Int64, zero_bigint),
        function("pg_indexes_size", DataType::Int64, zero_bigint),
        function("pg_database_size", DataType::Int64, zero_bigint),
        function("pg_size_pretty", DataType::Utf8, size_pretty),
        function("pg_is_in_recovery", DataType::Boolean, always_false),
        function(
            "pg_relation_is_publishable",
            DataType::Boolean,
            always_false,
        ),
        function("pg_is_other_temp_schema", DataType::Boolean, always_false),
        function("pg_my_temp_schema", DataType::Int64, zero_bigint),
        function("json_build_object", DataType::Utf8, json_build_object),
        function(PREFIX_ELEMENTS, text_array(), prefix_elements),
        function(LIKE_ESCAPE, DataType::Utf8, like_escape),
    ]
}

/// Argument `i` as `bigint` values (oids may arrive as integers or as text).
fn oids(args: &[ArrayRef], i: usize, name: &str) -> Result<Int64Array> {
    let Some(arg) = args.get(i) else {
        return exec_err!("{name}() is missing argument {}", i + 1);
    };
    Ok(cast(arg, &DataType::Int64)?
        .as_primitive::<Int64Type>()
        .clone())
}

/// Argument `i` as text values.
fn texts(args: &[ArrayRef], i: usize, name: &str) -> Result<StringArray> {
    let Some(arg) = args.get(i) else {
        return exec_err!("{name}() is missing argument {}", i + 1);
    };
    Ok(cast(arg, &DataType::Utf8)?.as_string::<i32>().clone())
}

fn table_is_visible(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let oids = oids(args, 0, "pg_table_is_visible")?;
    let result: BooleanArray = oids
        .iter()
        .map(|o| o.map(|o| state.relation(o).is_some()))
        .collect();
    Ok(Arc::new(result))
}

fn format_type_fn(_state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let oids = oids(args, 0, "format_type")?;
    let typmods: Vec<Option<i32>> = match args.get(1) {
        Some(m) => cast(m, &DataType::Int32)?
            .as_primitive::<Int32Type>()
            .iter()
            .collect(),
        None => vec![None; oids.len()],
    };
    let result: StringArray = oids
        .iter()
        .zip(typmods)
        .map(|(o, m)| o.map(|o| format_type(o, m)))
        .collect();
    Ok(Arc::new(result))
}

/// The oid of a type by name (`int4`, `integer`, `pg_catalog.text`, `text[]`).
pub(crate) fn type_by_name(name: &str) -> Option<i64> {
    let name = name
        .trim()
        .trim_start_matches("pg_catalog.")
        .trim_matches('"');
    let (element, is_array) = match name.strip_suffix("[]") {
        Some(element) => (element, true),
        None => (name, false),
    };
    let base = BASE_TYPES
        .iter()
        .chain(PSEUDO_TYPES)
        .find(|t| t.name == element || t.display == element)?;
    Some(if is_array { base.array } else { base.oid })
}

fn user_by_id(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let oids = oids(args, 0, "pg_get_userbyid")?;
    let result: StringArray = oids
        .iter()
        .map(|o| o.map(|_| state.user.as_str()))
        .collect();
    Ok(Arc::new(result))
}

fn obj_description(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let oids = oids(args, 0, "obj_description")?;
    let result: StringArray = oids
        .iter()
        .map(|o| o.and_then(|o| state.relation(o)?.description.as_deref()))
        .collect();
    Ok(Arc::new(result))
}

fn col_description(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let oids = oids(args, 0, "col_description")?;
    let Some(numbers) = args.get(1) else {
        return exec_err!("col_description() takes a table oid and a column number");
    };
    let numbers = cast(numbers, &DataType::Int32)?;
    let numbers = numbers.as_primitive::<Int32Type>();
    let result: StringArray = oids
        .iter()
        .zip(numbers.iter())
        .map(|(o, n)| {
            let relation = state.relation(o?)?;
            let index = usize::try_from(n?).ok()?.checked_sub(1)?;
            relation.columns.get(index)?.description.as_deref()
        })
        .collect();
    Ok(Arc::new(result))
}

fn view_definition(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let by_name = args
        .first()
        .is_some_and(|a| matches!(a.data_type(), DataType::Utf8 | DataType::Utf8View));
    let relations: Vec<Option<i64>> = if by_name {
        texts(args, 0, "pg_get_viewdef")?
            .iter()
            .map(|n| n.and_then(|n| state.resolve(n)))
            .collect()
    } else {
        oids(args, 0, "pg_get_viewdef")?.iter().collect()
    };
    let result: StringArray = relations
        .into_iter()
        .map(|o| state.relation(o?)?.sql.as_deref())
        .collect();
    Ok(Arc::new(result))
}

fn encoding_to_char(_state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let codes = oids(args, 0, "pg_encoding_to_char")?;
    let result: StringArray = codes
        .iter()
        .map(|c| c.map(|c| if c == 6 { "UTF8" } else { "" }))
        .collect();
    Ok(Arc::new(result))
}

/// The object argument of `has_*_privilege([user,] object, privilege)`.
fn privilege_object(args: &[ArrayRef], name: &str) -> Result<ArrayRef> {
    match args.len() {
        2 | 3 => Ok(Arc::clone(&args[args.len() - 2])),
        _ => exec_err!("{name}() takes ([user,] object, privilege)"),
    }
}

fn has_table_privilege(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let object = privilege_object(args, "has_table_privilege")?;
    let relations: Vec<Option<i64>> = if matches!(object.data_type(), DataType::Utf8) {
        texts(&[object], 0, "has_table_privilege")?
            .iter()
            .map(|n| n.map(|n| state.resolve(n).unwrap_or(-1)))
            .collect()
    } else {
        oids(&[object], 0, "has_table_privilege")?.iter().collect()
    };
    let result: BooleanArray = relations
        .into_iter()
        .map(|o| o.map(|o| state.relation(o).is_some()))
        .collect();
    Ok(Arc::new(result))
}

fn has_schema_privilege(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let object = privilege_object(args, "has_schema_privilege")?;
    let result: BooleanArray = if matches!(object.data_type(), DataType::Utf8) {
        texts(&[object], 0, "has_schema_privilege")?
            .iter()
            .map(|n| n.map(|n| state.namespace_oid(n.trim_matches('"')).is_some()))
            .collect()
    } else {
        oids(&[object], 0, "has_schema_privilege")?
            .iter()
            .map(|o| o.map(|o| state.namespaces.iter().any(|(n, _)| *n == o)))
            .collect()
    };
    Ok(Arc::new(result))
}

/// NULL text: the definition of an object FlowForge does not have (constraints, indexes,
/// defaults, triggers, ...), as PostgreSQL answers for an oid that names nothing.
fn null_text(_state: &CatalogState, _args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(new_null_array(&DataType::Utf8, rows))
}

fn always_true(_state: &CatalogState, _args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(Arc::new(BooleanArray::from(vec![true; rows])))
}

fn always_false(_state: &CatalogState, _args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(Arc::new(BooleanArray::from(vec![false; rows])))
}

/// Sizes: FlowForge's relations are views over backends, so they occupy no storage here.
fn zero_bigint(_state: &CatalogState, _args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(Arc::new(Int64Array::from(vec![0; rows])))
}

fn type_is_visible(_state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let oids = oids(args, 0, "pg_type_is_visible")?;
    let result: BooleanArray = oids.iter().map(|o| o.map(is_known_type)).collect();
    Ok(Arc::new(result))
}

fn function_is_visible(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let oids = oids(args, 0, "pg_function_is_visible")?;
    let result: BooleanArray = oids
        .iter()
        .map(|o| o.map(|o| state.function(o).is_some()))
        .collect();
    Ok(Arc::new(result))
}

fn function_result(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let oids = oids(args, 0, "pg_get_function_result")?;
    let result: StringArray = oids
        .iter()
        .map(|o| state.function(o?).map(|f| format_type(f.returns, None)))
        .collect();
    Ok(Arc::new(result))
}

fn function_arguments(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let oids = oids(args, 0, "pg_get_function_arguments")?;
    let result: StringArray = oids
        .iter()
        .map(|o| {
            let function = state.function(o?)?;
            let mut arguments: Vec<String> = function
                .arguments
                .iter()
                .map(|a| format_type(*a, None))
                .collect();
            if function.variadic != 0 {
                arguments.push(format!(
                    "VARIADIC {}[]",
                    format_type(function.variadic, None)
                ));
            }
            Some(arguments.join(", "))
        })
        .collect();
    Ok(Arc::new(result))
}

fn to_regtype(_state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let names = texts(args, 0, "to_regtype")?;
    let result: Int64Array = names.iter().map(|n| n.and_then(type_by_name)).collect();
    Ok(Arc::new(result))
}

fn current_setting(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let names = texts(args, 0, "current_setting")?;
    let missing_ok = match args.get(1) {
        Some(flags) => Some(cast(flags, &DataType::Boolean)?.as_boolean().clone()),
        None => None,
    };
    let mut result = StringBuilder::new();
    for (i, name) in names.iter().enumerate() {
        match name {
            None => result.append_null(),
            Some(name) => match state.setting(name) {
                Some(value) => result.append_value(value),
                None if missing_ok
                    .as_ref()
                    .is_some_and(|m| !m.is_null(i) && m.value(i)) =>
                {
                    result.append_null()
                }
                None => {
                    return exec_err!("unrecognized configuration parameter \"{name}\"");
                }
            },
        }
    }
    Ok(Arc::new(result.finish()))
}

fn quote_ident(_state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let names = texts(args, 0, "quote_ident")?;
    let result: StringArray = names.iter().map(|n| n.map(quoted_identifier)).collect();
    Ok(Arc::new(result))
}

/// An identifier as PostgreSQL's `quote_ident` writes it: bare when it is lower-case letters,
/// digits and underscores not starting with a digit and not a keyword, otherwise quoted.
pub(crate) fn quoted_identifier(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !super::keywords::is_reserved(name);
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn parse_ident(_state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let names = texts(args, 0, "parse_ident")?;
    let mut builder = ListBuilder::new(StringBuilder::new());
    for name in names.iter() {
        match name {
            None => builder.append_null(),
            Some(name) => {
                for part in split_identifier(name)? {
                    builder.values().append_value(part);
                }
                builder.append(true);
            }
        }
    }
    Ok(Arc::new(builder.finish()))
}

/// Splits a qualified identifier (`a."B c".d`) into its parts, folding unquoted parts to
/// lower case as PostgreSQL's `parse_ident` does.
fn split_identifier(name: &str) -> Result<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = name.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return exec_err!("string is not a valid identifier: \"{name}\""),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' || c.is_whitespace() {
                    break;
                }
                part.extend(c.to_lowercase());
                chars.next();
            }
        }
        if part.is_empty() {
            return exec_err!("string is not a valid identifier: \"{name}\"");
        }
        parts.push(part);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Ok(parts),
            Some('.') => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some(_) => return exec_err!("string is not a valid identifier: \"{name}\""),
        }
    }
}

/// `array_lower(array, dimension)`: 1 for a non-empty one-dimensional array, NULL otherwise.
fn array_lower(_state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    array_bound(args, "array_lower", |_| 1)
}

/// `array_upper(array, dimension)`: the length of a non-empty one-dimensional array.
fn array_upper(_state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    array_bound(args, "array_upper", |len| len)
}

fn array_bound(args: &[ArrayRef], name: &str, bound: fn(i32) -> i32) -> Result<ArrayRef> {
    let [arrays, dimensions] = args else {
        return exec_err!("{name}() takes an array and a dimension");
    };
    let dimensions = cast(dimensions, &DataType::Int32)?;
    let dimensions = dimensions.as_primitive::<Int32Type>();
    let lengths: Vec<Option<i32>> = match arrays.data_type() {
        DataType::List(_) => {
            let lists = arrays.as_list::<i32>();
            (0..lists.len())
                .map(|i| (!lists.is_null(i)).then(|| lists.value_length(i)))
                .collect()
        }
        DataType::LargeList(_) => {
            let lists = arrays.as_list::<i64>();
            (0..lists.len())
                .map(|i| {
                    (!lists.is_null(i))
                        .then(|| i32::try_from(lists.value_length(i)).unwrap_or(i32::MAX))
                })
                .collect()
        }
        DataType::Null => vec![None; arrays.len()],
        other => return exec_err!("{name}() expects an array, got {other}"),
    };
    let result: Int32Array = lengths
        .into_iter()
        .zip(dimensions.iter())
        .map(|(len, dim)| match (len, dim) {
            (Some(len), Some(1)) if len > 0 => Some(bound(len)),
            _ => None,
        })
        .collect();
    Ok(Arc::new(result))
}

/// `json_build_object(k1, v1, ...)` as JSON text.
fn json_build_object(_state: &CatalogState, args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    if !args.len().is_multiple_of(2) {
        return exec_err!("argument list must have even number of elements");
    }
    let values: Vec<StringArray> = args
        .iter()
        .map(|a| Ok(cast(a, &DataType::Utf8)?.as_string::<i32>().clone()))
        .collect::<Result<_>>()?;
    let mut result = StringBuilder::new();
    for row in 0..rows {
        let mut object = serde_json::Map::new();
        for pair in values.chunks(2) {
            let key = if pair[0].is_null(row) {
                return exec_err!("null value not allowed for object key");
            } else {
                pair[0].value(row).to_string()
            };
            let value = if pair[1].is_null(row) {
                serde_json::Value::Null
            } else {
                serde_json::Value::String(pair[1].value(row).to_string())
            };
            object.insert(key, value);
        }
        result.append_value(serde_json::Value::Object(object).to_string());
    }
    Ok(Arc::new(result.finish()))
}

/// `to_regclass(text)` and every `::regclass` cast: a relation name resolves to its oid (NULL
/// when there is none), an oid — a number or numeric text — stays itself.
fn to_regclass(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    regcast(args, "to_regclass", |name| state.resolve(name))
}

/// `::regproc`: a function name (optionally `pg_catalog.`-qualified) resolves to its oid.
fn to_regproc(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    regcast(args, "to_regproc", |name| {
        let name = name
            .trim()
            .trim_start_matches("pg_catalog.")
            .trim_matches('"');
        state.function_oid(name)
    })
}

fn regcast(
    args: &[ArrayRef],
    name: &str,
    lookup: impl Fn(&str) -> Option<i64>,
) -> Result<ArrayRef> {
    let Some(arg) = args.first() else {
        return exec_err!("{name}() takes one argument");
    };
    if arg.data_type().is_integer() {
        return Ok(cast(arg, &DataType::Int64)?);
    }
    let names = texts(args, 0, name)?;
    let result: Int64Array = names
        .iter()
        .map(|n| n.and_then(|n| n.trim().parse::<i64>().ok().or_else(|| lookup(n))))
        .collect();
    Ok(Arc::new(result))
}

/// `pg_prefix_elements(text[], text)`: each element with the text in front; what psql's
/// `ARRAY(SELECT 'toast.' || x FROM unnest(arr) x)` computes (see the rewrite module).
pub(crate) const PREFIX_ELEMENTS: &str = "pg_prefix_elements";

fn prefix_elements(_state: &CatalogState, args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let [lists, prefixes] = args else {
        return exec_err!("{PREFIX_ELEMENTS}() takes an array and a text");
    };
    let lists = cast(lists, &text_array())?;
    let lists = lists.as_list::<i32>();
    let prefixes = texts(&[Arc::clone(prefixes)], 0, PREFIX_ELEMENTS)?;
    let mut builder = ListBuilder::new(StringBuilder::new());
    for row in 0..rows {
        if !lists.is_null(row) {
            let values = lists.value(row);
            let values = values.as_string::<i32>();
            let prefix = if prefixes.is_null(row) {
                None
            } else {
                Some(prefixes.value(row))
            };
            for value in values.iter() {
                match (prefix, value) {
                    (Some(p), Some(v)) => builder.values().append_value(format!("{p}{v}")),
                    _ => builder.values().append_null(),
                }
            }
        }
        // An empty array, as ARRAY(SELECT ... FROM unnest(NULL)) is.
        builder.append(true);
    }
    Ok(Arc::new(builder.finish()))
}

fn size_pretty(_state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let sizes = oids(args, 0, "pg_size_pretty")?;
    let result: StringArray = sizes.iter().map(|s| s.map(pretty_size)).collect();
    Ok(Arc::new(result))
}

/// `pg_size_pretty(bigint)`: bytes below 10 kB, then the largest unit keeping the number
/// under 20480, rounded half away from zero, as PostgreSQL prints it.
pub(crate) fn pretty_size(bytes: i64) -> String {
    const LIMIT: i64 = 10 * 1024;
    const LIMIT2: i64 = LIMIT * 2 - 1;
    if bytes.abs() < LIMIT {
        return format!("{bytes} bytes");
    }
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    // Keep one extra bit for rounding.
    let mut size = bytes >> 9;
    for unit in ["kB", "MB", "GB", "TB"] {
        if size.abs() < LIMIT2 {
            return format!("{} {unit}", half_rounded(size));
        }
        size >>= 10;
    }
    format!("{} PB", half_rounded(size))
}

/// `pg_like_escape(pattern, escape)`: a LIKE pattern written with escape character `escape`
/// rewritten to use backslash, the only escape DataFusion's LIKE knows (see the rewrite).
pub(crate) const LIKE_ESCAPE: &str = "pg_like_escape";

fn like_escape(_state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let patterns = texts(args, 0, LIKE_ESCAPE)?;
    let escapes = texts(args, 1, LIKE_ESCAPE)?;
    let result: StringArray = patterns
        .iter()
        .zip(escapes.iter())
        .map(|(pattern, escape)| {
            let pattern = pattern?;
            let escape = escape.and_then(|e| e.chars().next());
            Some(backslash_pattern(pattern, escape))
        })
        .collect();
    Ok(Arc::new(result))
}

/// Rewrites a LIKE pattern from escape character `escape` (none when `None`) to backslash.
pub(crate) fn backslash_pattern(pattern: &str, escape: Option<char>) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            match chars.next() {
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push_str("\\\\"),
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    out
}

/// PostgreSQL's `format(formatstr, args...)`: `%s` (text, NULL as empty), `%I` (identifier,
/// quoted when needed), `%L` (literal, NULL unquoted), `%%`, and `%n$` positions.
fn format_fn(_state: &CatalogState, args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let Some((formats, values)) = args.split_first() else {
        return exec_err!("format() needs a format string");
    };
    let formats = texts(std::slice::from_ref(formats), 0, "format")?;
    let values: Vec<StringArray> = values
        .iter()
        .map(|a| Ok(cast(a, &DataType::Utf8)?.as_string::<i32>().clone()))
        .collect::<Result<_>>()?;
    let mut result = StringBuilder::new();
    for row in 0..rows {
        if formats.is_null(row) {
            result.append_null();
            continue;
        }
        let value = |i: usize| {
            values
                .get(i)
                .and_then(|v| (!v.is_null(row)).then(|| v.value(row)))
        };
        result.append_value(format_one(formats.value(row), values.len(), value)?);
    }
    Ok(Arc::new(result.finish()))
}

/// One `format()` result; `value(i)` is argument `i` (0-based) of `count`.
pub(crate) fn format_one<'a>(
    format: &str,
    count: usize,
    value: impl Fn(usize) -> Option<&'a str>,
) -> Result<String> {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut next = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut position = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            position.push(*d);
            chars.next();
        }
        let index = if position.is_empty() {
            None
        } else if chars.next_if_eq(&'$').is_some() {
            position
                .parse::<usize>()
                .ok()
                .and_then(|p| p.checked_sub(1))
        } else {
            return exec_err!("unsupported format specifier in format()");
        };
        let Some(kind) = chars.next() else {
            return exec_err!("unterminated format() type specifier");
        };
        if kind == '%' {
            out.push('%');
            continue;
        }
        let index = index.unwrap_or(next);
        next = index + 1;
        if index >= count {
            return exec_err!("too few arguments for format()");
        }
        let arg = value(index);
        match kind {
            's' => out.push_str(arg.unwrap_or("")),
            'I' => match arg {
                Some(name) => out.push_str(&quoted_identifier(name)),
                None => return exec_err!("null values cannot be formatted as an SQL identifier"),
            },
            'L' => match arg {
                Some(text) => {
                    out.push('\'');
                    out.push_str(&text.replace('\'', "''"));
                    out.push('\'');
                }
                None => out.push_str("NULL"),
            },
            other => return exec_err!("unrecognized format() type specifier \"{other}\""),
        }
    }
    Ok(out)
}

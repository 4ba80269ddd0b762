//! The PostgreSQL catalog functions psql and drivers call (`format_type`, `obj_description`,
//! `pg_table_is_visible`, ...), answered from the session's own catalog state.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, RwLock};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListBuilder, StringArray, StringBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type};
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::tables::text_array;
use super::types::format_type;
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
        function("format_type", DataType::Utf8, format_type_fn),
        function("pg_get_userbyid", DataType::Utf8, user_by_id),
        function("obj_description", DataType::Utf8, obj_description),
        function("col_description", DataType::Utf8, col_description),
        function("pg_get_viewdef", DataType::Utf8, view_definition),
        function("pg_encoding_to_char", DataType::Utf8, encoding_to_char),
        function(
            "has_table_privilege",
            DataType::Boolean,
            has_table_privilege,
        ),
        function(
            "has_schema_privilege",
            DataType::Boolean,
            has_schema_privilege,
        ),
        function("pg_get_expr", DataType::Utf8, no_expression),
        function("to_regclass", DataType::Int64, to_regclass),
        function(PREFIX_ELEMENTS, text_array(), prefix_elements),
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
    let result: StringArray = oids.iter().map(|o| o.map(format_type)).collect();
    Ok(Arc::new(result))
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

fn no_expression(_state: &CatalogState, _args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(datafusion::arrow::array::new_null_array(
        &DataType::Utf8,
        rows,
    ))
}

fn to_regclass(state: &CatalogState, args: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let names = texts(args, 0, "to_regclass")?;
    let result: Int64Array = names
        .iter()
        .map(|n| n.and_then(|n| state.resolve(n)))
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

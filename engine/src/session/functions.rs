//! PostgreSQL session functions (`version()`, `current_user`, `current_database()`, ...).
//!
//! BI tools call these on connect and branch on the answers, so they must look like PostgreSQL
//! rather than DataFusion: `version()` names a PostgreSQL version, `current_user` is the login.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{exec_err, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The PostgreSQL server version FlowForge reports (`SHOW server_version`, `version()`).
pub const PG_SERVER_VERSION: &str = "16.4";

/// The database name every tenant connects to.
pub const DATABASE_NAME: &str = "flowforge";

/// The schema bare names resolve in (PostgreSQL's `search_path`).
pub const DEFAULT_SCHEMA: &str = "public";

/// The text `version()` returns, in PostgreSQL's format so drivers that parse it keep working.
pub fn version_string() -> String {
    format!(
        "PostgreSQL {PG_SERVER_VERSION} on x86_64-pc-linux-gnu, compiled by FlowForge {}",
        env!("CARGO_PKG_VERSION")
    )
}

/// A nullary function returning a fixed text for this session.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SessionText {
    name: &'static str,
    value: String,
    signature: Signature,
}

impl ScalarUDFImpl for SessionText {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if !args.args.is_empty() {
            return exec_err!("{}() takes no arguments", self.name);
        }
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(
            self.value.clone(),
        ))))
    }
}

/// `current_schemas(include_implicit boolean)`: the effective search path as a text array.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CurrentSchemas {
    signature: Signature,
}

impl CurrentSchemas {
    fn schemas(include_implicit: bool) -> &'static [&'static str] {
        if include_implicit {
            &["pg_catalog", DEFAULT_SCHEMA]
        } else {
            &[DEFAULT_SCHEMA]
        }
    }

    fn list_type() -> DataType {
        DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
    }

    fn build(flags: &BooleanArray) -> ArrayRef {
        let mut builder = ListBuilder::new(StringBuilder::new());
        for i in 0..flags.len() {
            if flags.is_null(i) {
                builder.append_null();
            } else {
                for schema in Self::schemas(flags.value(i)) {
                    builder.values().append_value(schema);
                }
                builder.append(true);
            }
        }
        Arc::new(builder.finish())
    }
}

impl ScalarUDFImpl for CurrentSchemas {
    fn name(&self) -> &str {
        "current_schemas"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(Self::list_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = args.args.as_slice() else {
            return exec_err!("current_schemas() takes one boolean argument");
        };
        match arg {
            ColumnarValue::Scalar(scalar) => {
                let flag = match scalar {
                    ScalarValue::Boolean(flag) => *flag,
                    ScalarValue::Null => None,
                    other => {
                        return exec_err!("current_schemas() expects a boolean, got {other:?}")
                    }
                };
                let array = Self::build(&BooleanArray::from(vec![flag]));
                Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                    &array, 0,
                )?))
            }
            ColumnarValue::Array(array) => {
                let Some(flags) = array.as_any().downcast_ref::<BooleanArray>() else {
                    return exec_err!("current_schemas() expects a boolean argument");
                };
                Ok(ColumnarValue::Array(Self::build(flags)))
            }
        }
    }
}

/// The PostgreSQL session functions for a login, ready to register in a tenant's context.
pub(crate) fn session_functions(user: &str) -> Vec<ScalarUDF> {
    let text = |name: &'static str, value: String| {
        ScalarUDF::new_from_impl(SessionText {
            name,
            value,
            signature: Signature::nullary(Volatility::Stable),
        })
    };
    vec![
        text("version", version_string()),
        text("current_user", user.to_string()),
        text("session_user", user.to_string()),
        // PostgreSQL's `user` (a reserved word) is `current_user`.
        text("user", user.to_string()),
        text("current_database", DATABASE_NAME.to_string()),
        text("current_catalog", DATABASE_NAME.to_string()),
        text("current_schema", DEFAULT_SCHEMA.to_string()),
        ScalarUDF::new_from_impl(CurrentSchemas {
            signature: Signature::exact(vec![DataType::Boolean], Volatility::Stable),
        }),
    ]
}

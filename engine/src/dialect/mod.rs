//! SQL for a backend: a plan unparsed by DataFusion in the backend's dialect.
//!
//! PostgreSQL (and Materialize, which speaks it) uses DataFusion's own dialect; ClickHouse uses
//! [`clickhouse::ClickHouseDialect`] plus an AST pass for what the unparser has no hook for
//! (aggregate and window function names). Plans are unparsed as built by the compiler — analyzed
//! but not optimized — because optimized plans do not always unparse to valid SQL.

mod clickhouse;

use std::fmt;
use std::str::FromStr;

use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::unparser::dialect::PostgreSqlDialect;
use datafusion::sql::unparser::Unparser;

pub use clickhouse::ClickHouseDialect;

use crate::error::EngineError;

/// A backend SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlDialect {
    /// PostgreSQL, also used for Materialize.
    Postgres,
    /// ClickHouse.
    ClickHouse,
}

impl SqlDialect {
    /// Name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            SqlDialect::Postgres => "postgres",
            SqlDialect::ClickHouse => "clickhouse",
        }
    }
}

impl fmt::Display for SqlDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SqlDialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "materialize" => Ok(SqlDialect::Postgres),
            "clickhouse" => Ok(SqlDialect::ClickHouse),
            other => Err(format!(
                "unknown dialect '{other}'; expected postgres or clickhouse"
            )),
        }
    }
}

/// The SQL statement for `plan` in `dialect`.
pub fn plan_to_sql(plan: &LogicalPlan, dialect: SqlDialect) -> Result<String, EngineError> {
    let statement = match dialect {
        SqlDialect::Postgres => Unparser::new(&PostgreSqlDialect {}).plan_to_sql(plan)?,
        SqlDialect::ClickHouse => {
            let mut statement = Unparser::new(&ClickHouseDialect).plan_to_sql(plan)?;
            clickhouse::rewrite_functions(&mut statement);
            statement
        }
    };
    Ok(statement.to_string())
}

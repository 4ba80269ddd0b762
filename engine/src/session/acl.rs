//! The tenant ACL: market tables filtered to a tenant's entitled symbols.
//!
//! Two layers. First, secure by construction: a tenant's session never holds a raw market
//! provider; it holds an [`EntitledTable`], whose logical plan is
//! `Filter(symbol IN (<entitlements>), TableScan(raw))` built from literals. DataFusion inlines that
//! plan wherever the table is named, so every query shape (CTE, subquery, UNION, join, view of a
//! view) reads the filtered plan. Second, [`AclGuard`], an analyzer rule that re-checks every
//! analyzed plan, subqueries included, and refuses any plan that reaches a raw symbol-scoped
//! table other than directly under this tenant's entitlement filter.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Column, DataFusionError, ScalarValue, TableReference};
use datafusion::datasource::cte_worktable::CteWorkTable;
use datafusion::datasource::{provider_as_source, DefaultTableSource, ViewTable};
use datafusion::logical_expr::{
    lit, Expr, LogicalPlan, LogicalPlanBuilder, TableProviderFilterPushDown, TableScan, TableType,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::physical_plan::ExecutionPlan;

use crate::error::EngineError;

/// The column that carries the instrument symbol in every market table.
pub const SYMBOL_COLUMN: &str = "symbol";

/// A plan reached a raw market table without the tenant's entitlement filter.
///
/// Raised by [`AclGuard`] inside DataFusion (as an external error) and turned into
/// [`EngineError::AclViolation`] at the session boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclViolation {
    /// The table that was reached.
    pub table: String,
    /// How the check failed.
    pub reason: String,
}

impl fmt::Display for AclViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tenant access check failed for table {}: {}",
            self.table, self.reason
        )
    }
}

impl std::error::Error for AclViolation {}

impl From<AclViolation> for EngineError {
    fn from(v: AclViolation) -> Self {
        EngineError::AclViolation {
            table: v.table,
            reason: v.reason,
        }
    }
}

/// Whether a schema carries a symbol column (compared case-insensitively, to fail closed).
pub(crate) fn has_symbol_column(schema: &SchemaRef) -> bool {
    schema
        .fields()
        .iter()
        .any(|f| f.name().eq_ignore_ascii_case(SYMBOL_COLUMN))
}

/// A market table as one tenant may see it: the raw provider behind the entitlement filter.
///
/// Its [`TableProvider::get_logical_plan`] returns the filtered plan, so DataFusion inlines the
/// filter wherever the table is referenced; when a caller scans it directly (no inlining), the
/// same filtered plan is planned and executed.
#[derive(Debug)]
pub struct EntitledTable {
    table: String,
    raw: Arc<dyn TableProvider>,
    predicate: Expr,
    view: ViewTable,
}

impl EntitledTable {
    /// Wraps `raw` (the provider of serving table `table`) so only rows whose symbol is in
    /// `entitlements` are visible. An empty entitlement list shows no rows.
    pub fn new(
        table: &str,
        raw: Arc<dyn TableProvider>,
        entitlements: &BTreeSet<String>,
    ) -> Result<Self, EngineError> {
        let schema = raw.schema();
        let field = schema
            .fields()
            .iter()
            .find(|f| f.name() == SYMBOL_COLUMN)
            .ok_or_else(|| EngineError::AclViolation {
                table: table.to_string(),
                reason: format!("a market table needs a '{SYMBOL_COLUMN}' column to be filtered"),
            })?;
        let symbol = Expr::Column(Column::new(
            Some(TableReference::bare(table)),
            SYMBOL_COLUMN,
        ));
        let predicate = if entitlements.is_empty() {
            lit(false)
        } else {
            let literals = entitlements
                .iter()
                .map(|s| symbol_literal(table, field.data_type(), s).map(lit))
                .collect::<Result<Vec<_>, _>>()?;
            symbol.in_list(literals, false)
        };
        let filtered = LogicalPlanBuilder::scan(table, provider_as_source(Arc::clone(&raw)), None)?
            .filter(predicate)?
            .build()?;
        // Keep the predicate exactly as the builder normalised it: the guard compares against it.
        let predicate = match &filtered {
            LogicalPlan::Filter(filter) => filter.predicate.clone(),
            other => {
                return Err(EngineError::AclViolation {
                    table: table.to_string(),
                    reason: format!("entitlement plan has unexpected shape: {}", other.display()),
                })
            }
        };
        // The explicit projection makes the unparser emit a derived table, `(SELECT .. FROM t
        // WHERE symbol IN (..)) AS alias`, which keeps user aliases valid in backend SQL.
        let columns = filtered.schema().columns().into_iter().map(Expr::Column);
        let plan = LogicalPlanBuilder::from(filtered)
            .project(columns)?
            .build()?;
        Ok(EntitledTable {
            table: table.to_string(),
            raw,
            predicate,
            view: ViewTable::new(plan, None),
        })
    }

    /// The serving table this wraps.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The entitlement predicate applied to every scan of the raw table.
    pub fn predicate(&self) -> &Expr {
        &self.predicate
    }

    /// What [`AclGuard`] must find above every scan of this table's raw provider.
    pub(crate) fn guarded(&self) -> GuardedTable {
        GuardedTable {
            table: self.table.clone(),
            raw: Arc::clone(&self.raw),
            predicate: self.predicate.clone(),
        }
    }
}

/// A literal of the symbol column's own string type, so type coercion never rewrites the filter.
fn symbol_literal(
    table: &str,
    data_type: &DataType,
    symbol: &str,
) -> Result<ScalarValue, EngineError> {
    let value = Some(symbol.to_string());
    match data_type {
        DataType::Utf8 => Ok(ScalarValue::Utf8(value)),
        DataType::LargeUtf8 => Ok(ScalarValue::LargeUtf8(value)),
        DataType::Utf8View => Ok(ScalarValue::Utf8View(value)),
        DataType::Dictionary(key, inner) if inner.as_ref() == &DataType::Utf8 => Ok(
            ScalarValue::Dictionary(key.clone(), Box::new(ScalarValue::Utf8(value))),
        ),
        other => Err(EngineError::AclViolation {
            table: table.to_string(),
            reason: format!("'{SYMBOL_COLUMN}' has type {other}; a string type is required"),
        }),
    }
}

#[async_trait]
impl TableProvider for EntitledTable {
    fn schema(&self) -> SchemaRef {
        self.view.schema()
    }

    /// Shown as a base table in catalogs: to the tenant it is the table, not a view of one.
    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn get_logical_plan(&'_ self) -> Option<Cow<'_, LogicalPlan>> {
        self.view.get_logical_plan()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        self.view.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        self.view.scan(state, projection, filters, limit).await
    }
}

/// One raw market table and the filter that must sit directly above each of its scans.
#[derive(Debug, Clone)]
pub(crate) struct GuardedTable {
    table: String,
    raw: Arc<dyn TableProvider>,
    predicate: Expr,
}

/// Second line of defence: an analyzer rule that refuses plans reading raw market data
/// without the tenant's entitlement filter.
///
/// It *checks* rather than injects: the session's tables are filtered by construction, so a
/// missing filter means a bug or a plan built against the wrong tables, and failing the query
/// is safer than guessing where a filter belongs. It never changes the plan, so running it any
/// number of times is idempotent. It walks subqueries inside expressions too (`IN (SELECT ..)`,
/// scalar subqueries, `EXISTS`), which plain `transform_up`/`apply` would skip. It runs first
/// among the analyzer rules, before type coercion, so it sees the filter exactly as built.
///
/// A table scan is accepted when it is:
/// * a scan of one of this session's raw market providers directly under a `Filter` whose
///   predicate is that table's entitlement predicate;
/// * a scan of a provider that plans itself from a logical plan (views, [`EntitledTable`]):
///   that inner plan passes this rule when it is planned;
/// * a recursive CTE's work table;
/// * any other table without a symbol column.
///
/// Anything else carrying a symbol column, e.g. a raw provider this session does not know, fails.
#[derive(Debug)]
pub(crate) struct AclGuard {
    guarded: Vec<GuardedTable>,
}

impl AclGuard {
    /// A guard for these raw tables.
    pub(crate) fn new(guarded: Vec<GuardedTable>) -> Self {
        AclGuard { guarded }
    }

    fn guard_index(&self, scan: &TableScan) -> Option<usize> {
        let provider = scan_provider(scan)?;
        self.guarded
            .iter()
            .position(|g| same_provider(&g.raw, provider))
    }

    /// Checks a whole plan, subqueries included.
    pub(crate) fn check(&self, plan: &LogicalPlan) -> Result<(), AclViolation> {
        // Per guarded table: scans seen, and scans seen directly under the right filter. Counting
        // (rather than remembering node addresses) stays correct when a plan shares one scan
        // node between several parents.
        let mut scans = vec![0usize; self.guarded.len()];
        let mut filtered = vec![0usize; self.guarded.len()];
        let mut violation: Option<AclViolation> = None;
        let walked = plan.apply_with_subqueries(|node| {
            match node {
                LogicalPlan::Filter(filter) => {
                    if let LogicalPlan::TableScan(scan) = filter.input.as_ref() {
                        if let Some(i) = self.guard_index(scan) {
                            if filter.predicate == self.guarded[i].predicate {
                                filtered[i] += 1;
                            }
                        }
                    }
                }
                LogicalPlan::TableScan(scan) => {
                    if let Some(i) = self.guard_index(scan) {
                        scans[i] += 1;
                    } else if let Some(reason) = unknown_scan_problem(scan) {
                        violation = Some(AclViolation {
                            table: scan.table_name.to_string(),
                            reason,
                        });
                        return Ok(TreeNodeRecursion::Stop);
                    }
                }
                _ => {}
            }
            Ok(TreeNodeRecursion::Continue)
        });
        if let Err(e) = walked {
            return Err(AclViolation {
                table: String::from("?"),
                reason: format!("plan could not be inspected: {e}"),
            });
        }
        if let Some(v) = violation {
            return Err(v);
        }
        for (i, guarded) in self.guarded.iter().enumerate() {
            if scans[i] > filtered[i] {
                return Err(AclViolation {
                    table: guarded.table.clone(),
                    reason: "the raw table is read without the tenant's entitlement filter".into(),
                });
            }
        }
        Ok(())
    }
}

impl AnalyzerRule for AclGuard {
    fn analyze(
        &self,
        plan: LogicalPlan,
        _config: &ConfigOptions,
    ) -> datafusion::error::Result<LogicalPlan> {
        self.check(&plan)
            .map_err(|v| DataFusionError::External(Box::new(v)))?;
        Ok(plan)
    }

    fn name(&self) -> &str {
        "flowforge_tenant_acl"
    }
}

/// The provider behind a table scan, when it is a regular provider-backed source.
fn scan_provider(scan: &TableScan) -> Option<&Arc<dyn TableProvider>> {
    scan.source
        .downcast_ref::<DefaultTableSource>()
        .map(|source| &source.table_provider)
}

/// Whether two providers are the same object (data pointer only; vtables may be duplicated).
fn same_provider(a: &Arc<dyn TableProvider>, b: &Arc<dyn TableProvider>) -> bool {
    std::ptr::eq(Arc::as_ptr(a) as *const (), Arc::as_ptr(b) as *const ())
}

/// Why a scan of a table the guard does not know is refused, or `None` when it is acceptable.
fn unknown_scan_problem(scan: &TableScan) -> Option<String> {
    if scan.source.get_logical_plan().is_some() {
        return None;
    }
    if let Some(provider) = scan_provider(scan) {
        if provider.is::<CteWorkTable>() {
            return None;
        }
    }
    if has_symbol_column(&scan.source.schema()) {
        return Some("a table with a symbol column that is not one of this tenant's tables".into());
    }
    None
}

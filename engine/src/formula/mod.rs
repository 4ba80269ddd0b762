//! The formula language: the canvas's low-code expressions for calculated columns.
//!
//! A formula such as `IF([qty] > 1000, "large", "small")` is lexed and parsed by hand
//! ([`parse`]) into an [`ast::Expr`] with character spans, then type-checked against the input
//! [`Schema`] and compiled ([`compile`]) into a DataFusion [`Expr`] built from DataFusion's
//! function APIs — never SQL text — so that the same plan runs locally and unparses to each
//! backend's dialect. The parser is hand-written rather than generated so that every error can
//! say exactly where it is and what was expected, in the canvas's words.
//!
//! Where a formula is used decides what it may contain ([`FormulaScope`]): aggregates only under
//! Group By (or over a window in a Window node), window functions only in a Window node, and row
//! offsets like `[close, -1]` only where rows have an order.

pub mod ast;
mod builtins;
mod compiler;
mod dates;
mod functions;
mod lexer;
mod parser;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use datafusion::logical_expr::{Expr, SortExpr, WindowFrame};
use serde::Serialize;

use crate::types::{ColumnType, Schema};

pub use functions::Function;

/// Why a formula was rejected, located at a character offset so the canvas can underline it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "at position {position}: {message}{}",
    expected.as_deref().map(|e| format!("; expected {e}")).unwrap_or_default()
)]
pub struct FormulaError {
    /// 0-based character (not byte) offset of the offending text.
    pub position: usize,
    /// What would have been valid there, when that can be said.
    pub expected: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl FormulaError {
    /// An error at `position` with no "expected" hint.
    pub fn new(position: usize, message: impl Into<String>) -> Self {
        FormulaError {
            position,
            expected: None,
            message: message.into(),
        }
    }

    /// The same error, saying what would have been valid.
    pub fn expecting(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }
}

/// The window a Window node (or an ordered input) defines: how rows are partitioned and ordered
/// for window functions, window aggregates and row offsets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowSpec {
    /// `PARTITION BY` expressions.
    pub partition_by: Vec<Expr>,
    /// `ORDER BY` expressions.
    pub order_by: Vec<SortExpr>,
    /// The frame for window aggregates; `None` for DataFusion's default.
    pub frame: Option<WindowFrame>,
}

/// Where a formula is evaluated, which decides which functions it may use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FormulaScope<'a> {
    /// Row by row (Formula node, Filter). With an `ordering`, row offsets like `[close, -1]`
    /// are allowed and use it.
    Row {
        /// The order rows arrive in, if the input has one.
        ordering: Option<&'a WindowSpec>,
    },
    /// One value per group (Group By): aggregates allowed.
    Aggregate,
    /// Over a window (Window node): window functions, window aggregates and row offsets allowed.
    Window(&'a WindowSpec),
}

/// A compiled formula: the DataFusion expression and the column it produces.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedExpr {
    /// The expression, over unqualified columns of the input.
    pub expr: Expr,
    /// Its logical type; equal to the type DataFusion infers for `expr`.
    pub ty: ColumnType,
    /// Whether it may be NULL.
    pub nullable: bool,
}

/// One entry of the canvas's function palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FunctionInfo {
    /// Name as written in formulas.
    pub name: &'static str,
    /// Palette group: Math, Text, Date, Logic, Aggregate or Window.
    pub category: &'static str,
    /// How it is called.
    pub signature: &'static str,
    /// What it returns, in a sentence.
    pub description: &'static str,
}

/// Parses a formula without looking at any schema (for validation and highlighting).
pub fn parse(src: &str) -> Result<ast::Expr, FormulaError> {
    parser::parse(src)
}

/// Parses, type-checks against `input` and compiles a formula for use in `scope`.
pub fn compile(
    src: &str,
    input: &Schema,
    scope: FormulaScope<'_>,
) -> Result<TypedExpr, FormulaError> {
    let ast = parser::parse(src)?;
    compiler::compile(&ast, input, scope)
}

/// Every function the language offers, for the canvas's function palette.
pub fn function_catalogue() -> &'static [FunctionInfo] {
    functions::CATALOGUE
}

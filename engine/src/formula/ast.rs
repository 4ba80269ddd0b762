//! The syntax tree of a formula.
//!
//! The canvas parses formulas for highlighting and validation before anything is type-checked, so
//! the tree is independent of schemas and of DataFusion. Every node carries the [`Span`] of the
//! source text it came from, in characters, so errors found later can point back at it.

use std::fmt;

use super::functions::Function;

/// A half-open range `start..end` of character offsets (not bytes) into the formula source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Offset of the first character.
    pub start: usize,
    /// Offset one past the last character.
    pub end: usize,
}

impl Span {
    /// A span from `start` up to (not including) `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// One node of the syntax tree together with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// The source text it covers.
    pub span: Span,
}

impl Expr {
    /// A node of `kind` covering `span`.
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }
}

/// The kinds of formula expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `[name]`, or `[name, offset]` for the value `offset` rows away (negative = earlier rows).
    Column {
        /// The column name as written between the brackets.
        name: String,
        /// Row offset; 0 for the current row.
        offset: i64,
    },
    /// A constant.
    Literal(Literal),
    /// `-x` or `NOT x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `left op right`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Where the operator itself was written.
        op_span: Span,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `x IS NULL` / `x IS NOT NULL`.
    IsNull {
        /// The tested value.
        operand: Box<Expr>,
        /// True for `IS NOT NULL`.
        negated: bool,
    },
    /// A function call such as `ROUND([price], 2)`.
    Call {
        /// The function called.
        function: Function,
        /// Where the function name was written.
        name_span: Span,
        /// The arguments in order.
        args: Vec<Expr>,
    },
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`.
    Case {
        /// The value compared against each `WHEN` in the simple form; `None` in the searched form.
        operand: Option<Box<Expr>>,
        /// The `WHEN`/`THEN` pairs in order.
        branches: Vec<WhenThen>,
        /// The `ELSE` value, if written.
        otherwise: Option<Box<Expr>>,
    },
}

/// One `WHEN condition THEN result` pair of a `CASE`.
#[derive(Debug, Clone, PartialEq)]
pub struct WhenThen {
    /// The condition (searched form) or the value compared with the operand (simple form).
    pub when: Expr,
    /// The result when it matches.
    pub then: Expr,
}

/// A constant written in the formula.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A whole number.
    Int(i64),
    /// A number with a fractional part.
    Float(f64),
    /// Text, with quote escapes already resolved.
    String(String),
    /// `TRUE` or `FALSE`.
    Bool(bool),
    /// `NULL`.
    Null,
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// Arithmetic negation `-`.
    Neg,
    /// Logical `NOT`.
    Not,
}

/// Infix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `=`
    Eq,
    /// `!=` or `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `AND`
    And,
    /// `OR`
    Or,
}

impl BinaryOp {
    /// Whether the operator is one of `+ - * / %`.
    pub fn is_arithmetic(self) -> bool {
        matches!(
            self,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod
        )
    }

    /// Whether the operator compares two values.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
        )
    }

    /// The operator as written in formulas and error messages.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
        }
    }
}

impl fmt::Display for BinaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

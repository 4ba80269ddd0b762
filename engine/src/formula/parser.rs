//! Parser from tokens to the [`ast`](super::ast): recursive descent for primaries, precedence
//! climbing for operators.
//!
//! Precedence, loosest first: `OR`, `AND`, `NOT`, comparisons and `IS [NOT] NULL` (not chainable),
//! `+ -`, `* / %`, unary minus, then primaries (literals, `[columns]`, calls, `CASE`, parentheses).
//! Length and nesting are bounded so that hostile input cannot exhaust the stack.

use super::ast::{BinaryOp, Expr, ExprKind, Literal, Span, UnaryOp, WhenThen};
use super::functions::{near_matches, Function};
use super::lexer::{tokenize, Keyword, Token, TokenKind};
use super::FormulaError;

/// Longest formula accepted, in characters.
pub(crate) const MAX_FORMULA_CHARS: usize = 10_000;
/// Deepest syntax tree accepted (parentheses, calls, operator chains all count).
pub(crate) const MAX_DEPTH: usize = 64;

/// Parses a whole formula.
pub(crate) fn parse(src: &str) -> Result<Expr, FormulaError> {
    let length = src.chars().count();
    if length > MAX_FORMULA_CHARS {
        return Err(FormulaError::new(
            MAX_FORMULA_CHARS,
            format!("formula is too long ({length} characters, at most {MAX_FORMULA_CHARS})"),
        ));
    }
    let tokens = tokenize(src)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let expr = parser.expression()?;
    let next = parser.peek();
    if next.kind != TokenKind::Eof {
        let expected = if matches!(next.kind, TokenKind::RParen) {
            "end of formula (this ')' has no matching '(')"
        } else {
            "an operator or end of formula"
        };
        return Err(FormulaError::new(
            next.span.start,
            format!("unexpected {}", next.kind.describe()),
        )
        .expecting(expected));
    }
    check_depth(&expr)?;
    Ok(expr)
}

/// Rejects trees deeper than [`MAX_DEPTH`]; iterative so that it cannot overflow itself.
fn check_depth(root: &Expr) -> Result<(), FormulaError> {
    let mut stack = vec![(root, 1usize)];
    while let Some((expr, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(FormulaError::new(
                expr.span.start,
                format!("formula is nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        let next = depth + 1;
        match &expr.kind {
            ExprKind::Column { .. } | ExprKind::Literal(_) => {}
            ExprKind::Unary { operand, .. } | ExprKind::IsNull { operand, .. } => {
                stack.push((operand, next))
            }
            ExprKind::Binary { left, right, .. } => {
                // Left last, so the leftmost too-deep node is reported.
                stack.push((right, next));
                stack.push((left, next));
            }
            ExprKind::Call { args, .. } => stack.extend(args.iter().map(|a| (a, next))),
            ExprKind::Case {
                operand,
                branches,
                otherwise,
            } => {
                stack.extend(operand.iter().map(|o| (o.as_ref(), next)));
                for branch in branches {
                    stack.push((&branch.when, next));
                    stack.push((&branch.then, next));
                }
                stack.extend(otherwise.iter().map(|o| (o.as_ref(), next)));
            }
        }
    }
    Ok(())
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Current nesting of recursive parsing, bounded by [`MAX_DEPTH`].
    depth: usize,
}

const EXPECTED_EXPRESSION: &str = "an expression";

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof and the parser never advances past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::Eof {
            self.pos += 1;
        }
        token
    }

    fn at_keyword(&self, keyword: Keyword) -> bool {
        self.peek().kind == TokenKind::Keyword(keyword)
    }

    fn eat(&mut self, kind: &TokenKind) -> Option<Token> {
        (&self.peek().kind == kind).then(|| self.advance())
    }

    fn expect(&mut self, kind: &TokenKind, expected: &str) -> Result<Token, FormulaError> {
        self.eat(kind).ok_or_else(|| self.unexpected(expected))
    }

    fn unexpected(&self, expected: &str) -> FormulaError {
        let token = self.peek();
        FormulaError::new(
            token.span.start,
            format!("unexpected {}", token.kind.describe()),
        )
        .expecting(expected)
    }

    fn expression(&mut self) -> Result<Expr, FormulaError> {
        self.nested(|parser| parser.binary(Precedence::Or))
    }

    /// Runs `parse` one nesting level deeper, failing beyond [`MAX_DEPTH`].
    fn nested(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<Expr, FormulaError>,
    ) -> Result<Expr, FormulaError> {
        if self.depth >= MAX_DEPTH {
            return Err(FormulaError::new(
                self.peek().span.start,
                format!("formula is nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        self.depth += 1;
        let expr = parse(self);
        self.depth -= 1;
        expr
    }

    /// Precedence climbing: an operand, then every infix operator binding at least as tightly
    /// as `min`. Binary operators are left-associative; comparisons do not chain.
    fn binary(&mut self, min: Precedence) -> Result<Expr, FormulaError> {
        let mut left = self.prefix()?;
        loop {
            if self.at_keyword(Keyword::Is) && Precedence::Comparison >= min {
                left = self.is_null(left)?;
                continue;
            }
            let Some((op, precedence)) = infix(&self.peek().kind) else {
                return Ok(left);
            };
            if precedence < min {
                return Ok(left);
            }
            let op_token = self.advance();
            let right = self.nested(|parser| parser.binary(precedence.tighter()))?;
            if precedence == Precedence::Comparison
                && infix(&self.peek().kind).is_some_and(|(_, p)| p == Precedence::Comparison)
            {
                return Err(FormulaError::new(
                    self.peek().span.start,
                    "comparisons cannot be chained",
                )
                .expecting("AND between two comparisons, e.g. [a] < [b] AND [b] < [c]"));
            }
            left = binary(op, op_token.span, left, right);
        }
    }

    /// `IS [NOT] NULL` after `operand`.
    fn is_null(&mut self, operand: Expr) -> Result<Expr, FormulaError> {
        self.advance();
        let negated = self.eat(&TokenKind::Keyword(Keyword::Not)).is_some();
        let null = self.expect(&TokenKind::Keyword(Keyword::Null), "NULL")?;
        let span = operand.span.to(null.span);
        Ok(Expr::new(
            ExprKind::IsNull {
                operand: Box::new(operand),
                negated,
            },
            span,
        ))
    }

    /// `NOT x` (x at comparison level), `-x`, `+x`, or a primary.
    fn prefix(&mut self) -> Result<Expr, FormulaError> {
        let (op, operand_level) = match self.peek().kind {
            TokenKind::Keyword(Keyword::Not) => (Some(UnaryOp::Not), Precedence::Comparison),
            TokenKind::Minus => (Some(UnaryOp::Neg), Precedence::Prefix),
            TokenKind::Plus => (None, Precedence::Prefix),
            _ => return self.primary(),
        };
        let op_token = self.advance();
        // A minus directly before a whole number is part of the literal, so that
        // -9223372036854775808 can be written.
        if let (Some(UnaryOp::Neg), TokenKind::Int(n)) = (op, &self.peek().kind) {
            let n = *n;
            let number = self.advance();
            let span = op_token.span.to(number.span);
            let value = 0i64.checked_sub_unsigned(n).ok_or_else(|| {
                FormulaError::new(
                    span.start,
                    format!("number -{n} is too large for a whole number"),
                )
            })?;
            return Ok(Expr::new(ExprKind::Literal(Literal::Int(value)), span));
        }
        let operand = self.nested(|parser| {
            if operand_level == Precedence::Prefix {
                parser.prefix()
            } else {
                parser.binary(operand_level)
            }
        })?;
        let Some(op) = op else {
            return Ok(operand);
        };
        let span = op_token.span.to(operand.span);
        Ok(Expr::new(
            ExprKind::Unary {
                op,
                operand: Box::new(operand),
            },
            span,
        ))
    }

    fn primary(&mut self) -> Result<Expr, FormulaError> {
        let token = self.peek().clone();
        let literal = |value| Ok(Expr::new(ExprKind::Literal(value), token.span));
        match token.kind {
            TokenKind::Column { name, offset } => {
                self.advance();
                Ok(Expr::new(ExprKind::Column { name, offset }, token.span))
            }
            TokenKind::Int(n) => {
                self.advance();
                let value = i64::try_from(n).map_err(|_| {
                    FormulaError::new(
                        token.span.start,
                        format!("number {n} is too large for a whole number"),
                    )
                })?;
                literal(Literal::Int(value))
            }
            TokenKind::Float(x) => {
                self.advance();
                literal(Literal::Float(x))
            }
            TokenKind::Str(s) => {
                self.advance();
                literal(Literal::String(s))
            }
            TokenKind::Keyword(Keyword::True) => {
                self.advance();
                literal(Literal::Bool(true))
            }
            TokenKind::Keyword(Keyword::False) => {
                self.advance();
                literal(Literal::Bool(false))
            }
            TokenKind::Keyword(Keyword::Null) => {
                self.advance();
                literal(Literal::Null)
            }
            TokenKind::Keyword(Keyword::Case) => self.case(),
            TokenKind::LParen => {
                self.advance();
                let inner = self.expression()?;
                let close = self.expect(&TokenKind::RParen, "')'")?;
                Ok(Expr::new(inner.kind, token.span.to(close.span)))
            }
            TokenKind::Ident(name) => self.call(&name, token.span),
            _ => Err(self.unexpected(EXPECTED_EXPRESSION)),
        }
    }

    fn call(&mut self, name: &str, name_span: Span) -> Result<Expr, FormulaError> {
        self.advance();
        if self.peek().kind != TokenKind::LParen {
            return Err(FormulaError::new(
                name_span.start,
                format!("unexpected name '{name}': column references are written in brackets, e.g. [{name}]"),
            )
            .expecting("'(' after a function name"));
        }
        let Some(function) = Function::from_name(name) else {
            let suggestions = near_matches(name, Function::ALL.map(Function::name));
            let message = if suggestions.is_empty() {
                format!("unknown function {name}")
            } else {
                format!(
                    "unknown function {name} (did you mean {}?)",
                    suggestions.join(", ")
                )
            };
            return Err(FormulaError::new(name_span.start, message));
        };
        self.advance();
        let mut args = Vec::new();
        let close = if let Some(close) = self.eat(&TokenKind::RParen) {
            close
        } else if function == Function::Count && self.peek().kind == TokenKind::Star {
            // COUNT(*) is COUNT().
            self.advance();
            self.expect(&TokenKind::RParen, "')'")?
        } else {
            loop {
                args.push(self.expression()?);
                if self.eat(&TokenKind::Comma).is_none() {
                    break self.expect(&TokenKind::RParen, "',' or ')'")?;
                }
            }
        };
        Ok(Expr::new(
            ExprKind::Call {
                function,
                name_span,
                args,
            },
            name_span.to(close.span),
        ))
    }

    fn case(&mut self) -> Result<Expr, FormulaError> {
        let case = self.advance();
        if self.at_keyword(Keyword::End) {
            return Err(self.unexpected("WHEN"));
        }
        let operand = if self.at_keyword(Keyword::When) {
            None
        } else {
            Some(Box::new(self.expression()?))
        };
        let mut branches = Vec::new();
        while self.eat(&TokenKind::Keyword(Keyword::When)).is_some() {
            let when = self.expression()?;
            self.expect(&TokenKind::Keyword(Keyword::Then), "THEN")?;
            let then = self.expression()?;
            branches.push(WhenThen { when, then });
        }
        if branches.is_empty() {
            return Err(self.unexpected("WHEN"));
        }
        let otherwise = if self.eat(&TokenKind::Keyword(Keyword::Else)).is_some() {
            Some(Box::new(self.expression()?))
        } else {
            None
        };
        let expected = if otherwise.is_some() {
            "END"
        } else {
            "WHEN, ELSE or END"
        };
        let end = self.expect(&TokenKind::Keyword(Keyword::End), expected)?;
        Ok(Expr::new(
            ExprKind::Case {
                operand,
                branches,
                otherwise,
            },
            case.span.to(end.span),
        ))
    }
}

fn binary(op: BinaryOp, op_span: Span, left: Expr, right: Expr) -> Expr {
    let span = left.span.to(right.span);
    Expr::new(
        ExprKind::Binary {
            op,
            op_span,
            left: Box::new(left),
            right: Box::new(right),
        },
        span,
    )
}

/// Binding strength of operators, loosest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Precedence {
    Or,
    And,
    Comparison,
    Additive,
    Multiplicative,
    Prefix,
}

impl Precedence {
    /// The next tighter level: the right operand of a left-associative operator.
    fn tighter(self) -> Precedence {
        match self {
            Precedence::Or => Precedence::And,
            Precedence::And => Precedence::Comparison,
            Precedence::Comparison => Precedence::Additive,
            Precedence::Additive => Precedence::Multiplicative,
            Precedence::Multiplicative | Precedence::Prefix => Precedence::Prefix,
        }
    }
}

/// The infix operator a token stands for, with its precedence.
fn infix(kind: &TokenKind) -> Option<(BinaryOp, Precedence)> {
    Some(match kind {
        TokenKind::Keyword(Keyword::Or) => (BinaryOp::Or, Precedence::Or),
        TokenKind::Keyword(Keyword::And) => (BinaryOp::And, Precedence::And),
        TokenKind::Eq => (BinaryOp::Eq, Precedence::Comparison),
        TokenKind::NotEq => (BinaryOp::NotEq, Precedence::Comparison),
        TokenKind::Lt => (BinaryOp::Lt, Precedence::Comparison),
        TokenKind::LtEq => (BinaryOp::LtEq, Precedence::Comparison),
        TokenKind::Gt => (BinaryOp::Gt, Precedence::Comparison),
        TokenKind::GtEq => (BinaryOp::GtEq, Precedence::Comparison),
        TokenKind::Plus => (BinaryOp::Add, Precedence::Additive),
        TokenKind::Minus => (BinaryOp::Sub, Precedence::Additive),
        TokenKind::Star => (BinaryOp::Mul, Precedence::Multiplicative),
        TokenKind::Slash => (BinaryOp::Div, Precedence::Multiplicative),
        TokenKind::Percent => (BinaryOp::Mod, Precedence::Multiplicative),
        _ => return None,
    })
}

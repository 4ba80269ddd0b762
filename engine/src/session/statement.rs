//! Parsing one SQL statement and deciding, before any planning, whether FlowForge may run it.
//!
//! FlowForge is a read-only serving layer: anything that could write (DML, DDL, `COPY`, `GRANT`,
//! `SELECT INTO`, data-modifying CTEs) is refused here with [`EngineError::ReadOnly`], so it never
//! reaches a planner or a backend. Statements are classified from the parsed AST; when a write
//! statement does not even parse (e.g. `COPY t FROM stdin`, which DataFusion's parser rejects), its
//! leading keywords still mark it read-only.

use std::ops::ControlFlow;

use datafusion::error::DataFusionError;
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{self, SetExpr, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::ParserError;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use crate::error::EngineError;

/// What a statement asks for, once it is known to be allowed.
#[derive(Debug)]
pub(crate) enum Classified {
    /// Nothing but whitespace, comments or semicolons.
    Empty,
    /// A query (`SELECT`, `WITH`, `VALUES`, `TABLE`) or a catalog listing (`SHOW TABLES`).
    Query(DFStatement),
    /// `EXPLAIN [VERBOSE] <query>`.
    Explain {
        /// Whether `VERBOSE` was given.
        verbose: bool,
        /// The query being explained.
        statement: DFStatement,
    },
}

/// Parses `sql` as exactly one PostgreSQL statement and classifies it.
pub(crate) fn parse_and_classify(sql: &str) -> Result<Classified, EngineError> {
    let mut statements = match DFParser::parse_sql_with_dialect(sql, &PostgreSqlDialect {}) {
        Ok(statements) => statements,
        Err(e) => {
            if let Some(kind) = write_kind(&leading_words(sql)) {
                return Err(EngineError::ReadOnly { statement: kind });
            }
            return Err(syntax_error(&e, sql));
        }
    };
    match statements.len() {
        0 => Ok(Classified::Empty),
        1 => match statements.pop_front() {
            Some(statement) => classify(statement, sql),
            None => Ok(Classified::Empty),
        },
        n => Err(EngineError::Syntax {
            message: format!("expected one statement, found {n}"),
            position: None,
        }),
    }
}

fn classify(statement: DFStatement, sql: &str) -> Result<Classified, EngineError> {
    match statement {
        DFStatement::Statement(inner) => match inner.as_ref() {
            ast::Statement::Query(_) => {
                ensure_no_writes(&inner)?;
                Ok(Classified::Query(DFStatement::Statement(inner)))
            }
            ast::Statement::ShowTables { .. } | ast::Statement::ShowColumns { .. } => {
                Ok(Classified::Query(DFStatement::Statement(inner)))
            }
            ast::Statement::Copy { to: true, .. } => Err(EngineError::ReadOnly {
                statement: "COPY TO".into(),
            }),
            ast::Statement::Copy { to: false, .. } => Err(EngineError::ReadOnly {
                statement: "COPY FROM".into(),
            }),
            other if is_session_statement(other) => Err(EngineError::Unsupported(format!(
                "{} is handled by the connection, not the query planner",
                statement_kind(&leading_words(sql)).unwrap_or_else(|| "this statement".into())
            ))),
            other if is_catalog_statement(other) => Err(EngineError::Unsupported(format!(
                "{}; query information_schema instead",
                statement_kind(&leading_words(sql)).unwrap_or_else(|| "this statement".into())
            ))),
            other => Err(EngineError::ReadOnly {
                statement: statement_kind(&leading_words(&other.to_string()))
                    .unwrap_or_else(|| "this statement".into()),
            }),
        },
        DFStatement::CreateExternalTable(_) => Err(EngineError::ReadOnly {
            statement: "CREATE EXTERNAL TABLE".into(),
        }),
        DFStatement::CopyTo(_) => Err(EngineError::ReadOnly {
            statement: "COPY TO".into(),
        }),
        DFStatement::Reset(_) => Err(EngineError::Unsupported(
            "RESET is handled by the connection, not the query planner".into(),
        )),
        DFStatement::Explain(explain) => {
            if explain.options.analyze {
                return Err(EngineError::Unsupported("EXPLAIN ANALYZE".into()));
            }
            let verbose = explain.options.verbose;
            match classify(*explain.statement, sql)? {
                Classified::Query(statement) => Ok(Classified::Explain { verbose, statement }),
                Classified::Explain { .. } => {
                    Err(EngineError::Unsupported("EXPLAIN of an EXPLAIN".into()))
                }
                Classified::Empty => Err(EngineError::Syntax {
                    message: "EXPLAIN needs a statement".into(),
                    position: None,
                }),
            }
        }
    }
}

/// Statements about the connection (transactions, settings, cursors) that the wire layer answers.
fn is_session_statement(statement: &ast::Statement) -> bool {
    use ast::Statement as S;
    matches!(
        statement,
        S::Set(_)
            | S::ShowVariable { .. }
            | S::ShowVariables { .. }
            | S::StartTransaction { .. }
            | S::Commit { .. }
            | S::Rollback { .. }
            | S::Savepoint { .. }
            | S::ReleaseSavepoint { .. }
            | S::Discard { .. }
            | S::Deallocate { .. }
            | S::Prepare { .. }
            | S::Execute { .. }
            | S::Declare { .. }
            | S::Fetch { .. }
            | S::Close { .. }
            | S::LISTEN { .. }
            | S::UNLISTEN { .. }
            | S::NOTIFY { .. }
            | S::Use(_)
    )
}

/// Non-standard catalog statements (MySQL/Hive style) that PostgreSQL clients do not send.
fn is_catalog_statement(statement: &ast::Statement) -> bool {
    use ast::Statement as S;
    matches!(
        statement,
        S::ExplainTable { .. }
            | S::ShowFunctions { .. }
            | S::ShowStatus { .. }
            | S::ShowCreate { .. }
            | S::ShowCatalogs { .. }
            | S::ShowDatabases { .. }
            | S::ShowProcessList { .. }
            | S::ShowSchemas { .. }
            | S::ShowCharset(_)
            | S::ShowObjects(_)
            | S::ShowViews { .. }
            | S::ShowCollation { .. }
    )
}

/// Refuses queries that write through a side door: `SELECT INTO` or a data-modifying CTE.
fn ensure_no_writes(statement: &ast::Statement) -> Result<(), EngineError> {
    struct WriteFinder;
    impl Visitor for WriteFinder {
        type Break = String;

        fn pre_visit_statement(&mut self, statement: &ast::Statement) -> ControlFlow<String> {
            match statement {
                ast::Statement::Query(_) => ControlFlow::Continue(()),
                other => ControlFlow::Break(
                    statement_kind(&leading_words(&other.to_string()))
                        .unwrap_or_else(|| "this statement".into()),
                ),
            }
        }

        fn pre_visit_query(&mut self, query: &ast::Query) -> ControlFlow<String> {
            if selects_into(&query.body) {
                ControlFlow::Break("SELECT INTO".into())
            } else {
                ControlFlow::Continue(())
            }
        }
    }
    match statement.visit(&mut WriteFinder) {
        ControlFlow::Break(kind) => Err(EngineError::ReadOnly { statement: kind }),
        ControlFlow::Continue(()) => Ok(()),
    }
}

fn selects_into(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(select) => select.into.is_some(),
        SetExpr::Query(query) => selects_into(&query.body),
        SetExpr::SetOperation { left, right, .. } => selects_into(left) || selects_into(right),
        _ => false,
    }
}

/// Keywords that start a statement which would write.
const WRITE_KEYWORDS: &[&str] = &[
    "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "COPY", "CREATE", "DROP", "ALTER",
    "TRUNCATE", "GRANT", "REVOKE", "COMMENT", "VACUUM", "ANALYZE", "REINDEX", "CLUSTER", "REFRESH",
    "LOCK", "CALL", "DO", "IMPORT", "SECURITY", "REASSIGN", "LOAD", "INSTALL", "ATTACH", "DETACH",
    "RENAME", "UNLOAD", "OPTIMIZE", "CACHE", "UNCACHE", "MSCK",
];

/// The read-only statement kind for text whose first keyword is a write keyword.
fn write_kind(words: &[String]) -> Option<String> {
    let first = words.first()?;
    if WRITE_KEYWORDS.contains(&first.as_str()) {
        statement_kind(words)
    } else {
        None
    }
}

/// The statement kind as PostgreSQL names it in messages (`INSERT`, `CREATE TABLE`, `COPY FROM`).
fn statement_kind(words: &[String]) -> Option<String> {
    const MODIFIERS: &[&str] = &[
        "OR",
        "REPLACE",
        "TEMP",
        "TEMPORARY",
        "UNIQUE",
        "GLOBAL",
        "LOCAL",
        "UNLOGGED",
        "RECURSIVE",
        "EXTERNAL",
        "IF",
        "NOT",
        "EXISTS",
        "TRUSTED",
        "PROCEDURAL",
        "DEFAULT",
    ];
    const TWO_WORD_OBJECTS: &[&str] = &["MATERIALIZED", "FOREIGN", "TEXT", "EVENT", "ACCESS"];
    let first = words.first()?.clone();
    match first.as_str() {
        "CREATE" | "DROP" | "ALTER" => {
            let mut rest = words[1..]
                .iter()
                .filter(|w| !MODIFIERS.contains(&w.as_str()));
            match rest.next() {
                Some(object) if TWO_WORD_OBJECTS.contains(&object.as_str()) => match rest.next() {
                    Some(second) => Some(format!("{first} {object} {second}")),
                    None => Some(format!("{first} {object}")),
                },
                Some(object) => Some(format!("{first} {object}")),
                None => Some(first),
            }
        }
        "TRUNCATE" => Some("TRUNCATE TABLE".into()),
        "COPY" => {
            let direction = words[1..].iter().find(|w| *w == "FROM" || *w == "TO");
            Some(match direction {
                Some(d) => format!("COPY {d}"),
                None => first,
            })
        }
        _ => Some(first),
    }
}

/// Upper-cased keywords/identifiers of `sql` outside parentheses, in order (comments skipped).
fn leading_words(sql: &str) -> Vec<String> {
    const LIMIT: usize = 64;
    let dialect = PostgreSqlDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize() else {
        return sql
            .split_whitespace()
            .take(LIMIT)
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_uppercase()
            })
            .filter(|w| !w.is_empty())
            .collect();
    };
    let mut depth = 0usize;
    let mut words = Vec::new();
    for token in tokens {
        match token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Word(word) if depth == 0 => {
                words.push(word.value.to_uppercase());
                if words.len() == LIMIT {
                    break;
                }
            }
            _ => {}
        }
    }
    words
}

/// A syntax error from a parse failure, with PostgreSQL's 1-based character position if known.
pub(crate) fn syntax_error(error: &DataFusionError, sql: &str) -> EngineError {
    let raw = match error.find_root() {
        DataFusionError::SQL(parser_error, _) => match parser_error.as_ref() {
            ParserError::ParserError(m) | ParserError::TokenizerError(m) => m.clone(),
            ParserError::RecursionLimitExceeded => "statement is nested too deeply".into(),
        },
        other => other.message().into_owned(),
    };
    let location = error
        .diagnostic()
        .and_then(|d| d.span)
        .map(|span| (span.start.line, span.start.column))
        .filter(|(line, column)| *line > 0 && *column > 0)
        .or_else(|| location_in_message(&raw));
    let message = match raw.find(" at Line: ") {
        Some(at) => raw[..at].to_string(),
        None => raw,
    };
    EngineError::Syntax {
        message,
        position: location.and_then(|(line, column)| char_position(sql, line, column)),
    }
}

/// `(line, column)` from sqlparser's "... at Line: L, Column: C" suffix.
fn location_in_message(message: &str) -> Option<(u64, u64)> {
    let rest = &message[message.find("Line: ")? + "Line: ".len()..];
    let (line, rest) = rest.split_once(',')?;
    let column = rest.trim_start().strip_prefix("Column: ")?;
    let column: String = column.chars().take_while(char::is_ascii_digit).collect();
    Some((line.trim().parse().ok()?, column.parse().ok()?))
}

/// 1-based character offset of a 1-based line/column in `sql`.
fn char_position(sql: &str, line: u64, column: u64) -> Option<usize> {
    let line = usize::try_from(line).ok()?;
    let column = usize::try_from(column).ok()?;
    let before: usize = sql
        .split('\n')
        .take(line.checked_sub(1)?)
        .map(|l| l.chars().count() + 1)
        .sum();
    Some(before + column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(sql: &str) -> Option<String> {
        match parse_and_classify(sql) {
            Err(EngineError::ReadOnly { statement }) => Some(statement),
            _ => None,
        }
    }

    #[test]
    fn writes_are_read_only_with_postgres_kind_names() {
        assert_eq!(kind("INSERT INTO t VALUES (1)").as_deref(), Some("INSERT"));
        assert_eq!(kind("update t set a = 1").as_deref(), Some("UPDATE"));
        assert_eq!(kind("DELETE FROM t").as_deref(), Some("DELETE"));
        assert_eq!(
            kind("CREATE TABLE t (a int)").as_deref(),
            Some("CREATE TABLE")
        );
        assert_eq!(
            kind("CREATE OR REPLACE VIEW v AS SELECT 1").as_deref(),
            Some("CREATE VIEW")
        );
        assert_eq!(
            kind("DROP TABLE IF EXISTS t").as_deref(),
            Some("DROP TABLE")
        );
        assert_eq!(kind("TRUNCATE t").as_deref(), Some("TRUNCATE TABLE"));
        assert_eq!(kind("COPY t FROM stdin").as_deref(), Some("COPY FROM"));
        assert_eq!(kind("COPY t TO '/tmp/out.csv'").as_deref(), Some("COPY TO"));
        assert_eq!(kind("GRANT SELECT ON t TO bob").as_deref(), Some("GRANT"));
        assert_eq!(
            kind("ALTER TABLE t ADD COLUMN b int").as_deref(),
            Some("ALTER TABLE")
        );
        assert_eq!(
            kind("SELECT * INTO t2 FROM t").as_deref(),
            Some("SELECT INTO")
        );
        assert_eq!(
            kind("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d").as_deref(),
            Some("DELETE")
        );
        assert_eq!(
            kind("EXPLAIN INSERT INTO t VALUES (1)").as_deref(),
            Some("INSERT")
        );
    }

    #[test]
    fn queries_and_empty_input_are_allowed() {
        assert!(matches!(
            parse_and_classify("SELECT 1"),
            Ok(Classified::Query(_))
        ));
        assert!(matches!(
            parse_and_classify("WITH a AS (SELECT 1) SELECT * FROM a"),
            Ok(Classified::Query(_))
        ));
        assert!(matches!(
            parse_and_classify("VALUES (1), (2)"),
            Ok(Classified::Query(_))
        ));
        assert!(matches!(
            parse_and_classify("SHOW TABLES"),
            Ok(Classified::Query(_))
        ));
        assert!(matches!(
            parse_and_classify("EXPLAIN VERBOSE SELECT 1"),
            Ok(Classified::Explain { verbose: true, .. })
        ));
        assert!(matches!(
            parse_and_classify("  ; -- nothing\n"),
            Ok(Classified::Empty)
        ));
    }

    #[test]
    fn session_statements_and_multiple_statements_are_refused() {
        assert!(matches!(
            parse_and_classify("BEGIN"),
            Err(EngineError::Unsupported(_))
        ));
        assert!(matches!(
            parse_and_classify("SET search_path = x"),
            Err(EngineError::Unsupported(_))
        ));
        assert!(matches!(
            parse_and_classify("DESCRIBE t"),
            Err(EngineError::Unsupported(_))
        ));
        assert!(matches!(
            parse_and_classify("SHOW DATABASES"),
            Err(EngineError::Unsupported(_))
        ));
        assert!(matches!(
            parse_and_classify("SELECT 1; SELECT 2"),
            Err(EngineError::Syntax { .. })
        ));
    }

    #[test]
    fn syntax_errors_carry_the_character_position() {
        match parse_and_classify("SELECT 1 +\n  ) FROM t") {
            Err(EngineError::Syntax { position, message }) => {
                assert_eq!(position, Some(14), "{message}");
                assert!(!message.contains("Line:"), "{message}");
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
        match parse_and_classify("SELEC 1") {
            Err(EngineError::Syntax { position, .. }) => assert_eq!(position, Some(1)),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }
}

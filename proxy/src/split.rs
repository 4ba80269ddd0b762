//! Splitting a simple-protocol query string into its statements.
//!
//! PostgreSQL runs `SELECT 1; SELECT 2` as two statements with two results. The split uses
//! sqlparser's PostgreSQL tokenizer, so a `;` inside a string, a quoted identifier, a dollar-quoted
//! body or a comment does not end a statement. Each statement keeps its original text (planners
//! and error positions see what the client sent) and its significant tokens (for recognising
//! session commands without a second pass).

use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, Tokenizer};

/// One statement of a query string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SqlStatement {
    /// The statement's text, without the terminating `;` and surrounding whitespace.
    pub text: String,
    /// Characters before `text` in the query string (to report error positions in it).
    pub offset: usize,
    /// Its tokens without whitespace and comments; empty when the tokenizer could not read it
    /// (the planner then reports the syntax error).
    pub tokens: Vec<Token>,
}

/// Splits `sql` into statements, dropping empty ones (`;;`, comment-only pieces).
///
/// Text the tokenizer rejects (an unterminated string, say) is returned whole as one statement
/// so that the planner answers it with a syntax error.
pub(crate) fn split_statements(sql: &str) -> Vec<SqlStatement> {
    let dialect = PostgreSqlDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize_with_location() else {
        return whole(sql);
    };
    let line_starts = line_starts(sql);
    let mut statements = Vec::new();
    let mut start = 0usize;
    let mut significant = Vec::new();
    for token in tokens {
        match token.token {
            Token::SemiColon => {
                let Some(end) = byte_offset(sql, &line_starts, token.span.start) else {
                    return whole(sql);
                };
                push_statement(
                    &mut statements,
                    sql,
                    start,
                    end,
                    std::mem::take(&mut significant),
                );
                start = end + 1;
            }
            Token::Whitespace(_) => {}
            other => significant.push(other),
        }
    }
    if start <= sql.len() {
        push_statement(&mut statements, sql, start, sql.len(), significant);
    }
    statements
}

fn whole(sql: &str) -> Vec<SqlStatement> {
    if sql.trim().is_empty() {
        return Vec::new();
    }
    let leading = sql.len() - sql.trim_start().len();
    vec![SqlStatement {
        text: sql.trim().to_string(),
        offset: sql
            .get(..leading)
            .map_or(0, |before| before.chars().count()),
        tokens: Vec::new(),
    }]
}

fn push_statement(
    statements: &mut Vec<SqlStatement>,
    sql: &str,
    start: usize,
    end: usize,
    tokens: Vec<Token>,
) {
    if tokens.is_empty() {
        return;
    }
    let Some(piece) = sql.get(start..end) else {
        return;
    };
    let leading = start + (piece.len() - piece.trim_start().len());
    statements.push(SqlStatement {
        text: piece.trim().to_string(),
        offset: sql
            .get(..leading)
            .map_or(0, |before| before.chars().count()),
        tokens,
    });
}

/// Byte offsets where each line starts (line 1 at index 0).
fn line_starts(sql: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// Byte offset of a tokenizer location (1-based line, 1-based column counted in characters).
fn byte_offset(sql: &str, line_starts: &[usize], location: Location) -> Option<usize> {
    let line_start = *line_starts.get(usize::try_from(location.line).ok()?.checked_sub(1)?)?;
    let column = usize::try_from(location.column).ok()?.checked_sub(1)?;
    let rest = sql.get(line_start..)?;
    match rest.char_indices().nth(column) {
        Some((offset, _)) => Some(line_start + offset),
        None => Some(sql.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<String> {
        split_statements(sql).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_on_top_level_semicolons() {
        assert_eq!(texts("SELECT 1; SELECT 2"), vec!["SELECT 1", "SELECT 2"]);
        assert_eq!(texts("SELECT 1;"), vec!["SELECT 1"]);
        assert_eq!(
            texts("  SELECT 1 ;;  ; SELECT 2;  "),
            vec!["SELECT 1", "SELECT 2"]
        );
    }

    #[test]
    fn semicolons_inside_literals_and_comments_do_not_split() {
        assert_eq!(
            texts("SELECT 'a;b', \"c;d\" FROM t; SELECT $$x;y$$"),
            vec!["SELECT 'a;b', \"c;d\" FROM t", "SELECT $$x;y$$"]
        );
        assert_eq!(
            texts("SELECT 1 -- one; two\n; /* ; */ SELECT 'é;'"),
            vec!["SELECT 1 -- one; two", "/* ; */ SELECT 'é;'"]
        );
        assert_eq!(
            texts("SELECT 'it''s; fine'; SELECT 2"),
            vec!["SELECT 'it''s; fine'", "SELECT 2"]
        );
    }

    #[test]
    fn empty_and_comment_only_strings_have_no_statements() {
        assert!(split_statements("").is_empty());
        assert!(split_statements(" ; ;").is_empty());
        assert!(split_statements("-- nothing here").is_empty());
    }

    #[test]
    fn untokenizable_text_is_kept_whole_for_the_planner() {
        let statements = split_statements("SELECT 'unterminated; SELECT 2");
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0].text, "SELECT 'unterminated; SELECT 2");
        assert!(statements[0].tokens.is_empty());
    }

    #[test]
    fn offsets_count_characters_before_each_statement() {
        let offsets: Vec<usize> = split_statements("SELECT 'é'; SELECT 2")
            .iter()
            .map(|s| s.offset)
            .collect();
        assert_eq!(offsets, vec![0, 12]);
    }

    #[test]
    fn tokens_skip_whitespace_and_comments() {
        let statements = split_statements("/* hi */ SET x = 1");
        assert_eq!(statements[0].tokens.len(), 4);
    }
}

//! Recognising the statements the connection answers itself instead of the planner: settings
//! (`SET`, `RESET`, `SHOW`), transaction control (`BEGIN`, `COMMIT`, `ROLLBACK`, savepoints),
//! `DISCARD` and `DEALLOCATE`.
//!
//! FlowForge is read-only and runs every statement on its own, so transaction commands change
//! only the status the client sees; settings are stored per connection. Recognition works on the
//! statement's tokens, so it accepts PostgreSQL's spellings (`SET x TO y`, `SET x = y`,
//! `SET TIME ZONE 'UTC'`, `SET LOCAL ...`, `START TRANSACTION READ ONLY`, ...).

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Word};

/// A statement the connection handles itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SessionCommand {
    /// `SET [SESSION | LOCAL] name {TO | =} value`, `SET TIME ZONE ...`, `SET NAMES ...`.
    Set {
        /// Lower-case parameter name.
        name: String,
        /// The new value; `None` for `DEFAULT` (same as `RESET`).
        value: Option<String>,
    },
    /// `SET [SESSION] TRANSACTION ...` / `SET SESSION CHARACTERISTICS AS TRANSACTION ...`.
    SetTransaction,
    /// `SET ROLE x` / `SET SESSION AUTHORIZATION x`; only the login's own identity is allowed.
    SetRole {
        /// The role asked for; `None` for `NONE`/`DEFAULT`.
        role: Option<String>,
    },
    /// `RESET name`; `None` for `RESET ALL`.
    Reset(Option<String>),
    /// `SHOW name`; `None` for `SHOW ALL`.
    Show(Option<String>),
    /// `BEGIN` / `START TRANSACTION`.
    Begin,
    /// `COMMIT` / `END`.
    Commit,
    /// `ROLLBACK` / `ABORT`.
    Rollback,
    /// `SAVEPOINT name`.
    Savepoint,
    /// `RELEASE [SAVEPOINT] name`.
    Release,
    /// `ROLLBACK TO [SAVEPOINT] name`.
    RollbackTo,
    /// `DISCARD ALL | PLANS | SEQUENCES | TEMP`; carries the upper-case target.
    Discard(String),
    /// `DEALLOCATE [PREPARE] name`; `None` for `DEALLOCATE ALL`.
    Deallocate(Option<String>),
}

impl SessionCommand {
    /// Whether this statement ends or inspects a transaction and so is allowed while the
    /// transaction is aborted (everything else gets SQLSTATE 25P02 there).
    pub(crate) fn allowed_in_failed_transaction(&self) -> bool {
        matches!(
            self,
            SessionCommand::Commit | SessionCommand::Rollback | SessionCommand::RollbackTo
        )
    }
}

/// Why a statement that looked like a session command could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in {command}")]
pub(crate) struct CommandSyntaxError {
    /// The command's leading keyword.
    pub command: &'static str,
}

/// Recognises a session command from a statement's tokens; `Ok(None)` means the statement is
/// not one (it goes to the planner).
pub(crate) fn parse_command(
    tokens: &[Token],
) -> Result<Option<SessionCommand>, CommandSyntaxError> {
    let mut words = Cursor { tokens, at: 0 };
    let Some(first) = words.keyword() else {
        return Ok(None);
    };
    let command = match first {
        Keyword::SET => parse_set(&mut words)?,
        Keyword::RESET => {
            let name = words
                .name()
                .ok_or(CommandSyntaxError { command: "RESET" })?;
            if name == "all" {
                SessionCommand::Reset(None)
            } else if name == "role" || name == "session" {
                SessionCommand::SetRole { role: None }
            } else {
                SessionCommand::Reset(Some(name))
            }
        }
        Keyword::SHOW => match parse_show(&mut words)? {
            Some(command) => command,
            None => return Ok(None),
        },
        Keyword::BEGIN => SessionCommand::Begin,
        Keyword::START => {
            if !words.eat(Keyword::TRANSACTION) {
                return Ok(None);
            }
            SessionCommand::Begin
        }
        Keyword::COMMIT | Keyword::END => SessionCommand::Commit,
        Keyword::ROLLBACK | Keyword::ABORT => {
            let _ = words.eat(Keyword::WORK) || words.eat(Keyword::TRANSACTION);
            if words.eat(Keyword::TO) {
                SessionCommand::RollbackTo
            } else if words.eat_word("prepared") {
                return Ok(None);
            } else {
                SessionCommand::Rollback
            }
        }
        Keyword::SAVEPOINT => SessionCommand::Savepoint,
        Keyword::RELEASE => SessionCommand::Release,
        Keyword::DISCARD => {
            let target = words
                .name()
                .ok_or(CommandSyntaxError { command: "DISCARD" })?;
            let target = match target.as_str() {
                "all" | "plans" | "sequences" => target.to_uppercase(),
                "temp" | "temporary" => "TEMP".to_string(),
                _ => return Err(CommandSyntaxError { command: "DISCARD" }),
            };
            SessionCommand::Discard(target)
        }
        Keyword::DEALLOCATE => {
            let _ = words.eat(Keyword::PREPARE);
            match words.next() {
                Some(Token::Word(w)) if w.quote_style.is_none() && w.keyword == Keyword::ALL => {
                    SessionCommand::Deallocate(None)
                }
                Some(Token::Word(w)) => SessionCommand::Deallocate(Some(identifier(w))),
                _ => {
                    return Err(CommandSyntaxError {
                        command: "DEALLOCATE",
                    })
                }
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(command))
}

fn parse_set(words: &mut Cursor<'_>) -> Result<SessionCommand, CommandSyntaxError> {
    let syntax = CommandSyntaxError { command: "SET" };
    // SESSION and LOCAL only scope the setting; FlowForge has no transactions to scope it to.
    if words.eat(Keyword::SESSION) {
        if words.eat(Keyword::CHARACTERISTICS) {
            return Ok(SessionCommand::SetTransaction);
        }
        if words.eat(Keyword::AUTHORIZATION) {
            return Ok(SessionCommand::SetRole {
                role: role_value(words.value_list()),
            });
        }
    } else {
        let _ = words.eat(Keyword::LOCAL);
    }
    if words.eat(Keyword::TRANSACTION) {
        return Ok(SessionCommand::SetTransaction);
    }
    if words.eat(Keyword::ROLE) {
        return Ok(SessionCommand::SetRole {
            role: role_value(words.value_list()),
        });
    }
    if words.eat(Keyword::TIME) {
        if !words.eat(Keyword::ZONE) {
            return Err(syntax);
        }
        let value = words.value_list().ok_or(syntax.clone())?;
        let value = match value.to_ascii_lowercase().as_str() {
            "local" | "default" => None,
            _ => Some(value),
        };
        return Ok(SessionCommand::Set {
            name: "timezone".into(),
            value,
        });
    }
    if words.eat(Keyword::NAMES) {
        let value = words.value_list().ok_or(syntax.clone())?;
        return Ok(SessionCommand::Set {
            name: "client_encoding".into(),
            value: Some(value),
        });
    }
    if words.eat(Keyword::SCHEMA) {
        let value = words.value_list().ok_or(syntax.clone())?;
        return Ok(SessionCommand::Set {
            name: "search_path".into(),
            value: Some(value),
        });
    }
    let name = words.dotted_name().ok_or(syntax.clone())?;
    if !(words.eat(Keyword::TO) || words.eat_token(&Token::Eq)) {
        return Err(syntax);
    }
    let value = words.value_list().ok_or(syntax)?;
    let value = (!value.eq_ignore_ascii_case("default")).then_some(value);
    Ok(SessionCommand::Set { name, value })
}

fn role_value(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.eq_ignore_ascii_case("none") && !v.eq_ignore_ascii_case("default"))
}

fn parse_show(words: &mut Cursor<'_>) -> Result<Option<SessionCommand>, CommandSyntaxError> {
    let syntax = CommandSyntaxError { command: "SHOW" };
    let Some(Token::Word(word)) = words.peek() else {
        return Err(syntax);
    };
    // DataFusion's own SHOW TABLES / SHOW COLUMNS are catalog queries for the planner.
    if word.quote_style.is_none()
        && matches!(
            word.keyword,
            Keyword::TABLES | Keyword::COLUMNS | Keyword::FULL | Keyword::FUNCTIONS
        )
    {
        return Ok(None);
    }
    if words.eat(Keyword::ALL) && words.at_end() {
        return Ok(Some(SessionCommand::Show(None)));
    }
    if words.eat(Keyword::TIME) {
        return if words.eat(Keyword::ZONE) && words.at_end() {
            Ok(Some(SessionCommand::Show(Some("timezone".into()))))
        } else {
            Err(syntax)
        };
    }
    if words.eat(Keyword::TRANSACTION) {
        return if words.eat(Keyword::ISOLATION) && words.eat(Keyword::LEVEL) && words.at_end() {
            Ok(Some(SessionCommand::Show(Some(
                "transaction_isolation".into(),
            ))))
        } else {
            Err(syntax)
        };
    }
    if words.eat(Keyword::SESSION) {
        return if words.eat(Keyword::AUTHORIZATION) && words.at_end() {
            Ok(Some(SessionCommand::Show(Some(
                "session_authorization".into(),
            ))))
        } else {
            Err(syntax)
        };
    }
    let name = words.dotted_name().ok_or(syntax.clone())?;
    if !words.at_end() {
        return Err(syntax);
    }
    Ok(Some(SessionCommand::Show(Some(name))))
}

/// An identifier as PostgreSQL folds it: unquoted names lower-cased, quoted names verbatim.
fn identifier(word: &Word) -> String {
    if word.quote_style.is_some() {
        word.value.clone()
    } else {
        word.value.to_lowercase()
    }
}

struct Cursor<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<&'a Token> {
        let token = self.tokens.get(self.at);
        if token.is_some() {
            self.at += 1;
        }
        token
    }

    fn at_end(&self) -> bool {
        self.at >= self.tokens.len()
    }

    /// The next token as an unquoted keyword, consumed.
    fn keyword(&mut self) -> Option<Keyword> {
        match self.peek() {
            Some(Token::Word(w)) if w.quote_style.is_none() => {
                self.at += 1;
                Some(w.keyword)
            }
            _ => None,
        }
    }

    /// Consumes the next token if it is the unquoted keyword `keyword`.
    fn eat(&mut self, keyword: Keyword) -> bool {
        match self.peek() {
            Some(Token::Word(w)) if w.quote_style.is_none() && w.keyword == keyword => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    /// Consumes the next token if it is the unquoted word `word` (for words sqlparser has no
    /// keyword for).
    fn eat_word(&mut self, word: &str) -> bool {
        match self.peek() {
            Some(Token::Word(w))
                if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word) =>
            {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    fn eat_token(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// A single identifier, folded.
    fn name(&mut self) -> Option<String> {
        match self.next() {
            Some(Token::Word(w)) => Some(identifier(w)),
            _ => None,
        }
    }

    /// `name` or `prefix.name` (custom settings such as `myapp.tenant`).
    fn dotted_name(&mut self) -> Option<String> {
        let mut name = self.name()?;
        while self.eat_token(&Token::Period) {
            name.push('.');
            name.push_str(&self.name()?);
        }
        Some(name)
    }

    /// The rest of the statement as a comma-separated list of values, joined with `, `.
    fn value_list(&mut self) -> Option<String> {
        let mut values: Vec<String> = Vec::new();
        let mut current = String::new();
        while let Some(token) = self.next() {
            match token {
                Token::Comma => values.push(std::mem::take(&mut current)),
                Token::Word(w) => current.push_str(&identifier(w)),
                Token::SingleQuotedString(s)
                | Token::EscapedStringLiteral(s)
                | Token::NationalStringLiteral(s) => current.push_str(s),
                Token::DollarQuotedString(s) => current.push_str(&s.value),
                Token::Number(n, _) => current.push_str(n),
                Token::Minus => current.push('-'),
                Token::Plus => current.push('+'),
                Token::Period => current.push('.'),
                _ => return None,
            }
        }
        values.push(current);
        if values.iter().any(|v| v.is_empty()) {
            return None;
        }
        Some(values.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::split_statements;

    fn command(sql: &str) -> Option<SessionCommand> {
        let statement = split_statements(sql).pop().unwrap();
        parse_command(&statement.tokens).unwrap()
    }

    fn set(name: &str, value: Option<&str>) -> Option<SessionCommand> {
        Some(SessionCommand::Set {
            name: name.into(),
            value: value.map(Into::into),
        })
    }

    #[test]
    fn set_accepts_postgres_spellings() {
        assert_eq!(
            command("SET extra_float_digits = 3"),
            set("extra_float_digits", Some("3"))
        );
        assert_eq!(
            command("set application_name to 'PostgreSQL JDBC Driver'"),
            set("application_name", Some("PostgreSQL JDBC Driver"))
        );
        assert_eq!(
            command("SET SESSION DateStyle TO ISO"),
            set("datestyle", Some("iso"))
        );
        assert_eq!(
            command("SET LOCAL statement_timeout = '5s'"),
            set("statement_timeout", Some("5s"))
        );
        assert_eq!(
            command("SET TIME ZONE 'America/New_York'"),
            set("timezone", Some("America/New_York"))
        );
        assert_eq!(command("SET TIME ZONE LOCAL"), set("timezone", None));
        assert_eq!(
            command("SET search_path = \"$user\", public"),
            set("search_path", Some("$user, public"))
        );
        assert_eq!(command("SET datestyle TO DEFAULT"), set("datestyle", None));
        assert_eq!(
            command("SET myapp.tenant = 'x'"),
            set("myapp.tenant", Some("x"))
        );
        assert_eq!(
            command("SET lock_timeout = -1"),
            set("lock_timeout", Some("-1"))
        );
        assert_eq!(
            command("SET NAMES 'UTF8'"),
            set("client_encoding", Some("UTF8"))
        );
    }

    #[test]
    fn transaction_commands_are_recognised() {
        assert_eq!(command("BEGIN"), Some(SessionCommand::Begin));
        assert_eq!(
            command("begin transaction isolation level serializable"),
            Some(SessionCommand::Begin)
        );
        assert_eq!(
            command("START TRANSACTION READ ONLY"),
            Some(SessionCommand::Begin)
        );
        assert_eq!(command("COMMIT"), Some(SessionCommand::Commit));
        assert_eq!(command("END TRANSACTION"), Some(SessionCommand::Commit));
        assert_eq!(command("ROLLBACK"), Some(SessionCommand::Rollback));
        assert_eq!(
            command("ROLLBACK TO SAVEPOINT sp"),
            Some(SessionCommand::RollbackTo)
        );
        assert_eq!(command("SAVEPOINT sp"), Some(SessionCommand::Savepoint));
        assert_eq!(
            command("RELEASE SAVEPOINT sp"),
            Some(SessionCommand::Release)
        );
        assert_eq!(
            command("SET TRANSACTION READ ONLY"),
            Some(SessionCommand::SetTransaction)
        );
        assert_eq!(
            command("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED"),
            Some(SessionCommand::SetTransaction)
        );
    }

    #[test]
    fn show_reset_discard_and_deallocate() {
        assert_eq!(command("SHOW ALL"), Some(SessionCommand::Show(None)));
        assert_eq!(
            command("show TimeZone"),
            Some(SessionCommand::Show(Some("timezone".into())))
        );
        assert_eq!(
            command("SHOW TIME ZONE"),
            Some(SessionCommand::Show(Some("timezone".into())))
        );
        assert_eq!(
            command("SHOW TRANSACTION ISOLATION LEVEL"),
            Some(SessionCommand::Show(Some("transaction_isolation".into())))
        );
        assert_eq!(command("RESET ALL"), Some(SessionCommand::Reset(None)));
        assert_eq!(
            command("RESET statement_timeout"),
            Some(SessionCommand::Reset(Some("statement_timeout".into())))
        );
        assert_eq!(
            command("DISCARD ALL"),
            Some(SessionCommand::Discard("ALL".into()))
        );
        assert_eq!(
            command("DEALLOCATE PREPARE s1"),
            Some(SessionCommand::Deallocate(Some("s1".into())))
        );
        assert_eq!(
            command("DEALLOCATE ALL"),
            Some(SessionCommand::Deallocate(None))
        );
    }

    #[test]
    fn queries_are_left_to_the_planner() {
        assert_eq!(command("SELECT 1"), None);
        assert_eq!(command("SHOW TABLES"), None);
        assert_eq!(command("WITH x AS (SELECT 1) SELECT * FROM x"), None);
        assert_eq!(command("START 1"), None);
    }

    #[test]
    fn malformed_commands_are_syntax_errors() {
        for sql in [
            "SET",
            "SET x",
            "SET x = ",
            "SHOW",
            "SHOW a b",
            "DISCARD everything",
            "SET x = (1)",
        ] {
            let statement = split_statements(sql).pop().unwrap();
            assert!(parse_command(&statement.tokens).is_err(), "{sql}");
        }
    }

    #[test]
    fn roles_other_than_the_default_are_flagged() {
        assert_eq!(
            command("SET ROLE NONE"),
            Some(SessionCommand::SetRole { role: None })
        );
        assert_eq!(
            command("SET ROLE admin"),
            Some(SessionCommand::SetRole {
                role: Some("admin".into())
            })
        );
        assert_eq!(
            command("RESET ROLE"),
            Some(SessionCommand::SetRole { role: None })
        );
    }
}

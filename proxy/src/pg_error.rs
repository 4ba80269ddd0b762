//! Building the `ErrorResponse`s clients see, with PostgreSQL's severities and SQLSTATEs.

use flowforge_engine::EngineError;
use pgwire::error::{ErrorInfo, PgWireError, SEVERITY_ERROR, SEVERITY_FATAL};

use crate::cancel::Interruption;
use crate::params::ParamError;
use crate::settings::SettingError;

/// An `ERROR` (the statement fails, the connection stays).
pub(crate) fn error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(info(SEVERITY_ERROR, code, message)))
}

/// A `FATAL` error (the connection is closed after it is sent).
pub(crate) fn fatal(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(info(SEVERITY_FATAL, code, message)))
}

fn info(severity: &str, code: &str, message: impl Into<String>) -> ErrorInfo {
    let mut info = ErrorInfo::new(severity.to_string(), code.to_string(), message.into());
    info.severity_nonlocalized = Some(severity.to_string());
    info
}

/// PostgreSQL's answer to any failed login, whatever the reason, so that logins cannot be
/// probed for existence.
pub(crate) fn password_failed(user: &str) -> PgWireError {
    fatal(
        "28P01",
        format!("password authentication failed for user \"{user}\""),
    )
}

/// An engine failure as an `ErrorResponse`. `offset` is the number of characters before the
/// statement in the query string, so a syntax error position points into what the client sent.
pub(crate) fn engine(error: &EngineError, offset: usize) -> PgWireError {
    let message = match error {
        // DataFusion prefixes its messages with the error kind; clients expect a sentence.
        EngineError::DataFusion(e) => e.message().into_owned(),
        other => other.to_string(),
    };
    let mut info = info(SEVERITY_ERROR, error.sqlstate(), message);
    if let EngineError::Syntax {
        position: Some(position),
        ..
    } = error
    {
        info.position = Some((position + offset).to_string());
    }
    PgWireError::UserError(Box::new(info))
}

/// A parameter that could not be decoded.
pub(crate) fn param(error: &ParamError) -> PgWireError {
    self::error(error.sqlstate, error.message.clone())
}

/// A refused `SET`/`SHOW`.
pub(crate) fn setting(error: &SettingError) -> PgWireError {
    let mut info = info(SEVERITY_ERROR, error.sqlstate(), error.to_string());
    info.hint = error.hint().map(str::to_string);
    PgWireError::UserError(Box::new(info))
}

/// A statement stopped by a cancel or a timeout.
pub(crate) fn interrupted(why: Interruption) -> PgWireError {
    error("57014", why.message())
}

/// The SQLSTATE and message of any error, for logs.
pub(crate) fn describe(error: &PgWireError) -> (String, String) {
    match error {
        PgWireError::UserError(info) => (info.code.clone(), info.message.clone()),
        other => (other.code().to_string(), other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_positions_are_relative_to_the_whole_query() {
        let error = EngineError::Syntax {
            message: "unexpected end".into(),
            position: Some(3),
        };
        let PgWireError::UserError(info) = engine(&error, 10) else {
            panic!("expected a user error");
        };
        assert_eq!(info.code, "42601");
        assert_eq!(info.position.as_deref(), Some("13"));
    }

    #[test]
    fn failed_logins_look_the_same_for_every_reason() {
        let PgWireError::UserError(info) = password_failed("bob") else {
            panic!("expected a user error");
        };
        assert_eq!(info.severity, "FATAL");
        assert_eq!(info.code, "28P01");
        assert_eq!(
            info.message,
            "password authentication failed for user \"bob\""
        );
    }
}

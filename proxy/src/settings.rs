//! Per-connection run-time parameters: what `SET`, `RESET` and `SHOW` read and write, and what
//! is announced to the client in `ParameterStatus` messages.
//!
//! The parameters PostgreSQL reports are pre-filled with the values FlowForge actually honours
//! (`server_version` 16.4, UTF8, `ISO, MDY`, UTC, ...). Settings that would change the wire
//! format in ways FlowForge does not implement (a non-UTF8 `client_encoding`, a non-ISO
//! `DateStyle`, `bytea_output = escape`) are refused rather than silently ignored. Any other
//! parameter name is accepted and stored, so `SET myapp.x = 1; SHOW myapp.x` works.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::encode::{is_utc, EncodeContext};

/// The PostgreSQL version FlowForge presents itself as.
pub(crate) const SERVER_VERSION: &str = "16.4";
const SERVER_VERSION_NUM: &str = "160004";

/// Why a `SET`, `RESET` or `SHOW` was refused; each maps to PostgreSQL's SQLSTATE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SettingError {
    /// A parameter that cannot be changed (SQLSTATE 55P02).
    #[error("parameter \"{0}\" cannot be changed")]
    ReadOnly(String),
    /// A value the parameter does not accept (SQLSTATE 22023).
    #[error("invalid value for parameter \"{name}\": \"{value}\"")]
    InvalidValue {
        /// The parameter.
        name: String,
        /// The rejected value.
        value: String,
        /// What would be accepted.
        hint: String,
    },
    /// `SHOW` or `RESET` of a parameter that was never set (SQLSTATE 42704).
    #[error("unrecognized configuration parameter \"{0}\"")]
    Unknown(String),
}

impl SettingError {
    /// The SQLSTATE PostgreSQL uses for this error.
    pub(crate) fn sqlstate(&self) -> &'static str {
        match self {
            SettingError::ReadOnly(_) => "55P02",
            SettingError::InvalidValue { .. } => "22023",
            SettingError::Unknown(_) => "42704",
        }
    }

    /// A hint for the client, when there is one.
    pub(crate) fn hint(&self) -> Option<&str> {
        match self {
            SettingError::InvalidValue { hint, .. } => Some(hint),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Setting {
    /// The canonical spelling (`DateStyle`), used in `SHOW` and `ParameterStatus`.
    name: String,
    value: String,
    /// The value `RESET` returns to.
    default: String,
    /// Announced with `ParameterStatus` at startup and on every change.
    reported: bool,
    description: &'static str,
}

/// A change the client must be told about with a `ParameterStatus` message.
pub(crate) type Reported = (String, String);

/// One connection's parameters.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    values: BTreeMap<String, Setting>,
}

/// `(canonical name, default, reported, read-only, description)` of the built-in parameters.
const BUILT_IN: &[(&str, &str, bool, bool, &str)] = &[
    (
        "server_version",
        SERVER_VERSION,
        true,
        true,
        "PostgreSQL version FlowForge is compatible with.",
    ),
    (
        "server_version_num",
        SERVER_VERSION_NUM,
        false,
        true,
        "PostgreSQL version as an integer.",
    ),
    (
        "server_encoding",
        "UTF8",
        true,
        true,
        "Server character set.",
    ),
    (
        "client_encoding",
        "UTF8",
        true,
        false,
        "Client character set (UTF8 only).",
    ),
    (
        "DateStyle",
        "ISO, MDY",
        true,
        false,
        "Display format for dates (ISO only).",
    ),
    (
        "TimeZone",
        "UTC",
        true,
        false,
        "Time zone timestamptz values are shown in.",
    ),
    (
        "IntervalStyle",
        "postgres",
        true,
        false,
        "Display format for intervals.",
    ),
    (
        "integer_datetimes",
        "on",
        true,
        true,
        "Datetimes are 64-bit integers.",
    ),
    (
        "standard_conforming_strings",
        "on",
        true,
        false,
        "Backslashes in string literals are literal.",
    ),
    (
        "is_superuser",
        "off",
        true,
        true,
        "Whether the session user is a superuser.",
    ),
    (
        "default_transaction_read_only",
        "on",
        true,
        false,
        "FlowForge sessions are read-only.",
    ),
    (
        "transaction_read_only",
        "on",
        false,
        false,
        "FlowForge sessions are read-only.",
    ),
    (
        "in_hot_standby",
        "off",
        true,
        true,
        "Whether the server is a hot standby.",
    ),
    (
        "transaction_isolation",
        "read committed",
        false,
        false,
        "Isolation level of the current transaction.",
    ),
    (
        "default_transaction_isolation",
        "read committed",
        false,
        false,
        "Isolation level of new transactions.",
    ),
    (
        "search_path",
        "\"$user\", public",
        false,
        false,
        "Schema search order.",
    ),
    (
        "statement_timeout",
        "0",
        false,
        false,
        "Longest a statement may run (0 disables).",
    ),
    (
        "extra_float_digits",
        "1",
        false,
        false,
        "Floats are always sent in shortest exact form.",
    ),
    (
        "bytea_output",
        "hex",
        false,
        false,
        "Output format for bytea (hex only).",
    ),
    (
        "max_identifier_length",
        "63",
        false,
        true,
        "Longest identifier, in bytes.",
    ),
    (
        "lock_timeout",
        "0",
        false,
        false,
        "Not used: FlowForge takes no locks.",
    ),
    (
        "idle_in_transaction_session_timeout",
        "0",
        false,
        false,
        "Not used.",
    ),
];

impl Settings {
    /// Parameters for a new connection of `login`, with the server's statement timeout.
    pub(crate) fn new(login: &str, statement_timeout: Option<Duration>) -> Self {
        let mut values = BTreeMap::new();
        for (name, default, reported, _, description) in BUILT_IN {
            let default = if *name == "statement_timeout" {
                format_timeout(statement_timeout.unwrap_or_default())
            } else {
                (*default).to_string()
            };
            values.insert(
                name.to_lowercase(),
                Setting {
                    name: (*name).to_string(),
                    value: default.clone(),
                    default,
                    reported: *reported,
                    description,
                },
            );
        }
        for (name, value, description) in [
            ("application_name", "", "Name the client reported."),
            ("session_authorization", login, "The login of this session."),
        ] {
            values.insert(
                name.to_string(),
                Setting {
                    name: name.to_string(),
                    value: value.to_string(),
                    default: value.to_string(),
                    reported: true,
                    description,
                },
            );
        }
        Settings { values }
    }

    /// Applies the parameters of a StartupMessage (and its `options` string), making them the
    /// values `RESET` returns to. Values FlowForge cannot honour are skipped, and the client
    /// learns the real value from `ParameterStatus`.
    pub(crate) fn apply_startup(&mut self, parameters: &[(String, String)]) -> Vec<SettingError> {
        let mut ignored = Vec::new();
        let mut apply = |name: &str, value: &str| match self.set(name, Some(value)) {
            Ok(_) => {
                if let Some(setting) = self.values.get_mut(&name.to_lowercase()) {
                    setting.default = setting.value.clone();
                }
            }
            Err(e) => ignored.push(e),
        };
        for (name, value) in parameters {
            match name.as_str() {
                "user" | "database" | "replication" => {}
                "options" => {
                    for (name, value) in parse_options(value) {
                        apply(&name, &value);
                    }
                }
                _ => apply(name, value),
            }
        }
        ignored
    }

    /// `SET name = value` (`None`: back to the default). Returns the `ParameterStatus` to send
    /// when the parameter is one clients track.
    pub(crate) fn set(
        &mut self,
        name: &str,
        value: Option<&str>,
    ) -> Result<Option<Reported>, SettingError> {
        let key = name.to_lowercase();
        if BUILT_IN
            .iter()
            .any(|(n, _, _, read_only, _)| *read_only && n.eq_ignore_ascii_case(&key))
            || key == "session_authorization"
        {
            return Err(SettingError::ReadOnly(key));
        }
        let new_value = match value {
            None => match self.values.get(&key) {
                Some(setting) => setting.default.clone(),
                None => String::new(),
            },
            Some(value) => validate(&key, value.trim())?,
        };
        let setting = self.values.entry(key.clone()).or_insert_with(|| Setting {
            name: key.clone(),
            value: String::new(),
            default: String::new(),
            reported: false,
            description: "Set by the client.",
        });
        setting.value = new_value;
        Ok(setting
            .reported
            .then(|| (setting.name.clone(), setting.value.clone())))
    }

    /// `RESET ALL`: every parameter back to its default; returns the reported ones that changed.
    pub(crate) fn reset_all(&mut self) -> Vec<Reported> {
        let mut changed = Vec::new();
        for setting in self.values.values_mut() {
            if setting.value != setting.default {
                setting.value = setting.default.clone();
                if setting.reported {
                    changed.push((setting.name.clone(), setting.value.clone()));
                }
            }
        }
        changed
    }

    /// `SHOW name`: the canonical name (the result column's name) and the value.
    pub(crate) fn show(&self, name: &str) -> Result<(String, String), SettingError> {
        self.values
            .get(&name.to_lowercase())
            .map(|s| (s.name.clone(), s.value.clone()))
            .ok_or_else(|| SettingError::Unknown(name.to_string()))
    }

    /// `SHOW ALL`: `(name, setting, description)` rows in name order.
    pub(crate) fn all(&self) -> Vec<(String, String, String)> {
        self.values
            .values()
            .map(|s| (s.name.clone(), s.value.clone(), s.description.to_string()))
            .collect()
    }

    /// The parameters announced with `ParameterStatus` after authentication.
    pub(crate) fn reported(&self) -> Vec<Reported> {
        self.values
            .values()
            .filter(|s| s.reported)
            .map(|s| (s.name.clone(), s.value.clone()))
            .collect()
    }

    /// The effective `statement_timeout`; `None` when disabled.
    pub(crate) fn statement_timeout(&self) -> Option<Duration> {
        self.values
            .get("statement_timeout")
            .and_then(|s| parse_timeout(&s.value))
            .filter(|d| !d.is_zero())
    }

    /// How values are encoded under the current `TimeZone`.
    pub(crate) fn encode_context(&self) -> EncodeContext {
        self.values
            .get("timezone")
            .and_then(|s| EncodeContext::with_time_zone(&s.value))
            .unwrap_or_default()
    }
}

/// Checks and normalises a value for the parameters whose values FlowForge depends on.
fn validate(key: &str, value: &str) -> Result<String, SettingError> {
    let invalid = |hint: &str| SettingError::InvalidValue {
        name: key.to_string(),
        value: value.to_string(),
        hint: hint.to_string(),
    };
    match key {
        "client_encoding" => {
            let v = value.to_ascii_lowercase();
            if matches!(v.as_str(), "utf8" | "utf-8" | "unicode") {
                Ok("UTF8".into())
            } else {
                Err(invalid("FlowForge only supports client_encoding UTF8."))
            }
        }
        "datestyle" => normalize_datestyle(value)
            .ok_or_else(|| invalid("FlowForge only supports the ISO date style, e.g. 'ISO, MDY'.")),
        "timezone" => {
            if EncodeContext::with_time_zone(value).is_none() {
                return Err(invalid(
                    "Use an IANA time zone name such as 'Europe/London' or an offset such as '+02:00'.",
                ));
            }
            Ok(if is_utc(value) {
                "UTC".into()
            } else {
                value.into()
            })
        }
        "intervalstyle" => {
            if value.eq_ignore_ascii_case("postgres") {
                Ok("postgres".into())
            } else {
                Err(invalid("FlowForge only supports IntervalStyle postgres."))
            }
        }
        "standard_conforming_strings"
        | "default_transaction_read_only"
        | "transaction_read_only" => {
            if parse_bool(value) == Some(true) {
                Ok("on".into())
            } else {
                Err(invalid("This parameter can only be on in FlowForge."))
            }
        }
        "bytea_output" => {
            if value.eq_ignore_ascii_case("hex") {
                Ok("hex".into())
            } else {
                Err(invalid("FlowForge only supports bytea_output hex."))
            }
        }
        "statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout" => {
            parse_timeout(value)
                .map(format_timeout)
                .ok_or_else(|| invalid("Use milliseconds or a unit: '500ms', '30s', '5min', '1h'."))
        }
        "extra_float_digits" => match value.parse::<i32>() {
            Ok(digits) if (-15..=3).contains(&digits) => Ok(digits.to_string()),
            _ => Err(invalid("extra_float_digits must be between -15 and 3.")),
        },
        "transaction_isolation" | "default_transaction_isolation" => {
            let v = value.to_ascii_lowercase();
            if matches!(
                v.as_str(),
                "read uncommitted" | "read committed" | "repeatable read" | "serializable"
            ) {
                Ok(v)
            } else {
                Err(invalid(
                    "Use read committed, repeatable read or serializable.",
                ))
            }
        }
        _ => Ok(value.to_string()),
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" | "t" | "y" => Some(true),
        "off" | "false" | "no" | "0" | "f" | "n" => Some(false),
        _ => None,
    }
}

/// `ISO`, `ISO, MDY`, `mdy`, `ISO, European` ... as `ISO, <order>`; `None` for non-ISO styles.
fn normalize_datestyle(value: &str) -> Option<String> {
    let mut order = "MDY";
    for part in value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
    {
        match part.to_ascii_uppercase().as_str() {
            "ISO" => {}
            "MDY" | "US" | "NONEURO" | "NONEUROPEAN" => order = "MDY",
            "DMY" | "EURO" | "EUROPEAN" => order = "DMY",
            "YMD" => order = "YMD",
            _ => return None,
        }
    }
    Some(format!("ISO, {order}"))
}

/// Parses a PostgreSQL duration setting: a number of milliseconds, or a number with one of the
/// units `us`, `ms`, `s`, `min`, `h`, `d`. `None` when malformed or negative.
pub(crate) fn parse_timeout(value: &str) -> Option<Duration> {
    let value = value.trim();
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let millis_per_unit = match unit.trim() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1_000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    let millis = (number * millis_per_unit).round();
    if !millis.is_finite() || millis < 0.0 || millis > f64::from(i32::MAX) {
        return None;
    }
    Some(Duration::from_millis(millis as u64))
}

/// Shows a duration like PostgreSQL: in the largest unit that divides it exactly.
pub(crate) fn format_timeout(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        return "0".into();
    }
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("min", 60_000),
        ("s", 1_000),
    ] {
        if millis.is_multiple_of(size) {
            return format!("{}{unit}", millis / size);
        }
    }
    format!("{millis}ms")
}

/// Reads `-c name=value` and `--name=value` pairs from a StartupMessage `options` string.
fn parse_options(options: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut words = options.split_whitespace();
    while let Some(word) = words.next() {
        let assignment = if word == "-c" {
            words.next()
        } else if let Some(rest) = word.strip_prefix("-c") {
            Some(rest)
        } else {
            word.strip_prefix("--")
        };
        if let Some((name, value)) = assignment.and_then(|a| a.split_once('=')) {
            pairs.push((name.replace('-', "_"), value.to_string()));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::new("analyst@tenant-a.test", None)
    }

    #[test]
    fn startup_reports_what_postgres_clients_check() {
        let reported: BTreeMap<_, _> = settings().reported().into_iter().collect();
        assert_eq!(reported["server_version"], "16.4");
        assert_eq!(reported["client_encoding"], "UTF8");
        assert_eq!(reported["DateStyle"], "ISO, MDY");
        assert_eq!(reported["TimeZone"], "UTC");
        assert_eq!(reported["integer_datetimes"], "on");
        assert_eq!(reported["standard_conforming_strings"], "on");
        assert_eq!(reported["IntervalStyle"], "postgres");
        assert_eq!(reported["is_superuser"], "off");
        assert_eq!(reported["session_authorization"], "analyst@tenant-a.test");
        assert_eq!(reported["application_name"], "");
    }

    #[test]
    fn any_parameter_can_be_set_shown_and_reset() {
        let mut s = settings();
        assert_eq!(s.set("myapp.flag", Some("42")), Ok(None));
        assert_eq!(s.show("MYAPP.FLAG").unwrap().1, "42");
        assert_eq!(
            s.set("application_name", Some("psql")),
            Ok(Some(("application_name".into(), "psql".into())))
        );
        assert_eq!(
            s.reset_all(),
            vec![("application_name".into(), String::new())]
        );
        assert_eq!(
            s.show("nonexistent"),
            Err(SettingError::Unknown("nonexistent".into()))
        );
    }

    #[test]
    fn values_flowforge_cannot_honour_are_refused() {
        let mut s = settings();
        assert_eq!(
            s.set("client_encoding", Some("LATIN1"))
                .unwrap_err()
                .sqlstate(),
            "22023"
        );
        assert_eq!(
            s.set("DateStyle", Some("SQL, DMY")).unwrap_err().sqlstate(),
            "22023"
        );
        assert_eq!(
            s.set("TimeZone", Some("Mars/Base")).unwrap_err().sqlstate(),
            "22023"
        );
        assert_eq!(
            s.set("server_version", Some("9.6")).unwrap_err().sqlstate(),
            "55P02"
        );
        assert_eq!(
            s.set("datestyle", Some("iso, dmy")),
            Ok(Some(("DateStyle".into(), "ISO, DMY".into())))
        );
        assert_eq!(
            s.set("timezone", Some("utc")),
            Ok(Some(("TimeZone".into(), "UTC".into())))
        );
    }

    #[test]
    fn statement_timeout_parses_units_and_shows_like_postgres() {
        let mut s = settings();
        assert_eq!(s.statement_timeout(), None);
        s.set("statement_timeout", Some("5000")).unwrap();
        assert_eq!(s.show("statement_timeout").unwrap().1, "5s");
        assert_eq!(s.statement_timeout(), Some(Duration::from_secs(5)));
        s.set("statement_timeout", Some("1.5s")).unwrap();
        assert_eq!(s.show("statement_timeout").unwrap().1, "1500ms");
        s.set("statement_timeout", Some("2min")).unwrap();
        assert_eq!(s.show("statement_timeout").unwrap().1, "2min");
        assert!(s.set("statement_timeout", Some("-1")).is_err());
        assert!(s.set("statement_timeout", Some("5 parsecs")).is_err());
        let server = Settings::new("u", Some(Duration::from_secs(30)));
        assert_eq!(server.show("statement_timeout").unwrap().1, "30s");
        assert_eq!(server.statement_timeout(), Some(Duration::from_secs(30)));
    }

    #[test]
    fn startup_parameters_and_options_become_defaults() {
        let mut s = settings();
        let ignored = s.apply_startup(&[
            ("user".into(), "x".into()),
            ("application_name".into(), "pgjdbc".into()),
            ("client_encoding".into(), "WIN1252".into()),
            (
                "options".into(),
                "-c statement_timeout=100 --search-path=foo".into(),
            ),
        ]);
        assert_eq!(ignored.len(), 1);
        assert_eq!(s.show("application_name").unwrap().1, "pgjdbc");
        assert_eq!(s.show("client_encoding").unwrap().1, "UTF8");
        assert_eq!(s.show("statement_timeout").unwrap().1, "100ms");
        assert_eq!(s.show("search_path").unwrap().1, "foo");
        s.set("application_name", Some("other")).unwrap();
        s.reset_all();
        assert_eq!(s.show("application_name").unwrap().1, "pgjdbc");
    }
}

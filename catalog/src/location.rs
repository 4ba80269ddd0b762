//! Choosing the catalog store from a URL, as given on the command line: `sqlite:<path>` for
//! the embedded store, `postgres://...` (or `postgresql://...`) for PostgreSQL.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use crate::{CatalogError, CatalogStore, PostgresCatalog, PostgresCatalogOptions, SqliteCatalog};

/// Where the catalog lives.
///
/// `Display` and `Debug` never show a password, so the value can be logged.
#[derive(Clone, PartialEq, Eq)]
pub enum CatalogLocation {
    /// A SQLite database file, from `sqlite:<path>` or `sqlite://<path>`.
    Sqlite(PathBuf),
    /// A PostgreSQL database: the whole `postgres://` or `postgresql://` URL, in libpq syntax.
    Postgres(String),
}

impl CatalogLocation {
    /// Opens the store, creating or migrating its schema as needed.
    pub async fn open(
        &self,
        options: &PostgresCatalogOptions,
    ) -> Result<Arc<dyn CatalogStore>, CatalogError> {
        Ok(match self {
            CatalogLocation::Sqlite(path) => Arc::new(SqliteCatalog::open(path)?),
            CatalogLocation::Postgres(url) => {
                Arc::new(PostgresCatalog::connect_with(url, options).await?)
            }
        })
    }
}

impl FromStr for CatalogLocation {
    type Err = CatalogError;

    fn from_str(text: &str) -> Result<Self, CatalogError> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(CatalogLocation::Postgres(text.to_string()));
        }
        if let Some(path) = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(CatalogError::InvalidInput(
                    "catalog URL `sqlite:` needs a file path, e.g. sqlite:/var/lib/flowforge/catalog.sqlite3"
                        .into(),
                ));
            }
            return Ok(CatalogLocation::Sqlite(PathBuf::from(path)));
        }
        Err(CatalogError::InvalidInput(format!(
            "catalog URL `{}` is neither sqlite:<path> nor postgres://user@host/database",
            redact(text)
        )))
    }
}

impl fmt::Display for CatalogLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatalogLocation::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            CatalogLocation::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for CatalogLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CatalogLocation({self})")
    }
}

/// Replaces the password in a URL's user info (`user:secret@`) and in a `password=` query
/// parameter with `***`.
fn redact(url: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = match before_query.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            let authority = match authority.rsplit_once('@') {
                Some((userinfo, hosts)) => match userinfo.split_once(':') {
                    Some((user, _password)) => format!("{user}:***@{hosts}"),
                    None => format!("{userinfo}@{hosts}"),
                },
                None => authority.to_string(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => before_query.to_string(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => param.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CatalogLocation, CatalogError> {
        text.parse()
    }

    #[test]
    fn urls_choose_the_store() {
        assert_eq!(
            parse("sqlite:/var/lib/flowforge/catalog.sqlite3").unwrap(),
            CatalogLocation::Sqlite("/var/lib/flowforge/catalog.sqlite3".into())
        );
        assert_eq!(
            parse("sqlite://data/catalog.sqlite3").unwrap(),
            CatalogLocation::Sqlite("data/catalog.sqlite3".into())
        );
        for url in [
            "postgres://flowforge@db.internal:5432/catalog",
            "postgresql://flowforge@db.internal/catalog?sslmode=require",
        ] {
            assert_eq!(
                parse(url).unwrap(),
                CatalogLocation::Postgres(url.to_string())
            );
        }
        for bad in ["", "sqlite:", "mysql://x@y/z", "catalog.sqlite3"] {
            assert!(
                matches!(parse(bad), Err(CatalogError::InvalidInput(_))),
                "accepted {bad:?}"
            );
        }
    }

    #[test]
    fn passwords_never_reach_the_display_form() {
        let location =
            parse("postgres://ff:s3cret@db1,db2:5432/catalog?sslmode=require&password=s3cret2")
                .unwrap();
        let shown = format!("{location} {location:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(
            location.to_string(),
            "postgres://ff:***@db1,db2:5432/catalog?sslmode=require&password=***"
        );
        assert_eq!(
            parse("postgres://ff@db/catalog").unwrap().to_string(),
            "postgres://ff@db/catalog"
        );
        let refused = parse("mysql://root:hunter2@db/x").unwrap_err().to_string();
        assert!(!refused.contains("hunter2"), "{refused}");
    }
}

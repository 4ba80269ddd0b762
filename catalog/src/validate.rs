//! Normalisation and validation of user-supplied identifiers before they reach storage, shared
//! by every store implementation so all of them accept exactly the same values.

use crate::CatalogError;

/// Longest free-text name (tenant, workflow, API key) the catalog stores.
pub const MAX_NAME_LEN: usize = 200;

/// Longest free-text description the catalog stores.
pub const MAX_DESCRIPTION_LEN: usize = 10_000;

/// Lowercases and checks a tenant slug: 1-63 chars of `[a-z0-9-]`, starting with a letter.
pub fn tenant_slug(slug: &str) -> Result<String, CatalogError> {
    let slug = slug.trim().to_ascii_lowercase();
    let valid = !slug.is_empty()
        && slug.len() <= 63
        && slug.starts_with(|c: char| c.is_ascii_lowercase())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(slug)
    } else {
        Err(CatalogError::InvalidInput(format!(
            "tenant slug `{slug}` must be 1-63 characters of a-z, 0-9 and '-', starting with a letter"
        )))
    }
}

/// Checks that text holds no NUL character. PostgreSQL cannot store one in a text column, so
/// every store refuses it up front and they all accept the same values.
pub fn storable(what: &str, text: &str) -> Result<(), CatalogError> {
    if text.contains('\0') {
        Err(CatalogError::InvalidInput(format!(
            "{what} must not contain NUL characters"
        )))
    } else {
        Ok(())
    }
}

/// Trims and lowercases an email address and checks its basic shape (`local@domain`).
pub fn email(email: &str) -> Result<String, CatalogError> {
    let email = email.trim().to_lowercase();
    let shaped = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c == '\0')
        }
        None => false,
    };
    if shaped && email.len() <= 254 {
        Ok(email)
    } else {
        Err(CatalogError::InvalidInput(format!(
            "`{email}` is not a valid email address"
        )))
    }
}

/// Uppercases and checks a ticker symbol: 1-32 chars of `[A-Z0-9._-]`.
pub fn symbol(symbol: &str) -> Result<String, CatalogError> {
    let symbol = symbol.trim().to_ascii_uppercase();
    let valid = !symbol.is_empty()
        && symbol.len() <= 32
        && symbol
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(symbol)
    } else {
        Err(CatalogError::InvalidInput(format!(
            "`{symbol}` is not a valid symbol (1-32 characters of A-Z, 0-9, '.', '_', '-')"
        )))
    }
}

/// Trims a display name and checks it is non-empty and at most [`MAX_NAME_LEN`] characters.
pub fn display_name(what: &str, name: &str) -> Result<String, CatalogError> {
    let name = name.trim();
    storable(what, name)?;
    if name.is_empty() {
        return Err(CatalogError::InvalidInput(format!(
            "{what} must not be empty"
        )));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(CatalogError::InvalidInput(format!(
            "{what} must be at most {MAX_NAME_LEN} characters"
        )));
    }
    Ok(name.to_string())
}

/// Trims a description (which may be empty) and checks it is at most
/// [`MAX_DESCRIPTION_LEN`] characters.
pub fn description(what: &str, text: &str) -> Result<String, CatalogError> {
    let text = text.trim();
    storable(what, text)?;
    if text.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(CatalogError::InvalidInput(format!(
            "{what} must be at most {MAX_DESCRIPTION_LEN} characters"
        )));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercased_and_checked() {
        assert_eq!(tenant_slug(" Tenant-A ").unwrap(), "tenant-a");
        assert!(tenant_slug("1tenant").is_err());
        assert!(tenant_slug("tenant a").is_err());
        assert!(tenant_slug("").is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            email(" Admin@Tenant-A.test ").unwrap(),
            "admin@tenant-a.test"
        );
        for bad in [
            "",
            "no-at-sign",
            "@x.test",
            "a@",
            "a@b@c",
            "a b@c.test",
            "a\0@c.test",
        ] {
            assert!(email(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn symbols_are_uppercased_and_checked() {
        assert_eq!(symbol("aapl").unwrap(), "AAPL");
        assert_eq!(symbol("BRK.B").unwrap(), "BRK.B");
        assert!(symbol("").is_err());
        assert!(symbol("AA PL").is_err());
        assert!(symbol("AAPL'; --").is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(display_name("name", "  Daily PnL ").unwrap(), "Daily PnL");
        assert!(display_name("name", "   ").is_err());
        assert!(display_name("name", &"x".repeat(MAX_NAME_LEN + 1)).is_err());
        assert_eq!(description("d", "  ").unwrap(), "");
        assert!(description("d", &"x".repeat(MAX_DESCRIPTION_LEN + 1)).is_err());
        assert!(display_name("name", "a\0b").is_err());
        assert!(description("d", "a\0b").is_err());
    }
}

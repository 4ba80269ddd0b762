//! Deriving and checking workflow view names: the SQL identifier under which a published
//! workflow is queried over pgwire (`SELECT * FROM daily_pnl`).

use crate::CatalogError;

/// PostgreSQL's identifier limit (NAMEDATALEN - 1); longer names would be truncated by clients.
pub const MAX_VIEW_NAME_LEN: usize = 63;

/// Prefix added when a name starts with a digit, because identifiers must start with a letter.
const DIGIT_PREFIX: &str = "wf_";

/// Turns a workflow's display name into a view name: lowercase ASCII letters, digits and single
/// underscores, starting with a letter, at most 63 characters.
///
/// `"Daily P&L (USD)"` becomes `daily_p_l_usd`; `"2024 Trades"` becomes `wf_2024_trades`.
pub fn derive_view_name(name: &str) -> Result<String, CatalogError> {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_end_matches('_');
    if trimmed.is_empty() {
        return Err(CatalogError::InvalidInput(format!(
            "cannot derive a view name from `{name}`: it needs at least one ASCII letter or digit"
        )));
    }
    let mut view = if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{DIGIT_PREFIX}{trimmed}")
    } else {
        trimmed.to_string()
    };
    if view.len() > MAX_VIEW_NAME_LEN {
        view.truncate(MAX_VIEW_NAME_LEN);
        let kept = view.trim_end_matches('_').len();
        view.truncate(kept);
    }
    Ok(view)
}

/// Checks an explicitly chosen view name follows the same rules as a derived one.
pub fn validate_view_name(view_name: &str) -> Result<(), CatalogError> {
    let valid = !view_name.is_empty()
        && view_name.len() <= MAX_VIEW_NAME_LEN
        && view_name.starts_with(|c: char| c.is_ascii_lowercase())
        && view_name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(CatalogError::InvalidInput(format!(
            "view name `{view_name}` must be 1-{MAX_VIEW_NAME_LEN} characters of a-z, 0-9 and '_', starting with a letter"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_produces_sql_identifiers() {
        assert_eq!(derive_view_name("Daily PnL").unwrap(), "daily_pnl");
        assert_eq!(
            derive_view_name("Daily P&L (USD)").unwrap(),
            "daily_p_l_usd"
        );
        assert_eq!(
            derive_view_name("  --VWAP by Symbol--  ").unwrap(),
            "vwap_by_symbol"
        );
        assert_eq!(derive_view_name("2024 Trades").unwrap(), "wf_2024_trades");
        assert_eq!(derive_view_name("Ümlaut Größe").unwrap(), "mlaut_gr_e");
        assert_eq!(
            derive_view_name("already_snake_case").unwrap(),
            "already_snake_case"
        );
    }

    #[test]
    fn names_without_letters_or_digits_are_rejected() {
        for bad in ["", "   ", "!!!", "日本"] {
            assert!(
                matches!(derive_view_name(bad), Err(CatalogError::InvalidInput(_))),
                "accepted {bad:?}"
            );
        }
    }

    #[test]
    fn long_names_are_cut_to_the_postgres_limit() {
        let view = derive_view_name(&"ab ".repeat(40)).unwrap();
        assert!(view.len() <= MAX_VIEW_NAME_LEN);
        assert!(!view.ends_with('_'));
        validate_view_name(&view).unwrap();
    }

    #[test]
    fn every_derived_name_passes_validation() {
        for name in [
            "Daily PnL",
            "2024",
            "a",
            "X-Y-Z",
            "Top 10 Symbols by Volume",
        ] {
            validate_view_name(&derive_view_name(name).unwrap()).unwrap();
        }
    }

    #[test]
    fn explicit_names_are_checked() {
        assert!(validate_view_name("pnl_2024").is_ok());
        for bad in [
            "",
            "Pnl",
            "1pnl",
            "_pnl",
            "pnl-2024",
            "pnl;drop",
            &"a".repeat(64),
        ] {
            assert!(validate_view_name(bad).is_err(), "accepted {bad:?}");
        }
    }
}

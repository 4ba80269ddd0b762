//! `?offset=&limit=` paging shared by list endpoints.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::problem::ApiError;

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 50;
/// Largest page size.
pub const MAX_LIMIT: usize = 500;
/// Largest offset accepted.
pub const MAX_OFFSET: usize = 1_000_000_000;

/// Which slice of a list to return.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items to skip. [default: 0]
    #[param(minimum = 0, maximum = 1_000_000_000)]
    pub offset: Option<usize>,
    /// Items to return, 1-500. [default: 50]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// A checked page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Items to skip.
    pub offset: usize,
    /// Items to return.
    pub limit: usize,
}

impl PageQuery {
    /// Applies defaults and bounds (out-of-range values are a 400, not silently clamped).
    pub fn page(self) -> Result<Page, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_request(
                "invalid_query_parameter",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let offset = self.offset.unwrap_or(0);
        if offset > MAX_OFFSET {
            return Err(ApiError::bad_request(
                "invalid_query_parameter",
                format!("offset must be at most {MAX_OFFSET}"),
            ));
        }
        Ok(Page { offset, limit })
    }
}

/// Where a page sits in the whole list.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct PageInfo {
    /// Items in the whole list.
    pub total: usize,
    /// Items skipped.
    pub offset: usize,
    /// Page size asked for.
    pub limit: usize,
}

/// The `page` slice of `items` and where it sits.
pub fn slice<T>(items: Vec<T>, page: Page) -> (Vec<T>, PageInfo) {
    let total = items.len();
    let items = items
        .into_iter()
        .skip(page.offset)
        .take(page.limit)
        .collect();
    (
        items,
        PageInfo {
            total,
            offset: page.offset,
            limit: page.limit,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bounds_and_slices() {
        let page = PageQuery::default().page().unwrap();
        assert_eq!(
            page,
            Page {
                offset: 0,
                limit: DEFAULT_LIMIT
            }
        );
        assert!(PageQuery {
            offset: None,
            limit: Some(0)
        }
        .page()
        .is_err());
        assert!(PageQuery {
            offset: None,
            limit: Some(MAX_LIMIT + 1)
        }
        .page()
        .is_err());
        let (items, info) = slice(
            (0..10).collect(),
            Page {
                offset: 8,
                limit: 5,
            },
        );
        assert_eq!(items, vec![8, 9]);
        assert_eq!((info.total, info.offset, info.limit), (10, 8, 5));
    }
}

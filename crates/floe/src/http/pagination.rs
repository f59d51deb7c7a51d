//! Page-based lists (`page`, `limit` → `{"items", "pagination": {"total_count", "max_page"}}`)
//! and the `sorting` query parameter.

use serde::Serialize;
use serde_json::Value;

use super::error::{ApiError, ApiResult, Loc, ValidationIssue};
use super::extract::QueryParams;

/// Largest page a list returns; larger `limit`s are clamped, as Polar does.
pub const MAX_LIMIT: u64 = 100;
const DEFAULT_LIMIT: u64 = 10;

/// The requested page of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pagination {
    pub page: u64,
    pub limit: u64,
}

impl Pagination {
    pub fn from_query(query: &QueryParams) -> ApiResult<Self> {
        let page = query.positive_int("page", 1);
        let limit = query.positive_int("limit", DEFAULT_LIMIT);
        match (page, limit) {
            (Ok(page), Ok(limit)) => Ok(Self {
                page,
                limit: limit.min(MAX_LIMIT),
            }),
            (page, limit) => {
                let mut issues = Vec::new();
                for result in [page, limit] {
                    if let Err(ApiError::Validation(more)) = result {
                        issues.extend(more);
                    }
                }
                Err(ApiError::Validation(issues))
            }
        }
    }

    /// Rows to skip, or `None` when the page starts past any row a database can hold
    /// (SQL's `OFFSET` is a signed 64-bit number): such a page is empty, whatever the list.
    pub fn offset(&self) -> Option<u64> {
        let offset = (self.page - 1).checked_mul(self.limit)?;
        (offset <= i64::MAX as u64).then_some(offset)
    }
}

/// A page of a list, in the contract's `ListResource_*` shape.
#[derive(Debug, Serialize)]
pub struct ListResource<T> {
    pub items: Vec<T>,
    pub pagination: PageInfo,
}

#[derive(Debug, Serialize)]
pub struct PageInfo {
    pub total_count: u64,
    pub max_page: u64,
}

/// A page of a list without its total, in the contract's `ListResourceWithCursorPagination_*`
/// shape.
#[derive(Debug, Serialize)]
pub struct CursorListResource<T> {
    pub items: Vec<T>,
    pub pagination: CursorPageInfo,
}

#[derive(Debug, Serialize)]
pub struct CursorPageInfo {
    pub has_next_page: bool,
}

impl<T> ListResource<T> {
    pub fn new(items: Vec<T>, total_count: u64, pagination: Pagination) -> Self {
        Self {
            items,
            pagination: PageInfo {
                total_count,
                max_page: total_count.div_ceil(pagination.limit),
            },
        }
    }
}

impl<T> ListResource<T> {
    /// The same page with each item turned into another view of it.
    pub fn map<U>(self, view: impl FnMut(T) -> U) -> ListResource<U> {
        ListResource {
            items: self.items.into_iter().map(view).collect(),
            pagination: self.pagination,
        }
    }

    /// The requested page of a list already sorted in memory.
    pub fn page_of(items: Vec<T>, pagination: Pagination) -> Self {
        let total = items.len() as u64;
        let skip = pagination
            .offset()
            .and_then(|offset| usize::try_from(offset).ok())
            .unwrap_or(usize::MAX);
        let page = items
            .into_iter()
            .skip(skip)
            .take(usize::try_from(pagination.limit).unwrap_or(usize::MAX))
            .collect();
        Self::new(page, total, pagination)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Ascending,
    Descending,
}

/// A property a list can be sorted by, named as the spec's `*SortProperty` enum names it.
pub trait SortProperty: Sized + Copy {
    /// Every name, without the `-` prefix.
    const NAMES: &'static [&'static str];
    fn from_name(name: &str) -> Option<Self>;
}

/// A value a query filter takes from a fixed set, named as the spec's enum names it.
pub trait QueryEnum: Sized + Copy {
    const NAMES: &'static [&'static str];
    fn from_name(name: &str) -> Option<Self>;
}

impl QueryParams {
    /// A filter on an enum that takes one value or repeats (`type=a&type=b`); `None` when
    /// absent. An unknown value is a 422 naming its position, as FastAPI reports it.
    pub fn enums<E: QueryEnum>(&self, name: &str) -> ApiResult<Option<Vec<E>>> {
        let given = self.all(name);
        if given.is_empty() {
            return Ok(None);
        }
        let mut issues = Vec::new();
        let mut values = Vec::with_capacity(given.len());
        for (index, raw) in given.iter().enumerate() {
            match E::from_name(raw) {
                Some(value) => values.push(value),
                None => {
                    let expected: Vec<String> = E::NAMES.iter().map(|n| format!("'{n}'")).collect();
                    issues.push(ValidationIssue::new(
                        Loc::query(name).index(index),
                        "enum",
                        format!("Input should be {}", expected.join(", ")),
                        Value::String((*raw).to_owned()),
                    ));
                }
            }
        }
        if issues.is_empty() {
            Ok(Some(values))
        } else {
            Err(ApiError::Validation(issues))
        }
    }

    /// The repeated `sorting` parameter (`-created_at` is descending); `default` when absent.
    pub fn sorting<P: SortProperty>(
        &self,
        default: &[(P, Direction)],
    ) -> ApiResult<Vec<(P, Direction)>> {
        let values = self.all("sorting");
        if values.is_empty() {
            return Ok(default.to_vec());
        }
        let mut issues = Vec::new();
        let mut sorting = Vec::with_capacity(values.len());
        for (index, raw) in values.iter().enumerate() {
            let (name, direction) = match raw.strip_prefix('-') {
                Some(name) => (name, Direction::Descending),
                None => (*raw, Direction::Ascending),
            };
            match P::from_name(name) {
                Some(property) => sorting.push((property, direction)),
                None => {
                    let expected: Vec<String> = P::NAMES
                        .iter()
                        .flat_map(|n| [format!("'{n}'"), format!("'-{n}'")])
                        .collect();
                    issues.push(ValidationIssue::new(
                        Loc::query("sorting").index(index),
                        "enum",
                        format!("Input should be {}", expected.join(", ")),
                        Value::String((*raw).to_owned()),
                    ));
                }
            }
        }
        if issues.is_empty() {
            Ok(sorting)
        } else {
            Err(ApiError::Validation(issues))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pagination;

    #[test]
    fn offsets_past_what_sql_takes_are_none() {
        let page = |page, limit| Pagination { page, limit }.offset();
        assert_eq!(page(1, 10), Some(0));
        assert_eq!(page(3, 100), Some(200));
        assert_eq!(page(u64::MAX, 100), None);
        assert_eq!(
            page(i64::MAX as u64 / 10 + 1, 10),
            Some(i64::MAX as u64 / 10 * 10)
        );
        assert_eq!(page(i64::MAX as u64 / 10 + 2, 10), None);
        assert_eq!(page(i64::MAX as u64, 1), Some(i64::MAX as u64 - 1));
    }
}

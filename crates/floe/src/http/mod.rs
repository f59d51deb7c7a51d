//! HTTP pieces every endpoint shares: the error type and its JSON shapes, extractors that
//! turn bad input into 422s, list pagination, the `Polar-Version` header and request logs.

pub mod close_on_error;
pub mod error;
pub mod extract;
pub mod fields;
pub mod idempotency;
pub mod log;
pub mod pagination;
pub mod patch;
pub mod rate_limit;
pub mod routes;
pub mod timeout;
pub mod version;

pub use error::{ApiError, ApiResult, Loc, ValidationIssue, Validator};
pub use extract::{IdPath, Json, JsonWithText, QueryParams};
pub use pagination::{CursorListResource, CursorPageInfo, ListResource, Pagination};

//! The per-key limit on validations, activations and deactivations: a fixed window kept on
//! the key's own row. Those calls lock and write the row anyway, so counting there costs no
//! extra statement and every floe process sharing the database counts against the same
//! window (an in-memory counter would give each process its own allowance). Refused calls
//! are not counted; calls that fail for another reason are. Keys that do not exist have no
//! row and so no window: guessing keys is bounded by the API's own limits, not by this one.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::entity::Model;
use crate::http::ApiError;
use crate::http::rate_limit::{Limit, Window};

/// Calls one key may take per window.
pub const LIMIT: i64 = 60;
/// The window's length, in seconds.
pub const WINDOW_SECONDS: i64 = 60;

/// Counts one call against `row` at `now`; when the window is full, how many seconds are
/// left until it ends.
pub fn count(row: &mut Model, now: DateTime<Utc>) -> Result<(), u64> {
    let limit = Limit {
        calls: LIMIT,
        window: chrono::Duration::seconds(WINDOW_SECONDS),
    };
    let current = row.rate_window_started_at.map(|started_at| Window {
        started_at,
        hits: row.rate_window_hits,
    });
    let window = Window::hit(current, limit, now).map_err(|limited| limited.retry_after)?;
    row.rate_window_started_at = Some(window.started_at);
    row.rate_window_hits = window.hits;
    Ok(())
}

/// An error of a rate-limited operation: the API's, or the limit reached (429 with
/// `Retry-After`).
#[derive(Debug)]
pub enum Refusal {
    Api(ApiError),
    Limited { retry_after: u64 },
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<sea_orm::DbErr> for Refusal {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Api(error.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Api(error) => error.into_response(),
            Self::Limited { retry_after } => {
                let mut response = ApiError::named(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    "Too many requests for this license key; try again later.",
                )
                .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                response
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Model {
        Model {
            id: uuid::Uuid::nil(),
            created_at: Utc::now(),
            modified_at: None,
            organization_id: uuid::Uuid::nil(),
            customer_id: uuid::Uuid::nil(),
            member_id: None,
            benefit_id: uuid::Uuid::nil(),
            key: "K".to_owned(),
            status: "granted".to_owned(),
            limit_activations: None,
            usage: 0,
            limit_usage: None,
            validations: 0,
            last_validated_at: None,
            expires_at: None,
            rate_window_started_at: None,
            rate_window_hits: 0,
        }
    }

    #[test]
    fn a_full_window_refuses_until_it_ends() {
        let mut row = key();
        let start = Utc::now();
        for _ in 0..LIMIT {
            assert_eq!(count(&mut row, start), Ok(()));
        }
        let later = start + chrono::Duration::seconds(20);
        assert_eq!(count(&mut row, later), Err(40));
        assert_eq!(row.rate_window_hits, LIMIT);
        let next = start + chrono::Duration::seconds(WINDOW_SECONDS);
        assert_eq!(count(&mut row, next), Ok(()));
        assert_eq!(
            (row.rate_window_started_at, row.rate_window_hits),
            (Some(next), 1)
        );
    }
}

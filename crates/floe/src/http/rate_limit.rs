//! Fixed-window limits kept in the database (`rate_limits`), for the few operations that
//! anyone may call and whose guessing must stay slow (the portal's sign-in). A window per
//! bucket (`sign-in:ip:…`, `sign-in:email:…`) counts calls; a full window refuses with 429
//! and `Retry-After` until it ends. The counters live in the database, not in memory, so
//! every floe process sharing it counts against the same window.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter,
    QuerySelect, Set,
};

use super::ApiError;

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "rate_limits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub bucket: String,
        pub window_started_at: DateTimeUtc,
        pub hits: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// How many calls a bucket takes per window.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub calls: i64,
    pub window: Duration,
}

/// A full window: retry after this many seconds.
#[derive(Debug, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: u64,
}

impl IntoResponse for Limited {
    fn into_response(self) -> Response {
        let mut response = ApiError::named(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many attempts; try again later.",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(self.retry_after));
        response
    }
}

/// A fixed window's count: where it started and how many calls it took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub started_at: DateTime<Utc>,
    pub hits: i64,
}

impl Window {
    /// The window after one more call at `now` (a new one when the last ended, or when it
    /// starts in the future because the clock went back), or, when it is full, how many
    /// seconds are left until it ends. A refused call is not counted.
    pub fn hit(current: Option<Self>, limit: Limit, now: DateTime<Utc>) -> Result<Self, Limited> {
        match current {
            Some(window) if now >= window.started_at && now - window.started_at < limit.window => {
                if window.hits >= limit.calls {
                    let left = (window.started_at + limit.window - now).num_milliseconds();
                    let retry_after = u64::try_from((left + 999) / 1000).unwrap_or(1).max(1);
                    return Err(Limited { retry_after });
                }
                Ok(Self {
                    hits: window.hits + 1,
                    ..window
                })
            }
            _ => Ok(Self {
                started_at: now,
                hits: 1,
            }),
        }
    }
}

/// Counts one call in `bucket` at `now`, in the caller's transaction (under the bucket's
/// row lock on PostgreSQL; SQLite's writer lock serializes the rest). A refused call is
/// not counted.
pub async fn hit(
    txn: &DatabaseTransaction,
    bucket: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> Result<Result<(), Limited>, DbErr> {
    entity::Entity::insert(entity::ActiveModel {
        bucket: Set(bucket.to_owned()),
        window_started_at: Set(now),
        hits: Set(0),
    })
    .on_conflict(
        OnConflict::column(entity::Column::Bucket)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let mut select = entity::Entity::find().filter(entity::Column::Bucket.eq(bucket));
    if txn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    let mut row = select
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::Custom("the rate-limit bucket just made is not there".to_owned()))?;
    let current = Window {
        started_at: row.window_started_at,
        hits: row.hits,
    };
    let window = match Window::hit(Some(current), limit, now) {
        Ok(window) => window,
        Err(limited) => return Ok(Err(limited)),
    };
    row.window_started_at = window.started_at;
    row.hits = window.hits;
    crate::db::rows::update::<entity::Entity>(txn, row).await?;
    Ok(Ok(()))
}

/// Deletes the windows that ended before `now - longest` (they count nothing any more).
pub async fn purge(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    longest: Duration,
) -> Result<u64, DbErr> {
    Ok(entity::Entity::delete_many()
        .filter(entity::Column::WindowStartedAt.lt(now - longest))
        .exec(db)
        .await?
        .rows_affected)
}

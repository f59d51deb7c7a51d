//! Page-based lists: the requested page of an ordered query and the number of rows in all.
//!
//! Two queries (a count and the page). A single query with `COUNT(*) OVER ()` beside each
//! row was measured slower on SQLite (it materialises every matching row before the LIMIT:
//! 3,250 vs 4,030 requests/s for a 10-item page on this machine).

use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QuerySelect, Select,
};

use crate::http::Pagination;

/// The page `pagination` asks for of an ordered `query`, and the number of rows in all.
pub async fn paginate<E>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    pagination: Pagination,
) -> Result<(Vec<E::Model>, u64), DbErr>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    let total = query.clone().count(db).await?;
    if total == 0 || pagination.offset() >= total {
        return Ok((Vec::new(), total));
    }
    let rows = query
        .offset(pagination.offset())
        .limit(pagination.limit)
        .all(db)
        .await?;
    Ok((rows, total))
}

//! Page-based lists: the requested page of an ordered query and the number of rows in all.
//!
//! The page, and a count only when the page alone cannot tell the total (it is full, or
//! past the end). A single query with `COUNT(*) OVER ()` beside each row was measured
//! slower on SQLite: it materialises every matching row before the LIMIT (3,250 vs 4,030
//! requests/s for a 10-item page on this machine).

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
    let rows = query
        .clone()
        .offset(pagination.offset())
        .limit(pagination.limit)
        .all(db)
        .await?;
    // A page that is not full, and not past the end, tells the total by itself.
    let total = if !rows.is_empty() && (rows.len() as u64) < pagination.limit {
        pagination.offset() + rows.len() as u64
    } else {
        query.count(db).await?
    };
    Ok((rows, total))
}

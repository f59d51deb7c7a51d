//! One query per page: the rows and, beside each, how many rows match in all
//! (`COUNT(*) OVER ()`), instead of a page query plus a count query. Both SQLite and
//! PostgreSQL have window functions.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QueryResult, QuerySelect,
    Select,
};

use crate::http::Pagination;

const TOTAL: &str = "floe_total_count";

struct Counted<M> {
    row: M,
    total: i64,
}

impl<M: FromQueryResult> FromQueryResult for Counted<M> {
    fn from_query_result(result: &QueryResult, prefix: &str) -> Result<Self, DbErr> {
        Ok(Self {
            row: M::from_query_result(result, prefix)?,
            total: result.try_get(prefix, TOTAL)?,
        })
    }
}

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
    let counted: Vec<Counted<E::Model>> = query
        .clone()
        .column_as(Expr::cust("COUNT(*) OVER ()"), TOTAL)
        .offset(pagination.offset())
        .limit(pagination.limit)
        .into_model::<Counted<E::Model>>()
        .all(db)
        .await?;
    let total = match counted.first() {
        Some(first) => u64::try_from(first.total).unwrap_or(0),
        // Past the last page there is no row to carry the count.
        None if pagination.page > 1 => query.count(db).await?,
        None => 0,
    };
    Ok((counted.into_iter().map(|c| c.row).collect(), total))
}

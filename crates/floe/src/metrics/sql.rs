//! The few helpers metrics' raw reads share: SeaQuery statements run on either database,
//! columns read by name.

use sea_orm::sea_query::{Alias, Expr, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

pub fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

pub async fn rows(
    db: &impl ConnectionTrait,
    query: &SelectStatement,
) -> Result<Vec<QueryResult>, DbErr> {
    db.query_all_raw(db.get_database_backend().build(query))
        .await
}

pub fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> Result<T, DbErr> {
    row.try_get("", column)
}

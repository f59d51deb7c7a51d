//! Writing whole rows: every store inserts and updates models the same way, with every
//! column written (a model read and changed in Rust is the row's new truth).

use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel};

/// Inserts `row` as it is.
pub async fn insert<E>(db: &impl ConnectionTrait, row: E::Model) -> Result<E::Model, DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    row.into_active_model().reset_all().insert(db).await
}

/// Writes every column of `row` over the stored one with its primary key.
pub async fn update<E>(db: &impl ConnectionTrait, row: E::Model) -> Result<E::Model, DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    row.into_active_model().reset_all().update(db).await
}

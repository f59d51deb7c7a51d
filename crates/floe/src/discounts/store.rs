//! Queries on discounts, scoped to an organization; deleted discounts are never read.

use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model, product};
use super::schema::DiscountSortProperty;
use crate::db::{ReadConnection, Reads};
use crate::http::Pagination;
use crate::http::pagination::Direction;

fn live(organization_id: Uuid) -> sea_orm::Select<Entity> {
    Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::DeletedAt.is_null())
}

pub async fn get(db: Reads<'_>, organization_id: Uuid, id: Uuid) -> Result<Option<Model>, DbErr> {
    db.one(live(organization_id).filter(Column::Id.eq(id)))
        .await
}

pub async fn by_ids_with_deleted(
    db: Reads<'_>,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Model>, DbErr> {
    let select = Entity::find().filter(Column::OrganizationId.eq(organization_id));
    db.among(select, Column::Id, ids).await
}

pub async fn list(
    db: &ReadConnection,
    organization_id: Uuid,
    query: Option<&str>,
    sorting: &[(DiscountSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut select = live(organization_id).apply_if(query, |select, text| {
        select.filter(
            sea_orm::Condition::any()
                .add(crate::db::contains(Column::Name, text))
                .add(crate::db::contains(Column::Code, text)),
        )
    });
    for (property, direction) in sorting {
        let (column, nullable) = match property {
            DiscountSortProperty::CreatedAt => (Column::CreatedAt, false),
            DiscountSortProperty::Name => (Column::Name, false),
            DiscountSortProperty::Code => (Column::Code, true),
            DiscountSortProperty::RedemptionsCount => (Column::RedemptionsCount, false),
            DiscountSortProperty::EndsAt => (Column::EndsAt, true),
        };
        select = crate::db::order_by(select, column, *direction, nullable);
    }
    crate::db::paginate(db, select.order_by_asc(Column::Id), pagination).await
}

/// Which discounts of `discount_ids` are limited to which products.
pub async fn product_links(
    db: Reads<'_>,
    discount_ids: &[Uuid],
) -> Result<Vec<product::Model>, DbErr> {
    db.among(
        product::Entity::find(),
        product::Column::DiscountId,
        discount_ids,
    )
    .await
}

/// Which of `product_ids` a live discount is limited to.
pub async fn products_in_use(db: Reads<'_>, product_ids: &[Uuid]) -> Result<Vec<Uuid>, DbErr> {
    let of_live_discounts = product::Entity::find().filter(
        product::Column::DiscountId.in_subquery(
            Query::select()
                .column(Column::Id)
                .from(Entity)
                .and_where(Column::DeletedAt.is_null())
                .to_owned(),
        ),
    );
    let links = db
        .among(of_live_discounts, product::Column::ProductId, product_ids)
        .await?;
    Ok(links.into_iter().map(|link| link.product_id).collect())
}

pub async fn insert(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(txn, row).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}

/// Replaces the products a discount is limited to.
pub async fn set_products(
    txn: &impl ConnectionTrait,
    discount_id: Uuid,
    product_ids: &[Uuid],
) -> Result<(), DbErr> {
    product::Entity::delete_many()
        .filter(product::Column::DiscountId.eq(discount_id))
        .exec(txn)
        .await?;
    for product_id in product_ids {
        crate::db::rows::insert::<product::Entity>(
            txn,
            product::Model {
                discount_id,
                product_id: *product_id,
            },
        )
        .await?;
    }
    Ok(())
}

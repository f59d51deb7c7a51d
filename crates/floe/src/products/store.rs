//! Queries on products, their prices and what they point at, scoped to an organization;
//! deleted products are never read.

use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QueryTrait,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model};
use super::links::{benefit, custom_field, media};
use super::price_entity::{self, Model as PriceRow};
use super::schema::{ProductSortProperty, ProductVisibility};
use crate::db::{ReadConnection, Reads};
use crate::http::Pagination;
use crate::http::pagination::Direction;

#[derive(Default)]
pub struct ListFilter {
    pub ids: Option<Vec<Uuid>>,
    pub query: Option<String>,
    pub is_archived: Option<bool>,
    pub is_recurring: Option<bool>,
    pub benefit_ids: Option<Vec<Uuid>>,
    pub visibility: Option<Vec<ProductVisibility>>,
    pub metadata: Vec<(String, Vec<String>)>,
}

fn live(organization_id: Uuid) -> sea_orm::Select<Entity> {
    Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::DeletedAt.is_null())
}

pub async fn get(db: Reads<'_>, organization_id: Uuid, id: Uuid) -> Result<Option<Model>, DbErr> {
    db.one(live(organization_id).filter(Column::Id.eq(id)))
        .await
}

pub async fn live_many(
    db: Reads<'_>,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Model>, DbErr> {
    db.among(live(organization_id), Column::Id, ids).await
}

pub async fn many_with_deleted(
    db: Reads<'_>,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Model>, DbErr> {
    let select = Entity::find().filter(Column::OrganizationId.eq(organization_id));
    db.among(select, Column::Id, ids).await
}

pub async fn list(
    db: &ReadConnection,
    backend: DbBackend,
    organization_id: Uuid,
    filter: &ListFilter,
    sorting: &[(ProductSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut query = live(organization_id)
        .apply_if(filter.ids.as_ref(), |query, ids| {
            query.filter(Column::Id.is_in(ids.iter().copied()))
        })
        .apply_if(filter.query.as_deref(), |query, text| {
            query.filter(
                sea_orm::Condition::any()
                    .add(crate::db::contains(Column::Name, text))
                    .add(crate::db::contains(Column::Description, text)),
            )
        })
        .apply_if(filter.is_archived, |query, archived| {
            query.filter(Column::IsArchived.eq(archived))
        })
        .apply_if(filter.is_recurring, |query, recurring| {
            if recurring {
                query.filter(Column::RecurringInterval.is_not_null())
            } else {
                query.filter(Column::RecurringInterval.is_null())
            }
        })
        .apply_if(filter.visibility.as_ref(), |query, visibility| {
            query.filter(Column::Visibility.is_in(visibility.iter().map(|v| v.as_str())))
        })
        .apply_if(filter.benefit_ids.as_ref(), |query, ids| {
            query.filter(
                Column::Id.in_subquery(
                    Query::select()
                        .column(benefit::Column::ProductId)
                        .from(benefit::Entity)
                        .and_where(benefit::Column::BenefitId.is_in(ids.iter().copied()))
                        .to_owned(),
                ),
            )
        });
    if !filter.metadata.is_empty() {
        query = query.filter(crate::metadata::condition(
            backend,
            Column::Metadata,
            &filter.metadata,
        ));
    }
    for (property, direction) in sorting {
        let (column, nullable) = match property {
            ProductSortProperty::CreatedAt => (Column::CreatedAt, false),
            ProductSortProperty::Name => (Column::Name, false),
            // Products without a fixed or custom price have no such key.
            ProductSortProperty::PriceAmountType => (Column::SortPriceType, true),
            ProductSortProperty::PriceAmount => (Column::SortPriceAmount, true),
        };
        query = crate::db::order_by(query, column, *direction, nullable);
    }
    crate::db::paginate(db, query.order_by_asc(Column::Id), pagination).await
}

/// The catalog prices of `product_ids` (not those made for one checkout), in each
/// product's order; archived ones only when asked.
pub async fn prices(
    db: Reads<'_>,
    product_ids: &[Uuid],
    with_archived: bool,
) -> Result<Vec<PriceRow>, DbErr> {
    let select = price_entity::Entity::find()
        .filter(price_entity::Column::Source.eq("catalog"))
        .apply_if((!with_archived).then_some(()), |query, ()| {
            query.filter(price_entity::Column::IsArchived.eq(false))
        })
        .order_by_asc(price_entity::Column::ProductId)
        .order_by_asc(price_entity::Column::Position);
    db.among(select, price_entity::Column::ProductId, product_ids)
        .await
}

/// Prices of `organization_id` by ID, whatever their source, archived ones included.
pub async fn prices_by_ids(
    db: Reads<'_>,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<PriceRow>, DbErr> {
    let select = price_entity::Entity::find()
        .filter(price_entity::Column::OrganizationId.eq(organization_id))
        .order_by_asc(price_entity::Column::Position);
    db.among(select, price_entity::Column::Id, ids).await
}

pub async fn benefit_links(
    db: Reads<'_>,
    product_ids: &[Uuid],
) -> Result<Vec<benefit::Model>, DbErr> {
    let select = benefit::Entity::find().order_by_asc(benefit::Column::Position);
    db.among(select, benefit::Column::ProductId, product_ids)
        .await
}

pub async fn media_links(db: Reads<'_>, product_ids: &[Uuid]) -> Result<Vec<media::Model>, DbErr> {
    let select = media::Entity::find().order_by_asc(media::Column::Position);
    db.among(select, media::Column::ProductId, product_ids)
        .await
}

pub async fn custom_field_links(
    db: Reads<'_>,
    product_ids: &[Uuid],
) -> Result<Vec<custom_field::Model>, DbErr> {
    let select = custom_field::Entity::find().order_by_asc(custom_field::Column::Position);
    db.among(select, custom_field::Column::ProductId, product_ids)
        .await
}

pub async fn insert(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(txn, row).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}

pub async fn insert_price(txn: &impl ConnectionTrait, row: PriceRow) -> Result<PriceRow, DbErr> {
    crate::db::rows::insert::<price_entity::Entity>(txn, row).await
}

pub async fn update_price(txn: &impl ConnectionTrait, row: PriceRow) -> Result<PriceRow, DbErr> {
    crate::db::rows::update::<price_entity::Entity>(txn, row).await
}

/// Replaces the product's benefits with `ids`, in that order.
pub async fn set_benefits(
    txn: &impl ConnectionTrait,
    product_id: Uuid,
    ids: &[Uuid],
) -> Result<(), DbErr> {
    benefit::Entity::delete_many()
        .filter(benefit::Column::ProductId.eq(product_id))
        .exec(txn)
        .await?;
    for (position, benefit_id) in ids.iter().enumerate() {
        crate::db::rows::insert::<benefit::Entity>(
            txn,
            benefit::Model {
                product_id,
                benefit_id: *benefit_id,
                position: position as i64,
            },
        )
        .await?;
    }
    Ok(())
}

/// Replaces the product's media files with `ids`, in that order.
pub async fn set_medias(
    txn: &impl ConnectionTrait,
    product_id: Uuid,
    ids: &[Uuid],
) -> Result<(), DbErr> {
    media::Entity::delete_many()
        .filter(media::Column::ProductId.eq(product_id))
        .exec(txn)
        .await?;
    for (position, file_id) in ids.iter().enumerate() {
        crate::db::rows::insert::<media::Entity>(
            txn,
            media::Model {
                product_id,
                file_id: *file_id,
                position: position as i64,
            },
        )
        .await?;
    }
    Ok(())
}

/// Replaces the product's custom fields with `fields` (ID and whether an answer is
/// required), in that order.
pub async fn set_custom_fields(
    txn: &impl ConnectionTrait,
    product_id: Uuid,
    fields: &[(Uuid, bool)],
) -> Result<(), DbErr> {
    custom_field::Entity::delete_many()
        .filter(custom_field::Column::ProductId.eq(product_id))
        .exec(txn)
        .await?;
    for (position, (custom_field_id, required)) in fields.iter().enumerate() {
        crate::db::rows::insert::<custom_field::Entity>(
            txn,
            custom_field::Model {
                product_id,
                custom_field_id: *custom_field_id,
                position: position as i64,
                required: *required,
            },
        )
        .await?;
    }
    Ok(())
}

/// Takes a deleted benefit off every product.
pub async fn detach_benefit(txn: &impl ConnectionTrait, benefit_id: Uuid) -> Result<(), DbErr> {
    benefit::Entity::delete_many()
        .filter(benefit::Column::BenefitId.eq(benefit_id))
        .exec(txn)
        .await
        .map(|_| ())
}

/// Takes a deleted custom field off every product.
pub async fn detach_custom_field(
    txn: &impl ConnectionTrait,
    custom_field_id: Uuid,
) -> Result<(), DbErr> {
    custom_field::Entity::delete_many()
        .filter(custom_field::Column::CustomFieldId.eq(custom_field_id))
        .exec(txn)
        .await
        .map(|_| ())
}

/// The public products of `organization_id` on sale (not archived), oldest first, at most
/// `limit` of them.
pub async fn public_on_sale(
    db: &ReadConnection,
    organization_id: Uuid,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    use sea_orm::QuerySelect;
    db.all(
        live(organization_id)
            .filter(Column::IsArchived.eq(false))
            .filter(Column::Visibility.eq(ProductVisibility::Public.as_str()))
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .limit(limit),
    )
    .await
}

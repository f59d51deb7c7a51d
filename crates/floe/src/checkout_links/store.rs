//! Queries on checkout links, scoped to an organization (but for the lookup by client
//! secret, which is how a buyer's browser names a link); deleted links are never read.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::entity::{Column, Entity, Model};
use super::schema::CheckoutLinkSortProperty;
use crate::db::{ReadConnection, Reads};
use crate::http::Pagination;
use crate::http::pagination::Direction;

fn live() -> sea_orm::Select<Entity> {
    Entity::find().filter(Column::DeletedAt.is_null())
}

fn live_of(organization_id: Uuid) -> sea_orm::Select<Entity> {
    live().filter(Column::OrganizationId.eq(organization_id))
}

pub async fn get(db: Reads<'_>, organization_id: Uuid, id: Uuid) -> Result<Option<Model>, DbErr> {
    db.one(live_of(organization_id).filter(Column::Id.eq(id)))
        .await
}

/// The live link whose secret is `client_secret`, whatever its organization: the secret is
/// what names it.
pub async fn by_client_secret(db: Reads<'_>, client_secret: &str) -> Result<Option<Model>, DbErr> {
    db.one(live().filter(Column::ClientSecret.eq(client_secret)))
        .await
}

/// A page of the organization's links, offering any of `product_ids` when given.
pub async fn list(
    db: &ReadConnection,
    organization_id: Uuid,
    product_ids: Option<&[Uuid]>,
    sorting: &[(CheckoutLinkSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut select = live_of(organization_id);
    if let Some(ids) = product_ids {
        // IDs have one spelling in the stored JSON array, so a substring test is exact.
        let offering = ids.iter().fold(sea_orm::Condition::any(), |any, id| {
            any.add(crate::db::contains(Column::ProductIds, &id.to_string()))
        });
        select = select.filter(offering);
    }
    for (property, direction) in sorting {
        let (column, nullable) = match property {
            CheckoutLinkSortProperty::CreatedAt => (Column::CreatedAt, false),
            CheckoutLinkSortProperty::Label => (Column::Label, true),
            CheckoutLinkSortProperty::SuccessUrl => (Column::SuccessUrl, true),
            CheckoutLinkSortProperty::AllowDiscountCodes => (Column::AllowDiscountCodes, false),
        };
        select = crate::db::order_by(select, column, *direction, nullable);
    }
    crate::db::paginate(db, select.order_by_asc(Column::Id), pagination).await
}

pub async fn insert(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(txn, row).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}

//! Queries on payments and saved payment methods, scoped to an organization.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model, method};
use super::schema::{PaymentSortProperty, PaymentStatus};
use crate::db::{ReadConnection, Reads};
use crate::http::Pagination;
use crate::http::pagination::Direction;

pub async fn get(db: Reads<'_>, organization_id: Uuid, id: Uuid) -> Result<Option<Model>, DbErr> {
    db.one(
        Entity::find()
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(Column::Id.eq(id)),
    )
    .await
}

#[derive(Default)]
pub struct ListFilter {
    pub checkout_ids: Option<Vec<Uuid>>,
    pub order_ids: Option<Vec<Uuid>>,
    pub customer_ids: Option<Vec<Uuid>>,
    pub statuses: Option<Vec<PaymentStatus>>,
    pub methods: Option<Vec<String>>,
}

pub async fn list(
    db: &ReadConnection,
    organization_id: Uuid,
    filter: &ListFilter,
    sorting: &[(PaymentSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut select = Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .apply_if(filter.checkout_ids.as_ref(), |s, ids| {
            s.filter(Column::CheckoutId.is_in(ids.clone()))
        })
        .apply_if(filter.order_ids.as_ref(), |s, ids| {
            s.filter(Column::OrderId.is_in(ids.clone()))
        })
        .apply_if(filter.customer_ids.as_ref(), |s, ids| {
            s.filter(Column::CustomerId.is_in(ids.clone()))
        })
        .apply_if(filter.statuses.as_ref(), |s, statuses| {
            s.filter(Column::Status.is_in(statuses.iter().map(|s| s.as_str())))
        })
        .apply_if(filter.methods.as_ref(), |s, methods| {
            s.filter(Column::Method.is_in(methods.clone()))
        });
    for (property, direction) in sorting {
        let column = match property {
            PaymentSortProperty::CreatedAt => Column::CreatedAt,
            PaymentSortProperty::Status => Column::Status,
            PaymentSortProperty::Amount => Column::Amount,
            PaymentSortProperty::Method => Column::Method,
        };
        select = crate::db::order_by(select, column, *direction, false);
    }
    crate::db::paginate(db, select.order_by_asc(Column::Id), pagination).await
}

/// The payment a processor reported under `processor_id`, in `txn`.
pub async fn by_processor_id(
    txn: &impl ConnectionTrait,
    processor: &str,
    processor_id: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::Processor.eq(processor))
        .filter(Column::ProcessorId.eq(processor_id))
        .one(txn)
        .await
}

/// The charge of `checkout_id` waiting for the buyer (an authentication step), in `txn`.
pub async fn pending_of_checkout(
    txn: &impl ConnectionTrait,
    checkout_id: Uuid,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::CheckoutId.eq(checkout_id))
        .filter(Column::Status.eq("pending"))
        .order_by_desc(Column::CreatedAt)
        .one(txn)
        .await
}

pub async fn insert(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(txn, row).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}

/// Saves a payment method once (a replay finds it saved).
pub async fn save_method(
    txn: &impl ConnectionTrait,
    row: method::Model,
) -> Result<method::Model, DbErr> {
    if let Some(saved) = method::Entity::find()
        .filter(method::Column::Processor.eq(row.processor.clone()))
        .filter(method::Column::ProcessorId.eq(row.processor_id.clone()))
        .one(txn)
        .await?
    {
        return Ok(saved);
    }
    let saved = crate::db::rows::insert::<method::Entity>(txn, row).await?;
    // A method the buyer just saved becomes the one later charges use, as at Stripe.
    crate::customers::set_default_payment_method(txn, saved.customer_id, saved.id).await?;
    Ok(saved)
}

/// The saved payment method of `customer_id` to charge: `id` when given (it must be the
/// customer's), else the one saved last.
pub async fn method_of_customer(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    id: Option<Uuid>,
) -> Result<Option<method::Model>, DbErr> {
    let mut select = method::Entity::find()
        .filter(method::Column::CustomerId.eq(customer_id))
        .filter(method::Column::DeletedAt.is_null());
    if let Some(id) = id {
        select = select.filter(method::Column::Id.eq(id));
    }
    select
        .order_by_desc(method::Column::CreatedAt)
        .one(txn)
        .await
}

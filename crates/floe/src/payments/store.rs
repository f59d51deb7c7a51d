//! Queries on payments and saved payment methods, scoped to an organization.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model, method};
use super::processor::MethodDetails;
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

/// The payment `id`, in `txn` (callers check it is the one they expect).
pub async fn by_id(txn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(txn).await
}

/// The live saved method `id` of `customer_id`.
pub async fn live_method_of_customer(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    id: Uuid,
) -> Result<Option<method::Model>, DbErr> {
    method::Entity::find_by_id(id)
        .filter(method::Column::CustomerId.eq(customer_id))
        .filter(method::Column::DeletedAt.is_null())
        .one(db)
        .await
}

/// The saved payment method `id`, in `txn`.
pub async fn method_by_id(
    txn: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<method::Model>, DbErr> {
    method::Entity::find_by_id(id).one(txn).await
}

/// How many charges of `order_id` failed (its dunning attempts so far: the customer's own
/// tries from the portal do not count).
pub async fn failures_of_order(txn: &impl ConnectionTrait, order_id: Uuid) -> Result<usize, DbErr> {
    use sea_orm::PaginatorTrait;
    let count = Entity::find()
        .filter(Column::OrderId.eq(order_id))
        .filter(Column::Status.eq("failed"))
        .filter(
            sea_orm::Condition::any()
                .add(Column::Trigger.is_null())
                .add(Column::Trigger.ne("retry_customer")),
        )
        .count(txn)
        .await?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

/// How many charges of `order_id` were made with `trigger`, whatever their outcome.
pub async fn tries_of_order(
    txn: &impl ConnectionTrait,
    order_id: Uuid,
    trigger: &str,
) -> Result<usize, DbErr> {
    use sea_orm::PaginatorTrait;
    let count = Entity::find()
        .filter(Column::OrderId.eq(order_id))
        .filter(Column::Trigger.eq(trigger))
        .filter(Column::Status.ne("pending"))
        .count(txn)
        .await?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

/// Why the last failed charge of `order_id` failed, as the processor said it.
pub async fn last_decline_of_order(
    db: &impl ConnectionTrait,
    order_id: Uuid,
) -> Result<Option<String>, DbErr> {
    Ok(Entity::find()
        .filter(Column::OrderId.eq(order_id))
        .filter(Column::Status.eq("failed"))
        .order_by_desc(Column::CreatedAt)
        .one(db)
        .await?
        .and_then(|payment| payment.decline_message))
}

/// The latest charge attempt of `order_id` (of `organization_id`), whatever its outcome.
pub async fn latest_of_order(
    db: &ReadConnection,
    organization_id: Uuid,
    order_id: Uuid,
) -> Result<Option<Model>, DbErr> {
    db.one(
        Entity::find()
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(Column::OrderId.eq(order_id))
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id),
    )
    .await
}

/// The Stripe attempt of `order_id` sent (or about to be) and not answered yet, in `txn`.
pub async fn pending_of_order(
    txn: &impl ConnectionTrait,
    order_id: Uuid,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::OrderId.eq(order_id))
        .filter(Column::Status.eq("pending"))
        .order_by_desc(Column::CreatedAt)
        .one(txn)
        .await
}

/// One charge attempt as a processor reported it, for [`record`].
pub struct Attempt<'a> {
    pub organization_id: Uuid,
    pub processor: &'a str,
    /// The processor's ID of the charge.
    pub charge_id: &'a str,
    /// `pending`, `succeeded` or `failed`.
    pub status: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    pub method: &'a MethodDetails,
    /// The processor's decline code and message.
    pub decline: Option<(&'a str, &'a str)>,
    /// `purchase`, …
    pub trigger: &'a str,
    pub checkout_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub payment_method_id: Option<Uuid>,
    /// The row this attempt is recorded under before the processor names its charge (an
    /// off-session charge is written down before Stripe is asked): it is made with this ID,
    /// then updated when the charge's outcome comes.
    pub replaces: Option<Uuid>,
}

/// Records a charge attempt, in `txn`: the one place payment rows are written. An attempt
/// the processor already reported (by its charge ID, or the row it `replaces`) is updated,
/// keeping what was linked to it since (its order, its saved method).
pub async fn record(
    txn: &impl ConnectionTrait,
    attempt: Attempt<'_>,
    now: DateTime<Utc>,
) -> Result<Model, DbErr> {
    let mut existing = by_processor_id(txn, attempt.processor, attempt.charge_id).await?;
    if existing.is_none()
        && let Some(id) = attempt.replaces
    {
        existing = Entity::find_by_id(id).one(txn).await?;
    }
    let row = Model {
        id: existing
            .as_ref()
            .map(|p| p.id)
            .or(attempt.replaces)
            .unwrap_or_else(Uuid::new_v4),
        created_at: existing.as_ref().map_or(now, |p| p.created_at),
        modified_at: existing.as_ref().map(|_| now),
        organization_id: attempt.organization_id,
        processor: attempt.processor.to_owned(),
        processor_id: attempt.charge_id.to_owned(),
        status: attempt.status.to_owned(),
        amount: attempt.amount,
        currency: attempt.currency.to_owned(),
        method: attempt.method.kind.clone(),
        method_metadata: attempt.method.metadata(),
        trigger: Some(attempt.trigger.to_owned()),
        decline_reason: attempt.decline.map(|(code, _)| code.to_owned()),
        decline_message: attempt.decline.map(|(_, message)| message.to_owned()),
        processor_metadata: serde_json::json!({"charge_id": attempt.charge_id}).to_string(),
        checkout_id: attempt
            .checkout_id
            .or(existing.as_ref().and_then(|p| p.checkout_id)),
        order_id: attempt
            .order_id
            .or(existing.as_ref().and_then(|p| p.order_id)),
        customer_id: attempt
            .customer_id
            .or(existing.as_ref().and_then(|p| p.customer_id)),
        payment_method_id: attempt
            .payment_method_id
            .or(existing.as_ref().and_then(|p| p.payment_method_id)),
    };
    match existing {
        Some(_) => update(txn, row).await,
        None => crate::db::rows::insert::<Entity>(txn, row).await,
    }
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}

/// Saves a payment method once (a replay finds it saved).
pub async fn save_method(
    txn: &impl ConnectionTrait,
    row: method::Model,
) -> Result<method::Model, DbErr> {
    save_method_as(txn, row, true).await
}

/// Saves a payment method once, and makes it the customer's default when `make_default`
/// (a method saved through the portal without `set_default` leaves the default alone).
pub async fn save_method_as(
    txn: &impl ConnectionTrait,
    row: method::Model,
    make_default: bool,
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
    if make_default {
        crate::customers::set_default_payment_method(txn, saved.customer_id, saved.id).await?;
    }
    Ok(saved)
}

/// The saved payment method of `customer_id` to charge with `processor` (a method saved
/// with another processor cannot be charged by this one): `id` when given (it must be the
/// customer's), else the one saved last.
pub async fn method_of_customer(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    processor: &str,
    id: Option<Uuid>,
) -> Result<Option<method::Model>, DbErr> {
    let mut select = method::Entity::find()
        .filter(method::Column::CustomerId.eq(customer_id))
        .filter(method::Column::Processor.eq(processor))
        .filter(method::Column::DeletedAt.is_null());
    if let Some(id) = id {
        select = select.filter(method::Column::Id.eq(id));
    }
    select
        .order_by_desc(method::Column::CreatedAt)
        .one(txn)
        .await
}

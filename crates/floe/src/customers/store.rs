//! Queries on customers. Every read is scoped to an organization and sees live customers
//! only; a deleted customer, like another organization's, does not exist for the caller.

use sea_orm::sea_query::NullOrdering;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model};
use super::schema::CustomerSortProperty;
use crate::db::ReadConnection;
use crate::http::Pagination;
use crate::http::pagination::Direction;

/// How a request names a customer: by floe's ID or by the caller's external ID.
#[derive(Clone, Debug)]
pub enum CustomerKey {
    Id(Uuid),
    External(String),
}

impl CustomerKey {
    /// The customer a body names by `customer_id` or `external_customer_id` (the ID wins),
    /// with the field it came from and its value, for a 422 about it; 422 when neither.
    pub fn from_body(
        customer_id: Option<Uuid>,
        external_customer_id: Option<&str>,
    ) -> Result<(Self, &'static str, serde_json::Value), crate::http::ApiError> {
        use crate::http::{ApiError, Loc};
        match (customer_id, external_customer_id) {
            (Some(id), _) => Ok((Self::Id(id), "customer_id", serde_json::json!(id))),
            (None, Some(external)) => Ok((
                Self::External(external.to_owned()),
                "external_customer_id",
                serde_json::json!(external),
            )),
            (None, None) => Err(ApiError::validation(
                Loc::body().key("customer_id"),
                "missing",
                "Field required",
                serde_json::Value::Null,
            )),
        }
    }

    fn condition(&self) -> Condition {
        match self {
            Self::Id(id) => Condition::all().add(Column::Id.eq(*id)),
            Self::External(external_id) => {
                Condition::all().add(Column::ExternalId.eq(external_id.clone()))
            }
        }
    }
}

pub async fn get(
    db: &ReadConnection,
    organization_id: Uuid,
    key: &CustomerKey,
) -> Result<Option<Model>, DbErr> {
    db.one(
        Entity::find()
            .filter(key.condition())
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(Column::DeletedAt.is_null()),
    )
    .await
}

/// The same inside a write transaction, locked until it ends on PostgreSQL (SQLite has one
/// writer at a time): callers write the whole row back, so a change made meanwhile by
/// another transaction (a payment method saved by a checkout) must wait, not be overwritten.
pub async fn get_in(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    key: &CustomerKey,
) -> Result<Option<Model>, DbErr> {
    let mut select = Entity::find()
        .filter(key.condition())
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::DeletedAt.is_null());
    if txn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    select.one(txn).await
}

/// Makes `method_id` the payment method later charges of `customer_id` use. One column is
/// written, so nothing else of the row is overwritten.
pub async fn set_default_payment_method(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    method_id: Uuid,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(
            Column::DefaultPaymentMethodId,
            sea_orm::sea_query::Expr::value(method_id),
        )
        .filter(Column::Id.eq(customer_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// The live customer of `organization_id` with `email` (any case), in `txn`.
pub async fn by_email_in(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    email: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::EmailKey.eq(email.to_lowercase()))
        .filter(Column::DeletedAt.is_null())
        .one(txn)
        .await
}

pub async fn insert(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(txn, row).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}

/// Filters of `customers:list`.
#[derive(Default)]
pub struct ListFilter {
    pub email: Option<String>,
    pub query: Option<String>,
    pub active: Option<bool>,
    pub metadata: Vec<(String, Vec<String>)>,
}

/// A page of `organization_id`'s live customers and how many match in all.
pub async fn list(
    db: &ReadConnection,
    backend: DbBackend,
    organization_id: Uuid,
    filter: &ListFilter,
    sorting: &[(CustomerSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut query = Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::DeletedAt.is_null());
    // Active means having a trialing, active or past-due subscription.
    if let Some(active) = filter.active {
        let subscribed = "customers.id IN (SELECT s.customer_id FROM subscriptions s \
             WHERE s.status IN ('trialing', 'active', 'past_due'))";
        query = query.filter(sea_orm::sea_query::Expr::cust(if active {
            subscribed.to_owned()
        } else {
            format!("NOT ({subscribed})")
        }));
    }
    if let Some(email) = &filter.email {
        query = query.filter(Column::EmailKey.eq(email.to_lowercase()));
    }
    if let Some(text) = &filter.query {
        query = query.filter(
            Condition::any()
                .add(crate::db::contains(Column::Email, text))
                .add(crate::db::contains(Column::Name, text))
                .add(crate::db::contains(Column::ExternalId, text)),
        );
    }
    if !filter.metadata.is_empty() {
        query = query.filter(crate::metadata::condition(
            backend,
            Column::Metadata,
            &filter.metadata,
        ));
    }
    for (property, direction) in sorting {
        let column = match property {
            CustomerSortProperty::CreatedAt => Column::CreatedAt,
            CustomerSortProperty::Email => Column::EmailKey,
            CustomerSortProperty::Name => Column::Name,
        };
        // Missing names and emails sort as PostgreSQL puts NULLs by default (last going up,
        // first going down), on SQLite too.
        query = match direction {
            Direction::Ascending => {
                query.order_by_with_nulls(column, Order::Asc, NullOrdering::Last)
            }
            Direction::Descending => {
                query.order_by_with_nulls(column, Order::Desc, NullOrdering::First)
            }
        };
    }
    crate::db::paginate(db, query.order_by_asc(Column::Id), pagination).await
}

/// Every live customer of an organization, oldest first, for the CSV export.
pub async fn all(db: &ReadConnection, organization_id: Uuid) -> Result<Vec<Model>, DbErr> {
    db.all(
        Entity::find()
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(Column::DeletedAt.is_null())
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id),
    )
    .await
}

pub async fn live_ids(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::DeletedAt.is_null())
        .filter(Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await
}

pub async fn find_many(
    db: &ReadConnection,
    organization_id: Uuid,
    ids: &[Uuid],
    external_ids: &[String],
) -> Result<Vec<Model>, DbErr> {
    if ids.is_empty() && external_ids.is_empty() {
        return Ok(Vec::new());
    }
    db.all(
        Entity::find()
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(Column::DeletedAt.is_null())
            .filter(
                Condition::any()
                    .add(Column::Id.is_in(ids.iter().copied()))
                    .add(Column::ExternalId.is_in(external_ids.iter().cloned())),
            ),
    )
    .await
}

/// Customers of `organization_id` by ID, deleted ones included (for records that keep
/// naming a customer after it was deleted).
pub async fn by_ids_with_deleted(
    db: &ReadConnection,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    db.all(
        Entity::find()
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(Column::Id.is_in(ids.iter().copied())),
    )
    .await
}

//! Queries of the webhooks API. Every read is scoped to an organization.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entity::{delivery, endpoint, event};
use crate::db::ReadConnection;
use crate::http::Pagination;

/// A live endpoint of `organization_id`.
pub async fn get_endpoint(
    db: &ReadConnection,
    organization_id: Uuid,
    id: Uuid,
) -> Result<Option<endpoint::Model>, DbErr> {
    db.one(
        endpoint::Entity::find_by_id(id)
            .filter(endpoint::Column::OrganizationId.eq(organization_id))
            .filter(endpoint::Column::DeletedAt.is_null()),
    )
    .await
}

/// The same, inside a write transaction.
pub async fn get_endpoint_in(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    id: Uuid,
) -> Result<Option<endpoint::Model>, DbErr> {
    endpoint::Entity::find_by_id(id)
        .filter(endpoint::Column::OrganizationId.eq(organization_id))
        .filter(endpoint::Column::DeletedAt.is_null())
        .one(txn)
        .await
}

/// A page of `organization_id`'s live endpoints, oldest first.
pub async fn list_endpoints(
    db: &ReadConnection,
    organization_id: Uuid,
    pagination: Pagination,
) -> Result<(Vec<endpoint::Model>, u64), DbErr> {
    let query = endpoint::Entity::find()
        .filter(endpoint::Column::OrganizationId.eq(organization_id))
        .filter(endpoint::Column::DeletedAt.is_null())
        .order_by_asc(endpoint::Column::CreatedAt)
        .order_by_asc(endpoint::Column::Id);
    crate::db::paginate(db, query, pagination).await
}

/// An event of `organization_id`.
pub async fn get_event_in(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    id: Uuid,
) -> Result<Option<event::Model>, DbErr> {
    event::Entity::find_by_id(id)
        .filter(event::Column::OrganizationId.eq(organization_id))
        .one(txn)
        .await
}

/// Filters of `webhooks:list_webhook_deliveries`.
#[derive(Default)]
pub struct DeliveryFilter {
    pub endpoint_ids: Option<Vec<Uuid>>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub succeeded: Option<bool>,
    pub query: Option<String>,
    /// `[from, to)` of the HTTP status.
    pub http_codes: Option<(i32, i32)>,
    pub event_types: Option<Vec<String>>,
}

/// A page of `organization_id`'s delivery attempts, newest first, with their events.
pub async fn list_deliveries(
    db: &ReadConnection,
    organization_id: Uuid,
    filter: &DeliveryFilter,
    pagination: Pagination,
) -> Result<(Vec<(delivery::Model, event::Model)>, u64), DbErr> {
    let mut query =
        delivery::Entity::find().filter(delivery::Column::OrganizationId.eq(organization_id));
    if let Some(ids) = &filter.endpoint_ids {
        query = query.filter(delivery::Column::EndpointId.is_in(ids.iter().copied()));
    }
    if let Some(start) = filter.start {
        query = query.filter(delivery::Column::CreatedAt.gt(start));
    }
    if let Some(end) = filter.end {
        query = query.filter(delivery::Column::CreatedAt.lt(end));
    }
    if let Some(succeeded) = filter.succeeded {
        query = query.filter(delivery::Column::Succeeded.eq(succeeded));
    }
    if let Some((from, to)) = filter.http_codes {
        query = query
            .filter(delivery::Column::HttpCode.gte(from))
            .filter(delivery::Column::HttpCode.lt(to));
    }
    if let Some(text) = &filter.query {
        // IDs are matched exactly; a number matches the HTTP status.
        let mut any = Condition::any();
        if let Ok(id) = Uuid::try_parse(text.trim()) {
            any = any
                .add(delivery::Column::Id.eq(id))
                .add(delivery::Column::EventId.eq(id));
        }
        if let Ok(code) = text.trim().parse::<i32>() {
            any = any.add(delivery::Column::HttpCode.eq(code));
        }
        if any.is_empty() {
            return Ok((Vec::new(), 0));
        }
        query = query.filter(any);
    }
    if let Some(types) = &filter.event_types {
        query = query.filter(
            delivery::Column::EventId.in_subquery(
                Query::select()
                    .column(event::Column::Id)
                    .from(event::Entity)
                    .and_where(event::Column::OrganizationId.eq(organization_id))
                    .and_where(event::Column::Kind.is_in(types.iter().cloned()))
                    .to_owned(),
            ),
        );
    }
    let query = query
        .order_by_desc(delivery::Column::CreatedAt)
        .order_by_desc(delivery::Column::Id);
    let (rows, total) = crate::db::paginate(db, query, pagination).await?;
    let event_ids: Vec<Uuid> = rows.iter().map(|d| d.event_id).collect();
    let events = db
        .all(event::Entity::find().filter(event::Column::Id.is_in(event_ids)))
        .await?;
    let paired = rows
        .into_iter()
        .filter_map(|d| {
            let event = events.iter().find(|e| e.id == d.event_id)?.clone();
            Some((d, event))
        })
        .collect();
    Ok((paired, total))
}

/// Marks every pending event of an endpoint skipped (it was disabled or deleted).
pub async fn skip_pending(
    txn: &impl ConnectionTrait,
    endpoint_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = event::Entity::update_many()
        .col_expr(event::Column::Skipped, Expr::value(true))
        .col_expr(
            event::Column::NextAttemptAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(event::Column::ModifiedAt, Expr::value(now))
        .filter(event::Column::EndpointId.eq(endpoint_id))
        .filter(event::Column::NextAttemptAt.is_not_null())
        .exec(txn)
        .await?;
    Ok(result.rows_affected)
}

/// Queues an event again, at the head of its endpoint's queue (it keeps its position).
pub async fn requeue(
    txn: &impl ConnectionTrait,
    event: &event::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    event::Entity::update_many()
        .col_expr(event::Column::NextAttemptAt, Expr::value(now))
        .col_expr(event::Column::Attempts, Expr::value(0))
        .col_expr(event::Column::Skipped, Expr::value(false))
        .col_expr(event::Column::ModifiedAt, Expr::value(now))
        .filter(event::Column::Id.eq(event.id))
        .exec(txn)
        .await?;
    endpoint::Entity::update_many()
        .col_expr(
            endpoint::Column::QueueVersion,
            Expr::col(endpoint::Column::QueueVersion).add(1),
        )
        .col_expr(endpoint::Column::NextAttemptAt, Expr::value(now))
        .filter(endpoint::Column::Id.eq(event.endpoint_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Limits how many endpoints one poll of the worker looks at.
pub async fn due_endpoints(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Uuid>, DbErr> {
    let rows = endpoint::Entity::find()
        .select_only()
        .column(endpoint::Column::Id)
        .filter(endpoint::Column::NextAttemptAt.lte(now))
        .filter(endpoint::Column::Enabled.eq(true))
        .filter(endpoint::Column::DeletedAt.is_null())
        .filter(
            Condition::any()
                .add(endpoint::Column::LeaseUntil.is_null())
                .add(endpoint::Column::LeaseUntil.lt(now)),
        )
        .order_by_asc(endpoint::Column::NextAttemptAt)
        .limit(limit)
        .into_tuple::<Uuid>()
        .all(db)
        .await?;
    Ok(rows)
}

//! Queuing events: called inside the transaction of the change that causes them, so the
//! event is stored if and only if the change is (a rollback queues nothing; a crash after
//! commit loses nothing). The delivery worker sends them later.
//!
//! Order: each subscribed endpoint's row is updated first (`queue_version + 1`, returning
//! the new value, which is the event's position in that endpoint's queue). The update holds
//! the endpoint's row lock until commit, so two transactions queuing for one endpoint take
//! their positions in the order they commit, and the worker, which sends strictly by
//! position, never sends a later event before an earlier one that was still committing.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::entity::{endpoint, event};
use super::format;
use super::schema::{EventType, WebhookFormat};
use crate::organizations;

/// Queues `data` as an event of `kind` for every enabled endpoint of `organization_id`
/// subscribed to it. Returns how many endpoints it was queued for; when that is more than
/// zero, nudge the worker after committing.
pub async fn emit(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    kind: EventType,
    data: &impl Serialize,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let endpoints = Endpoints::of(txn, organization_id).await?;
    emit_to(txn, &endpoints, organization_id, kind, data, now).await
}

/// An organization's enabled endpoints, read once for a change that queues several events.
pub struct Endpoints(Vec<endpoint::Model>);

impl Endpoints {
    pub async fn of(txn: &impl ConnectionTrait, organization_id: Uuid) -> Result<Self, DbErr> {
        Ok(Self(
            endpoint::Entity::find()
                .filter(endpoint::Column::OrganizationId.eq(organization_id))
                .filter(endpoint::Column::Enabled.eq(true))
                .filter(endpoint::Column::DeletedAt.is_null())
                .all(txn)
                .await?,
        ))
    }

    /// Whether any endpoint would receive an event of `kind`: lets a caller skip building a
    /// costly payload nobody is sent.
    pub fn subscribe_to(&self, kind: EventType) -> bool {
        self.subscribed(kind).next().is_some()
    }

    /// The endpoints subscribed to `kind`.
    fn subscribed(&self, kind: EventType) -> impl Iterator<Item = &endpoint::Model> {
        self.0
            .iter()
            .filter(move |e| subscribes_to(&e.events, kind.as_str()))
    }
}

/// [`emit`] to endpoints already read in this transaction.
pub async fn emit_to(
    txn: &impl ConnectionTrait,
    endpoints: &Endpoints,
    organization_id: Uuid,
    kind: EventType,
    data: &impl Serialize,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let subscribed: Vec<&endpoint::Model> = endpoints.subscribed(kind).collect();
    if subscribed.is_empty() {
        return Ok(0);
    }
    let data = serde_json::to_value(data).map_err(|e| DbErr::Custom(e.to_string()))?;
    let timestamp = now.to_rfc3339_opts(SecondsFormat::Micros, true);
    // Only chat formats name the organization.
    let organization_name = if subscribed.iter().any(|e| e.format != "raw") {
        organizations::store::name_of(txn, organization_id)
            .await?
            .unwrap_or_default()
    } else {
        String::new()
    };
    let mut payloads = Vec::with_capacity(subscribed.len());
    for endpoint in &subscribed {
        // The payload names the API version the endpoint asked for (the official SDKs
        // require it); floe's payload shapes are the same in every version it serves.
        let raw = json!({
            "type": kind.as_str(),
            "timestamp": timestamp,
            "api_version": endpoint.api_version,
            "data": data,
        });
        if let Some(payload) = format::render(
            WebhookFormat::parse(&endpoint.format),
            kind,
            &raw,
            &organization_name,
        ) {
            payloads.push((endpoint, payload));
        }
    }
    let ids: Vec<Uuid> = payloads.iter().map(|(endpoint, _)| endpoint.id).collect();
    // Due now, and never later than real time: a change made on an organization's test
    // clock (ahead of real time) is stamped with its business time but sent at once.
    let due = std::cmp::Ord::min(now, Utc::now());
    // Endpoints disabled or deleted since they were read get no position and no event.
    let positions = take_positions(txn, &ids, due).await?;
    let rows: Vec<event::ActiveModel> = payloads
        .into_iter()
        .filter_map(|(endpoint, payload)| {
            let position = *positions.get(&endpoint.id)?;
            Some(event::ActiveModel {
                id: Set(Uuid::new_v4()),
                created_at: Set(now),
                modified_at: Set(None),
                organization_id: Set(organization_id),
                endpoint_id: Set(endpoint.id),
                seq: Set(position),
                kind: Set(kind.as_str().to_owned()),
                api_version: Set(endpoint.api_version.clone()),
                payload: Set(Some(payload)),
                succeeded: Set(None),
                skipped: Set(false),
                last_http_code: Set(None),
                attempts: Set(0),
                next_attempt_at: Set(Some(due)),
            })
        })
        .collect();
    let queued = rows.len();
    if queued > 0 {
        event::Entity::insert_many(rows).exec(txn).await?;
    }
    Ok(queued)
}

/// Takes the next position in each endpoint's queue and marks the queues as having work
/// (unless they already have, possibly later: a failing head keeps its retry time, and new
/// events wait behind it). Returns the positions of the endpoints still enabled.
async fn take_positions(
    txn: &impl ConnectionTrait,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, i64>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    if ids.len() > 1 {
        // Two changes queuing for the same endpoints must lock their rows in one order, or
        // each could wait for the other. One UPDATE locks in whatever order it scans, so
        // the rows are locked first, by ID (PostgreSQL; SQLite has one writer at a time
        // and drops the clause).
        endpoint::Entity::find()
            .select_only()
            .column(endpoint::Column::Id)
            .filter(endpoint::Column::Id.is_in(ids.iter().copied()))
            .order_by_asc(endpoint::Column::Id)
            .lock_exclusive()
            .into_tuple::<Uuid>()
            .all(txn)
            .await?;
    }
    let updated = endpoint::Entity::update_many()
        .col_expr(
            endpoint::Column::QueueVersion,
            Expr::col(endpoint::Column::QueueVersion).add(1),
        )
        .col_expr(
            endpoint::Column::NextAttemptAt,
            Func::coalesce([Expr::col(endpoint::Column::NextAttemptAt), Expr::val(now)]).into(),
        )
        .filter(endpoint::Column::Id.is_in(ids.iter().copied()))
        .filter(endpoint::Column::Enabled.eq(true))
        .filter(endpoint::Column::DeletedAt.is_null())
        .exec_with_returning(txn)
        .await?;
    Ok(updated
        .into_iter()
        .map(|e| (e.id, e.queue_version))
        .collect())
}

/// Whether a stored event list (a JSON array) contains `kind`.
pub fn subscribes_to(events: &str, kind: &str) -> bool {
    serde_json::from_str::<Vec<String>>(events)
        .map(|list| list.iter().any(|e| e == kind))
        .unwrap_or(false)
}

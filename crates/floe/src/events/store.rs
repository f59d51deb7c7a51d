//! Queries on events and event types, scoped to an organization.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model, event_type};
use super::schema::StatsSortProperty;
use crate::db::ReadConnection;
use crate::http::pagination::Direction;

/// Filters of `events:list` (and, for the customer and source ones, of the stats lists).
#[derive(Default)]
pub struct EventFilter {
    pub customer_ids: Option<Vec<Uuid>>,
    pub external_customer_ids: Option<Vec<String>>,
    pub names: Option<Vec<String>>,
    pub sources: Option<Vec<String>>,
    /// Exclusive bounds, as Polar applies them.
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub parent_id: Option<Uuid>,
    /// 0: only events without a parent.
    pub depth: Option<u32>,
    pub query: Option<String>,
    pub metadata: Vec<(String, Vec<String>)>,
}

impl EventFilter {
    fn condition(&self, backend: DbBackend, organization_id: Uuid) -> Condition {
        let mut all = Condition::all().add(Column::OrganizationId.eq(organization_id));
        // An event is a customer's by ID or by the external ID it was sent with.
        if self.customer_ids.is_some() || self.external_customer_ids.is_some() {
            let mut any = Condition::any();
            if let Some(ids) = &self.customer_ids {
                any = any.add(Column::CustomerId.is_in(ids.iter().copied()));
            }
            if let Some(ids) = &self.external_customer_ids {
                any = any.add(Column::ExternalCustomerId.is_in(ids.iter().cloned()));
            }
            all = all.add(any);
        }
        if let Some(names) = &self.names {
            all = all.add(Column::Name.is_in(names.iter().cloned()));
        }
        if let Some(sources) = &self.sources {
            all = all.add(Column::Source.is_in(sources.iter().cloned()));
        }
        if let Some(start) = self.start {
            all = all.add(Column::Timestamp.gt(start));
        }
        if let Some(end) = self.end {
            all = all.add(Column::Timestamp.lt(end));
        }
        match (self.parent_id, self.depth) {
            (Some(parent), _) => all = all.add(Column::ParentId.eq(parent)),
            (None, Some(0)) => all = all.add(Column::ParentId.is_null()),
            _ => {}
        }
        if let Some(text) = &self.query {
            all = all.add(
                Condition::any()
                    .add(crate::db::contains(Column::Name, text))
                    .add(crate::db::contains(Column::ExternalCustomerId, text))
                    .add(crate::db::contains(Column::Metadata, text)),
            );
        }
        if !self.metadata.is_empty() {
            all = all.add(crate::metadata::condition(
                backend,
                Column::Metadata,
                &self.metadata,
            ));
        }
        all
    }
}

/// The query behind `events:list`, in the order asked; pages are cut by
/// [`crate::db::paginate`] (with a count) or [`crate::db::paginate_without_count`].
pub fn list_query(
    backend: DbBackend,
    organization_id: Uuid,
    filter: &EventFilter,
    direction: Direction,
) -> sea_orm::Select<Entity> {
    let query = Entity::find().filter(filter.condition(backend, organization_id));
    match direction {
        Direction::Ascending => query
            .order_by_asc(Column::Timestamp)
            .order_by_asc(Column::Id),
        Direction::Descending => query
            .order_by_desc(Column::Timestamp)
            .order_by_desc(Column::Id),
    }
}

pub async fn get(
    db: &ReadConnection,
    organization_id: Uuid,
    id: Uuid,
) -> Result<Option<Model>, DbErr> {
    db.one(Entity::find_by_id(id).filter(Column::OrganizationId.eq(organization_id)))
        .await
}

/// How many direct children each of `ids` has.
pub async fn child_counts(
    db: &DatabaseConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, i64>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Option<Uuid>, i64)> = Entity::find()
        .select_only()
        .column(Column::ParentId)
        .column_as(Expr::col(Column::Id).count(), "children")
        .filter(Column::ParentId.is_in(ids.iter().copied()))
        .group_by(Column::ParentId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, n)| Some((id?, n)))
        .collect())
}

/// The event types of `organization_id` named `names`.
pub async fn event_types(
    db: &ReadConnection,
    organization_id: Uuid,
    names: &[String],
) -> Result<Vec<event_type::Model>, DbErr> {
    db.all(
        event_type::Entity::find()
            .filter(event_type::Column::OrganizationId.eq(organization_id))
            .filter(event_type::Column::Name.is_in(names.iter().cloned())),
    )
    .await
}

/// Occurrences and first and last time of every (name, source) among the filtered events.
pub struct NameStats {
    pub name: String,
    pub source: String,
    pub occurrences: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// name, source, occurrences, first seen, last seen.
type StatsRow = (String, String, i64, DateTime<Utc>, DateTime<Utc>);

pub async fn name_stats(
    db: &DatabaseConnection,
    organization_id: Uuid,
    filter: &EventFilter,
) -> Result<Vec<NameStats>, DbErr> {
    let rows: Vec<StatsRow> = Entity::find()
        .select_only()
        .column(Column::Name)
        .column(Column::Source)
        .column_as(Expr::col(Column::Id).count(), "occurrences")
        .column_as(Expr::col(Column::Timestamp).min(), "first_seen")
        .column_as(Expr::col(Column::Timestamp).max(), "last_seen")
        .filter(filter.condition(db.get_database_backend(), organization_id))
        .group_by(Column::Name)
        .group_by(Column::Source)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(name, source, occurrences, first_seen, last_seen)| NameStats {
                name,
                source,
                occurrences,
                first_seen,
                last_seen,
            },
        )
        .collect())
}

/// Sorts stats rows in memory (a list of an organization's distinct event names is short).
pub fn sort_stats<T>(
    rows: &mut [T],
    sorting: &[(StatsSortProperty, Direction)],
    key: impl Fn(&T) -> (&str, &str, i64, DateTime<Utc>, DateTime<Utc>),
) {
    rows.sort_by(|a, b| {
        let (a, b) = (key(a), key(b));
        for (property, direction) in sorting {
            let ordering = match property {
                StatsSortProperty::Name => a.0.cmp(b.0),
                StatsSortProperty::Label => a.1.cmp(b.1),
                StatsSortProperty::Occurrences => a.2.cmp(&b.2),
                StatsSortProperty::FirstSeen => a.3.cmp(&b.3),
                StatsSortProperty::LastSeen => a.4.cmp(&b.4),
            };
            let ordering = match direction {
                Direction::Ascending => ordering,
                Direction::Descending => ordering.reverse(),
            };
            if ordering.is_ne() {
                return ordering;
            }
        }
        a.0.cmp(b.0)
    });
}

pub async fn get_event_type_in(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    id: Uuid,
) -> Result<Option<event_type::Model>, DbErr> {
    event_type::Entity::find_by_id(id)
        .filter(event_type::Column::OrganizationId.eq(organization_id))
        .one(txn)
        .await
}

pub async fn in_range(
    db: &ReadConnection,
    backend: DbBackend,
    organization_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    customers: Option<(Vec<Uuid>, Vec<String>)>,
    metadata: &[(String, Vec<String>)],
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::Timestamp.gte(from))
        .filter(Column::Timestamp.lt(to));
    if let Some((ids, external)) = customers {
        query = query.filter(
            Condition::any()
                .add(Column::CustomerId.is_in(ids))
                .add(Column::ExternalCustomerId.is_in(external)),
        );
    }
    if !metadata.is_empty() {
        query = query.filter(crate::metadata::condition(
            backend,
            Column::Metadata,
            metadata,
        ));
    }
    db.all(query).await
}

pub async fn of_customer(
    db: &ReadConnection,
    organization_id: Uuid,
    customer_id: Uuid,
    external_id: Option<&str>,
) -> Result<Vec<Model>, DbErr> {
    let mut whose = Condition::any().add(Column::CustomerId.eq(customer_id));
    if let Some(external_id) = external_id {
        whose = whose.add(Column::ExternalCustomerId.eq(external_id));
    }
    db.all(
        Entity::find()
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(whose),
    )
    .await
}

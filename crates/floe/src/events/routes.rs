//! Handlers of the events and event-types APIs.

use std::collections::HashMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::entity::event_type;
use super::ingest::{self, IngestResult};
use super::matching;
use super::schema::{
    Event, EventName, EventSortProperty, EventType, EventTypeUpdate, EventTypeWithStats,
    NameSortProperty, StatsSortProperty,
};
use super::store::{self, EventFilter};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{
    ApiError, ApiResult, CursorListResource, CursorPageInfo, IdPath, Json, ListResource, Loc,
    Pagination, QueryParams, ValidationIssue,
};
use axum::response::IntoResponse;

/// `events:read` or `events:write`.
pub struct EventsRead;

impl RequiredScopes for EventsRead {
    const SCOPES: &'static [Scope] = &[Scope::EventsRead, Scope::EventsWrite];
}

/// `events:write`.
pub struct EventsWrite;

impl RequiredScopes for EventsWrite {
    const SCOPES: &'static [Scope] = &[Scope::EventsWrite];
}

/// `events:ingest`.
pub async fn ingest(
    auth: Authorized<EventsWrite>,
    State(app): State<AppState>,
    Json(body): Json<Value>,
) -> ApiResult<axum::Json<IngestResult>> {
    // The organization's time (ahead of real time on a test clock): events are stamped
    // with it by default and may not be later than it.
    let now =
        crate::subscriptions::test_clock::now_read(&app.reader, &app.clock, auth.organization_id)
            .await?;
    let events = ingest::parse(&body, now).map_err(ApiError::Validation)?;
    let txn = crate::db::begin_write(&app.db).await?;
    let unknown = ingest::unknown_customers(&txn, auth.organization_id, &events).await?;
    if !unknown.is_empty() {
        return Err(ApiError::Validation(unknown));
    }
    let result = ingest::store(&txn, auth.organization_id, events, now).await?;
    txn.commit().await?;
    Ok(axum::Json(result))
}

fn timestamp(
    query: &QueryParams,
    name: &str,
    issues: &mut Vec<ValidationIssue>,
) -> Option<DateTime<Utc>> {
    query.datetime_or_issue(name).unwrap_or_else(|issue| {
        issues.push(issue);
        None
    })
}

fn sources(query: &QueryParams, issues: &mut Vec<ValidationIssue>) -> Option<Vec<String>> {
    let values = query.all("source");
    for (index, value) in values.iter().enumerate() {
        if !matches!(*value, "user" | "system") {
            issues.push(ValidationIssue::new(
                Loc::query("source").index(index),
                "enum",
                "Input should be 'system' or 'user'",
                Value::String((*value).to_owned()),
            ));
        }
    }
    (!values.is_empty()).then(|| values.iter().map(|v| (*v).to_owned()).collect())
}

fn strings(query: &QueryParams, name: &str) -> Option<Vec<String>> {
    let values = query.all(name);
    (!values.is_empty()).then(|| values.iter().map(|v| (*v).to_owned()).collect())
}

/// The filters shared by the events list and the stats lists.
fn filter_from(query: &QueryParams) -> ApiResult<EventFilter> {
    let mut issues = Vec::new();
    let start = timestamp(query, "start_timestamp", &mut issues);
    let end = timestamp(query, "end_timestamp", &mut issues);
    let sources = sources(query, &mut issues);
    let depth = match query.last("depth") {
        None => None,
        Some(raw) => match raw.parse::<u32>() {
            Ok(depth) if depth <= 5 => Some(depth),
            _ => {
                issues.push(ValidationIssue::new(
                    Loc::query("depth"),
                    "less_than_equal",
                    "Input should be an integer from 0 to 5",
                    Value::String(raw.to_owned()),
                ));
                None
            }
        },
    };
    let parent_id = match query.uuids("parent_id") {
        Ok(ids) => ids.and_then(|ids| ids.last().copied()),
        Err(ApiError::Validation(more)) => {
            issues.extend(more);
            None
        }
        Err(other) => return Err(other),
    };
    let customer_ids = match query.uuids("customer_id") {
        Ok(ids) => ids,
        Err(ApiError::Validation(more)) => {
            issues.extend(more);
            None
        }
        Err(other) => return Err(other),
    };
    let metadata = match crate::metadata::query_filter(query) {
        Ok(pairs) => pairs,
        Err(ApiError::Validation(more)) => {
            issues.extend(more);
            Vec::new()
        }
        Err(other) => return Err(other),
    };
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    Ok(EventFilter {
        customer_ids,
        external_customer_ids: strings(query, "external_customer_id"),
        names: strings(query, "name"),
        sources,
        start,
        end,
        parent_id,
        depth,
        query: query.text("query"),
        metadata,
    })
}

/// A customer's events are those sent with its ID or with its external ID: each filter
/// pulls in the other key of the customers it names.
async fn widen_customers(
    app: &AppState,
    organization_id: uuid::Uuid,
    filter: &mut EventFilter,
) -> ApiResult<()> {
    if filter.customer_ids.is_none() && filter.external_customer_ids.is_none() {
        return Ok(());
    }
    let (ids, external) = crate::customers::both_keys(
        &app.reader,
        organization_id,
        filter.customer_ids.clone().unwrap_or_default(),
        filter.external_customer_ids.clone().unwrap_or_default(),
    )
    .await?;
    filter.customer_ids = Some(ids);
    filter.external_customer_ids = Some(external);
    Ok(())
}

/// Events as the API shows them: with their customer, label and number of children.
async fn present(
    app: &AppState,
    organization_id: uuid::Uuid,
    rows: Vec<super::entity::Model>,
) -> ApiResult<Vec<Event>> {
    let ids: Vec<uuid::Uuid> = rows.iter().filter_map(|r| r.customer_id).collect();
    let external: Vec<String> = rows
        .iter()
        .filter_map(|r| r.external_customer_id.clone())
        .collect();
    let customers =
        crate::customers::find_many(&app.reader, organization_id, &ids, &external).await?;
    let mut names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    names.sort();
    names.dedup();
    let types = store::event_types(&app.reader, organization_id, &names).await?;
    let children =
        store::child_counts(&app.db, &rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let customer = customers
                .iter()
                .find(|c| {
                    row.customer_id == Some(c.id)
                        || (row.customer_id.is_none()
                            && row.external_customer_id.is_some()
                            && c.external_id == row.external_customer_id)
                })
                .cloned();
            let label = label_of(&row, types.iter().find(|t| t.name == row.name));
            let children = children.get(&row.id).copied().unwrap_or(0);
            Event::new(row, customer, label, children)
        })
        .collect())
}

/// An event's label: its type's, or the metadata value its type's selector points at.
fn label_of(row: &super::entity::Model, event_type: Option<&event_type::Model>) -> String {
    if row.source == "system" {
        return super::system::label(&row.name).map_or_else(|| row.name.clone(), str::to_owned);
    }
    let Some(event_type) = event_type else {
        return row.name.clone();
    };
    if let Some(selector) = &event_type.label_property_selector {
        let metadata: Value = serde_json::from_str(&row.metadata).unwrap_or(Value::Null);
        let found = selector
            .split('.')
            .try_fold(&metadata, |value, key| value.get(key));
        match found {
            Some(Value::String(s)) if !s.is_empty() => return s.clone(),
            Some(Value::Number(n)) => return n.to_string(),
            Some(Value::Bool(true)) => return "True".to_owned(),
            _ => {}
        }
    }
    event_type.label.clone()
}

/// `events:list`.
pub async fn list(
    auth: Authorized<EventsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::response::Response> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(EventSortProperty::Timestamp, Direction::Descending)])?;
    let mut filter = filter_from(&query)?;
    // Polar's `cursor_pagination=true`: `has_next_page` instead of the total, which a long
    // list would have to count on every page.
    let without_count = query.boolean("cursor_pagination")?.unwrap_or(false);
    if !query.allows_organization(auth.organization_id)? {
        return Ok(if without_count {
            cursor_page(Vec::new(), false)
        } else {
            axum::Json(ListResource::<Event>::new(Vec::new(), 0, pagination)).into_response()
        });
    }
    let rules = matching::Rules::from_query(&app, auth.organization_id, &query).await?;
    widen_customers(&app, auth.organization_id, &mut filter).await?;
    let direction = sorting.first().map_or(Direction::Descending, |(_, d)| *d);
    let query = store::list_query(
        app.db.get_database_backend(),
        auth.organization_id,
        &filter,
        direction,
    );
    if !rules.is_empty() {
        let want = if without_count {
            matching::Want::NextPage
        } else {
            matching::Want::Total
        };
        let (rows, found) =
            matching::page(&app.reader, query, direction, &rules, pagination, want).await?;
        let items = present(&app, auth.organization_id, rows).await?;
        return Ok(if without_count {
            cursor_page(items, found > 0)
        } else {
            axum::Json(ListResource::new(items, found, pagination)).into_response()
        });
    }
    if without_count {
        let (rows, more) =
            crate::db::paginate_without_count(&app.reader, query, pagination).await?;
        let items = present(&app, auth.organization_id, rows).await?;
        return Ok(cursor_page(items, more));
    }
    let (rows, total) = crate::db::paginate(&app.reader, query, pagination).await?;
    let items = present(&app, auth.organization_id, rows).await?;
    Ok(axum::Json(ListResource::new(items, total, pagination)).into_response())
}

fn cursor_page(items: Vec<Event>, has_next_page: bool) -> axum::response::Response {
    axum::Json(CursorListResource {
        items,
        pagination: CursorPageInfo { has_next_page },
    })
    .into_response()
}

/// `events:get`.
pub async fn get(
    auth: Authorized<EventsRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Event>> {
    let row = store::get(&app.reader, auth.organization_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let mut items = present(&app, auth.organization_id, vec![row]).await?;
    items.pop().map(axum::Json).ok_or_else(ApiError::not_found)
}

/// Labels of an organization's event names.
async fn labels(
    app: &AppState,
    organization_id: uuid::Uuid,
    names: &[String],
) -> ApiResult<HashMap<String, event_type::Model>> {
    Ok(store::event_types(&app.reader, organization_id, names)
        .await?
        .into_iter()
        .map(|t| (t.name.clone(), t))
        .collect())
}

/// `events:list_names`.
pub async fn list_names(
    auth: Authorized<EventsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<EventName>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting: Vec<(StatsSortProperty, Direction)> = query
        .sorting(&[(
            NameSortProperty(StatsSortProperty::LastSeen),
            Direction::Descending,
        )])?
        .into_iter()
        .map(|(p, d)| (p.0, d))
        .collect();
    let mut filter = filter_from(&query)?;
    // Here `query` matches the name only.
    let text = filter.query.take().map(|q| q.to_lowercase());
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    widen_customers(&app, auth.organization_id, &mut filter).await?;
    let mut stats = store::name_stats(&app.db, auth.organization_id, &filter).await?;
    if let Some(text) = text {
        stats.retain(|s| s.name.to_lowercase().contains(&text));
    }
    let names: Vec<String> = stats.iter().map(|s| s.name.clone()).collect();
    let types = labels(&app, auth.organization_id, &names).await?;
    let mut items: Vec<EventName> = stats
        .into_iter()
        .map(|s| EventName {
            label: types
                .get(&s.name)
                .map_or_else(|| s.name.clone(), |t| t.label.clone()),
            name: s.name,
            source: s.source,
            occurrences: s.occurrences,
            first_seen: s.first_seen,
            last_seen: s.last_seen,
        })
        .collect();
    store::sort_stats(&mut items, &sorting, |e| {
        (&e.name, &e.label, e.occurrences, e.first_seen, e.last_seen)
    });
    Ok(axum::Json(ListResource::page_of(items, pagination)))
}

/// `event-types:list`.
pub async fn list_types(
    auth: Authorized<EventsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<EventTypeWithStats>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(StatsSortProperty::LastSeen, Direction::Descending)])?;
    let mut filter = filter_from(&query)?;
    let text = filter.query.take().map(|q| q.to_lowercase());
    if query.boolean("root_events")? == Some(true) {
        filter.depth = Some(0);
    }
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    widen_customers(&app, auth.organization_id, &mut filter).await?;
    let stats = store::name_stats(&app.db, auth.organization_id, &filter).await?;
    let names: Vec<String> = stats.iter().map(|s| s.name.clone()).collect();
    let types = labels(&app, auth.organization_id, &names).await?;
    let mut items: Vec<EventTypeWithStats> = stats
        .into_iter()
        .filter_map(|s| {
            let t = types.get(&s.name)?;
            Some(EventTypeWithStats {
                event_type: event_type_wire(t.clone()),
                source: s.source,
                occurrences: s.occurrences,
                first_seen: s.first_seen,
                last_seen: s.last_seen,
            })
        })
        .collect();
    if let Some(text) = text {
        items.retain(|t| {
            t.event_type.name.to_lowercase().contains(&text)
                || t.event_type.label.to_lowercase().contains(&text)
        });
    }
    store::sort_stats(&mut items, &sorting, |t| {
        (
            &t.event_type.name,
            &t.event_type.label,
            t.occurrences,
            t.first_seen,
            t.last_seen,
        )
    });
    Ok(axum::Json(ListResource::page_of(items, pagination)))
}

fn event_type_wire(t: event_type::Model) -> EventType {
    EventType {
        created_at: t.created_at,
        modified_at: t.modified_at,
        id: t.id,
        name: t.name,
        label: t.label,
        label_property_selector: t.label_property_selector,
        organization_id: t.organization_id,
    }
}

/// `event-types:update`: renames the label and sets (or clears) the label selector.
pub async fn update_type(
    auth: Authorized<EventsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<EventTypeUpdate>,
) -> ApiResult<axum::Json<EventType>> {
    let label = body.label.trim().to_owned();
    let mut issues = Vec::new();
    if label.is_empty() || label.chars().count() > 128 {
        issues.push(ValidationIssue::new(
            Loc::body().key("label"),
            "value_error",
            "The label must be 1 to 128 characters, not only whitespace",
            Value::String(body.label.clone()),
        ));
    }
    let selector = body
        .label_property_selector
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if selector.as_ref().is_some_and(|s| s.chars().count() > 256) {
        issues.push(ValidationIssue::new(
            Loc::body().key("label_property_selector"),
            "string_too_long",
            "String should have at most 256 characters",
            Value::Null,
        ));
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let txn = crate::db::begin_write(&app.db).await?;
    let row = store::get_event_type_in(&txn, auth.organization_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let mut active: event_type::ActiveModel = row.into();
    active.label = sea_orm::Set(label);
    active.label_property_selector = sea_orm::Set(selector);
    active.modified_at = sea_orm::Set(Some(app.clock.now()));
    let row = sea_orm::ActiveModelTrait::update(active, &txn).await?;
    txn.commit().await?;
    Ok(axum::Json(event_type_wire(row)))
}

//! Handlers of the meters API.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use uuid::Uuid;

use super::filter::Aggregation;
use super::quantities::{Interval, MeterQuantities, compute, event_range, series};
use super::rollups::CompiledMeter;
use super::samples;

use super::schema::{Meter, MeterSortProperty};
use super::{service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{
    ApiError, ApiResult, IdPath, Json, ListResource, Loc, Pagination, QueryParams, ValidationIssue,
};

/// `meters:read` or `meters:write`.
pub struct MetersRead;

impl RequiredScopes for MetersRead {
    const SCOPES: &'static [Scope] = &[Scope::MetersRead, Scope::MetersWrite];
}

/// `meters:write`.
pub struct MetersWrite;

impl RequiredScopes for MetersWrite {
    const SCOPES: &'static [Scope] = &[Scope::MetersWrite];
}

pub async fn list(
    auth: Authorized<MetersRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Meter>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(MeterSortProperty::Name, Direction::Ascending)])?;
    let filter = store::ListFilter {
        query: query.text("query"),
        is_archived: query.boolean("is_archived")?,
        metadata: crate::metadata::query_filter(&query)?,
    };
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    let (rows, total) = store::list(
        &app.reader,
        app.db.get_database_backend(),
        auth.organization_id,
        &filter,
        &sorting,
        pagination,
    )
    .await?;
    Ok(axum::Json(ListResource::new(
        rows.iter().map(Meter::from).collect(),
        total,
        pagination,
    )))
}

pub async fn create(
    auth: Authorized<MetersWrite>,
    State(app): State<AppState>,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, axum::Json<Meter>)> {
    let meter = service::create(&app, auth.organization_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(meter)))
}

pub async fn get(
    auth: Authorized<MetersRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Meter>> {
    let row = store::get(&app.reader, auth.organization_id, id)
        .await?
        .ok_or_else(service::missing)?;
    Ok(axum::Json(Meter::from(&row)))
}

pub async fn update(
    auth: Authorized<MetersWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<Value>,
) -> ApiResult<axum::Json<Meter>> {
    Ok(axum::Json(
        service::update(&app, auth.organization_id, id, body).await?,
    ))
}

/// `meters:quantities`.
pub async fn quantities(
    auth: Authorized<MetersRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    query: QueryParams,
) -> ApiResult<axum::Json<MeterQuantities>> {
    let row = store::get(&app.reader, auth.organization_id, id)
        .await?
        .ok_or_else(service::missing)?;
    let params = QuantityParams::parse(&query)?;
    let meter = CompiledMeter::from_row(&row)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("meter {id} has unreadable rules")))?;
    let points = series(params.start, params.end, params.interval, params.tz);
    let Some((from, to)) = event_range(&points, params.interval, params.tz) else {
        return Ok(axum::Json(MeterQuantities {
            quantities: Vec::new(),
            total: 0.0,
        }));
    };
    // Whose events: the customers named, by ID and by external ID, each pulling in the other.
    let customers = if params.customer_ids.is_empty() && params.external_ids.is_empty() {
        None
    } else {
        let keys = crate::customers::both_keys(
            &app.reader,
            auth.organization_id,
            params.customer_ids.clone(),
            params.external_ids.clone(),
        )
        .await?;
        Some(keys)
    };
    let request = samples::Request {
        organization_id: auth.organization_id,
        meter_id: row.id,
        filter: &meter.filter,
        aggregation: &meter.aggregation,
        interval: params.interval,
        tz: params.tz,
        from,
        to,
        customers,
        per_customer: params.per_customer.is_some(),
        metadata: &params.metadata,
    };
    // Rollups cannot filter by metadata, and a meter's may still be being built; the events
    // can always answer.
    let from_rollups = if meter.reads_rollups(&app.config) && params.metadata.is_empty() {
        samples::from_rollups(&app, &request).await?
    } else {
        None
    };
    let samples = match from_rollups {
        Some(samples) => samples,
        None => samples::from_events(&app, &request).await?,
    };
    Ok(axum::Json(compute(
        &points,
        params.interval,
        params.tz,
        &meter.aggregation,
        params.per_customer.as_ref(),
        &samples,
    )))
}

struct QuantityParams {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    interval: Interval,
    tz: Tz,
    customer_ids: Vec<Uuid>,
    external_ids: Vec<String>,
    per_customer: Option<Aggregation>,
    metadata: Vec<(String, Vec<String>)>,
}

impl QuantityParams {
    fn parse(query: &QueryParams) -> ApiResult<Self> {
        let mut issues = Vec::new();
        let mut timestamp = |name: &str| -> Option<DateTime<Utc>> {
            match query.last(name) {
                None => {
                    issues.push(ValidationIssue::new(
                        Loc::query(name),
                        "missing",
                        "Field required",
                        Value::Null,
                    ));
                    None
                }
                Some(raw) => match DateTime::parse_from_rfc3339(raw) {
                    Ok(at) => Some(at.with_timezone(&Utc)),
                    Err(_) => {
                        issues.push(ValidationIssue::new(
                            Loc::query(name),
                            "datetime_from_date_parsing",
                            "Input should be a valid datetime with a timezone",
                            Value::String(raw.to_owned()),
                        ));
                        None
                    }
                },
            }
        };
        let start = timestamp("start_timestamp");
        let end = timestamp("end_timestamp");
        let interval = crate::calendar::interval_param(query, &mut issues);
        let tz = crate::calendar::timezone_param(query, &mut issues);
        let per_customer = match query.last("customer_aggregation_function") {
            None => None,
            Some(raw) => {
                let parsed = match raw {
                    "count" => Some(Aggregation::Count),
                    "sum" => Some(Aggregation::Sum(String::new())),
                    "max" => Some(Aggregation::Max(String::new())),
                    "min" => Some(Aggregation::Min(String::new())),
                    "avg" => Some(Aggregation::Avg(String::new())),
                    "unique" => Some(Aggregation::Unique(String::new())),
                    _ => None,
                };
                if parsed.is_none() {
                    issues.push(ValidationIssue::new(
                        Loc::query("customer_aggregation_function"),
                        "enum",
                        "Input should be 'count', 'sum', 'max', 'min', 'avg' or 'unique'",
                        Value::String(raw.to_owned()),
                    ));
                }
                parsed
            }
        };
        let customer_ids = match query.uuids("customer_id") {
            Ok(ids) => ids.unwrap_or_default(),
            Err(ApiError::Validation(more)) => {
                issues.extend(more);
                Vec::new()
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
        let (Some(start), Some(end), Some(interval), Some(tz)) = (start, end, interval, tz) else {
            return Err(ApiError::internal(anyhow::anyhow!(
                "quantity parameters missing after validation"
            )));
        };
        let days = end
            .with_timezone(&tz)
            .date_naive()
            .signed_duration_since(start.with_timezone(&tz).date_naive())
            .num_days();
        if start > end || days > interval.max_days() {
            return Err(ApiError::validation(
                Loc(vec![crate::http::error::LocPart::Key("query".to_owned())]),
                "value_error",
                "The interval is too small for the given date range. Use a larger interval or reduce the date range.",
                Value::Null,
            ));
        }
        Ok(Self {
            start,
            end,
            interval,
            tz,
            customer_ids,
            external_ids: query
                .all("external_customer_id")
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            per_customer,
            metadata,
        })
    }
}

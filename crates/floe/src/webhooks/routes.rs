//! Handlers of the webhooks API. Each authenticates, parses, and hands over to `service`.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::schema::{
    EVENT_TYPES, WebhookDelivery, WebhookEndpoint, WebhookEndpointCreate, WebhookEndpointUpdate,
};
use super::{service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::version::ApiVersion;
use crate::http::{
    ApiError, ApiResult, IdPath, Json, ListResource, Loc, Pagination, QueryParams, ValidationIssue,
};

/// `webhooks:read` or `webhooks:write`.
pub struct WebhooksRead;

impl RequiredScopes for WebhooksRead {
    const SCOPES: &'static [Scope] = &[Scope::WebhooksRead, Scope::WebhooksWrite];
}

/// `webhooks:write`.
pub struct WebhooksWrite;

impl RequiredScopes for WebhooksWrite {
    const SCOPES: &'static [Scope] = &[Scope::WebhooksWrite];
}

pub async fn list_endpoints(
    auth: Authorized<WebhooksRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<WebhookEndpoint>>> {
    let pagination = Pagination::from_query(&query)?;
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    let (rows, total) =
        store::list_endpoints(&app.reader, auth.organization_id, pagination).await?;
    let items = rows
        .iter()
        .map(|row| service::to_wire(&app, row))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(axum::Json(ListResource::new(items, total, pagination)))
}

pub async fn create_endpoint(
    auth: Authorized<WebhooksWrite>,
    State(app): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    Json(body): Json<WebhookEndpointCreate>,
) -> ApiResult<(StatusCode, axum::Json<WebhookEndpoint>)> {
    let created = service::create(&app, auth.organization_id, version.0, body).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

pub async fn get_endpoint(
    auth: Authorized<WebhooksRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<WebhookEndpoint>> {
    let row = store::get_endpoint(&app.reader, auth.organization_id, id)
        .await?
        .ok_or_else(|| ApiError::ResourceNotFound("Webhook endpoint not found.".to_owned()))?;
    Ok(axum::Json(service::to_wire(&app, &row)?))
}

pub async fn update_endpoint(
    auth: Authorized<WebhooksWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(patch): Json<WebhookEndpointUpdate>,
) -> ApiResult<axum::Json<WebhookEndpoint>> {
    Ok(axum::Json(
        service::update(&app, auth.organization_id, id, patch).await?,
    ))
}

pub async fn delete_endpoint(
    auth: Authorized<WebhooksWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    service::delete(&app, auth.organization_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reset_secret(
    auth: Authorized<WebhooksWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<WebhookEndpoint>> {
    Ok(axum::Json(
        service::reset_secret(&app, auth.organization_id, id).await?,
    ))
}

pub async fn list_deliveries(
    auth: Authorized<WebhooksRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<WebhookDelivery>>> {
    let pagination = Pagination::from_query(&query)?;
    let filter = delivery_filter(&query)?;
    let (rows, total) =
        store::list_deliveries(&app.reader, auth.organization_id, &filter, pagination).await?;
    let items = rows
        .into_iter()
        .map(|(delivery, event)| WebhookDelivery::new(delivery, event))
        .collect();
    Ok(axum::Json(ListResource::new(items, total, pagination)))
}

fn delivery_filter(query: &QueryParams) -> ApiResult<store::DeliveryFilter> {
    let mut issues = Vec::new();
    let mut timestamp = |name: &str| -> Option<DateTime<Utc>> {
        let raw = query.last(name)?;
        match DateTime::parse_from_rfc3339(raw) {
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
        }
    };
    let start = timestamp("start_timestamp");
    let end = timestamp("end_timestamp");
    let http_codes = match query.last("http_code_class") {
        None => None,
        Some("2xx") => Some((200, 300)),
        Some("3xx") => Some((300, 400)),
        Some("4xx") => Some((400, 500)),
        Some("5xx") => Some((500, 600)),
        Some(other) => {
            issues.push(ValidationIssue::new(
                Loc::query("http_code_class"),
                "enum",
                "Input should be '2xx', '3xx', '4xx' or '5xx'",
                Value::String(other.to_owned()),
            ));
            None
        }
    };
    let types = query.all("event_type");
    for (index, name) in types.iter().enumerate() {
        if !EVENT_TYPES.contains(name) {
            issues.push(ValidationIssue::new(
                Loc::query("event_type").index(index),
                "enum",
                "Input should be a webhook event type",
                Value::String((*name).to_owned()),
            ));
        }
    }
    let succeeded = query.boolean("succeeded");
    let endpoint_ids = query.uuids("endpoint_id");
    let (succeeded, endpoint_ids) = match (succeeded, endpoint_ids) {
        (Ok(s), Ok(e)) => (s, e),
        (s, e) => {
            for result in [s.err(), e.err()].into_iter().flatten() {
                if let ApiError::Validation(more) = result {
                    issues.extend(more);
                }
            }
            (None, None)
        }
    };
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    Ok(store::DeliveryFilter {
        endpoint_ids,
        start,
        end,
        succeeded,
        query: query.last("query").map(str::to_owned),
        http_codes,
        event_types: (!types.is_empty()).then(|| types.iter().map(|t| (*t).to_owned()).collect()),
    })
}

pub async fn redeliver(
    auth: Authorized<WebhooksWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    service::redeliver(&app, auth.organization_id, id).await?;
    // A JSON `null`, as FastAPI answers a handler that returns nothing.
    Ok((StatusCode::ACCEPTED, axum::Json(Value::Null)))
}

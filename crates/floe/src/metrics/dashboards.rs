//! Metric dashboards: create, list, get, update, delete. A dashboard is a name and up to
//! ten of the contract's metrics, in order. Unlike Polar, which stores any text there, floe
//! refuses a slug that names no metric (a dashboard of unknown metrics would show nothing).
//! Listing answers every dashboard of the organization, oldest first, unpaginated, as the
//! contract has it.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::{ApiError, ApiResult, IdPath, Json, Loc, QueryParams, Validator, patch};

/// At most this many metrics on a dashboard (`maxItems`).
const MAX_METRICS: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "metric_dashboards")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub name: String,
    /// JSON array of slugs.
    pub metrics: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// `MetricDashboardSchema`.
#[derive(Debug, Serialize)]
pub struct MetricDashboard {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub name: String,
    pub metrics: Vec<String>,
    pub organization_id: Uuid,
}

impl From<&Model> for MetricDashboard {
    fn from(row: &Model) -> Self {
        Self {
            created_at: row.created_at,
            modified_at: row.modified_at,
            id: row.id,
            name: row.name.clone(),
            metrics: serde_json::from_str(&row.metrics).unwrap_or_default(),
            organization_id: row.organization_id,
        }
    }
}

/// `MetricDashboardCreate`.
#[derive(Debug, Deserialize)]
pub struct MetricDashboardCreate {
    pub name: String,
    #[serde(default)]
    pub metrics: Vec<String>,
    #[serde(default)]
    pub organization_id: Option<Uuid>,
}

/// `MetricDashboardUpdate`: absent fields stay as they are; `null` is refused (a dashboard
/// always has a name and a list).
#[derive(Debug, Deserialize)]
pub struct MetricDashboardUpdate {
    #[serde(default, deserialize_with = "patch::field")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub metrics: Option<Option<Vec<String>>>,
}

/// `metrics:read`.
pub struct MetricsRead;

impl RequiredScopes for MetricsRead {
    const SCOPES: &'static [Scope] = &[Scope::MetricsRead];
}

/// `metrics:write`.
pub struct MetricsWrite;

impl RequiredScopes for MetricsWrite {
    const SCOPES: &'static [Scope] = &[Scope::MetricsWrite];
}

fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Metric dashboard not found.".to_owned())
}

fn check_name(name: Option<&str>, validator: &mut Validator) {
    match name {
        Some("") => validator.push(
            Loc::body().key("name"),
            "string_too_short",
            "String should have at least 1 character",
            json!(""),
        ),
        None => validator.push(
            Loc::body().key("name"),
            "string_type",
            "Input should be a valid string",
            json!(null),
        ),
        Some(_) => {}
    }
}

fn check_metrics(metrics: Option<&[String]>, validator: &mut Validator) {
    let Some(metrics) = metrics else {
        validator.push(
            Loc::body().key("metrics"),
            "list_type",
            "Input should be a valid list",
            json!(null),
        );
        return;
    };
    if metrics.len() > MAX_METRICS {
        validator.push(
            Loc::body().key("metrics"),
            "too_long",
            format!(
                "List should have at most {MAX_METRICS} items after validation, not {}",
                metrics.len()
            ),
            json!(metrics),
        );
    }
    for (index, slug) in metrics.iter().enumerate() {
        if !super::catalog::known(slug) {
            validator.push(
                Loc::body().key("metrics").index(index),
                "value_error",
                format!("Unknown metric: '{slug}'."),
                json!(slug),
            );
        }
    }
}

async fn find(db: &impl ConnectionTrait, organization_id: Uuid, id: Uuid) -> ApiResult<Model> {
    Entity::find_by_id(id)
        .filter(Column::OrganizationId.eq(organization_id))
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// `metrics:list_dashboards`.
pub async fn list(
    auth: Authorized<MetricsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<Vec<MetricDashboard>>> {
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(Vec::new()));
    }
    let rows = app
        .reader
        .all(
            Entity::find()
                .filter(Column::OrganizationId.eq(auth.organization_id))
                .order_by_asc(Column::CreatedAt)
                .order_by_asc(Column::Id),
        )
        .await?;
    Ok(axum::Json(rows.iter().map(MetricDashboard::from).collect()))
}

/// `metrics:create_dashboard`.
pub async fn create(
    auth: Authorized<MetricsWrite>,
    State(app): State<AppState>,
    Json(body): Json<MetricDashboardCreate>,
) -> ApiResult<(StatusCode, axum::Json<MetricDashboard>)> {
    let mut validator = Validator::new();
    validator.reject_organization_id(body.organization_id);
    check_name(Some(&body.name), &mut validator);
    check_metrics(Some(&body.metrics), &mut validator);
    validator.finish()?;
    let row = ActiveModel {
        id: Set(Uuid::new_v4()),
        created_at: Set(app.clock.now()),
        modified_at: Set(None),
        organization_id: Set(auth.organization_id),
        name: Set(body.name),
        metrics: Set(json!(body.metrics).to_string()),
    };
    let txn = crate::db::begin_write(&app.db).await?;
    let row = row.insert(&txn).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(MetricDashboard::from(&row))))
}

/// `metrics:get_dashboard`.
pub async fn get(
    auth: Authorized<MetricsRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<MetricDashboard>> {
    let row = find(&app.db, auth.organization_id, id).await?;
    Ok(axum::Json(MetricDashboard::from(&row)))
}

/// `metrics:update_dashboard`.
pub async fn update(
    auth: Authorized<MetricsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<MetricDashboardUpdate>,
) -> ApiResult<axum::Json<MetricDashboard>> {
    let mut validator = Validator::new();
    if let Some(name) = &body.name {
        check_name(name.as_deref(), &mut validator);
    }
    if let Some(metrics) = &body.metrics {
        check_metrics(metrics.as_deref(), &mut validator);
    }
    validator.finish()?;
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = find(&txn, auth.organization_id, id).await?;
    let before = row.clone();
    if let Some(Some(name)) = body.name {
        row.name = name;
    }
    if let Some(Some(metrics)) = body.metrics {
        row.metrics = json!(metrics).to_string();
    }
    if row != before {
        row.modified_at = Some(app.clock.now());
        row = crate::db::rows::update::<Entity>(&txn, row).await?;
    }
    txn.commit().await?;
    Ok(axum::Json(MetricDashboard::from(&row)))
}

/// `metrics:delete_dashboard`.
pub async fn delete(
    auth: Authorized<MetricsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    let txn = crate::db::begin_write(&app.db).await?;
    let row = find(&txn, auth.organization_id, id).await?;
    Entity::delete_by_id(row.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

//! The rules of meters: names, units, filters and aggregations, archiving.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entity::{self, Column, Entity, Model};
use super::filter::{parse_aggregation, parse_filter};
use super::schema::Meter;
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Loc, ValidationIssue, Validator};

const UNITS: &[&str] = &["scalar", "token", "custom"];

fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Meter not found.".to_owned())
}

fn field<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    body.get(name).filter(|v| !v.is_null())
}

fn check_name(value: &Value, issues: &mut Vec<ValidationIssue>) -> Option<String> {
    match value.as_str() {
        Some(name) if name.trim().chars().count() >= 3 && name.chars().count() <= 256 => {
            Some(name.trim().to_owned())
        }
        _ => {
            issues.push(ValidationIssue::new(
                Loc::body().key("name"),
                "string_too_short",
                "The name must be 3 to 256 characters",
                value.clone(),
            ));
            None
        }
    }
}

fn check_unit(value: &Value, issues: &mut Vec<ValidationIssue>) -> Option<String> {
    match value.as_str() {
        Some(unit) if UNITS.contains(&unit) => Some(unit.to_owned()),
        _ => {
            issues.push(ValidationIssue::new(
                Loc::body().key("unit"),
                "enum",
                "Input should be 'scalar', 'token' or 'custom'",
                value.clone(),
            ));
            None
        }
    }
}

fn check_metadata(value: &Value, issues: &mut Vec<ValidationIssue>) -> Option<Map<String, Value>> {
    let Some(map) = value.as_object() else {
        issues.push(ValidationIssue::new(
            Loc::body().key("metadata"),
            "dict_type",
            "Input should be a valid dictionary",
            value.clone(),
        ));
        return None;
    };
    let mut validator = Validator::new();
    crate::metadata::check(map, &Loc::body().key("metadata"), &mut validator);
    match validator.finish() {
        Ok(()) => Some(map.clone()),
        Err(ApiError::Validation(more)) => {
            issues.extend(more);
            None
        }
        Err(_) => None,
    }
}

/// A custom label and multiplier belong to custom units, and a custom unit needs a label.
fn check_custom(
    unit: &str,
    label: Option<&str>,
    multiplier: Option<i64>,
    issues: &mut Vec<ValidationIssue>,
) {
    if unit == "custom" && label.is_none() {
        issues.push(ValidationIssue::new(
            Loc::body(),
            "value_error",
            "custom_label is required when unit is 'custom'.",
            Value::Null,
        ));
    }
    if unit != "custom" && (label.is_some() || multiplier.is_some()) {
        issues.push(ValidationIssue::new(
            Loc::body(),
            "value_error",
            "custom_label and custom_multiplier are only allowed when unit is 'custom'.",
            Value::Null,
        ));
    }
    if multiplier.is_some_and(|m| m <= 0) {
        issues.push(ValidationIssue::new(
            Loc::body().key("custom_multiplier"),
            "greater_than",
            "Input should be greater than 0",
            json!(multiplier),
        ));
    }
}

fn int_field(
    body: &Map<String, Value>,
    name: &str,
    issues: &mut Vec<ValidationIssue>,
) -> Option<i64> {
    let value = field(body, name)?;
    let parsed = value.as_i64();
    if parsed.is_none() {
        issues.push(ValidationIssue::new(
            Loc::body().key(name),
            "int_type",
            "Input should be a valid integer",
            value.clone(),
        ));
    }
    parsed
}

fn text_field(
    body: &Map<String, Value>,
    name: &str,
    issues: &mut Vec<ValidationIssue>,
) -> Option<String> {
    let value = field(body, name)?;
    let parsed = value.as_str().map(str::to_owned);
    if parsed.is_none() {
        issues.push(ValidationIssue::new(
            Loc::body().key(name),
            "string_type",
            "Input should be a valid string",
            value.clone(),
        ));
    }
    parsed
}

fn body_object(body: &Value) -> ApiResult<&Map<String, Value>> {
    body.as_object().ok_or_else(|| {
        ApiError::validation(
            Loc::body(),
            "model_attributes_type",
            "Input should be a valid dictionary or object",
            body.clone(),
        )
    })
}

pub async fn create(app: &AppState, organization_id: Uuid, body: Value) -> ApiResult<Meter> {
    let body = body_object(&body)?;
    let mut issues = Vec::new();
    if let Some(given) = field(body, "organization_id") {
        issues.push(ValidationIssue::new(
            Loc::body().key("organization_id"),
            "organization_token",
            "Setting organization_id is disallowed when using an organization token.",
            given.clone(),
        ));
    }
    let name = match field(body, "name") {
        Some(v) => check_name(v, &mut issues),
        None => {
            issues.push(ValidationIssue::new(
                Loc::body().key("name"),
                "missing",
                "Field required",
                Value::Null,
            ));
            None
        }
    };
    let unit =
        field(body, "unit").map_or(Some("scalar".to_owned()), |v| check_unit(v, &mut issues));
    let custom_label = text_field(body, "custom_label", &mut issues);
    let custom_multiplier = int_field(body, "custom_multiplier", &mut issues);
    if let Some(unit) = &unit {
        check_custom(
            unit,
            custom_label.as_deref(),
            custom_multiplier,
            &mut issues,
        );
    }
    let metadata =
        field(body, "metadata").map_or(Some(Map::new()), |v| check_metadata(v, &mut issues));
    let filter = match field(body, "filter") {
        Some(v) => parse_filter(v, &Loc::body().key("filter"), &mut issues),
        None => {
            issues.push(ValidationIssue::new(
                Loc::body().key("filter"),
                "missing",
                "Field required",
                Value::Null,
            ));
            None
        }
    };
    let aggregation = match field(body, "aggregation") {
        Some(v) => parse_aggregation(v, &Loc::body().key("aggregation"), &mut issues),
        None => {
            issues.push(ValidationIssue::new(
                Loc::body().key("aggregation"),
                "missing",
                "Field required",
                Value::Null,
            ));
            None
        }
    };
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let (Some(name), Some(unit), Some(metadata), Some(filter), Some(aggregation)) =
        (name, unit, metadata, filter, aggregation)
    else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "meter fields missing after validation"
        )));
    };
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    // Events stored before the meter existed count too: the builder adds them, and batches
    // from this commit on add theirs as it goes (`rollups`).
    super::rollups::lock(&txn, organization_id, true).await?;
    let row = entity::ActiveModel {
        id: Set(Uuid::new_v4()),
        created_at: Set(now),
        modified_at: Set(None),
        archived_at: Set(None),
        organization_id: Set(organization_id),
        name: Set(name),
        unit: Set(unit),
        custom_label: Set(custom_label),
        custom_multiplier: Set(custom_multiplier),
        filter: Set(serde_json::to_string(&filter).map_err(ApiError::internal)?),
        aggregation: Set(aggregation.to_json().to_string()),
        metadata: Set(crate::metadata::to_text(&metadata)),
        rollups_ready: Set(false),
        rollups_through: Set(None),
    }
    .insert(&txn)
    .await?;
    super::rollups::start_over(&txn, organization_id, row.id).await?;
    txn.commit().await?;
    app.meter_builds.notify_one();
    Ok(Meter::from(&row))
}

pub async fn get_in(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    id: Uuid,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id)
        .filter(Column::OrganizationId.eq(organization_id))
        .one(txn)
        .await
}

pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    body: Value,
) -> ApiResult<Meter> {
    let body = body_object(&body)?;
    let mut issues = Vec::new();
    let name = field(body, "name").and_then(|v| check_name(v, &mut issues));
    let unit = field(body, "unit").and_then(|v| check_unit(v, &mut issues));
    let custom_label = text_field(body, "custom_label", &mut issues);
    let custom_multiplier = int_field(body, "custom_multiplier", &mut issues);
    let metadata = field(body, "metadata").and_then(|v| check_metadata(v, &mut issues));
    let filter = field(body, "filter")
        .and_then(|v| parse_filter(v, &Loc::body().key("filter"), &mut issues));
    let aggregation = field(body, "aggregation")
        .and_then(|v| parse_aggregation(v, &Loc::body().key("aggregation"), &mut issues));
    let archive = match field(body, "is_archived") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            issues.push(ValidationIssue::new(
                Loc::body().key("is_archived"),
                "bool_type",
                "Input should be a valid boolean",
                other.clone(),
            ));
            None
        }
    };
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let now: DateTime<Utc> = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let changes_what_counts = filter.is_some() || aggregation.is_some();
    if changes_what_counts {
        super::rollups::lock(&txn, organization_id, true).await?;
    }
    let row = get_in(&txn, organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    let new_unit = unit.clone().unwrap_or_else(|| row.unit.clone());
    let new_label = custom_label.clone().or_else(|| row.custom_label.clone());
    let new_multiplier = custom_multiplier.or(row.custom_multiplier);
    if unit.is_some() || custom_label.is_some() || custom_multiplier.is_some() {
        // Leaving a custom unit drops its label and multiplier.
        let (label, multiplier) = if new_unit == "custom" {
            (new_label.as_deref(), new_multiplier)
        } else {
            (custom_label.as_deref(), custom_multiplier)
        };
        check_custom(&new_unit, label, multiplier, &mut issues);
        if !issues.is_empty() {
            return Err(ApiError::Validation(issues));
        }
    }
    let mut active: entity::ActiveModel = row.into();
    if let Some(name) = name {
        active.name = Set(name);
    }
    if unit.is_some() || custom_label.is_some() || custom_multiplier.is_some() {
        let custom = new_unit == "custom";
        active.unit = Set(new_unit);
        active.custom_label = Set(if custom { new_label } else { None });
        active.custom_multiplier = Set(if custom { new_multiplier } else { None });
    }
    if let Some(metadata) = metadata {
        active.metadata = Set(crate::metadata::to_text(&metadata));
    }
    if let Some(filter) = filter {
        active.filter = Set(serde_json::to_string(&filter).map_err(ApiError::internal)?);
    }
    if let Some(aggregation) = aggregation {
        active.aggregation = Set(aggregation.to_json().to_string());
    }
    match archive {
        Some(true) => active.archived_at = Set(Some(now)),
        Some(false) => active.archived_at = Set(None),
        None => {}
    }
    active.modified_at = Set(Some(now));
    let row = active.update(&txn).await?;
    if changes_what_counts {
        super::rollups::start_over(&txn, organization_id, row.id).await?;
    }
    txn.commit().await?;
    if changes_what_counts {
        app.meter_builds.notify_one();
    }
    Ok(Meter::from(&row))
}

pub fn missing() -> ApiError {
    not_found()
}

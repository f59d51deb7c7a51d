//! The rules of custom fields: slugs, names, each type's properties, and deletion.

use sea_orm::{DbErr, SqlErr};
use serde_json::{Value, json};
use uuid::Uuid;

use super::entity::Model;
use super::properties;
use super::schema::{CustomField, CustomFieldCreate, CustomFieldType, CustomFieldUpdate};
use super::store;
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Loc, Validator};

pub(super) fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Custom field not found.".to_owned())
}

/// The 422 for a slug another live field of the organization holds (the unique index
/// decides, so two requests racing for one slug cannot both have it).
fn slug_taken(error: DbErr, slug: &str) -> ApiError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::validation(
            Loc::body().key("slug"),
            "value_error",
            "Custom field with this slug already exists.",
            json!(slug),
        ),
        _ => ApiError::from(error),
    }
}

fn check_slug(slug: &str, loc: &Loc, validator: &mut Validator) {
    let valid = !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !valid {
        validator.push(
            loc.key("slug"),
            "string_pattern_mismatch",
            "String should match pattern '^[a-z0-9-_]+$'",
            json!(slug),
        );
    }
}

fn check_name(name: &str, loc: &Loc, validator: &mut Validator) {
    if name.is_empty() {
        validator.push(
            loc.key("name"),
            "string_too_short",
            "String should have at least 1 character",
            json!(name),
        );
    }
}

fn present(row: &Model) -> ApiResult<CustomField> {
    CustomField::from_row(row).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "custom field {} has an unknown type {:?}",
            row.id,
            row.kind
        ))
    })
}

pub async fn create(
    app: &AppState,
    organization_id: Uuid,
    body: CustomFieldCreate,
) -> ApiResult<CustomField> {
    // Faults of the type's own schema are located under the type, as a discriminated
    // union reports them.
    let loc = Loc::body().key(body.kind.as_str());
    let mut validator = Validator::new();
    validator.reject_organization_id(body.organization_id);
    check_slug(&body.slug, &loc, &mut validator);
    check_name(&body.name, &loc, &mut validator);
    let metadata = body.metadata.unwrap_or_default();
    crate::metadata::check(&metadata, &loc.key("metadata"), &mut validator);
    let kept = properties::check(
        body.kind,
        body.properties.as_ref(),
        &loc.key("properties"),
        &mut validator,
    );
    validator.finish()?;
    let row = Model {
        id: Uuid::new_v4(),
        created_at: app.clock.now(),
        modified_at: None,
        deleted_at: None,
        organization_id,
        kind: body.kind.as_str().to_owned(),
        slug: body.slug.clone(),
        name: body.name,
        properties: Value::Object(kept.unwrap_or_default()).to_string(),
        metadata: crate::metadata::to_text(&metadata),
    };
    let txn = crate::db::begin_write(&app.db).await?;
    let row = store::insert(&txn, row)
        .await
        .map_err(|e| slug_taken(e, &body.slug))?;
    txn.commit().await?;
    present(&row)
}

pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    patch: CustomFieldUpdate,
) -> ApiResult<CustomField> {
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::get((&txn).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    let kind = CustomFieldType::parse(&row.kind).ok_or_else(not_found)?;
    if patch.kind != kind {
        return Err(ApiError::validation(
            Loc::body().key("type"),
            "value_error",
            "The type of a custom field can't be changed.",
            json!(patch.kind.as_str()),
        ));
    }
    let loc = Loc::body().key(kind.as_str());
    let mut validator = Validator::new();
    if let Some(Some(slug)) = &patch.slug {
        check_slug(slug, &loc, &mut validator);
    }
    if let Some(Some(name)) = &patch.name {
        check_name(name, &loc, &mut validator);
    }
    if let Some(Some(metadata)) = &patch.metadata {
        crate::metadata::check(metadata, &loc.key("metadata"), &mut validator);
    }
    let kept = match &patch.properties {
        Some(Some(given)) => {
            properties::check(kind, Some(given), &loc.key("properties"), &mut validator)
        }
        _ => None,
    };
    validator.finish()?;
    let before = row.clone();
    if let Some(Some(slug)) = patch.slug {
        row.slug = slug;
    }
    if let Some(Some(name)) = patch.name {
        row.name = name;
    }
    if let Some(Some(metadata)) = patch.metadata {
        row.metadata = crate::metadata::to_text(&metadata);
    }
    if let Some(kept) = kept {
        row.properties = Value::Object(kept).to_string();
    }
    if row == before {
        txn.commit().await?;
        return present(&row);
    }
    row.modified_at = Some(app.clock.now());
    let slug = row.slug.clone();
    let row = store::update(&txn, row)
        .await
        .map_err(|e| slug_taken(e, &slug))?;
    txn.commit().await?;
    present(&row)
}

/// Deletes a field: it stops being readable, its slug is free again, and it is taken off
/// the products that attached it (as Polar does).
pub async fn delete(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::get((&txn).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    row.deleted_at = Some(app.clock.now());
    let row = store::update(&txn, row).await?;
    crate::products::detach_custom_field(&txn, row.id).await?;
    txn.commit().await?;
    Ok(())
}

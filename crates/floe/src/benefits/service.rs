//! The rules of benefits: descriptions, visibility, each type's properties and what they
//! point at (files and meters of the same organization), deletion, and their webhooks
//! (queued in the change's transaction).

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use super::entity::Model;
use super::properties::{self, Checked};
use super::schema::{Benefit, BenefitCreate, BenefitType, BenefitUpdate, BenefitVisibility};
use super::store;
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Loc, Validator};
use crate::webhooks::EventType;

const DESCRIPTION_CHARS: (usize, usize) = (3, 42);

pub(super) fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Benefit not found.".to_owned())
}

fn check_description(description: &str, loc: &Loc, validator: &mut Validator) {
    let length = description.chars().count();
    let (min, max) = DESCRIPTION_CHARS;
    if length < min || length > max {
        validator.push(
            loc.key("description"),
            if length < min {
                "string_too_short"
            } else {
                "string_too_long"
            },
            format!("String should have {min} to {max} characters"),
            json!(description),
        );
    }
}

/// The visibility a benefit gets: the one asked for where the type lets the merchant
/// choose, else the type's own.
fn visibility(kind: BenefitType, asked: Option<BenefitVisibility>) -> BenefitVisibility {
    match asked {
        Some(asked) if kind.visibility_configurable() => asked,
        _ => kind.default_visibility(),
    }
}

/// Checks that the files and the meter the properties name are this organization's.
async fn check_references(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    checked: &Checked,
    validator: &mut Validator,
) -> ApiResult<()> {
    let loc = Loc::body().key("properties");
    if !checked.files.is_empty() {
        let usable =
            crate::files::usable(db, organization_id, "downloadable", &checked.files).await?;
        for (index, id) in checked.files.iter().enumerate() {
            if !usable.contains(id) {
                validator.push(
                    loc.key("files").index(index),
                    "value_error",
                    "File not found: an uploaded downloadable file of this organization is expected.",
                    json!(id),
                );
            }
        }
    }
    if let Some(meter_id) = checked.meter_id
        && !crate::meters::exists(db, organization_id, meter_id).await?
    {
        validator.push(
            loc.key("meter_id"),
            "value_error",
            "Meter not found.",
            json!(meter_id),
        );
    }
    Ok(())
}

fn present(row: &Model) -> ApiResult<Benefit> {
    Benefit::from_row(row).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "benefit {} has an unknown type {:?}",
            row.id,
            row.kind
        ))
    })
}

pub async fn create(
    app: &AppState,
    organization_id: Uuid,
    body: BenefitCreate,
) -> ApiResult<Benefit> {
    let loc = Loc::body().key(body.kind.as_str());
    let mut validator = Validator::new();
    validator.reject_organization_id(body.organization_id);
    check_description(&body.description, &loc, &mut validator);
    let metadata = body.metadata.unwrap_or_default();
    crate::metadata::check(&metadata, &loc.key("metadata"), &mut validator);
    let checked = properties::check(
        body.kind,
        body.properties.as_ref(),
        &loc.key("properties"),
        &mut validator,
    );
    validator.finish()?;
    let checked = checked.unwrap_or_default();

    let txn = crate::db::begin_write(&app.db).await?;
    let mut validator = Validator::new();
    check_references(&txn, organization_id, &checked, &mut validator).await?;
    validator.finish()?;
    let row = Model {
        id: Uuid::new_v4(),
        created_at: app.clock.now(),
        modified_at: None,
        deleted_at: None,
        organization_id,
        kind: body.kind.as_str().to_owned(),
        description: body.description,
        visibility: visibility(body.kind, body.visibility).as_str().to_owned(),
        properties: Value::Object(checked.properties).to_string(),
        metadata: crate::metadata::to_text(&metadata),
        user_order: store::next_user_order(&txn, organization_id).await?,
    };
    let row = store::insert(&txn, row).await?;
    let benefit = present(&row)?;
    let queued = crate::webhooks::emit(
        &txn,
        benefit.organization_id,
        EventType::BenefitCreated,
        &benefit,
        app.clock.now(),
    )
    .await?;
    app.nudge.commit(txn, queued).await?;
    Ok(benefit)
}

pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    patch: BenefitUpdate,
) -> ApiResult<Benefit> {
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::get((&txn).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    let kind = BenefitType::parse(&row.kind).ok_or_else(not_found)?;
    // Polar answers this one with a 400, not a 422.
    if patch.kind != kind {
        return Err(ApiError::BadRequest(
            "The type of a benefit can't be changed.".to_owned(),
        ));
    }
    let loc = Loc::body().key(kind.as_str());
    let mut validator = Validator::new();
    if let Some(Some(description)) = &patch.description {
        check_description(description, &loc, &mut validator);
    }
    if let Some(Some(metadata)) = &patch.metadata {
        crate::metadata::check(metadata, &loc.key("metadata"), &mut validator);
    }
    let checked = match &patch.properties {
        Some(Some(given)) => {
            properties::check(kind, Some(given), &loc.key("properties"), &mut validator)
        }
        _ => None,
    };
    validator.finish()?;
    if let Some(checked) = &checked {
        let mut validator = Validator::new();
        check_references(&txn, organization_id, checked, &mut validator).await?;
        validator.finish()?;
    }
    let before = row.clone();
    if let Some(Some(description)) = patch.description {
        row.description = description;
    }
    if let Some(Some(asked)) = patch.visibility {
        row.visibility = visibility(kind, Some(asked)).as_str().to_owned();
    }
    if let Some(Some(metadata)) = patch.metadata {
        row.metadata = crate::metadata::to_text(&metadata);
    }
    if let Some(checked) = checked {
        row.properties = Value::Object(checked.properties).to_string();
    }
    if row == before {
        txn.commit().await?;
        return present(&row);
    }
    row.modified_at = Some(app.clock.now());
    let row = store::update(&txn, row).await?;
    let benefit = present(&row)?;
    let queued = crate::webhooks::emit(
        &txn,
        benefit.organization_id,
        EventType::BenefitUpdated,
        &benefit,
        app.clock.now(),
    )
    .await?;
    app.nudge.commit(txn, queued).await?;
    Ok(benefit)
}

/// Deletes a benefit: it stops being readable, no product grants it any more (as Polar
/// does, it is taken off them), and grants already made are revoked by the grants issue.
pub async fn delete(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::get((&txn).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    row.deleted_at = Some(app.clock.now());
    let row = store::update(&txn, row).await?;
    crate::products::detach_benefit(&txn, row.id).await?;
    txn.commit().await?;
    Ok(())
}

//! The rules of webhook endpoints: valid URLs and event types, secrets, enabling and
//! disabling, redelivery.

use sea_orm::{ActiveModelTrait, DbErr, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::entity::endpoint;
use super::schema::{
    EVENT_TYPES, WebhookEndpoint, WebhookEndpointCreate, WebhookEndpointUpdate, WebhookFormat,
};
use super::{secret_box, store, url_guard};
use crate::app::AppState;
use crate::auth::token;
use crate::http::{ApiError, ApiResult, Loc, Validator};

/// Prefix of webhook signing secrets.
const SECRET_PREFIX: &str = "whsec_";
const MAX_URL_CHARS: usize = 2083;

async fn check_url(url: &str, allow_private: bool, validator: &mut Validator) {
    let loc = Loc::body().key("url");
    if url.is_empty() || url.chars().count() > MAX_URL_CHARS {
        validator.push(
            loc,
            "string_too_long",
            format!("The URL must be 1 to {MAX_URL_CHARS} characters"),
            json!(url),
        );
        return;
    }
    let checked = match url_guard::check(url, allow_private) {
        Ok(parsed) => url_guard::check_resolves(&parsed, allow_private).await,
        Err(refused) => Err(refused),
    };
    if let Err(refused) = checked {
        validator.push(loc, "url_parsing", refused.to_string(), json!(url));
    }
}

fn check_events(events: &[String], validator: &mut Validator) {
    for (index, name) in events.iter().enumerate() {
        if !EVENT_TYPES.contains(&name.as_str()) {
            validator.push(
                Loc::body().key("events").index(index),
                "enum",
                "Input should be a webhook event type",
                json!(name),
            );
        }
    }
}

/// The distinct event types of a list, in the order first given.
fn dedup(events: Vec<String>) -> Vec<String> {
    let mut seen = Vec::with_capacity(events.len());
    for event in events {
        if !seen.contains(&event) {
            seen.push(event);
        }
    }
    seen
}

pub fn to_wire(app: &AppState, row: &endpoint::Model) -> ApiResult<WebhookEndpoint> {
    let secret =
        secret_box::open(&app.secret, row.id, &row.secret_sealed).map_err(ApiError::internal)?;
    Ok(WebhookEndpoint {
        created_at: row.created_at,
        modified_at: row.modified_at,
        id: row.id,
        url: row.url.clone(),
        name: row.name.clone(),
        api_version: row.api_version.clone(),
        format: WebhookFormat::parse(&row.format).as_str(),
        secret,
        organization_id: row.organization_id,
        events: serde_json::from_str(&row.events).unwrap_or_default(),
        enabled: row.enabled,
        uses_standard_webhook_signature: false,
    })
}

/// API versions an endpoint's payloads can follow: those floe serves.
fn check_api_version(version: &str, validator: &mut Validator) -> Option<&'static str> {
    let found = crate::http::version::SUPPORTED
        .iter()
        .copied()
        .find(|v| *v == version);
    if found.is_none() {
        validator.push(
            Loc::body().key("api_version"),
            "enum",
            format!(
                "Input should be one of {}",
                crate::http::version::SUPPORTED.join(", ")
            ),
            json!(version),
        );
    }
    found
}

/// Creates an endpoint; its payloads follow `api_version`, or else the version of the
/// request that creates it.
pub async fn create(
    app: &AppState,
    organization_id: Uuid,
    request_version: &'static str,
    body: WebhookEndpointCreate,
) -> ApiResult<WebhookEndpoint> {
    let mut validator = Validator::new();
    let api_version = match &body.api_version {
        Some(version) => check_api_version(version, &mut validator).unwrap_or(request_version),
        None => request_version,
    };
    validator.reject_organization_id(body.organization_id);
    check_url(&body.url, app.config.webhooks.allow_private, &mut validator).await;
    check_events(&body.events, &mut validator);
    validator.finish()?;
    let id = Uuid::new_v4();
    let secret = token::generate(SECRET_PREFIX);
    let row = endpoint::ActiveModel {
        id: Set(id),
        created_at: Set(app.clock.now()),
        modified_at: Set(None),
        deleted_at: Set(None),
        organization_id: Set(organization_id),
        url: Set(body.url),
        name: Set(body.name),
        api_version: Set(api_version.to_owned()),
        format: Set(body.format.as_str().to_owned()),
        secret_sealed: Set(seal(app, id, secret.expose())?),
        events: Set(Value::from(dedup(body.events)).to_string()),
        enabled: Set(true),
        failure_streak: Set(0),
        next_attempt_at: Set(None),
        queue_version: Set(0),
        lease_until: Set(None),
    }
    .insert(&app.db)
    .await?;
    to_wire(app, &row)
}

fn seal(app: &AppState, id: Uuid, secret: &str) -> ApiResult<String> {
    secret_box::seal(&app.secret, id, secret).map_err(ApiError::internal)
}

fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Webhook endpoint not found.".to_owned())
}

pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    patch: WebhookEndpointUpdate,
) -> ApiResult<WebhookEndpoint> {
    let mut validator = Validator::new();
    if let Some(Some(url)) = &patch.url {
        check_url(url, app.config.webhooks.allow_private, &mut validator).await;
    }
    if let Some(Some(events)) = &patch.events {
        check_events(events, &mut validator);
    }
    let api_version = match &patch.api_version {
        Some(Some(version)) => check_api_version(version, &mut validator),
        _ => None,
    };
    validator.finish()?;
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let row = store::get_endpoint_in(&txn, organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    let was_enabled = row.enabled;
    let mut active: endpoint::ActiveModel = row.into();
    if let Some(Some(url)) = patch.url {
        active.url = Set(url);
    }
    if let Some(name) = patch.name {
        active.name = Set(name);
    }
    if let Some(version) = api_version {
        active.api_version = Set(version.to_owned());
    }
    if let Some(Some(format)) = patch.format {
        active.format = Set(format.as_str().to_owned());
    }
    if let Some(Some(events)) = patch.events {
        active.events = Set(Value::from(dedup(events)).to_string());
    }
    let enabled = patch.enabled.flatten();
    if let Some(enabled) = enabled {
        active.enabled = Set(enabled);
        if enabled && !was_enabled {
            // A fresh start: the streak that disabled it is over.
            active.failure_streak = Set(0);
        }
    }
    active.modified_at = Set(Some(now));
    let row = active.update(&txn).await?;
    if enabled == Some(false) && was_enabled {
        store::skip_pending(&txn, id, now).await?;
    }
    txn.commit().await?;
    to_wire(app, &row)
}

pub async fn reset_secret(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
) -> ApiResult<WebhookEndpoint> {
    let txn = crate::db::begin_write(&app.db).await?;
    let row = store::get_endpoint_in(&txn, organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    let secret = token::generate(SECRET_PREFIX);
    let mut active: endpoint::ActiveModel = row.into();
    active.secret_sealed = Set(seal(app, id, secret.expose())?);
    active.modified_at = Set(Some(app.clock.now()));
    let row = active.update(&txn).await?;
    txn.commit().await?;
    to_wire(app, &row)
}

pub async fn delete(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<()> {
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let row = store::get_endpoint_in(&txn, organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    let mut active: endpoint::ActiveModel = row.into();
    active.deleted_at = Set(Some(now));
    active.modified_at = Set(Some(now));
    active.next_attempt_at = Set(None);
    active.update(&txn).await?;
    store::skip_pending(&txn, id, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Queues an event again for its endpoint; it goes out next, with fresh attempts.
pub async fn redeliver(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&app.db).await?;
    let event = store::get_event_in(&txn, organization_id, id)
        .await?
        .ok_or_else(|| ApiError::ResourceNotFound("Webhook event not found.".to_owned()))?;
    if event.payload.is_none() {
        return Err(ApiError::BadRequest(
            "The event was archived; its payload is gone.".to_owned(),
        ));
    }
    store::requeue(&txn, &event, app.clock.now()).await?;
    txn.commit().await.map_err(|e: DbErr| ApiError::from(e))?;
    app.nudge.wake();
    Ok(())
}

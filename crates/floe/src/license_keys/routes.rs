//! Handlers of the license keys API.

use axum::extract::State;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::StatusCode;
use axum::http::request::Parts;
use uuid::Uuid;

use super::rate_limit::Refusal;
use super::schema::{
    LicenseKeyActivate, LicenseKeyActivationBase, LicenseKeyActivationRead, LicenseKeyDeactivate,
    LicenseKeyRead, LicenseKeyStatus, LicenseKeyUpdate, LicenseKeyValidate,
    LicenseKeyWithActivations, ValidatedLicenseKey,
};
use super::{service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::extract::parse_uuid;
use crate::http::{ApiError, ApiResult, IdPath, Json, ListResource, Loc, Pagination, QueryParams};

/// `license_keys:read` or `license_keys:write`.
pub struct LicenseKeysRead;

impl RequiredScopes for LicenseKeysRead {
    const SCOPES: &'static [Scope] = &[Scope::LicenseKeysRead, Scope::LicenseKeysWrite];
}

/// `license_keys:write`.
pub struct LicenseKeysWrite;

impl RequiredScopes for LicenseKeysWrite {
    const SCOPES: &'static [Scope] = &[Scope::LicenseKeysWrite];
}

/// `license_keys:list`: oldest first.
pub async fn list(
    auth: Authorized<LicenseKeysRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<LicenseKeyRead>>> {
    let pagination = Pagination::from_query(&query)?;
    let filter = store::ListFilter {
        benefit_ids: query.uuids("benefit_id")?,
        statuses: query.enums::<LicenseKeyStatus>("status")?,
        customer_id: None,
    };
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    let (rows, total) = store::list(&app.reader, auth.organization_id, &filter, pagination).await?;
    let keys = service::present((&app.reader).into(), auth.organization_id, &rows).await?;
    Ok(axum::Json(ListResource::new(keys, total, pagination)))
}

/// `license_keys:get`: the key with its activations.
pub async fn get(
    auth: Authorized<LicenseKeysRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<LicenseKeyWithActivations>> {
    let row = store::get((&app.reader).into(), auth.organization_id, id)
        .await?
        .ok_or_else(service::not_found)?;
    let activations = store::activations((&app.reader).into(), row.id).await?;
    let key = service::present(
        (&app.reader).into(),
        auth.organization_id,
        std::slice::from_ref(&row),
    )
    .await?
    .pop()
    .ok_or_else(service::not_found)?;
    Ok(axum::Json(LicenseKeyWithActivations {
        key,
        activations: activations
            .iter()
            .map(LicenseKeyActivationBase::from)
            .collect(),
    }))
}

/// `license_keys:update`.
pub async fn update(
    auth: Authorized<LicenseKeysWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<LicenseKeyUpdate>,
) -> ApiResult<axum::Json<LicenseKeyRead>> {
    Ok(axum::Json(
        service::update(&app, auth.organization_id, id, body).await?,
    ))
}

/// `license_keys:rotate` (the SDK's; newer than the contract).
pub async fn rotate(
    auth: Authorized<LicenseKeysWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<LicenseKeyRead>> {
    Ok(axum::Json(
        service::rotate(&app, auth.organization_id, id).await?,
    ))
}

/// The `{id}` and `{activation_id}` of an activation's path, both UUIDs.
pub struct ActivationPath {
    id: Uuid,
    activation_id: Uuid,
}

impl<S: Send + Sync> FromRequestParts<S> for ActivationPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        let mut issues = Vec::new();
        let mut read = |name: &str| {
            let raw = params
                .iter()
                .find(|(param, _)| *param == name)
                .map(|(_, value)| value.to_owned())
                .unwrap_or_default();
            let parsed = parse_uuid(&raw);
            if parsed.is_none() {
                issues.push(crate::http::ValidationIssue::new(
                    Loc::path(name),
                    "uuid_parsing",
                    "Input should be a valid UUID",
                    serde_json::Value::String(raw),
                ));
            }
            parsed
        };
        let (id, activation_id) = (read("id"), read("activation_id"));
        match (id, activation_id) {
            (Some(id), Some(activation_id)) => Ok(Self { id, activation_id }),
            _ => Err(ApiError::Validation(issues)),
        }
    }
}

/// `license_keys:get_activation`.
pub async fn get_activation(
    auth: Authorized<LicenseKeysRead>,
    State(app): State<AppState>,
    path: ActivationPath,
) -> ApiResult<axum::Json<LicenseKeyActivationRead>> {
    Ok(axum::Json(
        service::get_activation(&app, auth.organization_id, path.id, path.activation_id).await?,
    ))
}

/// `license_keys:validate`.
pub async fn validate(
    auth: Authorized<LicenseKeysWrite>,
    State(app): State<AppState>,
    Json(body): Json<LicenseKeyValidate>,
) -> Result<axum::Json<ValidatedLicenseKey>, Refusal> {
    Ok(axum::Json(
        service::validate(&app, auth.organization_id, body).await?,
    ))
}

/// `license_keys:activate`.
pub async fn activate(
    auth: Authorized<LicenseKeysWrite>,
    State(app): State<AppState>,
    Json(body): Json<LicenseKeyActivate>,
) -> Result<axum::Json<LicenseKeyActivationRead>, Refusal> {
    Ok(axum::Json(
        service::activate(&app, auth.organization_id, body).await?,
    ))
}

/// `license_keys:deactivate`.
pub async fn deactivate(
    auth: Authorized<LicenseKeysWrite>,
    State(app): State<AppState>,
    Json(body): Json<LicenseKeyDeactivate>,
) -> Result<StatusCode, Refusal> {
    service::deactivate(&app, auth.organization_id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! License keys as their customer reaches them through the portal
//! (`customer_portal:license_keys:*`): the session's customer's keys, and the activations
//! of one only where its benefit lets customers manage them (`enable_customer_admin`), as
//! at Polar. Validating, activating and deactivating need no session: the key itself is
//! the proof, with its organization's ID (the merchant's operations, with the same rules
//! and the same per-key limit).

use uuid::Uuid;

use super::rate_limit::Refusal;
use super::schema::{
    LicenseKeyActivate, LicenseKeyActivationBase, LicenseKeyActivationRead, LicenseKeyDeactivate,
    LicenseKeyRead, LicenseKeyValidate, LicenseKeyWithActivations, ValidatedLicenseKey,
};
use super::{service, store};
use crate::app::AppState;
use crate::customer_portal::auth::PortalSession;
use crate::http::{ApiResult, ListResource, Pagination, QueryParams};

/// `customer_portal:license_keys:list`: oldest first.
pub async fn list(
    app: &AppState,
    session: &PortalSession,
    query: &QueryParams,
) -> ApiResult<ListResource<LicenseKeyRead>> {
    let pagination = Pagination::from_query(query)?;
    let filter = store::ListFilter {
        benefit_ids: query.uuids("benefit_id")?,
        statuses: None,
        customer_id: Some(session.customer_id),
    };
    let (rows, total) =
        store::list(&app.reader, session.organization_id, &filter, pagination).await?;
    let keys = service::present((&app.reader).into(), session.organization_id, &rows).await?;
    Ok(ListResource::new(keys, total, pagination))
}

/// `customer_portal:license_keys:get`.
pub async fn get(
    app: &AppState,
    session: &PortalSession,
    id: Uuid,
) -> ApiResult<LicenseKeyWithActivations> {
    let row = store::get((&app.reader).into(), session.organization_id, id)
        .await?
        .filter(|row| row.customer_id == session.customer_id)
        .ok_or_else(service::not_found)?;
    let key = service::present(
        (&app.reader).into(),
        session.organization_id,
        std::slice::from_ref(&row),
    )
    .await?
    .pop()
    .ok_or_else(service::not_found)?;
    let customer_admin = crate::benefits::read_many(
        (&app.reader).into(),
        session.organization_id,
        &[row.benefit_id],
    )
    .await?
    .first()
    .and_then(|benefit| benefit.properties.get("activations"))
    .and_then(|activations| activations.get("enable_customer_admin"))
    .and_then(serde_json::Value::as_bool)
    .unwrap_or(false);
    let activations = if customer_admin {
        store::activations((&app.reader).into(), row.id)
            .await?
            .iter()
            .map(LicenseKeyActivationBase::from)
            .collect()
    } else {
        Vec::new()
    };
    Ok(LicenseKeyWithActivations { key, activations })
}

/// `customer_portal:license_keys:validate`.
pub async fn validate(
    app: &AppState,
    body: LicenseKeyValidate,
) -> Result<ValidatedLicenseKey, Refusal> {
    let organization_id = body.organization_id;
    service::validate(app, organization_id, body).await
}

/// `customer_portal:license_keys:activate`.
pub async fn activate(
    app: &AppState,
    body: LicenseKeyActivate,
) -> Result<LicenseKeyActivationRead, Refusal> {
    let organization_id = body.organization_id;
    service::activate(app, organization_id, body).await
}

/// `customer_portal:license_keys:deactivate`.
pub async fn deactivate(app: &AppState, body: LicenseKeyDeactivate) -> Result<(), Refusal> {
    let organization_id = body.organization_id;
    service::deactivate(app, organization_id, body).await
}

//! Handlers of the wallet reads: the merchant's (`wallets:read`, Polar's API beyond the
//! 2026-10 contract) and the portal's (`customer_portal:wallets:*`, billing only).

use axum::extract::State;

use super::schema::Wallet;
use super::service::{self, Seen};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::customer_portal::auth::BillingSession;
use crate::http::{ApiResult, IdPath, ListResource, QueryParams};

/// `wallets:read` or `wallets:write`.
pub struct WalletsRead;

impl RequiredScopes for WalletsRead {
    const SCOPES: &'static [Scope] = &[Scope::WalletsRead, Scope::WalletsWrite];
}

pub async fn list(
    auth: Authorized<WalletsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Wallet>>> {
    let seen = Seen::Organization(auth.organization_id);
    Ok(axum::Json(service::list(&app, seen, &query).await?))
}

pub async fn get(
    auth: Authorized<WalletsRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Wallet>> {
    let seen = Seen::Organization(auth.organization_id);
    Ok(axum::Json(service::get(&app, seen, id).await?))
}

fn of_session(session: &crate::customer_portal::auth::PortalSession) -> Seen {
    Seen::Customer {
        organization_id: session.organization_id,
        customer_id: session.customer_id,
    }
}

pub async fn portal_list(
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Wallet>>> {
    Ok(axum::Json(
        service::list(&app, of_session(&session), &query).await?,
    ))
}

pub async fn portal_get(
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Wallet>> {
    Ok(axum::Json(
        service::get(&app, of_session(&session), id).await?,
    ))
}

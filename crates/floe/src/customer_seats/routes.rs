//! Handlers of the customer seats API: the organization's (scoped `customer_seats:*`), and
//! the invitation's two public ones (the token is the credential).

use axum::extract::{Path, State};
use serde::Deserialize;

use super::service::{self, ClaimResponse, CustomerSeat, SeatAssign, SeatClaimInfo, SeatsList};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::extract::path_uuid;
use crate::http::{ApiResult, Json, QueryParams};

/// `customer_seats:read` (the contract names only it for the list).
pub struct SeatsRead;

impl RequiredScopes for SeatsRead {
    const SCOPES: &'static [Scope] = &[Scope::CustomerSeatsRead];
}

/// `customer_seats:write`.
pub struct SeatsWrite;

impl RequiredScopes for SeatsWrite {
    const SCOPES: &'static [Scope] = &[Scope::CustomerSeatsWrite];
}

fn seat_id(raw: &str) -> ApiResult<uuid::Uuid> {
    path_uuid("seat_id", raw)
}

/// `customer-seats:assign_seat`.
pub async fn assign(
    auth: Authorized<SeatsWrite>,
    State(app): State<AppState>,
    Json(body): Json<SeatAssign>,
) -> ApiResult<axum::Json<CustomerSeat>> {
    Ok(axum::Json(
        service::assign(&app, auth.organization_id, body).await?,
    ))
}

/// `customer-seats:list_seats`.
pub async fn list(
    auth: Authorized<SeatsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<SeatsList>> {
    let subscription_id = query
        .uuids("subscription_id")?
        .and_then(|ids| ids.last().copied());
    let order_id = query.uuids("order_id")?.and_then(|ids| ids.last().copied());
    Ok(axum::Json(
        service::list(&app, auth.organization_id, subscription_id, order_id).await?,
    ))
}

/// `customer-seats:revoke_seat`.
pub async fn revoke(
    auth: Authorized<SeatsWrite>,
    State(app): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<CustomerSeat>> {
    Ok(axum::Json(
        service::revoke(&app, auth.organization_id, seat_id(&raw)?).await?,
    ))
}

/// `customer-seats:resend_invitation`.
pub async fn resend(
    auth: Authorized<SeatsWrite>,
    State(app): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<CustomerSeat>> {
    Ok(axum::Json(
        service::resend(&app, auth.organization_id, seat_id(&raw)?).await?,
    ))
}

/// `customer-seats:get_claim_info`.
pub async fn claim_info(
    State(app): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<axum::Json<SeatClaimInfo>> {
    Ok(axum::Json(service::claim_info(&app, &token).await?))
}

/// `SeatClaim`.
#[derive(Debug, Deserialize)]
pub struct SeatClaim {
    invitation_token: String,
}

/// `customer-seats:claim_seat`.
pub async fn claim(
    State(app): State<AppState>,
    Json(body): Json<SeatClaim>,
) -> ApiResult<axum::Json<ClaimResponse>> {
    Ok(axum::Json(
        service::claim(&app, &body.invitation_token).await?,
    ))
}

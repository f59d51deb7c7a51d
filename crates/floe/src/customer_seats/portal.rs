//! Seats as their buyer manages them through the portal (`customer_portal:seats:*`): the
//! seats of the subscriptions and orders the session's customer paid for (another's are
//! 404), assigned, revoked and re-invited by the merchant's rules; and the subscriptions in
//! which the customer holds a claimed seat.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::entity::seat;
use super::service::{self, CustomerSeat, SeatAssign, SeatsList};
use crate::app::AppState;
use crate::customer_portal::auth::PortalSession;
use crate::http::{ApiError, ApiResult, Loc};

fn container_not_found() -> ApiError {
    ApiError::ResourceNotFound("Subscription or order not found.".to_owned())
}

fn seat_not_found() -> ApiError {
    ApiError::ResourceNotFound("Seat not found.".to_owned())
}

/// Whether the subscription or order is the session's customer's.
async fn owns(
    app: &AppState,
    session: &PortalSession,
    subscription_id: Option<Uuid>,
    order_id: Option<Uuid>,
) -> ApiResult<bool> {
    let customer = match (subscription_id, order_id) {
        (Some(id), _) => {
            crate::subscriptions::customer_of(&app.reader, session.organization_id, id).await?
        }
        (None, Some(id)) => {
            crate::orders::customer_of(&app.reader, session.organization_id, id).await?
        }
        (None, None) => None,
    };
    Ok(customer == Some(session.customer_id))
}

/// `customer_portal:seats:list_seats`.
pub async fn list(
    app: &AppState,
    session: &PortalSession,
    subscription_id: Option<Uuid>,
    order_id: Option<Uuid>,
) -> ApiResult<SeatsList> {
    // Seats of nothing are none (as the merchant's list answers: Polar's 400 is not in
    // the contract).
    let named = subscription_id.is_some() || order_id.is_some();
    if named && !owns(app, session, subscription_id, order_id).await? {
        return Err(container_not_found());
    }
    service::list(app, session.organization_id, subscription_id, order_id).await
}

/// `CustomerSeatAssign`: the merchant's `SeatAssign`, or a checkout's order for the
/// container.
#[derive(Debug, Deserialize)]
pub struct CustomerSeatAssign {
    #[serde(default)]
    subscription_id: Option<Uuid>,
    #[serde(default)]
    order_id: Option<Uuid>,
    #[serde(default)]
    checkout_id: Option<Uuid>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    external_customer_id: Option<String>,
    #[serde(default)]
    customer_id: Option<Uuid>,
    #[serde(default)]
    external_member_id: Option<String>,
    #[serde(default)]
    member_id: Option<Uuid>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    immediate_claim: bool,
}

/// `customer_portal:seats:assign_seat`.
pub async fn assign(
    app: &AppState,
    session: &PortalSession,
    body: CustomerSeatAssign,
) -> ApiResult<CustomerSeat> {
    let order_id = match (body.order_id, body.checkout_id) {
        (Some(id), _) => Some(id),
        (None, Some(checkout)) => crate::orders::of_checkout(&app.db, checkout)
            .await?
            .filter(|order| order.organization_id == session.organization_id)
            .map(|order| order.id)
            .ok_or_else(|| {
                ApiError::validation(
                    Loc::body().key("checkout_id"),
                    "value_error",
                    "This checkout has no order.",
                    serde_json::json!(checkout),
                )
            })
            .map(Some)?,
        (None, None) => None,
    };
    let subscription_id = body.subscription_id;
    if (subscription_id.is_some() || order_id.is_some())
        && !owns(app, session, subscription_id, order_id).await?
    {
        return Err(container_not_found());
    }
    service::assign(
        app,
        session.organization_id,
        SeatAssign {
            subscription_id,
            order_id,
            email: body.email,
            external_customer_id: body.external_customer_id,
            customer_id: body.customer_id,
            external_member_id: body.external_member_id,
            member_id: body.member_id,
            metadata: body.metadata,
            immediate_claim: body.immediate_claim,
        },
    )
    .await
}

/// The seat `id`, if it is one of the session's customer's subscriptions' or orders'.
async fn owned_seat(app: &AppState, session: &PortalSession, id: Uuid) -> ApiResult<()> {
    let seat = app
        .reader
        .one(
            seat::Entity::find_by_id(id)
                .filter(seat::Column::OrganizationId.eq(session.organization_id)),
        )
        .await?
        .ok_or_else(seat_not_found)?;
    let (subscription_id, order_id) = (seat.subscription_id, seat.order_id);
    if owns(app, session, subscription_id, order_id).await? {
        Ok(())
    } else {
        Err(seat_not_found())
    }
}

/// `customer_portal:seats:revoke_seat`.
pub async fn revoke(app: &AppState, session: &PortalSession, id: Uuid) -> ApiResult<CustomerSeat> {
    owned_seat(app, session, id).await?;
    service::revoke(app, session.organization_id, id).await
}

/// `customer_portal:seats:resend_invitation`.
pub async fn resend(app: &AppState, session: &PortalSession, id: Uuid) -> ApiResult<CustomerSeat> {
    owned_seat(app, session, id).await?;
    service::resend(app, session.organization_id, id).await
}

/// The subscriptions in which the session's customer holds a claimed seat.
pub async fn claimed_subscription_ids(
    app: &AppState,
    session: &PortalSession,
) -> ApiResult<Vec<Uuid>> {
    let seats = app
        .reader
        .all(
            seat::Entity::find()
                .filter(seat::Column::OrganizationId.eq(session.organization_id))
                .filter(seat::Column::CustomerId.eq(session.customer_id))
                .filter(seat::Column::Status.eq("claimed"))
                .filter(seat::Column::SubscriptionId.is_not_null()),
        )
        .await?;
    let mut ids: Vec<Uuid> = seats
        .iter()
        .filter_map(|seat| seat.subscription_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

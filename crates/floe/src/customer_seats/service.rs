//! What the seat operations do, each in one transaction with its webhook and mail.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::entity::seat;
use crate::app::AppState;
use crate::customers::CustomerKey;
use crate::http::{ApiError, ApiResult, Loc};
use crate::webhooks::EventType;
use crate::webhooks::outbox::{self, Endpoints};

/// How long an invitation can be claimed (Polar's day).
const INVITATION_LIFETIME: Duration = Duration::days(1);
const INVITATION_PREFIX: &str = "polar_cst_seat_";

/// `CustomerSeat`.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerSeat {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub subscription_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub status: String,
    pub customer_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub member: Option<Value>,
    pub email: Option<String>,
    pub customer_email: Option<String>,
    pub invitation_token_expires_at: Option<DateTime<Utc>>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub seat_metadata: Option<Map<String, Value>>,
}

/// `SeatsList`.
#[derive(Debug, Serialize)]
pub struct SeatsList {
    pub seats: Vec<CustomerSeat>,
    pub available_seats: i64,
    pub total_seats: i64,
}

/// `SeatClaimInfo`.
#[derive(Debug, Serialize)]
pub struct SeatClaimInfo {
    pub product_name: String,
    pub product_id: Uuid,
    pub organization_name: String,
    pub organization_slug: String,
    pub customer_email: String,
    pub can_claim: bool,
}

/// `CustomerSeatClaimResponse`.
#[derive(Debug, Serialize)]
pub struct ClaimResponse {
    pub seat: CustomerSeat,
    pub customer_session_token: String,
}

/// `SeatAssign`.
#[derive(Debug, Default, Deserialize)]
pub struct SeatAssign {
    pub subscription_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub email: Option<String>,
    pub external_customer_id: Option<String>,
    pub customer_id: Option<Uuid>,
    pub external_member_id: Option<String>,
    pub member_id: Option<Uuid>,
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub immediate_claim: bool,
}

fn bad_request(error: &'static str, detail: &str) -> ApiError {
    ApiError::named(StatusCode::BAD_REQUEST, error, detail.to_owned())
}

fn seat_not_found() -> ApiError {
    ApiError::ResourceNotFound("Seat not found.".to_owned())
}

fn invalid_token() -> ApiError {
    bad_request(
        "InvalidInvitationToken",
        "This invitation is invalid, has expired or was already used.",
    )
}

/// What seats are counted against: a seat-based subscription or a paid order.
struct Container {
    subscription_id: Option<Uuid>,
    order_id: Option<Uuid>,
    product_id: Uuid,
    seats: i64,
}

/// The container a request names, locked for `txn` so that two assignments cannot both take
/// the last seat.
async fn container(
    txn: &DatabaseTransaction,
    organization_id: Uuid,
    subscription_id: Option<Uuid>,
    order_id: Option<Uuid>,
) -> ApiResult<Container> {
    match (subscription_id, order_id) {
        (Some(id), None) => {
            let row = crate::subscriptions::lock(txn, organization_id, id)
                .await?
                .ok_or_else(crate::subscriptions::not_found)?;
            let seats = row.seats.ok_or_else(|| {
                bad_request(
                    "NotASeatBasedSubscription",
                    "This subscription is not seat-based.",
                )
            })?;
            if !matches!(row.status.as_str(), "active" | "trialing" | "past_due") {
                return Err(bad_request(
                    "InactiveSubscription",
                    "Seats can only be assigned for an active subscription.",
                ));
            }
            Ok(Container {
                subscription_id: Some(id),
                order_id: None,
                product_id: row.product_id,
                seats,
            })
        }
        (None, Some(id)) => {
            let row = crate::orders::lock(txn, id)
                .await?
                .filter(|o| o.organization_id == organization_id)
                .ok_or_else(|| ApiError::ResourceNotFound("Order not found.".to_owned()))?;
            let (Some(seats), Some(product_id)) = (row.seats, row.product_id) else {
                return Err(bad_request(
                    "NotASeatBasedOrder",
                    "This order is not for seats.",
                ));
            };
            if row.status != "paid" {
                return Err(bad_request(
                    "OrderNotPaid",
                    "Seats of an order can be assigned once it is paid.",
                ));
            }
            Ok(Container {
                subscription_id: None,
                order_id: Some(id),
                product_id,
                seats,
            })
        }
        _ => Err(ApiError::validation(
            Loc::body().key("subscription_id"),
            "value_error",
            "Either subscription_id or order_id must be given.",
            Value::Null,
        )),
    }
}

fn of_container(
    subscription_id: Option<Uuid>,
    order_id: Option<Uuid>,
) -> sea_orm::Select<seat::Entity> {
    let select = seat::Entity::find();
    match (subscription_id, order_id) {
        (Some(id), _) => select.filter(seat::Column::SubscriptionId.eq(id)),
        (None, Some(id)) => select.filter(seat::Column::OrderId.eq(id)),
        (None, None) => select.filter(seat::Column::Id.is_null()),
    }
}

async fn taken(txn: &DatabaseTransaction, container: &Container) -> ApiResult<i64> {
    let count = of_container(container.subscription_id, container.order_id)
        .filter(seat::Column::Status.is_in(["pending", "claimed"]))
        .count(txn)
        .await?;
    Ok(i64::try_from(count).unwrap_or(i64::MAX))
}

/// `rows` as the API shows them (each holder's email from its customer).
async fn present(db: crate::db::Reads<'_>, rows: &[seat::Model]) -> ApiResult<Vec<CustomerSeat>> {
    let Some(organization_id) = rows.first().map(|r| r.organization_id) else {
        return Ok(Vec::new());
    };
    let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.customer_id).collect();
    let customers = crate::customers::read_many(db, organization_id, &ids).await?;
    Ok(rows
        .iter()
        .map(|row| {
            let holder = row
                .customer_id
                .and_then(|id| customers.iter().find(|c| c.id == id));
            CustomerSeat {
                created_at: row.created_at,
                modified_at: row.modified_at,
                id: row.id,
                subscription_id: row.subscription_id,
                order_id: row.order_id,
                status: row.status.clone(),
                customer_id: row.customer_id,
                member_id: None,
                member: None,
                email: row.email.clone(),
                customer_email: row
                    .email
                    .clone()
                    .or_else(|| holder.and_then(|c| c.email.clone())),
                invitation_token_expires_at: row.invitation_token_expires_at,
                claimed_at: row.claimed_at,
                revoked_at: row.revoked_at,
                seat_metadata: row.metadata.as_deref().map(crate::metadata::from_text),
            }
        })
        .collect())
}

async fn show(txn: &DatabaseTransaction, row: &seat::Model) -> ApiResult<CustomerSeat> {
    present(txn.into(), std::slice::from_ref(row))
        .await?
        .pop()
        .ok_or_else(seat_not_found)
}

/// Queues `kind` with the seat, in `txn`.
async fn emit(
    txn: &DatabaseTransaction,
    kind: EventType,
    seat: &CustomerSeat,
    organization_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let endpoints = Endpoints::of(txn, organization_id).await?;
    Ok(outbox::emit_to(txn, &endpoints, organization_id, kind, seat, now).await?)
}

/// A new invitation token for `row` (a day to claim it), and its mail.
async fn invite(
    app: &AppState,
    txn: &DatabaseTransaction,
    row: &mut seat::Model,
    product_name: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let token = crate::auth::token::generate(INVITATION_PREFIX);
    row.invitation_token_hash = Some(app.secret.token_hash(token.expose()));
    row.invitation_token_expires_at = Some(now + INVITATION_LIFETIME);
    let Some(to) = row.email.clone() else {
        return Ok(());
    };
    let seller = crate::organizations::read(txn, row.organization_id)
        .await?
        .map_or_else(|| "the seller".to_owned(), |org| org.name);
    let link = format!(
        "{}/v1/customer-seats/claim/{}",
        app.config.public_url,
        token.expose()
    );
    let body = format!(
        "Hello,\n\nYou have been given a seat for {product_name} from {seller}.\n\
         To accept it, claim it within a day with this invitation token:\n\n{}\n\n\
         (Details of the invitation: {link})\n",
        token.expose()
    );
    crate::mail::queue(
        txn,
        Some(row.organization_id),
        crate::mail::Mail {
            kind: "seat_invitation",
            to: &to,
            subject: &format!("You've been invited to access {product_name}"),
            body: &body,
        },
        now,
    )
    .await?;
    Ok(())
}

async fn product_name(
    txn: &DatabaseTransaction,
    organization_id: Uuid,
    product_id: Uuid,
) -> ApiResult<String> {
    Ok(
        crate::products::bases_with_deleted(txn.into(), organization_id, &[product_id])
            .await?
            .pop()
            .map_or_else(|| "a product".to_owned(), |p| p.name),
    )
}

/// Grants the seat holder the product's benefits under the seat's scope.
async fn grant(
    app: &AppState,
    txn: &DatabaseTransaction,
    row: &seat::Model,
    product_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let Some(customer_id) = row.customer_id else {
        return Ok(0);
    };
    crate::benefits::granting::grant_all_in(
        app,
        txn,
        &crate::benefits::granting::Target {
            organization_id: row.organization_id,
            customer_id,
            scope: format!("seat:{}", row.id),
            subscription_id: row.subscription_id,
            order_id: row.order_id,
        },
        product_id,
        now,
    )
    .await
}

/// `customer-seats:assign_seat`.
pub async fn assign(
    app: &AppState,
    organization_id: Uuid,
    body: SeatAssign,
) -> ApiResult<CustomerSeat> {
    for (field, given) in [
        ("member_id", body.member_id.is_some()),
        ("external_member_id", body.external_member_id.is_some()),
    ] {
        if given {
            return Err(ApiError::validation(
                Loc::body().key(field),
                "value_error",
                "floe does not model members yet: assign the seat by email or customer.",
                Value::Null,
            ));
        }
    }
    let named = [
        body.email.is_some(),
        body.external_customer_id.is_some(),
        body.customer_id.is_some(),
    ]
    .iter()
    .filter(|given| **given)
    .count();
    if named != 1 {
        return Err(bad_request(
            "InvalidSeatAssignment",
            "Exactly one of email, external_customer_id or customer_id must be given.",
        ));
    }
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let container = container(&txn, organization_id, body.subscription_id, body.order_id).await?;
    if taken(&txn, &container).await? >= container.seats {
        return Err(bad_request("SeatNotAvailable", "No seats are available."));
    }
    let mut queued = 0;
    let customer = match (&body.email, &body.external_customer_id, body.customer_id) {
        (Some(email), _, _) => {
            let (customer, created) = crate::customers::purchase::settle(
                app,
                &txn,
                organization_id,
                crate::customers::purchase::Buyer {
                    customer_id: None,
                    external_id: None,
                    email: Some(email),
                    name: None,
                    billing_name: None,
                    billing_address: None,
                    tax_id: None,
                    metadata: &Map::new(),
                },
            )
            .await?;
            queued += created;
            customer
        }
        (None, Some(external), _) => crate::customers::purchase::find(
            &txn,
            organization_id,
            CustomerKey::External(external.clone()),
        )
        .await?
        .filter(|c| c.deleted_at.is_none())
        .ok_or_else(|| ApiError::ResourceNotFound("Customer not found.".to_owned()))?,
        (None, None, Some(id)) => {
            crate::customers::purchase::find(&txn, organization_id, CustomerKey::Id(id))
                .await?
                .filter(|c| c.deleted_at.is_none())
                .ok_or_else(|| ApiError::ResourceNotFound("Customer not found.".to_owned()))?
        }
        _ => return Err(seat_not_found()),
    };
    let holds = of_container(container.subscription_id, container.order_id)
        .filter(seat::Column::CustomerId.eq(customer.id))
        .filter(seat::Column::Status.is_in(["pending", "claimed"]))
        .one(&txn)
        .await?;
    if holds.is_some() {
        return Err(bad_request(
            "SeatAlreadyAssigned",
            "This customer already has a seat.",
        ));
    }
    let mut row = seat::Model {
        id: Uuid::new_v4(),
        created_at: now,
        modified_at: None,
        organization_id,
        subscription_id: container.subscription_id,
        order_id: container.order_id,
        status: "pending".to_owned(),
        customer_id: Some(customer.id),
        email: customer.email.clone().or(body.email.clone()),
        invitation_token_hash: None,
        invitation_token_expires_at: None,
        claimed_at: None,
        revoked_at: None,
        metadata: body
            .metadata
            .as_ref()
            .map(|m| Value::Object(m.clone()).to_string()),
    };
    let name = product_name(&txn, organization_id, container.product_id).await?;
    if body.immediate_claim {
        row.status = "claimed".to_owned();
        row.claimed_at = Some(now);
    } else {
        invite(app, &txn, &mut row, &name, now).await?;
    }
    let (shown, recorded) = record(app, &txn, row, container.product_id, now).await?;
    queued += recorded;
    app.nudge.commit(txn, queued).await?;
    app.mail.notify_one();
    Ok(shown)
}

/// Who bought seats through floe's own checkout page, and what for.
pub struct Buyer<'a> {
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub email: Option<&'a str>,
    /// The subscription the seats are of, or else the one-time order.
    pub subscription_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub product_id: Uuid,
}

/// The buyer of seats claims one at once, in the purchase's transaction (as at Polar), so
/// they have the product's benefits without inviting themselves; the other seats wait for
/// their teammates. A buyer of one-time seats who holds one of the product's already gets
/// no second. Returns the deliveries queued.
pub async fn claim_for_buyer(
    app: &AppState,
    txn: &DatabaseTransaction,
    buyer: Buyer<'_>,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    if buyer.subscription_id.is_none() {
        let earlier: Vec<Uuid> = crate::orders::find()
            .filter(crate::orders::OrderColumn::OrganizationId.eq(buyer.organization_id))
            .filter(crate::orders::OrderColumn::CustomerId.eq(buyer.customer_id))
            .filter(crate::orders::OrderColumn::ProductId.eq(buyer.product_id))
            .all(txn)
            .await?
            .into_iter()
            .map(|order| order.id)
            .collect();
        let holds = seat::Entity::find()
            .filter(seat::Column::OrderId.is_in(earlier))
            .filter(seat::Column::CustomerId.eq(buyer.customer_id))
            .filter(seat::Column::Status.eq("claimed"))
            .one(txn)
            .await?;
        if holds.is_some() {
            return Ok(0);
        }
    }
    let row = seat::Model {
        id: Uuid::new_v4(),
        created_at: now,
        modified_at: None,
        organization_id: buyer.organization_id,
        subscription_id: buyer.subscription_id,
        order_id: buyer.order_id,
        status: "claimed".to_owned(),
        customer_id: Some(buyer.customer_id),
        email: buyer.email.map(str::to_owned),
        invitation_token_hash: None,
        invitation_token_expires_at: None,
        claimed_at: Some(now),
        revoked_at: None,
        metadata: None,
    };
    Ok(record(app, txn, row, buyer.product_id, now).await?.1)
}

/// Inserts a new seat: a claimed one grants its holder the product's benefits at once.
/// Queues `customer_seat.claimed` or `.assigned`; returns the seat and the deliveries queued.
async fn record(
    app: &AppState,
    txn: &DatabaseTransaction,
    row: seat::Model,
    product_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<(CustomerSeat, usize)> {
    let row = crate::db::rows::insert::<seat::Entity>(txn, row).await?;
    let claimed = row.status == "claimed";
    let mut queued = 0;
    if claimed {
        queued += grant(app, txn, &row, product_id, now).await?;
    }
    let shown = show(txn, &row).await?;
    let kind = if claimed {
        EventType::CustomerSeatClaimed
    } else {
        EventType::CustomerSeatAssigned
    };
    queued += emit(txn, kind, &shown, row.organization_id, now).await?;
    Ok((shown, queued))
}

/// `customer-seats:list_seats`.
pub async fn list(
    app: &AppState,
    organization_id: Uuid,
    subscription_id: Option<Uuid>,
    order_id: Option<Uuid>,
) -> ApiResult<SeatsList> {
    if subscription_id.is_none() && order_id.is_none() {
        // Seats of nothing (Polar answers an undeclared 400; the contract lists none).
        return Ok(SeatsList {
            seats: Vec::new(),
            available_seats: 0,
            total_seats: 0,
        });
    }
    // Read in a transaction of its own so the counts and the seats agree.
    let txn = crate::db::begin_write(&app.db).await?;
    let container = container(&txn, organization_id, subscription_id, order_id).await;
    let container = match container {
        Ok(container) => container,
        Err(ApiError::ResourceNotFound(detail)) => {
            txn.rollback().await?;
            return Err(ApiError::ResourceNotFound(detail));
        }
        // A subscription without seats, or one that ended, has none to show.
        Err(ApiError::Named { status, .. }) if status == StatusCode::BAD_REQUEST => {
            let rows = of_container(subscription_id, order_id)
                .filter(seat::Column::OrganizationId.eq(organization_id))
                .order_by_asc(seat::Column::CreatedAt)
                .all(&txn)
                .await?;
            let seats = present((&txn).into(), &rows).await?;
            txn.rollback().await?;
            return Ok(SeatsList {
                seats,
                available_seats: 0,
                total_seats: 0,
            });
        }
        Err(other) => {
            txn.rollback().await?;
            return Err(other);
        }
    };
    let rows = of_container(container.subscription_id, container.order_id)
        .order_by_asc(seat::Column::CreatedAt)
        .order_by_asc(seat::Column::Id)
        .all(&txn)
        .await?;
    let used = rows
        .iter()
        .filter(|r| r.status == "pending" || r.status == "claimed")
        .count() as i64;
    let seats = present((&txn).into(), &rows).await?;
    txn.rollback().await?;
    Ok(SeatsList {
        seats,
        available_seats: (container.seats - used).max(0),
        total_seats: container.seats,
    })
}

async fn lock_seat(
    txn: &DatabaseTransaction,
    organization_id: Uuid,
    id: Uuid,
) -> ApiResult<seat::Model> {
    let mut select =
        seat::Entity::find_by_id(id).filter(seat::Column::OrganizationId.eq(organization_id));
    if sea_orm::ConnectionTrait::get_database_backend(txn) == sea_orm::DbBackend::Postgres {
        select = sea_orm::QuerySelect::lock_exclusive(select);
    }
    select.one(txn).await?.ok_or_else(seat_not_found)
}

/// Takes a seat back: its holder's benefits are revoked and the seat is free again.
async fn take_back(
    app: &AppState,
    txn: &DatabaseTransaction,
    mut row: seat::Model,
    now: DateTime<Utc>,
) -> ApiResult<(seat::Model, usize)> {
    let mut queued = 0;
    if let Some(customer_id) = row.customer_id {
        queued += crate::benefits::revoke_scope(
            app,
            txn,
            row.organization_id,
            customer_id,
            &format!("seat:{}", row.id),
            now,
        )
        .await?;
    }
    row.status = "revoked".to_owned();
    row.revoked_at = Some(now);
    row.modified_at = Some(now);
    row.invitation_token_hash = None;
    row.invitation_token_expires_at = None;
    row.customer_id = None;
    row.email = None;
    let row = crate::db::rows::update::<seat::Entity>(txn, row).await?;
    let shown = show(txn, &row).await?;
    queued += emit(
        txn,
        EventType::CustomerSeatRevoked,
        &shown,
        row.organization_id,
        now,
    )
    .await?;
    Ok((row, queued))
}

/// `customer-seats:revoke_seat` (a revoked seat stays as it is).
pub async fn revoke(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<CustomerSeat> {
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let row = lock_seat(&txn, organization_id, id).await?;
    if row.status == "revoked" {
        let shown = show(&txn, &row).await?;
        txn.rollback().await?;
        return Ok(shown);
    }
    let (row, queued) = take_back(app, &txn, row, now).await?;
    let shown = show(&txn, &row).await?;
    app.nudge.commit(txn, queued).await?;
    Ok(shown)
}

/// Every seat of a subscription that ended goes with it; returns the deliveries queued.
pub async fn revoke_all_of_subscription(
    app: &AppState,
    txn: &DatabaseTransaction,
    subscription_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let rows = seat::Entity::find()
        .filter(seat::Column::SubscriptionId.eq(subscription_id))
        .filter(seat::Column::Status.is_in(["pending", "claimed"]))
        .all(txn)
        .await?;
    let mut queued = 0;
    for row in rows {
        queued += take_back(app, txn, row, now).await?.1;
    }
    Ok(queued)
}

/// `customer-seats:resend_invitation`: a new token, valid for a day from now.
pub async fn resend(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<CustomerSeat> {
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = lock_seat(&txn, organization_id, id).await?;
    if row.status != "pending" {
        return Err(bad_request(
            "SeatNotPending",
            "Only a seat waiting to be claimed has an invitation to resend.",
        ));
    }
    let name = match product_of(&txn, &row).await? {
        Some(id) => product_name(&txn, organization_id, id).await?,
        None => "a product".to_owned(),
    };
    invite(app, &txn, &mut row, &name, now).await?;
    row.modified_at = Some(now);
    let row = crate::db::rows::update::<seat::Entity>(&txn, row).await?;
    let shown = show(&txn, &row).await?;
    txn.commit().await?;
    app.mail.notify_one();
    Ok(shown)
}

/// The pending seat whose invitation is `token`, if it can still be claimed.
async fn by_token(
    app: &AppState,
    txn: &DatabaseTransaction,
    token: &str,
    now: DateTime<Utc>,
) -> ApiResult<Option<seat::Model>> {
    if !crate::auth::token::is_well_formed(token, INVITATION_PREFIX) {
        return Ok(None);
    }
    let hash = app.secret.token_hash(token);
    Ok(seat::Entity::find()
        .filter(seat::Column::InvitationTokenHash.eq(hash))
        .one(txn)
        .await?
        .filter(|row| {
            row.status == "pending" && row.invitation_token_expires_at.is_some_and(|at| at > now)
        }))
}

async fn product_of(txn: &DatabaseTransaction, row: &seat::Model) -> ApiResult<Option<Uuid>> {
    Ok(match (row.subscription_id, row.order_id) {
        (Some(sid), _) => crate::subscriptions::lock(txn, row.organization_id, sid)
            .await?
            .map(|s| s.product_id),
        (None, Some(oid)) => crate::orders::lock(txn, oid)
            .await?
            .and_then(|o| o.product_id),
        _ => None,
    })
}

/// `customer-seats:get_claim_info`.
pub async fn claim_info(app: &AppState, token: &str) -> ApiResult<SeatClaimInfo> {
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let missing = || ApiError::ResourceNotFound("Invalid or expired invitation token.".to_owned());
    let Some(row) = by_token(app, &txn, token, now).await? else {
        txn.rollback().await?;
        return Err(missing());
    };
    let product_id = product_of(&txn, &row).await?.ok_or_else(missing)?;
    let product_name = product_name(&txn, row.organization_id, product_id).await?;
    let organization = crate::organizations::read(&txn, row.organization_id)
        .await?
        .ok_or_else(missing)?;
    let shown = show(&txn, &row).await?;
    txn.rollback().await?;
    Ok(SeatClaimInfo {
        product_name,
        product_id,
        organization_name: organization.name,
        organization_slug: organization.slug,
        customer_email: shown.customer_email.unwrap_or_default(),
        can_claim: true,
    })
}

/// `customer-seats:claim_seat`: the token is used up, the holder gets the benefits and a
/// customer session.
pub async fn claim(app: &AppState, token: &str) -> ApiResult<ClaimResponse> {
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let Some(found) = by_token(app, &txn, token, now).await? else {
        txn.rollback().await?;
        return Err(invalid_token());
    };
    let mut row = lock_seat(&txn, found.organization_id, found.id).await?;
    if row.status != "pending" {
        return Err(invalid_token());
    }
    let (Some(product_id), Some(customer_id)) = (product_of(&txn, &row).await?, row.customer_id)
    else {
        return Err(invalid_token());
    };
    row.status = "claimed".to_owned();
    row.claimed_at = Some(now);
    row.modified_at = Some(now);
    row.invitation_token_hash = None;
    row.invitation_token_expires_at = None;
    let row = crate::db::rows::update::<seat::Entity>(&txn, row).await?;
    let mut queued = grant(app, &txn, &row, product_id, now).await?;
    let session = crate::customer_portal::open_session(
        app,
        &txn,
        crate::customer_portal::SessionHolder::customer(row.organization_id, customer_id),
        None,
        now,
    )
    .await?;
    let shown = show(&txn, &row).await?;
    queued += emit(
        &txn,
        EventType::CustomerSeatClaimed,
        &shown,
        row.organization_id,
        now,
    )
    .await?;
    app.nudge.commit(txn, queued).await?;
    Ok(ClaimResponse {
        seat: shown,
        customer_session_token: session.token.expose().to_owned(),
    })
}

/// How many seats of `subscription_id` are assigned (pending or claimed): the fewest seats
/// it can change to.
pub async fn assigned(txn: &DatabaseTransaction, subscription_id: Uuid) -> ApiResult<i64> {
    let count = seat::Entity::find()
        .filter(seat::Column::SubscriptionId.eq(subscription_id))
        .filter(seat::Column::Status.is_in(["pending", "claimed"]))
        .count(txn)
        .await?;
    Ok(i64::try_from(count).unwrap_or(i64::MAX))
}

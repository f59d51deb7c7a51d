//! A customer changes its own email through the portal
//! (`customer_portal:customers:request_email_update`, `…:check_email_update`,
//! `…:verify_email_update`): the new address gets a link with a single-use token
//! (`polar_cev_…`, stored as its HMAC, valid 30 minutes; a new request replaces the last);
//! following it proves the customer owns the address, which becomes the customer's email,
//! verified, with `customer.updated`, and the customer gets a new session. As at Polar, the
//! organization decides whether customers may (`customer_portal_settings.customer.
//! allow_email_change`), team customers change theirs through members, and an address
//! another customer of the organization has is refused at verification.

use chrono::Duration;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::schema::CustomerType;
use super::service::{emit_change, is_email};
use super::store::{self, CustomerKey};
use crate::app::AppState;
use crate::customer_portal::auth::PortalSession;
use crate::http::{ApiError, ApiResult, Loc};
use crate::webhooks::EventType;

/// The email-verification token's prefix (Polar's).
const PREFIX: &str = "polar_cev_";
const LIFETIME: Duration = Duration::minutes(30);

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "customer_email_updates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub created_at: DateTimeUtc,
        pub organization_id: Uuid,
        pub customer_id: Uuid,
        /// The address asked for.
        pub email: String,
        pub token_hash: String,
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `CustomerEmailUpdateRequest`.
#[derive(Debug, Deserialize)]
pub struct EmailUpdateRequest {
    email: String,
}

/// `CustomerEmailUpdateVerifyRequest`.
#[derive(Debug, Deserialize)]
pub struct EmailUpdateVerify {
    token: String,
}

/// `CustomerEmailUpdateVerifyResponse`: a new customer session.
#[derive(Debug, Serialize)]
pub struct EmailUpdateVerified {
    token: String,
}

fn invalid_email(email: &str) -> ApiError {
    ApiError::validation(
        Loc::body().key("email"),
        "value_error",
        "value is not a valid email address",
        json!(email),
    )
}

/// `customer_portal:customers:request_email_update`.
/// Email changes one customer may ask for per window.
pub const EMAIL_UPDATES_PER_CUSTOMER: crate::http::rate_limit::Limit =
    crate::http::rate_limit::Limit {
        calls: 3,
        window: chrono::Duration::minutes(15),
    };

pub async fn request(
    app: &AppState,
    session: &PortalSession,
    body: EmailUpdateRequest,
) -> ApiResult<()> {
    let email = body.email.trim().to_owned();
    if !is_email(&email) {
        return Err(invalid_email(&body.email));
    }
    let organization = crate::organizations::read(&app.db, session.organization_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !organization
        .customer_portal_settings
        .customer
        .allow_email_change
    {
        return Err(ApiError::NotPermitted(
            "Changing the email address is not allowed by the seller.".to_owned(),
        ));
    }
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    // Each request mails someone: three per customer per quarter hour.
    let bucket = format!("email-update:customer:{}", session.customer_id);
    if let Err(limited) =
        crate::http::rate_limit::hit(&txn, &bucket, EMAIL_UPDATES_PER_CUSTOMER, now).await?
    {
        return Err(ApiError::named(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            format!(
                "Too many email changes asked; try again in {} seconds.",
                limited.retry_after
            ),
        ));
    }
    let customer = store::get_in(
        &txn,
        session.organization_id,
        &CustomerKey::Id(session.customer_id),
    )
    .await?
    .ok_or_else(super::service::not_found)?;
    if customer.kind == CustomerType::Team.as_str() {
        return Err(ApiError::validation(
            Loc::body().key("email"),
            "value_error",
            "A team customer's email is changed through its members.",
            json!(email),
        ));
    }
    if customer.email_key.as_deref() == Some(email.to_lowercase().as_str()) {
        return Err(ApiError::validation(
            Loc::body().key("email"),
            "value_error",
            "This is already the customer's email address.",
            json!(email),
        ));
    }
    entity::Entity::delete_many()
        .filter(entity::Column::CustomerId.eq(customer.id))
        .exec(&txn)
        .await?;
    let token = crate::auth::token::generate(PREFIX);
    entity::Entity::insert(entity::ActiveModel {
        id: Set(Uuid::new_v4()),
        created_at: Set(now),
        organization_id: Set(session.organization_id),
        customer_id: Set(customer.id),
        email: Set(email.clone()),
        token_hash: Set(app.secret.token_hash(token.expose())),
        expires_at: Set(now + LIFETIME),
    })
    .exec_without_returning(&txn)
    .await?;
    let link = format!(
        "{}/portal/{}/verify-email?token={}",
        app.config.public_url.trim_end_matches('/'),
        organization.slug,
        token.expose()
    );
    let body = format!(
        "Hello,\n\nTo use this address for your {} purchases, confirm it within 30 minutes:\n\n\
         {link}\n\nYour confirmation token:\n\n{}\n\nIf you did not ask for this, ignore this message.\n",
        organization.name,
        token.expose()
    );
    crate::mail::queue(
        &txn,
        Some(session.organization_id),
        crate::mail::Mail {
            kind: "customer_email_update",
            to: &email,
            subject: &format!("Confirm your new email address for {}", organization.name),
            body: &body,
        },
        now,
    )
    .await?;
    txn.commit().await?;
    app.mail.notify_one();
    Ok(())
}

/// The live request whose token is `token`, if any.
async fn live_request(
    db: &impl sea_orm::ConnectionTrait,
    app: &AppState,
    token: &str,
) -> ApiResult<Option<entity::Model>> {
    if !crate::auth::token::is_well_formed(token, PREFIX) {
        return Ok(None);
    }
    Ok(entity::Entity::find()
        .filter(entity::Column::TokenHash.eq(app.secret.token_hash(token)))
        .filter(entity::Column::ExpiresAt.gt(app.clock.now()))
        .one(db)
        .await?)
}

/// `customer_portal:customers:check_email_update`: whether `token` can still be verified.
pub async fn check(app: &AppState, token: &str) -> ApiResult<()> {
    match live_request(&app.db, app, token).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::InvalidToken),
    }
}

/// `customer_portal:customers:verify_email_update`.
pub async fn verify(app: &AppState, body: EmailUpdateVerify) -> ApiResult<EmailUpdateVerified> {
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let Some(request) = live_request(&txn, app, &body.token).await? else {
        txn.rollback().await?;
        return Err(ApiError::InvalidToken);
    };
    // Used up whatever happens next.
    entity::Entity::delete_by_id(request.id).exec(&txn).await?;
    let Some(mut customer) = store::get_in(
        &txn,
        request.organization_id,
        &CustomerKey::Id(request.customer_id),
    )
    .await?
    else {
        txn.commit().await?;
        return Err(ApiError::InvalidToken);
    };
    let taken = store::by_email_in(&txn, request.organization_id, &request.email)
        .await?
        .is_some_and(|other| other.id != customer.id);
    if taken {
        txn.commit().await?;
        return Err(ApiError::validation(
            Loc::body().key("token"),
            "value_error",
            "Another customer already has this email address.",
            Value::Null,
        ));
    }
    customer.email_key = Some(request.email.to_lowercase());
    customer.email = Some(request.email);
    customer.email_verified = true;
    customer.modified_at = Some(now);
    let customer = store::update(&txn, customer).await?;
    let queued = emit_change(app, &txn, &customer, EventType::CustomerUpdated, now).await?;
    let session = crate::customer_portal::open_session(
        app,
        &txn,
        crate::customer_portal::SessionHolder::customer(customer.organization_id, customer.id),
        None,
        now,
    )
    .await?;
    app.nudge.commit(txn, queued).await?;
    Ok(EmailUpdateVerified {
        token: session.token.expose().to_owned(),
    })
}

/// Deletes the requests whose token expired before `now` (they can never be verified).
pub async fn purge_expired(
    db: &impl sea_orm::ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, sea_orm::DbErr> {
    Ok(entity::Entity::delete_many()
        .filter(entity::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}

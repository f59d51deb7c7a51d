//! Signing in to the portal with a code sent by email, for customers who come to the
//! portal page without a link from the merchant (Polar's private
//! `customer-session/request` and `customer-session/authenticate`, in its shapes).
//!
//! `request` takes an email and the organization and always answers 202 after the same
//! minimum time: whether the email belongs to a customer (or a member of a team) shows
//! neither in the answer nor in its timing. When it does, a six-character code is mailed,
//! valid for 15 minutes and once, stored as its HMAC with the organization, the customer
//! (or member) and the email it was sent to. `authenticate` trades a code for a session.
//!
//! Guessing is kept slow three ways: per IP (requests and tries, in database windows shared
//! by every floe process), per email (three codes per 15 minutes), and per code: a try
//! that names its email (the portal page always does) and misses counts against that
//! email's codes, which are burned at the fifth miss.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration as StdDuration;

use axum::extract::connect_info::ConnectInfo;
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rand::TryRngCore;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;
use uuid::Uuid;

use super::sessions::{self, Holder};
use crate::app::AppState;
use crate::customers::entity as customer;
use crate::http::rate_limit::{self, Limit, Limited};
use crate::http::{ApiError, Json, Loc, Validator};

/// Characters of a code: capitals and digits (36⁶ ≈ 2.2 billion codes).
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const CODE_LENGTH: usize = 6;
pub const CODE_LIFETIME: Duration = Duration::minutes(15);
/// Wrong tries against one email's codes before they are burned.
pub const MAX_MISSES: i64 = 5;
/// Codes mailed to one email of one organization per window.
pub const PER_EMAIL: Limit = Limit {
    calls: 3,
    window: Duration::minutes(15),
};
/// Requests and tries from one IP per window.
pub const PER_IP: Limit = Limit {
    calls: 20,
    window: Duration::minutes(15),
};
/// Every `request` answers after at least this long, known email or not.
pub const REQUEST_FLOOR: StdDuration = StdDuration::from_millis(400);

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "customer_session_codes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub created_at: DateTimeUtc,
        pub organization_id: Uuid,
        pub customer_id: Uuid,
        pub member_id: Option<Uuid>,
        /// The email the code went to, in lower case.
        pub email_key: String,
        pub code_hash: String,
        pub expires_at: DateTimeUtc,
        pub failed_attempts: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The caller's IP, when the server knows it (it serves with connection info): the peer's,
/// or, when the peer is a trusted proxy, the nearest address in `X-Forwarded-For` that is
/// not one (anything further left could be made up by the client).
pub struct ClientIp(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(Self(client_ip(
            peer,
            &parts.headers,
            &app.config.trusted_proxies,
        )))
    }
}

fn client_ip(
    peer: Option<IpAddr>,
    headers: &axum::http::HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|hop| !trusted.contains(hop))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use super::client_ip;
    use axum::http::HeaderMap;

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let proxy = "10.0.0.1".parse().unwrap();
        let client = "203.0.113.7".parse().unwrap();
        let mut headers = HeaderMap::new();
        // The client prepends a made-up hop; the proxy appends the real one.
        headers.insert("x-forwarded-for", "1.2.3.4, 203.0.113.7".parse().unwrap());
        assert_eq!(client_ip(Some(proxy), &headers, &[proxy]), Some(client));
        assert_eq!(client_ip(Some(client), &headers, &[proxy]), Some(client));
        assert_eq!(client_ip(Some(proxy), &headers, &[]), Some(proxy));
        assert_eq!(
            client_ip(Some(proxy), &HeaderMap::new(), &[proxy]),
            Some(proxy)
        );
    }
}

/// Why sign-in refused: the API's error, or a limit reached.
pub enum Refusal {
    Api(ApiError),
    Limited(Limited),
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<sea_orm::DbErr> for Refusal {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Api(error.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Api(error) => error.into_response(),
            Self::Limited(limited) => limited.into_response(),
        }
    }
}

fn invalid_code() -> ApiError {
    ApiError::named(
        StatusCode::UNAUTHORIZED,
        "CustomerSessionCodeInvalidOrExpired",
        "This customer session code is invalid or has expired.",
    )
}

async fn count(
    txn: &DatabaseTransaction,
    bucket: String,
    limit: Limit,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    rate_limit::hit(txn, &bucket, limit, now)
        .await?
        .map_err(Refusal::Limited)
}

fn ip_bucket(ip: Option<IpAddr>) -> String {
    format!(
        "sign-in:ip:{}",
        ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    )
}

/// `CustomerSessionCodeRequest`.
#[derive(Debug, serde::Deserialize)]
pub struct CodeRequest {
    pub email: String,
    pub organization_id: Uuid,
    #[serde(default)]
    pub customer_id: Option<Uuid>,
}

/// Who a code signs in for an email: the customer with that email, else a member with it
/// (the oldest, when several teams have one), narrowed to `customer_id` when given.
async fn holder_for(
    txn: &DatabaseTransaction,
    organization_id: Uuid,
    email_key: &str,
    customer_id: Option<Uuid>,
) -> Result<Option<Holder>, sea_orm::DbErr> {
    let mut customers = customer::Entity::find()
        .filter(customer::Column::OrganizationId.eq(organization_id))
        .filter(customer::Column::EmailKey.eq(email_key))
        .filter(customer::Column::DeletedAt.is_null());
    if let Some(id) = customer_id {
        customers = customers.filter(customer::Column::Id.eq(id));
    }
    if let Some(found) = customers.one(txn).await? {
        return Ok(Some(Holder::customer(organization_id, found.id)));
    }
    let member = crate::members::by_email(txn, organization_id, email_key, customer_id).await?;
    Ok(member.map(|(customer_id, member_id)| Holder {
        organization_id,
        customer_id,
        member_id: Some(member_id),
    }))
}

fn new_code() -> String {
    let mut rng = rand::rngs::OsRng.unwrap_err();
    (0..CODE_LENGTH)
        .map(|_| {
            // 256 is not a multiple of 36: draw again above the last whole multiple.
            loop {
                let byte = (rng.next_u32() & 0xff) as u8;
                if byte < 252 {
                    return ALPHABET[usize::from(byte % 36)] as char;
                }
            }
        })
        .collect()
}

/// `customer-session/request`: mails a code when the email is known; 202 either way,
/// after the same minimum time.
pub async fn request(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<CodeRequest>,
) -> Result<StatusCode, Refusal> {
    let started = tokio::time::Instant::now();
    let answer = request_code(&app, ip, body).await;
    tokio::time::sleep_until(started + REQUEST_FLOOR).await;
    answer.map(|()| StatusCode::ACCEPTED)
}

/// Mails a code when `body`'s email is known (the portal page calls this too).
pub async fn request_code(
    app: &AppState,
    ip: Option<IpAddr>,
    body: CodeRequest,
) -> Result<(), Refusal> {
    let mut validator = Validator::new();
    crate::customers::service::check_email(&body.email, &mut validator);
    validator.finish()?;
    let email_key = body.email.trim().to_lowercase();
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    count(&txn, ip_bucket(ip), PER_IP, now).await?;
    count(
        &txn,
        format!("sign-in:email:{}:{email_key}", body.organization_id),
        PER_EMAIL,
        now,
    )
    .await?;
    let organization = crate::organizations::read(&txn, body.organization_id).await?;
    let holder = match &organization {
        Some(_) => holder_for(&txn, body.organization_id, &email_key, body.customer_id).await?,
        None => None,
    };
    let (Some(organization), Some(holder)) = (organization, holder) else {
        // Nothing to send; the windows still count the call.
        txn.commit().await?;
        return Ok(());
    };
    let code = new_code();
    entity::Entity::insert(entity::ActiveModel {
        id: Set(Uuid::new_v4()),
        created_at: Set(now),
        organization_id: Set(holder.organization_id),
        customer_id: Set(holder.customer_id),
        member_id: Set(holder.member_id),
        email_key: Set(email_key),
        code_hash: Set(app.secret.token_hash(&code)),
        expires_at: Set(now + CODE_LIFETIME),
        failed_attempts: Set(0),
    })
    .exec_without_returning(&txn)
    .await?;
    let link = format!(
        "{}/portal/{}",
        app.config.public_url.trim_end_matches('/'),
        organization.slug
    );
    let text = format!(
        "Hello,\n\nYour code to sign in to your {} purchases is:\n\n{code}\n\n\
         It works once, for 15 minutes, at {link}\n\n\
         If you did not ask for it, ignore this message: nobody can sign in without it.\n",
        organization.name
    );
    crate::mail::queue(
        &txn,
        Some(holder.organization_id),
        crate::mail::Mail {
            kind: "customer_session_code",
            to: &body.email,
            subject: &format!("Your sign-in code for {}", organization.name),
            body: &text,
        },
        now,
    )
    .await?;
    txn.commit().await?;
    app.mail.notify_one();
    Ok(())
}

/// `CustomerSessionCodeAuthenticateRequest`, with the email and organization the portal
/// page adds (so that a miss counts against that email's codes).
#[derive(Debug, serde::Deserialize)]
pub struct CodeAuthenticate {
    pub code: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub organization_id: Option<Uuid>,
}

/// `CustomerSessionCodeAuthenticateResponse`.
#[derive(Debug, serde::Serialize)]
pub struct CodeAuthenticated {
    pub token: String,
}

/// `customer-session/authenticate`: a live code for a session of its customer (or member);
/// the code is used up.
pub async fn authenticate(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<CodeAuthenticate>,
) -> Result<axum::Json<CodeAuthenticated>, Refusal> {
    let token = trade(&app, ip, body).await?;
    Ok(axum::Json(CodeAuthenticated { token }))
}

/// Trades a live code for a session's token (the portal page calls this too).
pub async fn trade(
    app: &AppState,
    ip: Option<IpAddr>,
    body: CodeAuthenticate,
) -> Result<String, Refusal> {
    if body.code.len() > 64 {
        return Err(ApiError::validation(
            Loc::body().key("code"),
            "string_too_long",
            "String should have at most 64 characters",
            json!(body.code),
        )
        .into());
    }
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    count(&txn, ip_bucket(ip), PER_IP, now).await?;
    let hash = app.secret.token_hash(&body.code.trim().to_uppercase());
    let mut live = entity::Entity::find().filter(entity::Column::ExpiresAt.gt(now));
    let named = match (&body.email, body.organization_id) {
        (Some(email), Some(organization_id)) => {
            live = live
                .filter(entity::Column::OrganizationId.eq(organization_id))
                .filter(entity::Column::EmailKey.eq(email.trim().to_lowercase()));
            true
        }
        _ => {
            live = live.filter(entity::Column::CodeHash.eq(hash.clone()));
            false
        }
    };
    let candidates = live
        .order_by_asc(entity::Column::CreatedAt)
        .all(&txn)
        .await?;
    let Some(found) = candidates.iter().find(|row| row.code_hash == hash).cloned() else {
        if named {
            // A miss against a known email's codes: counted, and at the fifth they burn.
            for mut row in candidates {
                row.failed_attempts += 1;
                if row.failed_attempts >= MAX_MISSES {
                    entity::Entity::delete_by_id(row.id).exec(&txn).await?;
                } else {
                    crate::db::rows::update::<entity::Entity>(&txn, row).await?;
                }
            }
        }
        txn.commit().await?;
        return Err(invalid_code().into());
    };
    // Single use: of two tries with one code, one deletes it and the other finds nothing.
    let deleted = entity::Entity::delete_by_id(found.id).exec(&txn).await?;
    if deleted.rows_affected != 1 {
        return Err(invalid_code().into());
    }
    let holder = Holder {
        organization_id: found.organization_id,
        customer_id: found.customer_id,
        member_id: found.member_id,
    };
    let still_there = crate::customers::lock(
        &txn,
        holder.organization_id,
        &crate::customers::CustomerKey::Id(holder.customer_id),
    )
    .await?;
    let Some(row) = still_there else {
        txn.commit().await?;
        return Err(invalid_code().into());
    };
    let mut queued = 0;
    if holder.member_id.is_none() {
        // The customer just proved it reads the customer's email.
        queued += crate::customers::mark_email_verified(app, &txn, row, now).await?;
    }
    let opened = sessions::open(app, &txn, holder, None, now).await?;
    app.nudge.commit(txn, queued).await?;
    Ok(opened.token.expose().to_owned())
}

/// Deletes the codes that expired before `now`.
pub async fn purge_expired(
    db: &impl sea_orm::ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    Ok(entity::Entity::delete_many()
        .filter(entity::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}

//! Customer sessions: short-lived bearer tokens (`polar_cst_…`) that let one customer act on
//! its own records through the portal. Only the token's HMAC is stored; the token itself is
//! shown once, to whoever opened the session.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set,
    sea_query::Query,
};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::SecretToken;
use crate::customers::entity as customer;

/// Polar's customer-session prefix (its token format otherwise: see [`crate::auth::token`]).
pub const PREFIX: &str = "polar_cst_";
/// Polar's member-session prefix: a session opened for one member of the customer.
pub const MEMBER_PREFIX: &str = "polar_mst_";
/// How long a session lasts, from its opening (Polar's hour; it neither slides nor renews).
pub const LIFETIME: Duration = Duration::hours(1);

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "customer_sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub created_at: DateTimeUtc,
        pub organization_id: Uuid,
        pub customer_id: Uuid,
        /// The token's HMAC (see [`crate::auth::ServerSecret::token_hash`]).
        pub token_hash: String,
        pub expires_at: DateTimeUtc,
        /// Where the portal sends the customer back to (the merchant's site).
        pub return_url: Option<String>,
        /// The member the session is for; none for a customer session, which acts as the
        /// customer itself (every role's rights).
        pub member_id: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use entity::Model as Session;

/// A session just opened, with its token in clear (shown once).
pub struct OpenedSession {
    pub session: Session,
    pub token: SecretToken,
}

/// Who a session is opened for: a live customer of the organization, and one of its live
/// members for a member session (both checked by the caller).
#[derive(Clone, Copy, Debug)]
pub struct Holder {
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub member_id: Option<Uuid>,
}

impl Holder {
    /// A customer session's holder: the customer itself.
    pub fn customer(organization_id: Uuid, customer_id: Uuid) -> Self {
        Self {
            organization_id,
            customer_id,
            member_id: None,
        }
    }
}

/// Opens a session for `holder`, in the caller's transaction.
pub async fn open(
    app: &AppState,
    db: &impl ConnectionTrait,
    holder: Holder,
    return_url: Option<String>,
    now: DateTime<Utc>,
) -> Result<OpenedSession, DbErr> {
    let Holder {
        organization_id,
        customer_id,
        member_id,
    } = holder;
    let token = crate::auth::token::generate(if member_id.is_some() {
        MEMBER_PREFIX
    } else {
        PREFIX
    });
    let session = Session {
        id: Uuid::new_v4(),
        created_at: now,
        organization_id,
        customer_id,
        token_hash: app.secret.token_hash(token.expose()),
        expires_at: now + LIFETIME,
        return_url,
        member_id,
    };
    entity::Entity::insert(entity::ActiveModel {
        id: Set(session.id),
        created_at: Set(session.created_at),
        organization_id: Set(session.organization_id),
        customer_id: Set(session.customer_id),
        token_hash: Set(session.token_hash.clone()),
        expires_at: Set(session.expires_at),
        return_url: Set(session.return_url.clone()),
        member_id: Set(session.member_id),
    })
    .exec_without_returning(db)
    .await?;
    Ok(OpenedSession { session, token })
}

/// The live session whose token has this HMAC: not expired at `now`, and its customer (and
/// its member, for a member session) not deleted: their sessions stop working at once.
pub async fn find_live(
    app: &AppState,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>, DbErr> {
    let live_customers = Query::select()
        .column(customer::Column::Id)
        .from(customer::Entity)
        .and_where(customer::Column::DeletedAt.is_null())
        .to_owned();
    let rows = app
        .reader
        .all(
            entity::Entity::find()
                .filter(entity::Column::TokenHash.eq(token_hash))
                .filter(entity::Column::ExpiresAt.gt(now))
                .filter(entity::Column::CustomerId.in_subquery(live_customers))
                .filter(
                    Condition::any()
                        .add(entity::Column::MemberId.is_null())
                        .add(entity::Column::MemberId.in_subquery(crate::members::live_ids())),
                )
                .limit(1),
        )
        .await?;
    Ok(rows.into_iter().next())
}

/// Deletes the sessions that expired before `now` (they can never authenticate again).
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(entity::Entity::delete_many()
        .filter(entity::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}

/// `CustomerSessionCustomerIDCreate` and `CustomerSessionCustomerExternalIDCreate`: the
/// customer by floe's ID or by the merchant's, and optionally one of its members (by ID or
/// external ID) for a member session.
#[derive(Debug, serde::Deserialize)]
pub struct SessionCreate {
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    #[serde(default, alias = "customer_external_id")]
    pub external_customer_id: Option<String>,
    #[serde(default)]
    pub member_id: Option<Uuid>,
    #[serde(default)]
    pub external_member_id: Option<String>,
    #[serde(default)]
    pub return_url: Option<String>,
}

/// `CustomerSession`: the session with its token (shown only here) and its customer.
#[derive(Debug, serde::Serialize)]
pub struct CustomerSession {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub return_url: Option<String>,
    pub customer_portal_url: String,
    pub customer_id: Uuid,
    pub customer: crate::customers::schema::Customer,
}

/// Where a customer opens the portal with a session: floe's hosted portal page, which
/// trades the token in the link for a cookie.
pub fn portal_url(public_url: &str, organization_slug: &str, token: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    // RFC 3986's unreserved characters stay as they are.
    const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    format!(
        "{}/portal/{}?customer_session_token={}",
        public_url.trim_end_matches('/'),
        utf8_percent_encode(organization_slug, COMPONENT),
        utf8_percent_encode(token, COMPONENT)
    )
}

/// `customer-sessions:create`: opens a session for a live customer of `organization_id`.
pub async fn create(
    app: &AppState,
    organization_id: Uuid,
    body: SessionCreate,
) -> crate::http::ApiResult<CustomerSession> {
    use crate::customers::CustomerKey;
    use crate::http::{ApiError, Loc, Validator};

    let (key, field, input) =
        CustomerKey::from_body(body.customer_id, body.external_customer_id.as_deref())?;
    let mut validator = Validator::new();
    if let Some(url) = &body.return_url {
        crate::http::fields::http_url(url, &Loc::body().key("return_url"), &mut validator);
    }
    validator.finish()?;

    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let customer = crate::customers::purchase::find(&txn, organization_id, key)
        .await?
        .ok_or_else(|| {
            ApiError::validation(
                Loc::body().key(field),
                "value_error",
                "Customer does not exist.",
                input,
            )
        })?;
    let member = crate::members::for_session(
        &txn,
        customer.id,
        body.member_id,
        body.external_member_id.as_deref(),
    )
    .await?;
    let slug = crate::organizations::slug_of(&txn, organization_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let holder = Holder {
        organization_id,
        customer_id: customer.id,
        member_id: member,
    };
    let opened = open(app, &txn, holder, body.return_url, now).await?;
    txn.commit().await?;
    let session = opened.session;
    Ok(CustomerSession {
        created_at: session.created_at,
        modified_at: None,
        id: session.id,
        customer_portal_url: portal_url(&app.config.public_url, &slug, opened.token.expose()),
        token: opened.token.expose().to_owned(),
        expires_at: session.expires_at,
        return_url: session.return_url,
        customer_id: customer.id,
        customer: crate::customers::schema::Customer::from(&customer),
    })
}

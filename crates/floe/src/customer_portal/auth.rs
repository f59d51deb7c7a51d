//! Who is calling a portal operation: the customer of a live customer session.
//!
//! As at Polar, the portal and the merchant API take different kinds of token and neither
//! reaches the other: an organization access token here is 401 `Unauthorized` (the route
//! does not know that kind of caller), and a session token on a merchant route is 401 too
//! (the merchant extractor accepts only `polar_oat_` tokens). A session token that is
//! malformed, unknown or expired is 401 `invalid_token`. Sessions carry no scopes to check:
//! every session may read and write its own customer's records (Polar gives each session
//! `customer_portal:write`). What a member session may do depends on its member's role:
//! [`BillingSession`] keeps plain members out of billing (403), [`MemberManagerSession`]
//! lets only owners and billing managers manage members (a customer session is 401 there,
//! as at Polar, since those routes serve members only).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::sessions;
use crate::app::AppState;
use crate::auth::token;
use crate::http::ApiError;
use crate::members::schema::Role;

/// The customer a portal request acts for, and its session.
#[derive(Clone, Debug)]
pub struct PortalSession {
    pub session_id: Uuid,
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    /// The member of a member session (with its role as it is now, not as it was when the
    /// session was opened); none for a customer session.
    pub member: Option<SessionMember>,
    pub expires_at: DateTime<Utc>,
    pub return_url: Option<String>,
}

/// The member a member session is for.
#[derive(Clone, Copy, Debug)]
pub struct SessionMember {
    pub id: Uuid,
    pub role: Role,
}

impl PortalSession {
    /// Whether the caller may see and change billing: the customer itself, or an owner or
    /// billing manager of it.
    pub fn may_bill(&self) -> bool {
        self.member.is_none_or(|member| member.role != Role::Member)
    }
}

impl<S> FromRequestParts<S> for PortalSession
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        let token = crate::auth::bearer_token(&parts.headers).ok_or(ApiError::Unauthorized)?;
        Self::from_token(&app, token).await
    }
}

impl PortalSession {
    /// The live session `token` opens (a bearer token, or the hosted portal's cookie).
    pub async fn from_token(app: &AppState, token: &str) -> Result<Self, ApiError> {
        let is_session = [sessions::PREFIX, sessions::MEMBER_PREFIX]
            .iter()
            .any(|prefix| token::is_well_formed(token, prefix));
        if !is_session {
            // A well-formed token of another kind is a caller this route does not serve;
            // anything else is simply not a token.
            return Err(
                if token::is_well_formed(token, token::ORGANIZATION_ACCESS_TOKEN_PREFIX) {
                    ApiError::Unauthorized
                } else {
                    ApiError::InvalidToken
                },
            );
        }
        let hash = app.secret.token_hash(token);
        let session = sessions::find_live(app, &hash, app.clock.now())
            .await?
            .ok_or(ApiError::InvalidToken)?;
        // The lookup went through an index; decide in constant time all the same.
        if !bool::from(session.token_hash.as_bytes().ct_eq(hash.as_bytes())) {
            return Err(ApiError::InvalidToken);
        }
        let member = match session.member_id {
            None => None,
            Some(id) => {
                let role = crate::members::live_member(&app.reader, session.customer_id, id)
                    .await?
                    .and_then(|member| Role::parse(&member.role))
                    .ok_or(ApiError::InvalidToken)?;
                Some(SessionMember { id, role })
            }
        };
        Ok(Self {
            session_id: session.id,
            organization_id: session.organization_id,
            customer_id: session.customer_id,
            member,
            expires_at: session.expires_at,
            return_url: session.return_url,
        })
    }
}

/// A portal session that may see and change billing (orders, invoices, payment methods,
/// wallets, billing details, subscription changes, seat assignment, email change): a
/// customer session, or a member session of an owner or billing manager. A plain member is
/// 403 `NotPermitted`.
pub struct BillingSession(pub PortalSession);

impl<S> FromRequestParts<S> for BillingSession
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = PortalSession::from_request_parts(parts, state).await?;
        if !session.may_bill() {
            return Err(ApiError::NotPermitted(
                "Only owners and billing managers can access billing features.".to_owned(),
            ));
        }
        Ok(Self(session))
    }
}

/// A member session of an owner or billing manager, for managing the customer's members.
/// A customer session is 401 (these routes serve members only, as at Polar); a plain
/// member is 403. Whether the customer is a team is the operation's to check.
pub struct MemberManagerSession {
    pub session: PortalSession,
    pub member: SessionMember,
}

impl<S> FromRequestParts<S> for MemberManagerSession
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = PortalSession::from_request_parts(parts, state).await?;
        let member = session.member.ok_or(ApiError::Unauthorized)?;
        if member.role == Role::Member {
            return Err(ApiError::NotPermitted(
                "Only owners and billing managers can manage members.".to_owned(),
            ));
        }
        Ok(Self { session, member })
    }
}

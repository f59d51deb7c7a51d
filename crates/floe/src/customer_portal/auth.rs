//! Who is calling a portal operation: the customer of a live customer session.
//!
//! As at Polar, the portal and the merchant API take different kinds of token and neither
//! reaches the other: an organization access token here is 401 `Unauthorized` (the route
//! does not know that kind of caller), and a session token on a merchant route is 401 too
//! (the merchant extractor accepts only `polar_oat_` tokens). A session token that is
//! malformed, unknown or expired is 401 `invalid_token`. Sessions carry no scopes to check:
//! every session may read and write its own customer's records (Polar gives each session
//! `customer_portal:write`).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::sessions;
use crate::app::AppState;
use crate::auth::token;
use crate::http::ApiError;

/// The customer a portal request acts for, and its session.
#[derive(Clone, Debug)]
pub struct PortalSession {
    pub session_id: Uuid,
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub return_url: Option<String>,
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
        if !token::is_well_formed(token, sessions::PREFIX) {
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
        let session = sessions::find_live(&app, &hash, app.clock.now())
            .await?
            .ok_or(ApiError::InvalidToken)?;
        // The lookup went through an index; decide in constant time all the same.
        if !bool::from(session.token_hash.as_bytes().ct_eq(hash.as_bytes())) {
            return Err(ApiError::InvalidToken);
        }
        Ok(Self {
            session_id: session.id,
            organization_id: session.organization_id,
            customer_id: session.customer_id,
            expires_at: session.expires_at,
            return_url: session.return_url,
        })
    }
}

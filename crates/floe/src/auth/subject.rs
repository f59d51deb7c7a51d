//! The [`Authorized`] extractor: authenticates the bearer token and checks that it carries
//! one of the scopes the operation accepts. Missing credentials are 401 `Unauthorized`,
//! bad ones 401 `invalid_token`, a missing scope 403 `insufficient_scope`.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::scope::Scope;
use super::store;
use super::token::{self, ORGANIZATION_ACCESS_TOKEN_PREFIX};
use crate::app::AppState;
use crate::http::ApiError;

/// Who is calling, and with which scopes.
///
/// Today the only subject is an organization (an organization access token); user tokens
/// will add their subject here, and `organization_id` will become the set of
/// organizations the subject may act on.
#[derive(Clone, Debug)]
pub struct AuthSubject {
    pub organization_id: Uuid,
    pub scopes: Vec<Scope>,
    pub token_id: Uuid,
}

/// The scopes an operation accepts (any one suffices), as a type so each domain can name
/// its own: `Authorized<FilesWrite>`.
pub trait RequiredScopes {
    const SCOPES: &'static [Scope];
}

/// An authenticated caller allowed to run the operation `R` guards.
#[derive(Debug)]
pub struct Authorized<R> {
    pub subject: AuthSubject,
    _scopes: PhantomData<R>,
}

impl<R> std::ops::Deref for Authorized<R> {
    type Target = AuthSubject;

    fn deref(&self) -> &AuthSubject {
        &self.subject
    }
}

impl<S, R> FromRequestParts<S> for Authorized<R>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    R: RequiredScopes,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        let subject = authenticate(&app, parts).await?;
        if !R::SCOPES.iter().any(|s| subject.scopes.contains(s)) {
            return Err(ApiError::InsufficientScope(R::SCOPES.to_vec()));
        }
        Ok(Self {
            subject,
            _scopes: PhantomData,
        })
    }
}

/// The bearer token of the request, if it has one.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

async fn authenticate(app: &AppState, parts: &Parts) -> Result<AuthSubject, ApiError> {
    authenticate_headers(app, &parts.headers).await
}

/// Authenticates the bearer token in `headers` (for middleware that needs the caller
/// before the handler runs).
pub async fn authenticate_headers(
    app: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<AuthSubject, ApiError> {
    let token = bearer_token(headers).ok_or(ApiError::Unauthorized)?;
    if !token::is_well_formed(token, ORGANIZATION_ACCESS_TOKEN_PREFIX) {
        return Err(ApiError::InvalidToken);
    }
    let hash = app.secret.token_hash(token);
    let now = app.clock.now();
    if let Some(subject) = app.tokens.get(&hash, now) {
        return Ok(subject);
    }
    let row = store::find_active_by_hash(&app.db, &hash, now)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    // The lookup went through an index on the hash; compare again in constant time so
    // that the decision itself never depends on where two hashes first differ.
    if !bool::from(row.token_hash.as_bytes().ct_eq(hash.as_bytes())) {
        return Err(ApiError::InvalidToken);
    }
    let subject = AuthSubject {
        organization_id: row.organization_id,
        scopes: Scope::parse_list(&row.scopes),
        token_id: row.id,
    };
    app.tokens.insert(hash, subject.clone(), row.expires_at);
    Ok(subject)
}

//! `Idempotency-Key` on every `POST`: a client that retries a request (after a timeout, a
//! dropped connection) with the same key and the same body gets the first response again,
//! status and body, without the operation running twice. The same key with a different
//! body is a 422; the same key while the first request still runs is a 409. Keys are
//! scoped to the organization and kept 24 hours.
//!
//! How: the key is recorded (as "in progress") before the handler runs, and the response
//! after. A response of 5xx is not kept, since nothing was committed and a retry should
//! run again. If floe dies between the handler's commit and recording its response, the
//! key stays "in progress"; once it is older than the request timeout a retry runs the
//! request again. That window (a crash between two commits) is the one way a retry can
//! repeat an effect.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set, entity::prelude::*,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{ApiError, Loc};
use crate::app::{AppState, BODY_LIMIT};

/// How long a key is remembered.
pub const RETENTION: TimeDelta = TimeDelta::hours(24);
const MAX_KEY_CHARS: usize = 255;
/// Largest response kept for replay; larger ones are passed through and the key dropped.
const MAX_STORED_RESPONSE: usize = 1024 * 1024;
pub const HEADER: &str = "idempotency-key";

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub organization_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub created_at: DateTimeUtc,
        /// SHA-256 of the method, path and body.
        pub fingerprint: String,
        /// `None` while the first request runs.
        pub status: Option<i32>,
        pub content_type: Option<String>,
        pub body: Option<Vec<u8>>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{Column, Entity, Model};

pub async fn middleware(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(HEADER).cloned() else {
        return next.run(request).await;
    };
    let key = match key.to_str() {
        Ok(k) if !k.trim().is_empty() && k.chars().count() <= MAX_KEY_CHARS => k.to_owned(),
        _ => {
            return ApiError::validation(
                Loc(vec![
                    super::error::LocPart::Key("header".to_owned()),
                    super::error::LocPart::Key(HEADER.to_owned()),
                ]),
                "string_type",
                format!(
                    "The Idempotency-Key header must be 1 to {MAX_KEY_CHARS} visible characters"
                ),
                Value::Null,
            )
            .into_response();
        }
    };
    // Unauthenticated requests are refused by the handler; no key is recorded for them.
    let Ok(subject) = crate::auth::authenticate_headers(&app, request.headers()).await else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::PayloadTooLarge("The request body is larger than 10 MiB.".to_owned())
                .into_response();
        }
    };
    let fingerprint = {
        let mut hasher = Sha256::new();
        hasher.update(parts.method.as_str().as_bytes());
        hasher.update(b" ");
        hasher.update(
            parts
                .uri
                .path()
                .trim_end_matches('/')
                .trim_start_matches("/api")
                .as_bytes(),
        );
        hasher.update(b"\n");
        hasher.update(&bytes);
        hex::encode(hasher.finalize())
    };
    let now = app.clock.now();
    match reserve(&app, subject.organization_id, &key, &fingerprint, now).await {
        Ok(Reservation::Run) => {}
        Ok(Reservation::Replay(stored)) => return replay(stored),
        Ok(Reservation::Mismatch) => {
            return ApiError::validation(
                Loc(vec![
                    super::error::LocPart::Key("header".to_owned()),
                    super::error::LocPart::Key(HEADER.to_owned()),
                ]),
                "value_error",
                "This Idempotency-Key was already used with a different request.",
                Value::String(key),
            )
            .into_response();
        }
        Ok(Reservation::InProgress) => {
            return ApiError::ResourceAlreadyExists(
                "A request with this Idempotency-Key is still being processed; retry later."
                    .to_owned(),
            )
            .into_response();
        }
        Err(error) => return ApiError::from(error).into_response(),
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, MAX_STORED_RESPONSE).await {
        Ok(body) => body,
        Err(_) => {
            forget(&app.db, subject.organization_id, &key).await;
            return ApiError::internal(anyhow::anyhow!("response too large to keep for replay"))
                .into_response();
        }
    };
    if parts.status.is_server_error() {
        forget(&app.db, subject.organization_id, &key).await;
    } else {
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let saved = Entity::update_many()
            .col_expr(
                Column::Status,
                Expr::value(i32::from(parts.status.as_u16())),
            )
            .col_expr(Column::ContentType, Expr::value(content_type))
            .col_expr(Column::Body, Expr::value(body.to_vec()))
            .filter(Column::OrganizationId.eq(subject.organization_id))
            .filter(Column::Key.eq(key.as_str()))
            .exec(&app.db)
            .await;
        if let Err(error) = saved {
            tracing::warn!(error = %error, "recording an idempotent response failed");
        }
    }
    Response::from_parts(parts, Body::from(body))
}

enum Reservation {
    /// The key is ours now: run the request.
    Run,
    Replay(Model),
    Mismatch,
    InProgress,
}

async fn reserve(
    app: &AppState,
    organization_id: Uuid,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<Reservation, DbErr> {
    let inserted = Entity::insert(entity::ActiveModel {
        organization_id: Set(organization_id),
        key: Set(key.to_owned()),
        created_at: Set(now),
        fingerprint: Set(fingerprint.to_owned()),
        status: Set(None),
        content_type: Set(None),
        body: Set(None),
    })
    .on_conflict(
        OnConflict::columns([Column::OrganizationId, Column::Key])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&app.db)
    .await?;
    if inserted == 1 {
        return Ok(Reservation::Run);
    }
    let Some(existing) = Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::Key.eq(key))
        .one(&app.db)
        .await?
    else {
        // Forgotten in between (its request failed); this one runs.
        return Box::pin(reserve(app, organization_id, key, fingerprint, now)).await;
    };
    let expired = existing.created_at < now - RETENTION;
    let abandoned = existing.status.is_none()
        && existing.created_at
            < now
                - TimeDelta::from_std(app.config.request_timeout).unwrap_or(TimeDelta::MAX)
                - TimeDelta::seconds(5);
    if expired || (abandoned && existing.fingerprint == fingerprint) {
        // Take it over, unless another retry just did.
        let taken = Entity::update_many()
            .col_expr(Column::CreatedAt, Expr::value(now))
            .col_expr(Column::Fingerprint, Expr::value(fingerprint))
            .col_expr(Column::Status, Expr::value(Option::<i32>::None))
            .col_expr(Column::ContentType, Expr::value(Option::<String>::None))
            .col_expr(Column::Body, Expr::value(Option::<Vec<u8>>::None))
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(Column::Key.eq(key))
            .filter(Column::CreatedAt.eq(existing.created_at))
            .exec(&app.db)
            .await?;
        return Ok(if taken.rows_affected == 1 {
            Reservation::Run
        } else {
            Reservation::InProgress
        });
    }
    if existing.fingerprint != fingerprint {
        return Ok(Reservation::Mismatch);
    }
    if existing.status.is_none() {
        return Ok(Reservation::InProgress);
    }
    Ok(Reservation::Replay(existing))
}

async fn forget(db: &DatabaseConnection, organization_id: Uuid, key: &str) {
    let result = Entity::delete_many()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::Key.eq(key))
        .exec(db)
        .await;
    if let Err(error) = result {
        tracing::warn!(error = %error, "forgetting an idempotency key failed");
    }
}

fn replay(stored: Model) -> Response {
    let status = u16::try_from(stored.status.unwrap_or(200))
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body.unwrap_or_default()).into_response();
    if let Some(content_type) = stored
        .content_type
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// Removes keys older than [`RETENTION`]; run by the sweep.
pub async fn purge_expired(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let result = Entity::delete_many()
        .filter(Column::CreatedAt.lt(now - RETENTION))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

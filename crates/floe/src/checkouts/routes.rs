//! Handlers of the checkouts API: the merchant's (with a token) and the buyer's (with the
//! checkout's client secret).

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::offer::Offers;
use super::schema::{
    Checkout, CheckoutCreate, CheckoutPatch, CheckoutPublic, CheckoutPublicConfirmed,
    CheckoutSortProperty,
};
use super::{confirm, present, service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiResult, IdPath, Json, JsonWithText, ListResource, Pagination, QueryParams};

/// `checkouts:read` or `checkouts:write`.
pub struct CheckoutsRead;

impl RequiredScopes for CheckoutsRead {
    const SCOPES: &'static [Scope] = &[Scope::CheckoutsRead, Scope::CheckoutsWrite];
}

/// `checkouts:write`.
pub struct CheckoutsWrite;

impl RequiredScopes for CheckoutsWrite {
    const SCOPES: &'static [Scope] = &[Scope::CheckoutsWrite];
}

/// `checkouts:list`.
pub async fn list(
    auth: Authorized<CheckoutsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Checkout>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(CheckoutSortProperty::CreatedAt, Direction::Descending)])?;
    let external: Vec<String> = query
        .all("external_customer_id")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let filter = store::ListFilter {
        product_ids: query.uuids("product_id")?,
        customer_ids: query.uuids("customer_id")?,
        external_customer_ids: (!external.is_empty()).then_some(external),
        statuses: query.enums("status")?,
        query: query.text("query"),
    };
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    let (rows, total) = store::list(
        &app.reader,
        auth.organization_id,
        &filter,
        &sorting,
        pagination,
    )
    .await?;
    let offers = Offers::load(
        (&app.reader).into(),
        app.storage.as_ref(),
        auth.organization_id,
        &rows,
    )
    .await?;
    let checkouts = rows
        .iter()
        .map(|row| present::checkout(&app.config.public_url, row, &offers))
        .collect();
    Ok(axum::Json(ListResource::new(checkouts, total, pagination)))
}

/// `checkouts:create`.
pub async fn create(
    auth: Authorized<CheckoutsWrite>,
    State(app): State<AppState>,
    body: JsonWithText<CheckoutCreate>,
) -> ApiResult<(StatusCode, axum::Json<Checkout>)> {
    let checkout = service::create(
        &app,
        auth.organization_id,
        body.value,
        &body.text,
        service::Origin::Api,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(checkout)))
}

/// `checkouts:get`.
pub async fn get(
    auth: Authorized<CheckoutsRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Checkout>> {
    let row = store::get((&app.reader).into(), auth.organization_id, id)
        .await?
        .ok_or_else(service::not_found)?;
    let offers = Offers::load(
        (&app.reader).into(),
        app.storage.as_ref(),
        auth.organization_id,
        std::slice::from_ref(&row),
    )
    .await?;
    Ok(axum::Json(present::checkout(
        &app.config.public_url,
        &row,
        &offers,
    )))
}

/// `checkouts:update`.
pub async fn update(
    auth: Authorized<CheckoutsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<CheckoutPatch>,
) -> ApiResult<axum::Json<Checkout>> {
    Ok(axum::Json(
        service::update(&app, auth.organization_id, id, body).await?,
    ))
}

/// `checkouts:client_get`.
pub async fn client_get(
    State(app): State<AppState>,
    Path(client_secret): Path<String>,
) -> ApiResult<axum::Json<CheckoutPublic>> {
    let row = super::by_client_secret(&app, &client_secret).await?;
    Ok(axum::Json(super::show_public(&app, &row).await?))
}

/// `checkouts:client_update`.
pub async fn client_update(
    State(app): State<AppState>,
    Path(client_secret): Path<String>,
    Json(body): Json<CheckoutPatch>,
) -> ApiResult<axum::Json<CheckoutPublic>> {
    let found = super::by_client_secret(&app, &client_secret).await?;
    let (row, offers) = service::update_by_buyer(&app, found.id, body).await?;
    Ok(axum::Json(
        super::show_public_offered(&app, &row, &offers).await?,
    ))
}

/// `checkouts:client_confirm`.
pub async fn client_confirm(
    State(app): State<AppState>,
    Path(client_secret): Path<String>,
    Json(body): Json<CheckoutPatch>,
) -> ApiResult<axum::Json<CheckoutPublicConfirmed>> {
    Ok(axum::Json(
        confirm::confirm(&app, &client_secret, body).await?,
    ))
}

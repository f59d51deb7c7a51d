//! Handlers of the products API.

use axum::extract::State;
use axum::http::StatusCode;

use super::literals::PriceLiterals;
use super::schema::{
    Product, ProductBenefitsUpdate, ProductCreate, ProductSortProperty, ProductUpdate,
    ProductVisibility,
};
use super::{present, service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiResult, IdPath, Json, JsonWithText, ListResource, Pagination, QueryParams};

/// `products:read` or `products:write`.
pub struct ProductsRead;

impl RequiredScopes for ProductsRead {
    const SCOPES: &'static [Scope] = &[Scope::ProductsRead, Scope::ProductsWrite];
}

/// `products:write`.
pub struct ProductsWrite;

impl RequiredScopes for ProductsWrite {
    const SCOPES: &'static [Scope] = &[Scope::ProductsWrite];
}

/// `products:list`.
pub async fn list(
    auth: Authorized<ProductsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Product>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(ProductSortProperty::CreatedAt, Direction::Descending)])?;
    let filter = store::ListFilter {
        ids: query.uuids("id")?,
        query: query.text("query"),
        is_archived: query.boolean("is_archived")?,
        is_recurring: query.boolean("is_recurring")?,
        benefit_ids: query.uuids("benefit_id")?,
        visibility: query.enums::<ProductVisibility>("visibility")?,
        metadata: crate::metadata::query_filter(&query)?,
    };
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    let (rows, total) = store::list(
        &app.reader,
        app.db.get_database_backend(),
        auth.organization_id,
        &filter,
        &sorting,
        pagination,
    )
    .await?;
    let products = present::products(
        (&app.reader).into(),
        app.storage.as_ref(),
        auth.organization_id,
        &rows,
    )
    .await?;
    Ok(axum::Json(ListResource::new(products, total, pagination)))
}

/// `products:create`.
pub async fn create(
    auth: Authorized<ProductsWrite>,
    State(app): State<AppState>,
    body: JsonWithText<ProductCreate>,
) -> ApiResult<(StatusCode, axum::Json<Product>)> {
    let literals = PriceLiterals::read(&body.text);
    let product = service::create(&app, auth.organization_id, body.value, &literals).await?;
    Ok((StatusCode::CREATED, axum::Json(product)))
}

/// `products:get`.
pub async fn get(
    auth: Authorized<ProductsRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Product>> {
    let row = store::get((&app.reader).into(), auth.organization_id, id)
        .await?
        .ok_or_else(service::not_found)?;
    let mut products = present::products(
        (&app.reader).into(),
        app.storage.as_ref(),
        auth.organization_id,
        std::slice::from_ref(&row),
    )
    .await?;
    products
        .pop()
        .map(axum::Json)
        .ok_or_else(service::not_found)
}

/// `products:update`.
pub async fn update(
    auth: Authorized<ProductsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    body: JsonWithText<ProductUpdate>,
) -> ApiResult<axum::Json<Product>> {
    let literals = PriceLiterals::read(&body.text);
    Ok(axum::Json(
        service::update(&app, auth.organization_id, id, body.value, &literals).await?,
    ))
}

/// `products:update_benefits`.
pub async fn update_benefits(
    auth: Authorized<ProductsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<ProductBenefitsUpdate>,
) -> ApiResult<axum::Json<Product>> {
    Ok(axum::Json(
        service::update_benefits(&app, auth.organization_id, id, body).await?,
    ))
}

/// `products:delete` (in the SDKs, newer than the contract).
pub async fn delete(
    auth: Authorized<ProductsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    service::delete(&app, auth.organization_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Handlers of the customers API, by floe's ID and by the caller's external ID.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::payment_methods::{self, PaymentMethod};
use super::schema::{
    Customer, CustomerCreate, CustomerSortProperty, CustomerState, CustomerUpdate,
};
use super::service;
use super::store::{self, CustomerKey};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiResult, IdPath, Json, ListResource, Pagination, QueryParams};

/// `customers:read` or `customers:write`.
pub struct CustomersRead;

impl RequiredScopes for CustomersRead {
    const SCOPES: &'static [Scope] = &[Scope::CustomersRead, Scope::CustomersWrite];
}

/// `customers:write`.
pub struct CustomersWrite;

impl RequiredScopes for CustomersWrite {
    const SCOPES: &'static [Scope] = &[Scope::CustomersWrite];
}

pub async fn list(
    auth: Authorized<CustomersRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Customer>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(CustomerSortProperty::CreatedAt, Direction::Descending)])?;
    let filter = store::ListFilter {
        email: query.last("email").map(str::to_owned),
        query: query.last("query").map(str::to_owned),
        active: query.boolean("active")?,
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
    let items = rows.iter().map(Customer::from).collect();
    Ok(axum::Json(ListResource::new(items, total, pagination)))
}

pub async fn create(
    auth: Authorized<CustomersWrite>,
    State(app): State<AppState>,
    Json(body): Json<CustomerCreate>,
) -> ApiResult<(StatusCode, axum::Json<Customer>)> {
    let customer = service::create(&app, auth.organization_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(customer)))
}

pub async fn export(
    auth: Authorized<CustomersRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<Response> {
    let visible = query.allows_organization(auth.organization_id)?;
    let csv = if visible {
        service::export(&app, auth.organization_id).await?
    } else {
        service::export(&app, uuid::Uuid::nil()).await?
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"polar-customers.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

async fn get_by(
    app: &AppState,
    organization_id: uuid::Uuid,
    key: &CustomerKey,
) -> ApiResult<Customer> {
    let row = store::get(&app.reader, organization_id, key)
        .await?
        .ok_or_else(service::not_found)?;
    Ok(Customer::from(&row))
}

pub async fn get(
    auth: Authorized<CustomersRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Customer>> {
    Ok(axum::Json(
        get_by(&app, auth.organization_id, &CustomerKey::Id(id)).await?,
    ))
}

pub async fn get_external(
    auth: Authorized<CustomersRead>,
    State(app): State<AppState>,
    Path(external_id): Path<String>,
) -> ApiResult<axum::Json<Customer>> {
    Ok(axum::Json(
        get_by(
            &app,
            auth.organization_id,
            &CustomerKey::External(external_id),
        )
        .await?,
    ))
}

pub async fn update(
    auth: Authorized<CustomersWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(patch): Json<CustomerUpdate>,
) -> ApiResult<axum::Json<Customer>> {
    Ok(axum::Json(
        service::update(&app, auth.organization_id, CustomerKey::Id(id), patch).await?,
    ))
}

/// `CustomerUpdateExternalID` has no `external_id` or `type`: they are ignored if sent.
pub async fn update_external(
    auth: Authorized<CustomersWrite>,
    State(app): State<AppState>,
    Path(external_id): Path<String>,
    Json(mut patch): Json<CustomerUpdate>,
) -> ApiResult<axum::Json<Customer>> {
    patch.external_id = None;
    patch.kind = None;
    Ok(axum::Json(
        service::update(
            &app,
            auth.organization_id,
            CustomerKey::External(external_id),
            patch,
        )
        .await?,
    ))
}

pub async fn delete(
    auth: Authorized<CustomersWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    query: QueryParams,
) -> ApiResult<StatusCode> {
    let anonymize = query.boolean("anonymize")?.unwrap_or(false);
    service::delete(&app, auth.organization_id, CustomerKey::Id(id), anonymize).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_external(
    auth: Authorized<CustomersWrite>,
    State(app): State<AppState>,
    Path(external_id): Path<String>,
    query: QueryParams,
) -> ApiResult<StatusCode> {
    let anonymize = query.boolean("anonymize")?.unwrap_or(false);
    service::delete(
        &app,
        auth.organization_id,
        CustomerKey::External(external_id),
        anonymize,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn state(
    auth: Authorized<CustomersRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<CustomerState>> {
    let customer = get_by(&app, auth.organization_id, &CustomerKey::Id(id)).await?;
    state_of(&app, customer).await
}

pub async fn state_external(
    auth: Authorized<CustomersRead>,
    State(app): State<AppState>,
    Path(external_id): Path<String>,
) -> ApiResult<axum::Json<CustomerState>> {
    let customer = get_by(
        &app,
        auth.organization_id,
        &CustomerKey::External(external_id),
    )
    .await?;
    state_of(&app, customer).await
}

/// A customer with what it has access to now: its subscriptions, granted benefits and
/// active meters.
async fn state_of(app: &AppState, customer: Customer) -> ApiResult<axum::Json<CustomerState>> {
    Ok(axum::Json(
        service::state(app, (&app.reader).into(), customer).await?,
    ))
}

/// `customers:list_payment_methods`: the customer's saved payment methods.
pub async fn payment_methods(
    auth: Authorized<CustomersRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<PaymentMethod>>> {
    methods_of(&app, auth.organization_id, CustomerKey::Id(id), &query).await
}

pub async fn payment_methods_external(
    auth: Authorized<CustomersRead>,
    State(app): State<AppState>,
    Path(external_id): Path<String>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<PaymentMethod>>> {
    methods_of(
        &app,
        auth.organization_id,
        CustomerKey::External(external_id),
        &query,
    )
    .await
}

async fn methods_of(
    app: &AppState,
    organization_id: uuid::Uuid,
    key: CustomerKey,
    query: &QueryParams,
) -> ApiResult<axum::Json<ListResource<PaymentMethod>>> {
    let pagination = Pagination::from_query(query)?;
    let customer = store::get(&app.reader, organization_id, &key)
        .await?
        .ok_or_else(service::not_found)?;
    let (items, total) = payment_methods::list(&app.reader, &customer, pagination).await?;
    Ok(axum::Json(ListResource::new(items, total, pagination)))
}

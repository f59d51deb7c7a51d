//! Handlers of the payments API.

use axum::extract::State;

use super::schema::{Payment, PaymentSortProperty};
use super::{present, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiError, ApiResult, IdPath, ListResource, Pagination, QueryParams};

/// `payments:read`.
pub struct PaymentsRead;

impl RequiredScopes for PaymentsRead {
    const SCOPES: &'static [Scope] = &[Scope::PaymentsRead];
}

/// `payments:list`.
pub async fn list(
    auth: Authorized<PaymentsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Payment>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(PaymentSortProperty::CreatedAt, Direction::Descending)])?;
    let mut filter = store::ListFilter {
        checkout_ids: query.uuids("checkout_id")?,
        order_ids: query.uuids("order_id")?,
        customer_ids: query.uuids("customer_id")?,
        statuses: query.enums("status")?,
        methods: Some(query.all("method").into_iter().map(str::to_owned).collect())
            .filter(|methods: &Vec<String>| !methods.is_empty()),
    };
    let emails: Vec<&str> = query.all("customer_email");
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    if !emails.is_empty() {
        let ids =
            crate::customers::ids_by_emails(&app.reader, auth.organization_id, &emails).await?;
        filter.customer_ids = Some(match filter.customer_ids {
            Some(given) => given.into_iter().filter(|id| ids.contains(id)).collect(),
            None => ids,
        });
    }
    let (rows, total) = store::list(
        &app.reader,
        auth.organization_id,
        &filter,
        &sorting,
        pagination,
    )
    .await?;
    let payments = rows.iter().map(present::payment).collect();
    Ok(axum::Json(ListResource::new(payments, total, pagination)))
}

/// `payments:get`.
pub async fn get(
    auth: Authorized<PaymentsRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Payment>> {
    let row = store::get((&app.reader).into(), auth.organization_id, id)
        .await?
        .ok_or_else(|| ApiError::ResourceNotFound("Payment not found.".to_owned()))?;
    Ok(axum::Json(present::payment(&row)))
}

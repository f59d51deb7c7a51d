//! The session's customer's meters through the portal (`customer_portal:customer_meters:*`),
//! computed as the merchant's are and shown as `CustomerCustomerMeter` (the meter's name,
//! not its definition).

use serde_json::Value;
use uuid::Uuid;

use super::routes::{SortBy, all, sort};
use crate::app::AppState;
use crate::customer_portal::auth::PortalSession;
use crate::customer_portal::present;
use crate::http::pagination::Direction;
use crate::http::{ApiError, ApiResult, ListResource, Pagination, QueryParams};

/// `customer_portal:customer_meters:list`: the customer's meters on active (not archived)
/// meters, `query` matching the meter's name.
pub async fn list(
    app: &AppState,
    session: &PortalSession,
    query: &QueryParams,
) -> ApiResult<ListResource<Value>> {
    let pagination = Pagination::from_query(query)?;
    let sorting = query.sorting(&[(SortBy::ModifiedAt, Direction::Descending)])?;
    let name = query.text("query").map(|text| text.to_lowercase());
    let mut items = all(
        app,
        session.organization_id,
        Some(vec![session.customer_id]),
        None,
        query.uuids("meter_id")?,
    )
    .await?;
    items.retain(|item| {
        name.as_deref()
            .is_none_or(|name| item.meter.name.to_lowercase().contains(name))
    });
    sort(&mut items, &sorting);
    let page = ListResource::page_of(items, pagination);
    Ok(page.map(present::customer_meter))
}

/// `customer_portal:customer_meters:get` (archived meters included, as by the merchant).
pub async fn get(app: &AppState, session: &PortalSession, id: Uuid) -> ApiResult<Value> {
    let meter_ids = crate::meters::all_ids(&app.reader, session.organization_id).await?;
    all(
        app,
        session.organization_id,
        Some(vec![session.customer_id]),
        None,
        Some(meter_ids),
    )
    .await?
    .into_iter()
    .find(|meter| meter.id == id)
    .map(present::customer_meter)
    .ok_or_else(|| ApiError::ResourceNotFound("Customer meter not found.".to_owned()))
}

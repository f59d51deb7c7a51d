//! Reading wallets: the merchant's (any customer of the organization) and the portal's
//! (the session's customer only; another's wallet is 404).

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Select};
use uuid::Uuid;

use super::entity::wallet::{Column, Entity};
use super::schema::{SortBy, Wallet};
use crate::app::AppState;
use crate::http::pagination::Direction;
use crate::http::{ApiError, ApiResult, ListResource, Pagination, QueryParams};

fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Wallet not found.".to_owned())
}

/// Which wallets a caller may see.
pub enum Seen {
    Organization(Uuid),
    Customer {
        organization_id: Uuid,
        customer_id: Uuid,
    },
}

fn visible(seen: &Seen) -> Select<Entity> {
    match seen {
        Seen::Organization(organization_id) => {
            Entity::find().filter(Column::OrganizationId.eq(*organization_id))
        }
        Seen::Customer {
            organization_id,
            customer_id,
        } => Entity::find()
            .filter(Column::OrganizationId.eq(*organization_id))
            .filter(Column::CustomerId.eq(*customer_id)),
    }
}

/// The wallets `seen` covers, filtered by `customer_id` when the query names customers,
/// newest first unless sorted otherwise.
pub async fn list(
    app: &AppState,
    seen: Seen,
    query: &QueryParams,
) -> ApiResult<ListResource<Wallet>> {
    let pagination = Pagination::from_query(query)?;
    let sorting = query.sorting(&[(SortBy::CreatedAt, Direction::Descending)])?;
    let mut select = visible(&seen);
    if let Seen::Organization(_) = seen
        && let Some(ids) = query.uuids("customer_id")?
    {
        select = select.filter(Column::CustomerId.is_in(ids));
    }
    for (by, direction) in sorting {
        let column = match by {
            SortBy::CreatedAt => Column::CreatedAt,
            SortBy::Balance => Column::Balance,
        };
        select = match direction {
            Direction::Ascending => select.order_by_asc(column),
            Direction::Descending => select.order_by_desc(column),
        };
    }
    let (rows, total) =
        crate::db::paginate(&app.reader, select.order_by_asc(Column::Id), pagination).await?;
    Ok(ListResource::new(
        rows.iter().map(Wallet::from).collect(),
        total,
        pagination,
    ))
}

/// One wallet `seen` covers.
pub async fn get(app: &AppState, seen: Seen, id: Uuid) -> ApiResult<Wallet> {
    let row = app
        .reader
        .one(visible(&seen).filter(Column::Id.eq(id)))
        .await?
        .ok_or_else(not_found)?;
    Ok(Wallet::from(&row))
}

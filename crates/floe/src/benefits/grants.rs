//! Reading benefit grants: `GET /v1/benefits/{id}/grants` and `GET /v1/benefit-grants/`.
//! Grants are written by the grant worker (`granting`); a page of grants is read with its
//! customers and benefits in two more queries, whatever the page size.

use std::collections::HashMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::grant_entity::{Column, Entity, Model};
use super::routes::BenefitsRead;
use super::schema::Benefit;
use super::service;
use crate::app::AppState;
use crate::auth::Authorized;
use crate::customers::schema::Customer;
use crate::db::Reads;
use crate::http::pagination::{Direction, SortProperty};
use crate::http::{ApiError, ApiResult, IdPath, ListResource, Pagination, QueryParams};

/// `BenefitGrant`.
#[derive(Debug, Serialize)]
pub struct BenefitGrant {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub granted_at: Option<DateTime<Utc>>,
    pub is_granted: bool,
    pub revoked_at: Option<DateTime<Utc>>,
    pub is_revoked: bool,
    pub subscription_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub customer_id: Uuid,
    pub member_id: Option<Uuid>,
    pub benefit_id: Uuid,
    pub error: Option<Value>,
    pub customer: Customer,
    pub member: Option<Value>,
    pub benefit: Benefit,
    pub properties: Map<String, Value>,
}

/// `BenefitGrantSortProperty` (named after the columns, which all end in `_at`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[expect(clippy::enum_variant_names)]
pub enum GrantSortProperty {
    CreatedAt,
    GrantedAt,
    RevokedAt,
}

impl SortProperty for GrantSortProperty {
    const NAMES: &'static [&'static str] = &["created_at", "granted_at", "revoked_at"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "granted_at" => Self::GrantedAt,
            "revoked_at" => Self::RevokedAt,
            _ => return None,
        })
    }
}

/// Filters both lists share.
struct Filter {
    is_granted: Option<bool>,
    customer_ids: Option<Vec<Uuid>>,
    member_ids: Option<Vec<Uuid>>,
}

fn filter_from(query: &QueryParams) -> ApiResult<Filter> {
    Ok(Filter {
        is_granted: query.boolean("is_granted")?,
        customer_ids: query.uuids("customer_id")?,
        member_ids: query.uuids("member_id")?,
    })
}

fn condition(organization_id: Uuid, filter: &Filter) -> Condition {
    let mut all = Condition::all().add(Column::OrganizationId.eq(organization_id));
    // Granted means granted and not revoked since (a revocation clears `granted_at`).
    match filter.is_granted {
        Some(true) => all = all.add(Column::GrantedAt.is_not_null()),
        Some(false) => all = all.add(Column::GrantedAt.is_null()),
        None => {}
    }
    if let Some(ids) = &filter.customer_ids {
        all = all.add(Column::CustomerId.is_in(ids.iter().copied()));
    }
    if let Some(ids) = &filter.member_ids {
        all = all.add(Column::MemberId.is_in(ids.iter().copied()));
    }
    all
}

/// A page of grants matching `condition`, in the order asked.
async fn page(
    app: &AppState,
    organization_id: Uuid,
    condition: Condition,
    sorting: &[(GrantSortProperty, Direction)],
    pagination: Pagination,
) -> ApiResult<ListResource<BenefitGrant>> {
    let mut query = Entity::find().filter(condition);
    for (property, direction) in sorting {
        let column = match property {
            GrantSortProperty::CreatedAt => Column::CreatedAt,
            GrantSortProperty::GrantedAt => Column::GrantedAt,
            GrantSortProperty::RevokedAt => Column::RevokedAt,
        };
        query = match direction {
            Direction::Ascending => query.order_by_asc(column),
            Direction::Descending => query.order_by_desc(column),
        };
    }
    let (rows, total) =
        crate::db::paginate(&app.reader, query.order_by_asc(Column::Id), pagination).await?;
    let items = present((&app.reader).into(), organization_id, rows).await?;
    Ok(ListResource::new(items, total, pagination))
}

/// The grants with their customers and benefits (deleted ones too: a grant keeps naming
/// what it was for), read in `db`: the reader, or the transaction that wrote them.
pub(super) async fn present(
    db: Reads<'_>,
    organization_id: Uuid,
    rows: Vec<Model>,
) -> ApiResult<Vec<BenefitGrant>> {
    let mut customer_ids: Vec<Uuid> = rows.iter().map(|r| r.customer_id).collect();
    customer_ids.sort_unstable();
    customer_ids.dedup();
    let customers: HashMap<Uuid, Customer> =
        crate::customers::read_many(db, organization_id, &customer_ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    let benefit_ids: Vec<Uuid> = rows.iter().map(|r| r.benefit_id).collect();
    let benefits: HashMap<Uuid, Benefit> =
        super::store::by_ids_with_deleted(db, organization_id, &benefit_ids)
            .await?
            .iter()
            .filter_map(Benefit::from_row)
            .map(|b| (b.id, b))
            .collect();
    rows.into_iter()
        .map(|row| {
            let (Some(customer), Some(benefit)) = (
                customers.get(&row.customer_id).cloned(),
                benefits.get(&row.benefit_id).cloned(),
            ) else {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "benefit grant {} names a customer or benefit that does not exist",
                    row.id
                )));
            };
            Ok(BenefitGrant {
                created_at: row.created_at,
                modified_at: row.modified_at,
                id: row.id,
                granted_at: row.granted_at,
                is_granted: row.granted_at.is_some(),
                revoked_at: row.revoked_at,
                is_revoked: row.revoked_at.is_some(),
                subscription_id: row.subscription_id,
                order_id: row.order_id,
                customer_id: row.customer_id,
                member_id: row.member_id,
                benefit_id: row.benefit_id,
                error: row
                    .error
                    .as_deref()
                    .and_then(|e| serde_json::from_str(e).ok()),
                customer,
                member: None,
                benefit,
                properties: serde_json::from_str(&row.properties).unwrap_or_default(),
            })
        })
        .collect()
}

/// `benefits:grants`: the grants of one benefit.
pub async fn of_benefit(
    auth: Authorized<BenefitsRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<BenefitGrant>>> {
    let pagination = Pagination::from_query(&query)?;
    let filter = filter_from(&query)?;
    super::store::get((&app.reader).into(), auth.organization_id, id)
        .await?
        .ok_or_else(service::not_found)?;
    let condition = condition(auth.organization_id, &filter).add(Column::BenefitId.eq(id));
    let sorting = [(GrantSortProperty::CreatedAt, Direction::Descending)];
    Ok(axum::Json(
        page(&app, auth.organization_id, condition, &sorting, pagination).await?,
    ))
}

/// `benefit-grants:list`: the organization's grants, across its benefits.
pub async fn list(
    auth: Authorized<BenefitsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<BenefitGrant>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(GrantSortProperty::CreatedAt, Direction::Descending)])?;
    let mut filter = filter_from(&query)?;
    let external_ids: Vec<String> = query
        .all("external_customer_id")
        .into_iter()
        .map(str::to_owned)
        .collect();
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    // Customers named by external ID: their grants, and nobody else's.
    filter.customer_ids = crate::customers::narrow_to_external(
        &app.reader,
        auth.organization_id,
        filter.customer_ids.take(),
        &external_ids,
    )
    .await?;
    let condition = condition(auth.organization_id, &filter);
    Ok(axum::Json(
        page(&app, auth.organization_id, condition, &sorting, pagination).await?,
    ))
}

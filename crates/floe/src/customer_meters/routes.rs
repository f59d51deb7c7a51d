//! Handlers of the customer meters API.

use axum::extract::State;
use uuid::Uuid;

use super::MeterState;
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::customers::schema::Customer;
use crate::http::pagination::{Direction, SortProperty};
use crate::http::{ApiError, ApiResult, IdPath, ListResource, Pagination, QueryParams};
use crate::meters::rollups::CompiledMeter;
use crate::meters::schema::Meter;

/// `customer_meters:read`.
pub struct CustomerMetersRead;

impl RequiredScopes for CustomerMetersRead {
    const SCOPES: &'static [Scope] = &[Scope::CustomerMetersRead];
}

/// `CustomerMeter`.
#[derive(Debug, serde::Serialize)]
pub struct CustomerMeter {
    pub id: Uuid,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub modified_at: Option<chrono::DateTime<chrono::Utc>>,
    pub customer_id: Uuid,
    pub meter_id: Uuid,
    pub consumed_units: f64,
    pub credited_units: i64,
    pub balance: f64,
    pub customer: Customer,
    pub meter: Meter,
}

/// `CustomerMeterSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortBy {
    CreatedAt,
    ModifiedAt,
    CustomerId,
    CustomerName,
    MeterId,
    MeterName,
    ConsumedUnits,
    CreditedUnits,
    Balance,
}

impl SortProperty for SortBy {
    const NAMES: &'static [&'static str] = &[
        "created_at",
        "modified_at",
        "customer_id",
        "customer_name",
        "meter_id",
        "meter_name",
        "consumed_units",
        "credited_units",
        "balance",
    ];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "modified_at" => Self::ModifiedAt,
            "customer_id" => Self::CustomerId,
            "customer_name" => Self::CustomerName,
            "meter_id" => Self::MeterId,
            "meter_name" => Self::MeterName,
            "consumed_units" => Self::ConsumedUnits,
            "credited_units" => Self::CreditedUnits,
            "balance" => Self::Balance,
            _ => return None,
        })
    }
}

pub fn routes() -> crate::http::routes::Routes {
    crate::http::routes::Routes::new()
        .get("/v1/customer-meters", list)
        .get("/v1/customer-meters/{id}", get)
}

/// The meters to evaluate: those named (archived too), or the active ones.
pub async fn active_meters(
    app: &AppState,
    organization_id: Uuid,
    ids: Option<&[Uuid]>,
) -> Result<Vec<CompiledMeter>, sea_orm::DbErr> {
    Ok(crate::meters::records(&app.reader, organization_id, ids)
        .await?
        .into_iter()
        .map(|r| r.compiled)
        .collect())
}

/// Every customer meter of the organization, for the customers and meters asked about.
pub(super) async fn all(
    app: &AppState,
    organization_id: Uuid,
    customer_ids: Option<Vec<Uuid>>,
    external_ids: Option<Vec<String>>,
    meter_ids: Option<Vec<Uuid>>,
) -> ApiResult<Vec<CustomerMeter>> {
    let records =
        crate::meters::records(&app.reader, organization_id, meter_ids.as_deref()).await?;
    let customers = match (&customer_ids, &external_ids) {
        (None, None) => crate::customers::all_live(&app.reader, organization_id).await?,
        _ => {
            crate::customers::find_many(
                &app.reader,
                organization_id,
                customer_ids.as_deref().unwrap_or_default(),
                external_ids.as_deref().unwrap_or_default(),
            )
            .await?
        }
    };
    let compiled: Vec<CompiledMeter> = records.iter().map(|r| r.compiled.clone()).collect();
    let mut out = Vec::new();
    for customer in customers {
        let states = super::states(
            app,
            organization_id,
            customer.id,
            customer.external_id.as_deref(),
            &compiled,
        )
        .await?;
        for state in states {
            let Some(record) = records.iter().find(|r| r.meter.id == state.meter_id) else {
                continue;
            };
            out.push(wire(&state, customer.clone(), &record.meter));
        }
    }
    Ok(out)
}

fn wire(state: &MeterState, customer: Customer, meter: &Meter) -> CustomerMeter {
    CustomerMeter {
        id: state.id,
        created_at: state.created_at,
        modified_at: state.modified_at,
        customer_id: state.customer_id,
        meter_id: state.meter_id,
        consumed_units: state.consumed_units,
        credited_units: state.credited_units,
        balance: state.balance,
        customer,
        meter: meter.clone(),
    }
}

pub async fn list(
    auth: Authorized<CustomerMetersRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<CustomerMeter>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(SortBy::ModifiedAt, Direction::Descending)])?;
    let customer_ids = query.uuids("customer_id")?;
    let meter_ids = query.uuids("meter_id")?;
    let external: Vec<String> = query
        .all("external_customer_id")
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    let mut items = all(
        &app,
        auth.organization_id,
        customer_ids,
        (!external.is_empty()).then_some(external),
        meter_ids,
    )
    .await?;
    sort(&mut items, &sorting);
    Ok(axum::Json(ListResource::page_of(items, pagination)))
}

pub async fn get(
    auth: Authorized<CustomerMetersRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<CustomerMeter>> {
    // Archived meters keep their customer meters reachable by ID.
    let meter_ids: Vec<Uuid> = crate::meters::all_ids(&app.reader, auth.organization_id).await?;
    let items = all(&app, auth.organization_id, None, None, Some(meter_ids)).await?;
    items
        .into_iter()
        .find(|m| m.id == id)
        .map(axum::Json)
        .ok_or_else(|| ApiError::ResourceNotFound("Customer meter not found.".to_owned()))
}

/// Orders customer meters by `sorting`, then by ID.
pub(super) fn sort(items: &mut [CustomerMeter], sorting: &[(SortBy, Direction)]) {
    items.sort_by(|a, b| {
        for (property, direction) in sorting {
            let ordering = match property {
                SortBy::CreatedAt => a.created_at.cmp(&b.created_at),
                SortBy::ModifiedAt => a
                    .modified_at
                    .unwrap_or(a.created_at)
                    .cmp(&b.modified_at.unwrap_or(b.created_at)),
                SortBy::CustomerId => a.customer_id.cmp(&b.customer_id),
                SortBy::CustomerName => a.customer.name.cmp(&b.customer.name),
                SortBy::MeterId => a.meter_id.cmp(&b.meter_id),
                SortBy::MeterName => a.meter.name.cmp(&b.meter.name),
                SortBy::ConsumedUnits => a.consumed_units.total_cmp(&b.consumed_units),
                SortBy::CreditedUnits => a.credited_units.cmp(&b.credited_units),
                SortBy::Balance => a.balance.total_cmp(&b.balance),
            };
            let ordering = if *direction == Direction::Descending {
                ordering.reverse()
            } else {
                ordering
            };
            if ordering.is_ne() {
                return ordering;
            }
        }
        a.id.cmp(&b.id)
    });
}

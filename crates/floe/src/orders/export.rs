//! `orders:export`: the organization's orders as CSV, newest first, in the columns asked
//! for and with dates in the time zone asked for. The body is streamed a batch of orders
//! at a time (keyset pages), so an export of many orders holds one batch in memory.
//! Like Polar, an export stops at [`ROW_CAP`] orders.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use serde_json::Value;
use uuid::Uuid;

use super::entity::{Column, Entity, Model};
use super::routes::OrdersRead;
use super::schema::{OrderExportColumn, OrderStatus};
use crate::app::AppState;
use crate::auth::Authorized;
use crate::csv_export::{csv_row, iso_datetime, major_units, text};
use crate::http::{ApiError, ApiResult, Loc, QueryParams};

/// The most orders one export holds (Polar's limit too).
pub const ROW_CAP: usize = 1_000_000;
/// Orders read per query.
const BATCH: u64 = 500;

/// What to export, once the query is read.
struct Request {
    organization_id: Option<Uuid>,
    product_ids: Option<Vec<Uuid>>,
    statuses: Option<Vec<OrderStatus>>,
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
    tz: Tz,
    columns: Vec<OrderExportColumn>,
}

/// `orders:export`.
pub async fn export(
    auth: Authorized<OrdersRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<Response> {
    let name = query.last("timezone").unwrap_or("UTC");
    let tz = name.parse::<Tz>().map_err(|_| {
        ApiError::validation(
            Loc::query("timezone"),
            "value_error",
            format!("Value error, '{name}' is not a valid IANA time zone"),
            Value::String(name.to_owned()),
        )
    })?;
    let request = Request {
        // Another organization's ID filters everything out.
        organization_id: query
            .allows_organization(auth.organization_id)?
            .then_some(auth.organization_id),
        product_ids: query.uuids("product_id")?,
        statuses: query.enums("status")?,
        created_after: query.datetime("created_after")?,
        created_before: query.datetime("created_before")?,
        columns: query
            .enums("columns")?
            .unwrap_or_else(|| OrderExportColumn::DEFAULT.to_vec()),
        tz,
    };
    let disposition = format!(
        "attachment; filename=\"{}\"",
        filename(request.created_after, request.created_before, tz)
    );
    let header_row = csv_row(request.columns.iter().map(|c| c.heading().to_owned()))?;
    let body = futures_util::stream::unfold(
        Export {
            app,
            request,
            after: None,
            sent: 0,
            header: Some(header_row),
        },
        |mut export| async move {
            match export.next().await {
                Ok(Some(chunk)) => Some((Ok(chunk), export)),
                Ok(None) => None,
                Err(error) => {
                    // The status is sent: all that is left is to cut the body short.
                    tracing::error!(%error, "order export failed midway");
                    export.request.organization_id = None;
                    Some((Err(std::io::Error::other(error.to_string())), export))
                }
            }
        },
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// Polar's file name: `polar-orders`, then each date bound given, in the export's zone.
fn filename(after: Option<DateTime<Utc>>, before: Option<DateTime<Utc>>, tz: Tz) -> String {
    let mut name = "polar-orders".to_owned();
    for bound in [after, before].into_iter().flatten() {
        name.push_str(&bound.with_timezone(&tz).format("-%Y-%m-%d").to_string());
    }
    name + ".csv"
}

/// The export in progress: the header, then one chunk per batch of orders.
struct Export {
    app: AppState,
    request: Request,
    /// The last order sent (created_at, id): the next batch starts after it.
    after: Option<(DateTime<Utc>, Uuid)>,
    sent: usize,
    header: Option<Bytes>,
}

impl Export {
    async fn next(&mut self) -> ApiResult<Option<Bytes>> {
        if let Some(header) = self.header.take() {
            return Ok(Some(header));
        }
        let Some(organization_id) = self.request.organization_id else {
            return Ok(None);
        };
        if self.sent >= ROW_CAP {
            return Ok(None);
        }
        let limit = BATCH.min((ROW_CAP - self.sent) as u64);
        let rows = self.batch(organization_id, limit).await?;
        let Some(last) = rows.last() else {
            return Ok(None);
        };
        self.after = Some((last.created_at, last.id));
        self.sent += rows.len();
        let mut customer_ids: Vec<Uuid> = rows.iter().map(|row| row.customer_id).collect();
        customer_ids.sort_unstable();
        customer_ids.dedup();
        let customers =
            crate::customers::read_many((&self.app.reader).into(), organization_id, &customer_ids)
                .await?;
        let mut chunk = Vec::new();
        for row in &rows {
            let customer = customers.iter().find(|c| c.id == row.customer_id);
            let cells = self
                .request
                .columns
                .iter()
                .map(|column| cell(*column, row, customer, self.request.tz));
            chunk.extend_from_slice(&csv_row(cells)?);
        }
        Ok(Some(Bytes::from(chunk)))
    }

    async fn batch(&self, organization_id: Uuid, limit: u64) -> ApiResult<Vec<Model>> {
        let request = &self.request;
        let mut select = Entity::find()
            .filter(Column::OrganizationId.eq(organization_id))
            .apply_if(request.product_ids.as_ref(), |s, ids| {
                s.filter(Column::ProductId.is_in(ids.clone()))
            })
            .apply_if(request.statuses.as_ref(), |s, statuses| {
                s.filter(Column::Status.is_in(statuses.iter().map(|s| s.as_str())))
            })
            .apply_if(request.created_after, |s, at| {
                s.filter(Column::CreatedAt.gt(at))
            })
            .apply_if(request.created_before, |s, at| {
                s.filter(Column::CreatedAt.lt(at))
            });
        if let Some((at, id)) = self.after {
            select = select.filter(
                Condition::any().add(Column::CreatedAt.lt(at)).add(
                    Condition::all()
                        .add(Column::CreatedAt.eq(at))
                        .add(Column::Id.gt(id)),
                ),
            );
        }
        let select = select
            .order_by_desc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .limit(limit);
        Ok(self.app.reader.all(select).await?)
    }
}

fn cell(
    column: OrderExportColumn,
    row: &Model,
    customer: Option<&crate::customers::schema::Customer>,
    tz: Tz,
) -> String {
    use OrderExportColumn as C;
    let amount = |value: i64| major_units(value, &row.currency);
    match column {
        C::Email => text(customer.and_then(|c| c.email.as_deref())),
        C::CreatedAt => iso_datetime(row.created_at, tz),
        C::Product => text(Some(&row.description)),
        C::NetAmount => amount(row.net_amount),
        C::Currency => row.currency.clone(),
        C::Status => row.status.clone(),
        C::InvoiceNumber => text(row.invoice_number.as_deref()),
        C::CustomerName => text(customer.and_then(|c| c.name.as_deref())),
        C::BillingName => text(row.billing_name.as_deref()),
        C::BillingCountry => row
            .billing_address
            .as_deref()
            .and_then(|a| serde_json::from_str::<crate::address::Address>(a).ok())
            .map(|a| a.country)
            .unwrap_or_default(),
        C::SubtotalAmount => amount(row.subtotal_amount),
        C::DiscountAmount => amount(row.discount_amount),
        C::TaxAmount => amount(row.tax_amount),
        C::TotalAmount => amount(row.total_amount),
        C::RefundedAmount => amount(row.refunded_amount),
        C::BillingReason => row.billing_reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_zone_asked_for() {
        let at = DateTime::parse_from_rfc3339("2026-12-04T23:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(iso_datetime(at, Tz::UTC), "2026-12-04T23:30:00+00:00");
        assert_eq!(
            iso_datetime(at, "Asia/Tokyo".parse().unwrap()),
            "2026-12-05T08:30:00+09:00"
        );
        let precise = at + chrono::Duration::microseconds(1234);
        assert_eq!(
            iso_datetime(precise, Tz::UTC),
            "2026-12-04T23:30:00.001234+00:00"
        );
        assert_eq!(
            filename(Some(at), None, "Asia/Tokyo".parse().unwrap()),
            "polar-orders-2026-12-05.csv"
        );
        assert_eq!(filename(None, None, Tz::UTC), "polar-orders.csv");
    }
}

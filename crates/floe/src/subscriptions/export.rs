//! `subscriptions:export`: the organization's subscriptions as CSV, newest first, in the
//! columns asked for, dates in the zone asked for (Polar's headers and formats).

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{QueryOrder, QuerySelect};
use serde_json::Value;

use super::entity::{Column, Model};
use super::routes::SubscriptionsRead;
use super::schema::SubscriptionStatus;
use super::store::{ListFilter, filtered};
use crate::app::AppState;
use crate::auth::Authorized;
use crate::csv_export::{csv_row, iso_datetime, major_units, text};
use crate::http::pagination::QueryEnum;
use crate::http::{ApiError, ApiResult, Loc, QueryParams};

/// The most subscriptions one export holds.
const ROW_CAP: u64 = 1_000_000;

/// `SubscriptionExportColumn`, with Polar's headings, in the enum's order.
const COLUMNS: &[(&str, &str)] = &[
    ("email", "Email"),
    ("started_at", "Started At"),
    ("product", "Product"),
    ("amount", "Amount"),
    ("currency", "Currency"),
    ("status", "Status"),
    ("recurring_interval", "Billing Interval"),
    ("customer_name", "Customer Name"),
    ("billing_name", "Billing Name"),
    ("billing_country", "Billing Country"),
    ("net_amount", "Net Amount"),
    ("discount", "Discount"),
    ("seats", "Seats"),
    ("current_period_start", "Current Period Start"),
    ("current_period_end", "Current Period End"),
    ("cancel_at_period_end", "Cancels At Period End"),
    ("canceled_at", "Canceled At"),
    ("ends_at", "Ends At"),
    ("ended_at", "Ended At"),
    ("cancellation_reason", "Cancellation Reason"),
    ("trial_start", "Trial Start"),
    ("trial_end", "Trial End"),
];

const DEFAULT: &[&str] = &[
    "email",
    "started_at",
    "product",
    "amount",
    "currency",
    "status",
    "recurring_interval",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ExportColumn(&'static str);

impl QueryEnum for ExportColumn {
    const NAMES: &'static [&'static str] = &[
        "email",
        "started_at",
        "product",
        "amount",
        "currency",
        "status",
        "recurring_interval",
        "customer_name",
        "billing_name",
        "billing_country",
        "net_amount",
        "discount",
        "seats",
        "current_period_start",
        "current_period_end",
        "cancel_at_period_end",
        "canceled_at",
        "ends_at",
        "ended_at",
        "cancellation_reason",
        "trial_start",
        "trial_end",
    ];

    fn from_name(name: &str) -> Option<Self> {
        Self::NAMES.iter().find(|n| **n == name).map(|n| Self(n))
    }
}

/// `subscriptions:export`.
pub async fn export(
    auth: Authorized<SubscriptionsRead>,
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
    let filter = ListFilter {
        product_ids: query.uuids("product_id")?,
        statuses: query.enums::<SubscriptionStatus>("status")?,
        cancel_at_period_end: query.boolean("cancel_at_period_end")?,
        started_after: query.datetime("started_after")?,
        started_before: query.datetime("started_before")?,
        ..ListFilter::default()
    };
    let columns: Vec<&str> = match query.enums::<ExportColumn>("columns")? {
        Some(asked) => asked.iter().map(|c| c.0).collect(),
        None => DEFAULT.to_vec(),
    };
    let mut name = "polar-subscriptions".to_owned();
    for bound in [filter.started_after, filter.started_before]
        .into_iter()
        .flatten()
    {
        name.push_str(&bound.with_timezone(&tz).format("-%Y-%m-%d").to_string());
    }
    let mut body = csv_row(columns.iter().map(|c| heading(c).to_owned()))?.to_vec();
    if query.allows_organization(auth.organization_id)? {
        // Batches of the newest first; a row holds a few hundred bytes.
        let mut offset = 0;
        loop {
            let select = filtered(app.reader.backend(), auth.organization_id, &filter)
                .order_by_desc(Column::StartedAt)
                .order_by_asc(Column::Id)
                .offset(offset)
                .limit(500);
            let rows = app.reader.all(select).await?;
            if rows.is_empty() {
                break;
            }
            offset += rows.len() as u64;
            body.extend(rows_csv(&app, auth.organization_id, &rows, &columns, tz).await?);
            if offset >= ROW_CAP {
                break;
            }
        }
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        Body::from(body),
    )
        .into_response())
}

fn heading(column: &str) -> &'static str {
    COLUMNS
        .iter()
        .find(|(name, _)| *name == column)
        .map_or("", |(_, heading)| heading)
}

async fn rows_csv(
    app: &AppState,
    organization_id: uuid::Uuid,
    rows: &[Model],
    columns: &[&str],
    tz: Tz,
) -> ApiResult<Vec<u8>> {
    let shown = super::present::subscriptions(
        (&app.reader).into(),
        app.storage.as_ref(),
        organization_id,
        rows,
    )
    .await?;
    let mut out = Vec::new();
    for (row, subscription) in rows.iter().zip(shown.iter()) {
        let date =
            |at: Option<DateTime<Utc>>| at.map(|at| iso_datetime(at, tz)).unwrap_or_default();
        let cells = columns.iter().map(|column| match *column {
            "email" => text(subscription.customer.email.as_deref()),
            "started_at" => date(row.started_at),
            "product" => text(Some(&subscription.product.base.name)),
            "amount" => major_units(row.amount, &row.currency),
            "currency" => row.currency.clone(),
            "status" => row.status.clone(),
            "recurring_interval" => {
                if row.recurring_interval_count == 1 {
                    row.recurring_interval.clone()
                } else {
                    format!(
                        "{} {}s",
                        row.recurring_interval_count, row.recurring_interval
                    )
                }
            }
            "customer_name" => text(subscription.customer.name.as_deref()),
            "billing_name" => text(subscription.customer.billing_name.as_deref()),
            "billing_country" => subscription
                .customer
                .billing_address
                .as_ref()
                .map(|a| a.country.clone())
                .unwrap_or_default(),
            "net_amount" => major_units(row.amount, &row.currency),
            "discount" => subscription
                .discount
                .as_ref()
                .and_then(|d| {
                    d.get("code")
                        .and_then(Value::as_str)
                        .or_else(|| d.get("name").and_then(Value::as_str))
                })
                .map(|d| text(Some(d)))
                .unwrap_or_default(),
            "seats" => row.seats.map(|s| s.to_string()).unwrap_or_default(),
            "current_period_start" => date(Some(row.current_period_start)),
            "current_period_end" => date(Some(row.current_period_end)),
            "cancel_at_period_end" => row.cancel_at_period_end.to_string(),
            "canceled_at" => date(row.canceled_at),
            "ends_at" => date(row.ends_at),
            "ended_at" => date(row.ended_at),
            "cancellation_reason" => row.customer_cancellation_reason.clone().unwrap_or_default(),
            "trial_start" => date(row.trial_start),
            "trial_end" => date(row.trial_end),
            _ => String::new(),
        });
        out.extend_from_slice(&csv_row(cells)?);
    }
    Ok(out)
}

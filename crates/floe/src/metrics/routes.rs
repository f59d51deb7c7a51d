//! `GET /v1/metrics/`, `/v1/metrics/export` (CSV) and `/v1/metrics/limits`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::catalog::METRICS;
use super::compute::{Computed, Num, compute};
use super::dashboards::MetricsRead;
use super::params::{self, Request};
use super::periods::Periods;
use super::rollups::read::Scope;
use crate::app::AppState;
use crate::auth::Authorized;
use crate::csv_export::{csv_row, iso_datetime};
use crate::http::{ApiResult, QueryParams};

/// The request's periods and every metric's values in them (zeros for another
/// organization's ID, which filters everything out).
async fn answer(
    app: &AppState,
    organization_id: uuid::Uuid,
    query: &QueryParams,
) -> ApiResult<(Request, Periods, Computed)> {
    let request = params::parse(query)?;
    let periods = Periods::new(request.start, request.end, request.interval, request.tz);
    let began = std::time::Instant::now();
    let mut laps = super::laps::Laps::start();
    let (inputs, rolled) = if query.allows_organization(organization_id)? {
        // Rollups hold the organization's history and each product's, not a customer's.
        let ready = request.customer_ids.is_none() && rollups_ready(app, organization_id).await?;
        laps.lap("catch_up");
        // Everything the answer reads comes from one committed state: sums and the facts
        // read beside them, orders and their disputes. (On SQLite through the reader's
        // own connection: thousands of rows through sqlx cost a thread hop each.)
        let snapshot = app.reader.snapshot().await?;
        let products = super::inputs::products_left(&snapshot, organization_id, &request).await?;
        let rolled = if ready {
            let listed: Option<Vec<uuid::Uuid>> = products
                .as_ref()
                .map(|p| crate::db::unique(p.iter().copied()));
            let scope = match &listed {
                None => Scope::All,
                Some(products) => Scope::Products(products),
            };
            super::rollups::read::load(&snapshot, organization_id, scope, &periods, &mut laps)
                .await?
        } else {
            None
        };
        let inputs = super::inputs::load(
            &snapshot,
            organization_id,
            &request,
            products,
            &periods,
            rolled.is_none(),
            &mut laps,
        )
        .await?;
        snapshot.end().await?;
        (inputs, rolled)
    } else {
        (super::inputs::Inputs::default(), None)
    };
    let loaded = began.elapsed();
    let computed = compute(&periods, &inputs, rolled.as_ref());
    laps.lap("compute");
    tracing::info!(
        load_ms = loaded.as_secs_f64() * 1000.0,
        compute_ms = (began.elapsed() - loaded).as_secs_f64() * 1000.0,
        from_rollups = rolled.is_some(),
        orders = inputs.orders.len(),
        subscriptions = inputs.subscriptions.len(),
        periods = periods.len(),
        phases_ms = %laps,
        "metrics computed"
    );
    Ok((request, periods, computed))
}

/// Rolls up what the organization changed since the last pass, unless far more waits than
/// a request should roll up (then the rows answer: as exact, slower).
async fn rollups_ready(app: &AppState, organization_id: uuid::Uuid) -> ApiResult<bool> {
    use super::rollups::{MAX_WAITING, sync};
    let waiting = sync::waiting(&app.db, organization_id, MAX_WAITING + 1).await?;
    if waiting > MAX_WAITING {
        tracing::info!(%organization_id, "metric rollups are catching up; reading rows");
        return Ok(false);
    }
    // (The count already said whether there is anything: no second look on the usual path.)
    if waiting > 0 {
        sync::catch_up(&app.db, Some(organization_id), false).await?;
    }
    Ok(true)
}

/// The metrics the answer shows, as places in `METRICS`.
fn shown(request: &Request) -> Vec<usize> {
    request
        .metrics
        .clone()
        .unwrap_or_else(|| (0..METRICS.len()).collect())
}

/// `metrics:get`.
pub async fn get(
    auth: Authorized<MetricsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<Value>> {
    let (request, periods, computed) = answer(&app, auth.organization_id, &query).await?;
    let shown = shown(&request);
    let rows: Vec<Value> = (0..periods.len())
        .map(|p| {
            let mut row = Map::new();
            row.insert("timestamp".to_owned(), json!(periods.start(p)));
            for &m in &shown {
                row.insert(METRICS[m].slug.to_owned(), json!(computed.values[m][p]));
            }
            Value::Object(row)
        })
        .collect();
    let mut totals = Map::new();
    let mut described = Map::new();
    for &m in &shown {
        let metric = &METRICS[m];
        totals.insert(metric.slug.to_owned(), json!(computed.totals[m]));
        described.insert(
            metric.slug.to_owned(),
            json!({"slug": metric.slug, "display_name": metric.display_name, "type": metric.unit}),
        );
    }
    Ok(axum::Json(
        json!({"periods": rows, "totals": totals, "metrics": described}),
    ))
}

/// A value as Python's `str()` writes it, which is what Polar's export holds.
fn cell(value: Num) -> String {
    match value {
        Num::Int(v) => v.to_string(),
        Num::Float(v) => format!("{v:?}"),
    }
}

/// `metrics:export`: the periods as CSV, one column per metric (its display name).
pub async fn export(
    auth: Authorized<MetricsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<Response> {
    let (request, periods, computed) = answer(&app, auth.organization_id, &query).await?;
    let shown = shown(&request);
    let mut csv = Vec::new();
    let header = std::iter::once("Timestamp".to_owned())
        .chain(shown.iter().map(|&m| METRICS[m].display_name.to_owned()));
    csv.extend_from_slice(&csv_row(header)?);
    for p in 0..periods.len() {
        let row = std::iter::once(iso_datetime(periods.start(p), chrono_tz::Tz::UTC))
            .chain(shown.iter().map(|&m| cell(computed.values[m][p])));
        csv.extend_from_slice(&csv_row(row)?);
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"polar-metrics.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// `metrics:limits`.
pub async fn limits(_auth: Authorized<MetricsRead>) -> axum::Json<Value> {
    axum::Json(params::limits())
}

//! Subscriptions as their customer reaches them through the portal
//! (`customer_portal:subscriptions:*`): only the subscriptions the session's customer pays
//! for (a seat holder's are not theirs to change), shown as `CustomerSubscription`.
//!
//! A customer's change is the merchant's change with the merchant's settings applied: the
//! organization's proration behaviour (the customer cannot choose it, as at Polar), plan
//! and seat changes only where the portal settings allow them, pauses only where the
//! merchant turned them on, and only public products to switch to. The change itself, its
//! proration, charge and webhooks are the merchant update's (`update.rs`, `change.rs`).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entity::Model;
use super::schema::{CANCELLATION_REASONS, SubscriptionSortProperty};
use super::{not_found, present, store};
use crate::app::AppState;
use crate::customer_portal::auth::PortalSession;
use crate::customer_portal::present::{self as view, Catalog};
use crate::http::pagination::{Direction, SortProperty};
use crate::http::{ApiError, ApiResult, ListResource, Loc, Pagination, QueryParams};

/// `CustomerSubscriptionSortProperty`; `organization` orders nothing (a session sees one
/// organization).
#[derive(Clone, Copy, Debug)]
struct Sort(Option<SubscriptionSortProperty>);

impl SortProperty for Sort {
    const NAMES: &'static [&'static str] =
        &["started_at", "amount", "status", "organization", "product"];

    fn from_name(name: &str) -> Option<Self> {
        Some(Self(match name {
            "started_at" => Some(SubscriptionSortProperty::StartedAt),
            "amount" => Some(SubscriptionSortProperty::Amount),
            "status" => Some(SubscriptionSortProperty::Status),
            "product" => Some(SubscriptionSortProperty::Product),
            "organization" => None,
            _ => return None,
        }))
    }
}

/// The session's customer's subscription `id`, or 404.
async fn owned(app: &AppState, session: &PortalSession, id: Uuid) -> ApiResult<Model> {
    store::get((&app.reader).into(), session.organization_id, id)
        .await?
        .filter(|row| row.customer_id == session.customer_id)
        .ok_or_else(not_found)
}

async fn show(app: &AppState, session: &PortalSession, rows: &[Model]) -> ApiResult<Vec<Value>> {
    let shown = present::subscriptions(
        (&app.reader).into(),
        app.storage.as_ref(),
        session.organization_id,
        rows,
    )
    .await?;
    let product_ids: Vec<Uuid> = rows.iter().map(|row| row.product_id).collect();
    let (products, organization) =
        view::catalog_of(app, session.organization_id, &product_ids).await?;
    let catalog = Catalog {
        products,
        organization: &organization,
    };
    Ok(shown
        .into_iter()
        .zip(rows)
        .map(|(subscription, row)| view::subscription(subscription, row.product_id, &catalog))
        .collect())
}

/// A page of the subscriptions `filter` finds, shown to the session's customer.
async fn page(
    app: &AppState,
    session: &PortalSession,
    filter: &store::ListFilter,
    sorting: &[(SubscriptionSortProperty, Direction)],
    pagination: Pagination,
) -> ApiResult<ListResource<Value>> {
    let (rows, total) = store::list(
        &app.reader,
        session.organization_id,
        filter,
        sorting,
        pagination,
    )
    .await?;
    let items = show(app, session, &rows).await?;
    Ok(ListResource::new(items, total, pagination))
}

/// `customer_portal:subscriptions:list`.
pub async fn list(
    app: &AppState,
    session: &PortalSession,
    query: &QueryParams,
) -> ApiResult<ListResource<Value>> {
    let pagination = Pagination::from_query(query)?;
    let sorting: Vec<(SubscriptionSortProperty, Direction)> = query
        .sorting(&[(
            Sort(Some(SubscriptionSortProperty::StartedAt)),
            Direction::Descending,
        )])?
        .into_iter()
        .filter_map(|(sort, direction)| Some((sort.0?, direction)))
        .collect();
    let filter = store::ListFilter {
        product_ids: query.uuids("product_id")?,
        active: query.boolean("active")?,
        customer_ids: Some(vec![session.customer_id]),
        product_name: query.text("query"),
        ..store::ListFilter::default()
    };
    page(app, session, &filter, &sorting, pagination).await
}

/// `customer_portal:seats:list_claimed_subscriptions`: the subscriptions among `ids` (those
/// in which the customer holds a seat, whoever pays for them), newest first.
pub async fn with_seats(
    app: &AppState,
    session: &PortalSession,
    query: &QueryParams,
    ids: Vec<Uuid>,
) -> ApiResult<ListResource<Value>> {
    let pagination = Pagination::from_query(query)?;
    let filter = store::ListFilter {
        ids: Some(ids),
        ..store::ListFilter::default()
    };
    let sorting = [(SubscriptionSortProperty::StartedAt, Direction::Descending)];
    page(app, session, &filter, &sorting, pagination).await
}

/// `customer_portal:subscriptions:get`.
pub async fn get(app: &AppState, session: &PortalSession, id: Uuid) -> ApiResult<Value> {
    let row = owned(app, session, id).await?;
    show(app, session, std::slice::from_ref(&row))
        .await?
        .pop()
        .ok_or_else(not_found)
}

fn forbidden(error: &'static str, detail: &str) -> ApiError {
    ApiError::named(StatusCode::FORBIDDEN, error, detail.to_owned())
}

/// A change the seller's portal settings turn off. Polar answers 403, but the contract's
/// 403 shapes here are only `AlreadyCanceledSubscription` and `PauseResumeNotAllowed`, so
/// floe answers the contract's 422 on the field, which the SDKs read.
fn not_allowed(field: &str, body: &Map<String, Value>, what: &str) -> ApiError {
    ApiError::validation(
        Loc::body().key(field),
        "value_error",
        format!("{what} is not allowed by the seller."),
        body.get(field).cloned().unwrap_or_default(),
    )
}

/// Which `CustomerSubscriptionUpdate` variant a body is, by the fields it has; every
/// variant forbids the others' fields.
fn variant(body: &Map<String, Value>) -> ApiResult<&'static str> {
    const VARIANTS: &[(&str, &[&str])] = &[
        ("product", &["product_id"]),
        ("seats", &["seats"]),
        ("units", &["units"]),
        ("pause", &["pause_at_period_end", "resumes_at"]),
        ("resume", &["resume"]),
        ("clear", &["pending_update"]),
        (
            "cancel",
            &[
                "cancel_at_period_end",
                "cancellation_reason",
                "cancellation_comment",
            ],
        ),
    ];
    let first = body.keys().next().map(String::as_str);
    let Some((name, fields)) = VARIANTS
        .iter()
        .find(|(_, fields)| first.is_some_and(|key| fields.contains(&key)))
    else {
        // No field, or none a variant knows: the (empty) cancel variant, or an unknown
        // field.
        return match first {
            None => Ok("cancel"),
            Some(key) => Err(extra(key, &body[key])),
        };
    };
    if let Some(key) = body.keys().find(|key| !fields.contains(&key.as_str())) {
        return Err(extra(key, &body[key]));
    }
    Ok(name)
}

fn extra(key: &str, input: &Value) -> ApiError {
    ApiError::validation(
        Loc::body().key(key),
        "extra_forbidden",
        "Extra inputs are not permitted",
        input.clone(),
    )
}

/// `customer_portal:subscriptions:update`.
pub async fn update(
    app: &AppState,
    session: &PortalSession,
    id: Uuid,
    body: Value,
) -> ApiResult<Value> {
    let Value::Object(body) = body else {
        return Err(ApiError::validation(
            Loc::body(),
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
            body,
        ));
    };
    let row = owned(app, session, id).await?;
    let organization = crate::organizations::read(&app.db, session.organization_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let portal = &organization.customer_portal_settings.subscription;
    let proration = json!(organization.proration_behavior);
    let merchant = match variant(&body)? {
        "product" => {
            if !portal.update_plan {
                return Err(not_allowed("product_id", &body, "Changing plans"));
            }
            check_public_product(app, &row, &body["product_id"]).await?;
            json!({"product_id": body["product_id"], "proration_behavior": proration})
        }
        quantity @ ("seats" | "units") => {
            if !portal.update_seats {
                return Err(not_allowed(quantity, &body, "Changing seats"));
            }
            json!({quantity: body[quantity], "proration_behavior": proration})
        }
        "pause" | "resume" if !portal.pause => {
            return Err(forbidden(
                "PauseResumeNotAllowed",
                "Pausing and resuming subscriptions is not allowed by the seller.",
            ));
        }
        "pause" | "resume" | "clear" => Value::Object(body),
        _ => match cancel(&body)? {
            Some(merchant) => merchant,
            // An empty cancel body changes nothing.
            None => return get(app, session, id).await,
        },
    };
    super::update::update(app, session.organization_id, id, merchant).await?;
    get(app, session, id).await
}

/// `customer_portal:subscriptions:cancel`: cancels at the end of the period, as at Polar.
pub async fn cancel_at_period_end(
    app: &AppState,
    session: &PortalSession,
    id: Uuid,
) -> ApiResult<Value> {
    owned(app, session, id).await?;
    super::update::update(
        app,
        session.organization_id,
        id,
        json!({"cancel_at_period_end": true}),
    )
    .await?;
    get(app, session, id).await
}

/// The merchant's cancel body for `CustomerSubscriptionCancel`, or `None` when it asks for
/// nothing.
fn cancel(body: &Map<String, Value>) -> ApiResult<Option<Value>> {
    let flag = match body.get("cancel_at_period_end") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Bool(flag)) => *flag,
        Some(other) => {
            return Err(ApiError::validation(
                Loc::body().key("cancel_at_period_end"),
                "bool_type",
                "Input should be a valid boolean",
                other.clone(),
            ));
        }
    };
    let reason = body.get("cancellation_reason").cloned().unwrap_or_default();
    if !reason.is_null()
        && !reason
            .as_str()
            .is_some_and(|reason| CANCELLATION_REASONS.contains(&reason))
    {
        let expected: Vec<String> = CANCELLATION_REASONS
            .iter()
            .map(|r| format!("'{r}'"))
            .collect();
        return Err(ApiError::validation(
            Loc::body().key("cancellation_reason"),
            "enum",
            format!("Input should be {}", expected.join(", ")),
            reason,
        ));
    }
    let comment = body
        .get("cancellation_comment")
        .cloned()
        .unwrap_or_default();
    if !comment.is_null() && !comment.is_string() {
        return Err(ApiError::validation(
            Loc::body().key("cancellation_comment"),
            "string_type",
            "Input should be a valid string",
            comment,
        ));
    }
    Ok(Some(json!({
        "cancel_at_period_end": flag,
        "customer_cancellation_reason": reason,
        "customer_cancellation_comment": comment,
    })))
}

/// A customer switches only to the seller's public products (the merchant may move a
/// subscription to a private one; the change's own rules come after).
async fn check_public_product(app: &AppState, row: &Model, given: &Value) -> ApiResult<()> {
    let missing = || {
        ApiError::validation(
            Loc::body().key("product_id"),
            "value_error",
            "Product does not exist.",
            given.clone(),
        )
    };
    let id = given
        .as_str()
        .and_then(|text| Uuid::try_parse(text).ok())
        .ok_or_else(missing)?;
    let product = crate::products::bases((&app.reader).into(), row.organization_id, &[id])
        .await?
        .pop()
        .ok_or_else(missing)?;
    if product.visibility != crate::products::schema::ProductVisibility::Public {
        return Err(missing());
    }
    Ok(())
}

/// What moving the session's subscription `id` to `product_id` would do, under the same
/// rules as the change itself (the seller's settings, public products, the seller's
/// proration); nothing changes.
pub async fn preview_plan_change(
    app: &AppState,
    session: &PortalSession,
    id: Uuid,
    product_id: Uuid,
) -> ApiResult<super::preview::ChangePreview> {
    let row = owned(app, session, id).await?;
    let organization = crate::organizations::read(&app.db, session.organization_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let body = json!({"product_id": product_id});
    let Value::Object(fields) = &body else {
        unreachable!("a literal object");
    };
    if !organization
        .customer_portal_settings
        .subscription
        .update_plan
    {
        return Err(not_allowed("product_id", fields, "Changing plans"));
    }
    check_public_product(app, &row, &body["product_id"]).await?;
    super::preview::plan_change(
        app,
        session.organization_id,
        id,
        json!({"product_id": product_id, "proration_behavior": organization.proration_behavior}),
    )
    .await
}

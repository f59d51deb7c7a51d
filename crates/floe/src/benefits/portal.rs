//! Benefit grants and downloadables as their holder reaches them through the portal
//! (`customer_portal:benefit-grants:*`, `customer_portal:downloadables:list`): the session's
//! customer's grants that are not revoked, of benefits it may see (public ones), shown as
//! `CustomerBenefitGrant…` (the benefit without the merchant's settings, the customer
//! without its metadata); and the files its grants opened, each with a signed, expiring
//! download URL.

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QueryTrait};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::entity as benefit;
use super::grant_entity::{Column, Entity, Model};
use super::purchase_entity::downloadable;
use super::schema::BenefitType;
use crate::app::AppState;
use crate::customer_portal::auth::PortalSession;
use crate::customer_portal::present;
use crate::files::schema::FileDownload;
use crate::http::pagination::{Direction, SortProperty};
use crate::http::{ApiError, ApiResult, ListResource, Loc, Pagination, QueryParams};

/// `CustomerBenefitGrantSortProperty`: granted_at orders; the others order nothing floe
/// keeps apart (one organization; a benefit's place on its product is per product).
#[derive(Clone, Copy, Debug)]
struct Sort(bool);

impl SortProperty for Sort {
    const NAMES: &'static [&'static str] =
        &["granted_at", "type", "organization", "product_benefit"];

    fn from_name(name: &str) -> Option<Self> {
        Self::NAMES
            .contains(&name)
            .then_some(Self(name == "granted_at"))
    }
}

fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Benefit grant not found.".to_owned())
}

/// The grants a customer sees: its own, not revoked, of public benefits.
fn visible(session: &PortalSession) -> Condition {
    let public_benefits = Query::select()
        .column(benefit::Column::Id)
        .from(benefit::Entity)
        .and_where(benefit::Column::OrganizationId.eq(session.organization_id))
        .and_where(benefit::Column::Visibility.eq("public"))
        .to_owned();
    Condition::all()
        .add(Column::OrganizationId.eq(session.organization_id))
        .add(Column::CustomerId.eq(session.customer_id))
        .add(Column::RevokedAt.is_null())
        .add(Column::BenefitId.in_subquery(public_benefits))
}

async fn show(app: &AppState, session: &PortalSession, rows: Vec<Model>) -> ApiResult<Vec<Value>> {
    let grants =
        super::grants::present((&app.reader).into(), session.organization_id, rows).await?;
    let organization = present::seller(app, session.organization_id).await?;
    Ok(grants
        .into_iter()
        .map(|grant| present::benefit_grant(grant, &organization))
        .collect())
}

/// `customer_portal:benefit-grants:list`.
pub async fn list(
    app: &AppState,
    session: &PortalSession,
    query: &QueryParams,
) -> ApiResult<ListResource<Value>> {
    let pagination = Pagination::from_query(query)?;
    let sorting = query.sorting(&[(Sort(true), Direction::Descending)])?;
    let mut condition = visible(session);
    if let Some(ids) = query.uuids("benefit_id")? {
        condition = condition.add(Column::BenefitId.is_in(ids));
    }
    if let Some(ids) = query.uuids("order_id")? {
        condition = condition.add(Column::OrderId.is_in(ids));
    }
    if let Some(ids) = query.uuids("subscription_id")? {
        condition = condition.add(Column::SubscriptionId.is_in(ids));
    }
    if let Some(ids) = query.uuids("member_id")? {
        condition = condition.add(Column::MemberId.is_in(ids));
    }
    if let Some(ids) = query.uuids("checkout_id")? {
        let orders = Query::select()
            .column(crate::orders::OrderColumn::Id)
            .from(crate::orders::OrderEntity)
            .and_where(crate::orders::OrderColumn::CheckoutId.is_in(ids))
            .to_owned();
        condition = condition.add(Column::OrderId.in_subquery(orders));
    }
    let types = query.enums::<BenefitType>("type")?;
    let text = query.text("query");
    if types.is_some() || text.is_some() {
        let mut named = Query::select()
            .column(benefit::Column::Id)
            .from(benefit::Entity)
            .to_owned();
        if let Some(types) = types {
            named.and_where(benefit::Column::Kind.is_in(types.iter().map(|t| t.as_str())));
        }
        if let Some(text) = text {
            named.and_where(crate::db::contains(benefit::Column::Description, &text));
        }
        condition = condition.add(Column::BenefitId.in_subquery(named));
    }
    let mut select = Entity::find().filter(condition);
    for (sort, direction) in sorting {
        if sort.0 {
            select = crate::db::order_by(select, Column::GrantedAt, direction, true);
        }
    }
    let (rows, total) =
        crate::db::paginate(&app.reader, select.order_by_asc(Column::Id), pagination).await?;
    let items = show(app, session, rows).await?;
    Ok(ListResource::new(items, total, pagination))
}

async fn owned(app: &AppState, session: &PortalSession, id: Uuid) -> ApiResult<Model> {
    app.reader
        .one(Entity::find().filter(visible(session).add(Column::Id.eq(id))))
        .await?
        .ok_or_else(not_found)
}

/// `customer_portal:benefit-grants:get`.
pub async fn get(app: &AppState, session: &PortalSession, id: Uuid) -> ApiResult<Value> {
    let row = owned(app, session, id).await?;
    show(app, session, vec![row])
        .await?
        .pop()
        .ok_or_else(not_found)
}

/// `CustomerBenefitGrantUpdate`: told apart by `benefit_type`.
#[derive(Debug, Deserialize)]
pub struct GrantUpdate {
    benefit_type: BenefitType,
    #[serde(default)]
    properties: Option<Value>,
}

/// `customer_portal:benefit-grants:update`. The type must be the grant's. Only the
/// account-linking benefits (Discord, GitHub) take anything, an account the customer linked
/// to floe first, and floe links none (it cannot grant those benefits), so an account ID is
/// refused; the other types accept the update and change nothing, as at Polar.
pub async fn update(
    app: &AppState,
    session: &PortalSession,
    id: Uuid,
    body: GrantUpdate,
) -> ApiResult<Value> {
    let row = owned(app, session, id).await?;
    let benefit = super::store::by_ids_with_deleted(
        (&app.reader).into(),
        session.organization_id,
        &[row.benefit_id],
    )
    .await?
    .pop()
    .ok_or_else(not_found)?;
    if body.benefit_type.as_str() != benefit.kind {
        return Err(ApiError::validation(
            Loc::body().key("benefit_type"),
            "value_error",
            "The benefit type does not match the grant's benefit.",
            serde_json::json!(body.benefit_type.as_str()),
        ));
    }
    if matches!(
        body.benefit_type,
        BenefitType::Discord | BenefitType::GithubRepository
    ) {
        let account = body
            .properties
            .as_ref()
            .and_then(|properties| properties.get("account_id"))
            .cloned()
            .unwrap_or_default();
        return Err(ApiError::validation(
            Loc::body().key("properties").key("account_id"),
            "value_error",
            "This account is not linked to the customer.",
            account,
        ));
    }
    get(app, session, id).await
}

/// `DownloadableRead`.
#[derive(Debug, Serialize)]
pub struct DownloadableRead {
    id: Uuid,
    benefit_id: Uuid,
    file: FileDownload,
}

/// `customer_portal:downloadables:list`: the files the customer's grants opened and still
/// open (the benefit not deleted, the file still downloadable), oldest first, each with a
/// fresh signed URL.
pub async fn downloadables(
    app: &AppState,
    session: &PortalSession,
    query: &QueryParams,
) -> ApiResult<ListResource<DownloadableRead>> {
    let pagination = Pagination::from_query(query)?;
    let live_benefits = Query::select()
        .column(benefit::Column::Id)
        .from(benefit::Entity)
        .and_where(benefit::Column::OrganizationId.eq(session.organization_id))
        .and_where(benefit::Column::DeletedAt.is_null())
        .to_owned();
    let usable_files = crate::files::usable_subquery(session.organization_id, "downloadable");
    let select = downloadable::Entity::find()
        .filter(downloadable::Column::OrganizationId.eq(session.organization_id))
        .filter(downloadable::Column::CustomerId.eq(session.customer_id))
        .filter(downloadable::Column::Status.eq("granted"))
        .filter(downloadable::Column::BenefitId.in_subquery(live_benefits))
        .filter(downloadable::Column::FileId.in_subquery(usable_files))
        .apply_if(query.uuids("benefit_id")?, |select, ids| {
            select.filter(downloadable::Column::BenefitId.is_in(ids))
        })
        .order_by_asc(downloadable::Column::CreatedAt)
        .order_by_asc(downloadable::Column::Id);
    let (rows, total) = crate::db::paginate(&app.reader, select, pagination).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let file = crate::files::download(app, session.organization_id, row.file_id).await?;
        items.push(DownloadableRead {
            id: row.id,
            benefit_id: row.benefit_id,
            file,
        });
    }
    Ok(ListResource::new(items, total, pagination))
}

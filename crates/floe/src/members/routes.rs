//! Handlers of the members API: by customer ID and member ID, or by the two external IDs.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::portal::{self, PortalMember, PortalMemberCreate, PortalMemberUpdate};
use super::schema::{CreatedAt, Member, MemberCreate, MemberUpdate, Role};
use super::service::{self, ListFilter, MemberKey};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::customer_portal::auth::MemberManagerSession;
use crate::customers::CustomerKey;
use crate::http::extract::path_uuid;
use crate::http::pagination::Direction;
use crate::http::{ApiError, ApiResult, IdPath, Json, ListResource, Pagination, QueryParams};

/// `members:read` or `members:write`.
pub struct MembersRead;

impl RequiredScopes for MembersRead {
    const SCOPES: &'static [Scope] = &[Scope::MembersRead, Scope::MembersWrite];
}

/// `members:write`.
pub struct MembersWrite;

impl RequiredScopes for MembersWrite {
    const SCOPES: &'static [Scope] = &[Scope::MembersWrite];
}

/// `members:list_members`.
pub async fn list(
    auth: Authorized<MembersRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Member>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(CreatedAt, Direction::Descending)])?;
    // `customer_id` is a plain string in the contract: one that is not an ID names no
    // customer (Polar answers 404; floe an empty list, as for any other filter).
    let mut customer_ids: Option<Vec<uuid::Uuid>> = query
        .last("customer_id")
        .map(|raw| crate::http::extract::parse_uuid(raw).into_iter().collect());
    let external: Vec<String> = query
        .all("external_customer_id")
        .into_iter()
        .map(str::to_owned)
        .collect();
    customer_ids = crate::customers::narrow_to_external(
        &app.reader,
        auth.organization_id,
        customer_ids,
        &external,
    )
    .await?;
    let filter = ListFilter {
        customer_ids,
        roles: query.enums::<Role>("role")?,
    };
    let ascending = sorting
        .first()
        .is_some_and(|(_, direction)| *direction == Direction::Ascending);
    Ok(axum::Json(
        service::list(&app, auth.organization_id, &filter, ascending, pagination).await?,
    ))
}

/// `customers:members:list` (the SDK's, newer than the contract): one customer's members.
pub async fn list_of_customer(
    auth: Authorized<MembersRead>,
    State(app): State<AppState>,
    Path(raw): Path<String>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Member>>> {
    let id = path_uuid("id", &raw)?;
    of_customer(&app, auth.organization_id, CustomerKey::Id(id), &query).await
}

/// `customers:members:list_external` (the SDK's).
pub async fn list_of_customer_external(
    auth: Authorized<MembersRead>,
    State(app): State<AppState>,
    Path(external_id): Path<String>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Member>>> {
    of_customer(
        &app,
        auth.organization_id,
        CustomerKey::External(external_id),
        &query,
    )
    .await
}

async fn of_customer(
    app: &AppState,
    organization_id: uuid::Uuid,
    key: CustomerKey,
    query: &QueryParams,
) -> ApiResult<axum::Json<ListResource<Member>>> {
    let pagination = Pagination::from_query(query)?;
    let sorting = query.sorting(&[(CreatedAt, Direction::Descending)])?;
    let customer = crate::customers::find_many(
        &app.reader,
        organization_id,
        match &key {
            CustomerKey::Id(id) => std::slice::from_ref(id),
            CustomerKey::External(_) => &[],
        },
        match &key {
            CustomerKey::External(external) => std::slice::from_ref(external),
            CustomerKey::Id(_) => &[],
        },
    )
    .await?
    .pop()
    .ok_or_else(|| ApiError::ResourceNotFound("Customer not found.".to_owned()))?;
    let filter = ListFilter {
        customer_ids: Some(vec![customer.id]),
        roles: query.enums::<Role>("role")?,
    };
    let ascending = sorting
        .first()
        .is_some_and(|(_, direction)| *direction == Direction::Ascending);
    Ok(axum::Json(
        service::list(app, organization_id, &filter, ascending, pagination).await?,
    ))
}

fn ids(raw: &(String, String)) -> ApiResult<(CustomerKey, MemberKey)> {
    let customer = path_uuid("id", &raw.0);
    let member = path_uuid("member_id", &raw.1);
    match (customer, member) {
        (Ok(customer), Ok(member)) => Ok((CustomerKey::Id(customer), MemberKey::Id(member))),
        (Err(ApiError::Validation(mut a)), Err(ApiError::Validation(b))) => {
            a.extend(b);
            Err(ApiError::Validation(a))
        }
        (Err(error), _) | (_, Err(error)) => Err(error),
    }
}

fn external(raw: (String, String)) -> (CustomerKey, MemberKey) {
    (CustomerKey::External(raw.0), MemberKey::External(raw.1))
}

/// `customers:members:create`.
pub async fn create(
    auth: Authorized<MembersWrite>,
    State(app): State<AppState>,
    Path(raw): Path<String>,
    Json(body): Json<MemberCreate>,
) -> ApiResult<(StatusCode, axum::Json<Member>)> {
    let id = path_uuid("id", &raw)?;
    let member = service::create(&app, auth.organization_id, CustomerKey::Id(id), body).await?;
    Ok((StatusCode::CREATED, axum::Json(member)))
}

/// `customers:members:create_external`.
pub async fn create_external(
    auth: Authorized<MembersWrite>,
    State(app): State<AppState>,
    Path(external_id): Path<String>,
    Json(body): Json<MemberCreate>,
) -> ApiResult<(StatusCode, axum::Json<Member>)> {
    let member = service::create(
        &app,
        auth.organization_id,
        CustomerKey::External(external_id),
        body,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(member)))
}

/// `customers:members:get`.
pub async fn get(
    auth: Authorized<MembersRead>,
    State(app): State<AppState>,
    Path(raw): Path<(String, String)>,
) -> ApiResult<axum::Json<Member>> {
    let (customer, member) = ids(&raw)?;
    Ok(axum::Json(
        service::get(&app, auth.organization_id, customer, member).await?,
    ))
}

/// `customers:members:get_external`.
pub async fn get_external(
    auth: Authorized<MembersRead>,
    State(app): State<AppState>,
    Path(raw): Path<(String, String)>,
) -> ApiResult<axum::Json<Member>> {
    let (customer, member) = external(raw);
    Ok(axum::Json(
        service::get(&app, auth.organization_id, customer, member).await?,
    ))
}

/// `customers:members:update`.
pub async fn update(
    auth: Authorized<MembersWrite>,
    State(app): State<AppState>,
    Path(raw): Path<(String, String)>,
    Json(body): Json<MemberUpdate>,
) -> ApiResult<axum::Json<Member>> {
    let (customer, member) = ids(&raw)?;
    Ok(axum::Json(
        service::update(&app, auth.organization_id, customer, member, body, None).await?,
    ))
}

/// `customers:members:update_external`.
pub async fn update_external(
    auth: Authorized<MembersWrite>,
    State(app): State<AppState>,
    Path(raw): Path<(String, String)>,
    Json(body): Json<MemberUpdate>,
) -> ApiResult<axum::Json<Member>> {
    let (customer, member) = external(raw);
    Ok(axum::Json(
        service::update(&app, auth.organization_id, customer, member, body, None).await?,
    ))
}

/// `customers:members:delete`.
pub async fn delete(
    auth: Authorized<MembersWrite>,
    State(app): State<AppState>,
    Path(raw): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (customer, member) = ids(&raw)?;
    service::delete(&app, auth.organization_id, customer, member, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `customers:members:delete_external`.
pub async fn delete_external(
    auth: Authorized<MembersWrite>,
    State(app): State<AppState>,
    Path(raw): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (customer, member) = external(raw);
    service::delete(&app, auth.organization_id, customer, member, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `customer_portal:members:list_members`.
pub async fn portal_list(
    caller: MemberManagerSession,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<PortalMember>>> {
    let pagination = Pagination::from_query(&query)?;
    Ok(axum::Json(portal::list(&app, &caller, pagination).await?))
}

/// `customer_portal:members:add_member`.
pub async fn portal_add(
    caller: MemberManagerSession,
    State(app): State<AppState>,
    Json(body): Json<PortalMemberCreate>,
) -> ApiResult<(StatusCode, axum::Json<PortalMember>)> {
    let member = portal::add(&app, &caller, body).await?;
    Ok((StatusCode::CREATED, axum::Json(member)))
}

/// `customer_portal:members:update_member`.
pub async fn portal_update(
    caller: MemberManagerSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<PortalMemberUpdate>,
) -> ApiResult<axum::Json<PortalMember>> {
    Ok(axum::Json(portal::update(&app, &caller, id, body).await?))
}

/// `customer_portal:members:remove_member`.
pub async fn portal_remove(
    caller: MemberManagerSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    portal::remove(&app, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! The portal's member operations: an owner or billing manager of a team customer manages
//! its members (`customer_portal:members:*`). The rules are the merchant's, with the
//! portal's on top (see [`service::Actor`]): the owner is never created here, no one
//! changes their own role or removes themselves, and only the owner hands ownership on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::schema::{CreateRole, Member, MemberCreate, MemberUpdate, Role};
use super::service::{self, Actor, ListFilter, MemberKey};
use crate::app::AppState;
use crate::customer_portal::auth::MemberManagerSession;
use crate::customers::CustomerKey;
use crate::customers::schema::CustomerType;
use crate::http::{ApiError, ApiResult, ListResource, Loc, Pagination, patch};

/// `CustomerPortalMember`: a member as its team sees it (no external ID).
#[derive(Debug, Serialize)]
pub struct PortalMember {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub role: String,
}

impl From<Member> for PortalMember {
    fn from(member: Member) -> Self {
        Self {
            created_at: member.created_at,
            modified_at: member.modified_at,
            id: member.id,
            email: member.email,
            name: member.name,
            role: member.role,
        }
    }
}

/// `CustomerPortalMemberCreate`.
#[derive(Debug, Deserialize)]
pub struct PortalMemberCreate {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "member_role")]
    pub role: Role,
}

fn member_role() -> Role {
    Role::Member
}

/// `CustomerPortalMemberUpdate`: absent fields stay.
#[derive(Debug, Default, Deserialize)]
pub struct PortalMemberUpdate {
    #[serde(default, deserialize_with = "patch::field")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub role: Option<Option<Role>>,
}

fn actor(caller: &MemberManagerSession) -> Actor {
    Actor {
        member_id: caller.member.id,
        role: caller.member.role,
    }
}

/// Members belong to team customers: an individual customer's session is 403 here.
async fn team_of(app: &AppState, caller: &MemberManagerSession) -> ApiResult<CustomerKey> {
    let key = CustomerKey::Id(caller.session.customer_id);
    let customer = crate::customers::get_live(&app.reader, caller.session.organization_id, &key)
        .await?
        .ok_or_else(|| ApiError::ResourceNotFound("Customer not found.".to_owned()))?;
    if customer.kind != CustomerType::Team.as_str() {
        return Err(ApiError::NotPermitted(
            "Member management is only available for team customers.".to_owned(),
        ));
    }
    Ok(key)
}

/// `customer_portal:members:list_members`: the team's members, oldest first.
pub async fn list(
    app: &AppState,
    caller: &MemberManagerSession,
    pagination: Pagination,
) -> ApiResult<ListResource<PortalMember>> {
    team_of(app, caller).await?;
    let filter = ListFilter {
        customer_ids: Some(vec![caller.session.customer_id]),
        roles: None,
    };
    let page = service::list(
        app,
        caller.session.organization_id,
        &filter,
        true,
        pagination,
    )
    .await?;
    Ok(page.map(PortalMember::from))
}

/// `customer_portal:members:add_member`: a new member (`member` or `billing_manager`), or
/// the one the team already has with that email.
pub async fn add(
    app: &AppState,
    caller: &MemberManagerSession,
    body: PortalMemberCreate,
) -> ApiResult<PortalMember> {
    let key = team_of(app, caller).await?;
    let role = match body.role {
        Role::Member => CreateRole::Member,
        Role::BillingManager => CreateRole::BillingManager,
        Role::Owner => {
            return Err(ApiError::validation(
                Loc::body().key("role"),
                "value_error",
                "A member cannot be added as the owner: the owner hands ownership on.",
                json!("owner"),
            ));
        }
    };
    let create = MemberCreate {
        email: body.email,
        name: body.name,
        external_id: None,
        role,
    };
    Ok(
        service::create(app, caller.session.organization_id, key, create)
            .await?
            .into(),
    )
}

/// `customer_portal:members:update_member`: name and role.
pub async fn update(
    app: &AppState,
    caller: &MemberManagerSession,
    member_id: Uuid,
    body: PortalMemberUpdate,
) -> ApiResult<PortalMember> {
    let key = team_of(app, caller).await?;
    let update = MemberUpdate {
        name: body.name,
        email: None,
        role: body.role,
    };
    Ok(service::update(
        app,
        caller.session.organization_id,
        key,
        MemberKey::Id(member_id),
        update,
        Some(actor(caller)),
    )
    .await?
    .into())
}

/// `customer_portal:members:remove_member`.
pub async fn remove(
    app: &AppState,
    caller: &MemberManagerSession,
    member_id: Uuid,
) -> ApiResult<()> {
    let key = team_of(app, caller).await?;
    service::delete(
        app,
        caller.session.organization_id,
        key,
        MemberKey::Id(member_id),
        Some(actor(caller)),
    )
    .await
}

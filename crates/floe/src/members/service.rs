//! What the member operations do, each in one transaction with its webhook.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::{Column, Entity, Model};
use super::schema::{CreateRole, Member, MemberCreate, MemberUpdate, Role};
use crate::app::AppState;
use crate::customers::CustomerKey;
use crate::customers::schema::CustomerType;
use crate::customers::service::{check_email, check_text};
use crate::http::{ApiError, ApiResult, ListResource, Loc, Pagination, Validator};
use crate::webhooks::EventType;

const MAX_NAME_CHARS: usize = 256;
const MAX_EXTERNAL_ID_CHARS: usize = 256;

pub(super) fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Member not found.".to_owned())
}

fn customer_not_found() -> ApiError {
    ApiError::ResourceNotFound("Customer not found.".to_owned())
}

/// The member acting through the portal, whose rules are stricter than the merchant's: no
/// one changes their own role or removes themselves, and only the owner hands ownership on.
#[derive(Clone, Copy, Debug)]
pub struct Actor {
    pub member_id: Uuid,
    pub role: Role,
}

/// How a request names a member of its customer.
pub enum MemberKey {
    Id(Uuid),
    External(String),
}

fn live(customer_id: Uuid) -> sea_orm::Select<Entity> {
    Entity::find()
        .filter(Column::CustomerId.eq(customer_id))
        .filter(Column::DeletedAt.is_null())
}

/// The live member `key` names among `customer_id`'s.
fn named(customer_id: Uuid, key: &MemberKey) -> sea_orm::Select<Entity> {
    match key {
        MemberKey::Id(id) => live(customer_id).filter(Column::Id.eq(*id)),
        MemberKey::External(external) => {
            live(customer_id).filter(Column::ExternalId.eq(external.clone()))
        }
    }
}

async fn find(txn: &DatabaseTransaction, customer_id: Uuid, key: &MemberKey) -> ApiResult<Model> {
    named(customer_id, key)
        .one(txn)
        .await?
        .ok_or_else(not_found)
}

async fn emit(
    txn: &DatabaseTransaction,
    row: &Model,
    change: EventType,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<usize> {
    Ok(crate::webhooks::emit(txn, row.organization_id, change, &Member::from(row), now).await?)
}

async fn insert(txn: &DatabaseTransaction, row: Model) -> ApiResult<Model> {
    Ok(crate::db::rows::insert::<Entity>(txn, row).await?)
}

/// The customer's owner, made from its email when it has none (as Polar makes it with the
/// customer); `None` for a customer without an email and without an owner.
async fn ensure_owner(
    txn: &DatabaseTransaction,
    customer: &crate::customers::CustomerRow,
    now: chrono::DateTime<chrono::Utc>,
    queued: &mut usize,
) -> ApiResult<Option<Model>> {
    if let Some(owner) = live(customer.id)
        .filter(Column::Role.eq(Role::Owner.as_str()))
        .one(txn)
        .await?
    {
        return Ok(Some(owner));
    }
    let Some(email) = customer.email.clone() else {
        return Ok(None);
    };
    let row = insert(
        txn,
        Model {
            id: Uuid::new_v4(),
            created_at: now,
            modified_at: None,
            deleted_at: None,
            organization_id: customer.organization_id,
            customer_id: customer.id,
            email_key: email.to_lowercase(),
            email,
            name: customer.name.clone(),
            external_id: None,
            role: Role::Owner.as_str().to_owned(),
        },
    )
    .await?;
    *queued += emit(txn, &row, EventType::MemberCreated, now).await?;
    Ok(Some(row))
}

/// The customer named by `key`, locked for the transaction (two member changes of one
/// customer never interleave, so its uniqueness rules hold).
async fn customer(
    txn: &DatabaseTransaction,
    organization_id: Uuid,
    key: &CustomerKey,
) -> ApiResult<crate::customers::CustomerRow> {
    crate::customers::lock(txn, organization_id, key)
        .await?
        .ok_or_else(customer_not_found)
}

/// `customers:members:create` (and its external-ID form). Answers the member and whether
/// it is new.
pub async fn create(
    app: &AppState,
    organization_id: Uuid,
    key: CustomerKey,
    body: MemberCreate,
) -> ApiResult<Member> {
    let mut validator = Validator::new();
    check_email(&body.email, &mut validator);
    check_text(body.name.as_deref(), "name", MAX_NAME_CHARS, &mut validator);
    check_text(
        body.external_id.as_deref(),
        "external_id",
        MAX_EXTERNAL_ID_CHARS,
        &mut validator,
    );
    validator.finish()?;
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let customer = customer(&txn, organization_id, &key).await?;
    let mut queued = 0;
    ensure_owner(&txn, &customer, now, &mut queued).await?;
    if let Some(existing) = live(customer.id)
        .filter(Column::EmailKey.eq(body.email.to_lowercase()))
        .one(&txn)
        .await?
    {
        app.nudge.commit(txn, queued).await?;
        return Ok(Member::from(&existing));
    }
    if customer.kind != CustomerType::Team.as_str() {
        return Err(ApiError::NotPermitted(
            "An individual customer has one member, its owner: make it a team to add members."
                .to_owned(),
        ));
    }
    if let Some(external) = &body.external_id
        && live(customer.id)
            .filter(Column::ExternalId.eq(external.clone()))
            .one(&txn)
            .await?
            .is_some()
    {
        return Err(ApiError::validation(
            Loc::body().key("external_id"),
            "value_error",
            "A member with this external ID already exists for this customer.",
            json!(external),
        ));
    }
    let row = insert(
        &txn,
        Model {
            id: Uuid::new_v4(),
            created_at: now,
            modified_at: None,
            deleted_at: None,
            organization_id,
            customer_id: customer.id,
            email_key: body.email.to_lowercase(),
            email: body.email,
            name: body.name,
            external_id: body.external_id,
            role: match body.role {
                CreateRole::Member => Role::Member,
                CreateRole::BillingManager => Role::BillingManager,
            }
            .as_str()
            .to_owned(),
        },
    )
    .await?;
    queued += emit(&txn, &row, EventType::MemberCreated, now).await?;
    app.nudge.commit(txn, queued).await?;
    Ok(Member::from(&row))
}

/// `customers:members:get`: a read, outside any transaction.
pub async fn get(
    app: &AppState,
    organization_id: Uuid,
    key: CustomerKey,
    member: MemberKey,
) -> ApiResult<Member> {
    let customer = crate::customers::get_live(&app.reader, organization_id, &key)
        .await?
        .ok_or_else(customer_not_found)?;
    let row = app
        .reader
        .one(named(customer.id, &member))
        .await?
        .ok_or_else(not_found)?;
    Ok(Member::from(&row))
}

/// `customers:members:update`: name, email (unique in the customer; an individual
/// customer's member keeps the customer's), role (making one the owner demotes the old
/// owner to billing manager; the only owner cannot be demoted).
pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    key: CustomerKey,
    member: MemberKey,
    patch: MemberUpdate,
    actor: Option<Actor>,
) -> ApiResult<Member> {
    let mut validator = Validator::new();
    if let Some(Some(email)) = &patch.email {
        check_email(email, &mut validator);
    }
    if let Some(Some(name)) = &patch.name {
        check_text(Some(name), "name", MAX_NAME_CHARS, &mut validator);
    }
    validator.finish()?;
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let customer = customer(&txn, organization_id, &key).await?;
    let mut row = find(&txn, customer.id, &member).await?;
    let before = row.clone();
    let mut queued = 0;
    if let Some(name) = patch.name {
        row.name = name;
    }
    if let Some(Some(email)) = patch.email
        && email.to_lowercase() != row.email_key
    {
        if customer.kind != CustomerType::Team.as_str() {
            return Err(ApiError::validation(
                Loc::body().key("email"),
                "value_error",
                "An individual customer's member has the customer's email.",
                json!(email),
            ));
        }
        let taken = live(customer.id)
            .filter(Column::EmailKey.eq(email.to_lowercase()))
            .one(&txn)
            .await?
            .is_some();
        if taken {
            return Err(ApiError::validation(
                Loc::body().key("email"),
                "value_error",
                "A member with this email already exists for this customer.",
                json!(email),
            ));
        }
        row.email_key = email.to_lowercase();
        row.email = email;
    }
    if let Some(Some(role)) = patch.role
        && role.as_str() != row.role
    {
        if let Some(actor) = actor {
            let refusal = if actor.member_id == row.id {
                Some("You cannot change your own role.")
            } else if role == Role::Owner && actor.role != Role::Owner {
                Some("Only the owner can make another member the owner.")
            } else {
                None
            };
            if let Some(refusal) = refusal {
                return Err(ApiError::validation(
                    Loc::body().key("role"),
                    "value_error",
                    refusal,
                    json!(role.as_str()),
                ));
            }
        }
        if row.role == Role::Owner.as_str() {
            return Err(ApiError::validation(
                Loc::body().key("role"),
                "value_error",
                "The owner cannot be demoted: make another member the owner.",
                json!(role.as_str()),
            ));
        }
        if role == Role::Owner {
            // The ownership moves: the old owner becomes a billing manager.
            let old = live(customer.id)
                .filter(Column::Role.eq(Role::Owner.as_str()))
                .filter(Column::Id.ne(row.id))
                .all(&txn)
                .await?;
            for old in old {
                let previous = old.clone();
                let mut demoted = old.into_active_model();
                demoted.role = sea_orm::Set(Role::BillingManager.as_str().to_owned());
                demoted.modified_at = sea_orm::Set(Some(now));
                let demoted = demoted.update(&txn).await?;
                if demoted != previous {
                    queued += emit(&txn, &demoted, EventType::MemberUpdated, now).await?;
                }
            }
        }
        row.role = role.as_str().to_owned();
    }
    if row == before {
        app.nudge.commit(txn, queued).await?;
        return Ok(Member::from(&row));
    }
    row.modified_at = Some(now);
    let row = crate::db::rows::update::<Entity>(&txn, row).await?;
    queued += emit(&txn, &row, EventType::MemberUpdated, now).await?;
    app.nudge.commit(txn, queued).await?;
    Ok(Member::from(&row))
}

/// `customers:members:delete`: soft delete; the owner cannot go, nor (in the portal) the
/// member acting.
pub async fn delete(
    app: &AppState,
    organization_id: Uuid,
    key: CustomerKey,
    member: MemberKey,
    actor: Option<Actor>,
) -> ApiResult<()> {
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let customer = customer(&txn, organization_id, &key).await?;
    let mut row = find(&txn, customer.id, &member).await?;
    let path = if actor.is_some() { "id" } else { "member_id" };
    let refusal = if actor.is_some_and(|actor| actor.member_id == row.id) {
        Some("You cannot remove yourself.")
    } else if row.role == Role::Owner.as_str() {
        Some("The owner cannot be removed: make another member the owner first.")
    } else {
        None
    };
    if let Some(refusal) = refusal {
        return Err(ApiError::validation(
            Loc::path(path),
            "value_error",
            refusal,
            json!(row.id),
        ));
    }
    row.deleted_at = Some(now);
    row.modified_at = Some(now);
    let row = crate::db::rows::update::<Entity>(&txn, row).await?;
    let queued = emit(&txn, &row, EventType::MemberDeleted, now).await?;
    app.nudge.commit(txn, queued).await?;
    Ok(())
}

/// Filters of `members:list_members`.
pub struct ListFilter {
    pub customer_ids: Option<Vec<Uuid>>,
    pub roles: Option<Vec<Role>>,
}

/// `members:list_members`: newest first unless asked otherwise.
pub async fn list(
    app: &AppState,
    organization_id: Uuid,
    filter: &ListFilter,
    ascending: bool,
    pagination: Pagination,
) -> ApiResult<ListResource<Member>> {
    let mut select = Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::DeletedAt.is_null());
    if let Some(ids) = &filter.customer_ids {
        select = select.filter(Column::CustomerId.is_in(ids.clone()));
    }
    if let Some(roles) = &filter.roles {
        select = select.filter(Column::Role.is_in(roles.iter().map(|r| r.as_str())));
    }
    select = if ascending {
        select.order_by_asc(Column::CreatedAt)
    } else {
        select.order_by_desc(Column::CreatedAt)
    };
    let (rows, total) =
        crate::db::paginate(&app.reader, select.order_by_asc(Column::Id), pagination).await?;
    Ok(ListResource::new(
        rows.iter().map(Member::from).collect(),
        total,
        pagination,
    ))
}

/// A deleted customer's members go with it, each with `member.deleted` (as at Polar);
/// returns the deliveries queued.
pub async fn remove_all_of_customer(
    txn: &DatabaseTransaction,
    customer_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<usize> {
    let mut queued = 0;
    for mut row in live(customer_id).all(txn).await? {
        row.deleted_at = Some(now);
        row.modified_at = Some(now);
        let row = crate::db::rows::update::<Entity>(txn, row).await?;
        queued += emit(txn, &row, EventType::MemberDeleted, now).await?;
    }
    Ok(queued)
}

/// The IDs of all live members, as a subquery (a member session needs its member).
pub fn live_ids() -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(Column::Id)
        .from(Entity)
        .and_where(Column::DeletedAt.is_null())
        .to_owned()
}

/// The member a customer session is opened for, named by `member_id` or
/// `external_member_id` (the ID wins); `None` when neither is given, for a customer session.
/// A member that is not a live member of the customer is a 422 on the field that named it.
pub async fn for_session(
    txn: &DatabaseTransaction,
    customer_id: Uuid,
    member_id: Option<Uuid>,
    external_member_id: Option<&str>,
) -> ApiResult<Option<Uuid>> {
    let (key, field, input) = match (member_id, external_member_id) {
        (Some(id), _) => (MemberKey::Id(id), "member_id", json!(id)),
        (None, Some(external)) => (
            MemberKey::External(external.to_owned()),
            "external_member_id",
            json!(external),
        ),
        (None, None) => return Ok(None),
    };
    let member = named(customer_id, &key).one(txn).await?.ok_or_else(|| {
        ApiError::validation(
            Loc::body().key(field),
            "value_error",
            "Member does not exist for this customer.",
            input,
        )
    })?;
    Ok(Some(member.id))
}

/// A live member of the customer, read for a member session; `None` once it is gone.
pub async fn live_member(
    db: &crate::db::ReadConnection,
    customer_id: Uuid,
    member_id: Uuid,
) -> Result<Option<Member>, sea_orm::DbErr> {
    Ok(db
        .one(live(customer_id).filter(Column::Id.eq(member_id)))
        .await?
        .as_ref()
        .map(Member::from))
}

/// The live member with `email_key` among the organization's customers (of `customer_id`
/// when given), the oldest first: (customer, member).
pub async fn by_email(
    txn: &DatabaseTransaction,
    organization_id: Uuid,
    email_key: &str,
    customer_id: Option<Uuid>,
) -> Result<Option<(Uuid, Uuid)>, sea_orm::DbErr> {
    let mut select = Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::EmailKey.eq(email_key))
        .filter(Column::DeletedAt.is_null())
        .filter(
            Column::CustomerId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(crate::customers::entity::Column::Id)
                    .from(crate::customers::entity::Entity)
                    .and_where(crate::customers::entity::Column::DeletedAt.is_null())
                    .to_owned(),
            ),
        );
    if let Some(id) = customer_id {
        select = select.filter(Column::CustomerId.eq(id));
    }
    Ok(select
        .order_by_asc(Column::CreatedAt)
        .one(txn)
        .await?
        .map(|row| (row.customer_id, row.id)))
}

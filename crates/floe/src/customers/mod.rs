//! Customers: the people and teams an organization sells to, addressed by floe's ID or by
//! the organization's own external ID.

pub mod billing;
pub mod email_update;
pub(crate) mod entity;
pub mod payment_methods;
pub mod portal_methods;
pub mod purchase;
mod routes;
pub mod schema;
pub mod service;
mod store;

pub use entity::Model as CustomerRow;
pub use store::{CustomerKey, set_default_payment_method};

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/customers", routes::list)
        .post("/v1/customers", routes::create)
        .get("/v1/customers/export", routes::export)
        .get("/v1/customers/{id}", routes::get)
        .patch("/v1/customers/{id}", routes::update)
        .delete("/v1/customers/{id}", routes::delete)
        .get("/v1/customers/{id}/state", routes::state)
        .get(
            "/v1/customers/{id}/payment-methods",
            routes::payment_methods,
        )
        .get("/v1/customers/external/{external_id}", routes::get_external)
        .patch(
            "/v1/customers/external/{external_id}",
            routes::update_external,
        )
        .delete(
            "/v1/customers/external/{external_id}",
            routes::delete_external,
        )
        .get(
            "/v1/customers/external/{external_id}/state",
            routes::state_external,
        )
        .get(
            "/v1/customers/external/{external_id}/payment-methods",
            routes::payment_methods_external,
        )
}

/// Which of `ids` are live customers of `organization_id` (for other domains' checks).
pub async fn live_ids(
    db: &impl sea_orm::ConnectionTrait,
    organization_id: uuid::Uuid,
    ids: &[uuid::Uuid],
) -> Result<Vec<uuid::Uuid>, sea_orm::DbErr> {
    store::live_ids(db, organization_id, ids).await
}

/// Live customers of `organization_id` named by ID or by external ID, for showing who an
/// event is about.
pub async fn find_many(
    db: &crate::db::ReadConnection,
    organization_id: uuid::Uuid,
    ids: &[uuid::Uuid],
    external_ids: &[String],
) -> Result<Vec<schema::Customer>, sea_orm::DbErr> {
    // Callers pass keys taken from many events: without repeats, and a bounded number per
    // query (SQLite refuses statements with more than 32,766 parameters).
    const CHUNK: usize = 500;
    let ids: Vec<uuid::Uuid> = ids
        .iter()
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let external_ids: Vec<String> = external_ids
        .iter()
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut rows = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        rows.extend(store::find_many(db, organization_id, chunk, &[]).await?);
    }
    for chunk in external_ids.chunks(CHUNK) {
        rows.extend(store::find_many(db, organization_id, &[], chunk).await?);
    }
    let mut seen = std::collections::HashSet::new();
    rows.retain(|row| seen.insert(row.id));
    Ok(rows.iter().map(schema::Customer::from).collect())
}

/// Every live customer of an organization.
pub async fn all_live(
    db: &crate::db::ReadConnection,
    organization_id: uuid::Uuid,
) -> Result<Vec<schema::Customer>, sea_orm::DbErr> {
    Ok(store::all(db, organization_id)
        .await?
        .iter()
        .map(schema::Customer::from)
        .collect())
}

/// A customer's usage is sent with its ID or with its external ID: the keys given, plus the
/// other key of every customer they name.
pub async fn both_keys(
    db: &crate::db::ReadConnection,
    organization_id: uuid::Uuid,
    mut ids: Vec<uuid::Uuid>,
    mut external_ids: Vec<String>,
) -> Result<(Vec<uuid::Uuid>, Vec<String>), sea_orm::DbErr> {
    for customer in find_many(db, organization_id, &ids, &external_ids).await? {
        if !ids.contains(&customer.id) {
            ids.push(customer.id);
        }
        if let Some(external_id) = customer.external_id
            && !external_ids.contains(&external_id)
        {
            external_ids.push(external_id);
        }
    }
    Ok((ids, external_ids))
}

/// Customers of `organization_id` by ID, deleted ones included, as the API shows them (for
/// records such as benefit grants, which keep naming their customer). Called with the IDs of
/// a page at once: one query, whatever the page size.
pub async fn by_ids_with_deleted(
    db: &crate::db::ReadConnection,
    organization_id: uuid::Uuid,
    ids: &[uuid::Uuid],
) -> Result<Vec<schema::Customer>, sea_orm::DbErr> {
    let mut unique: Vec<uuid::Uuid> = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    Ok(store::by_ids_with_deleted(db, organization_id, &unique)
        .await?
        .iter()
        .map(schema::Customer::from)
        .collect())
}

/// Customers of `organization_id` by ID, deleted ones included, as the API shows them, in
/// any `Reads` (a write transaction included).
pub async fn read_many(
    db: crate::db::Reads<'_>,
    organization_id: uuid::Uuid,
    ids: &[uuid::Uuid],
) -> Result<Vec<schema::Customer>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let select = entity::Entity::find().filter(entity::Column::OrganizationId.eq(organization_id));
    Ok(db
        .among(select, entity::Column::Id, ids)
        .await?
        .iter()
        .map(schema::Customer::from)
        .collect())
}

/// The IDs of `organization_id`'s customers with one of `emails` (any case), deleted ones
/// included (their payments and orders stay theirs).
pub async fn ids_by_emails(
    db: &crate::db::ReadConnection,
    organization_id: uuid::Uuid,
    emails: &[&str],
) -> Result<Vec<uuid::Uuid>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let keys: Vec<String> = emails.iter().map(|e| e.to_lowercase()).collect();
    Ok(db
        .all(
            entity::Entity::find()
                .filter(entity::Column::OrganizationId.eq(organization_id))
                .filter(entity::Column::EmailKey.is_in(keys)),
        )
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect())
}

/// A list filter's customers narrowed to those named by `external_ids` (the
/// `external_customer_id` query parameter): `given` as it is when none are named, else the
/// named customers (among `given`, when it names some too).
pub async fn narrow_to_external(
    db: &crate::db::ReadConnection,
    organization_id: uuid::Uuid,
    given: Option<Vec<uuid::Uuid>>,
    external_ids: &[String],
) -> Result<Option<Vec<uuid::Uuid>>, sea_orm::DbErr> {
    if external_ids.is_empty() {
        return Ok(given);
    }
    let named: Vec<uuid::Uuid> = find_many(db, organization_id, &[], external_ids)
        .await?
        .into_iter()
        .map(|customer| customer.id)
        .collect();
    Ok(Some(match given {
        Some(given) => given.into_iter().filter(|id| named.contains(id)).collect(),
        None => named,
    }))
}

/// The live customer `key` names, locked until `txn` ends on PostgreSQL (SQLite has one
/// writer at a time): for changes of what belongs to it (its members) that must not
/// interleave.
pub async fn lock(
    txn: &sea_orm::DatabaseTransaction,
    organization_id: uuid::Uuid,
    key: &CustomerKey,
) -> Result<Option<CustomerRow>, sea_orm::DbErr> {
    store::get_in(txn, organization_id, key).await
}

/// The live customer `key` names, read outside any transaction.
pub async fn get_live(
    db: &crate::db::ReadConnection,
    organization_id: uuid::Uuid,
    key: &CustomerKey,
) -> Result<Option<CustomerRow>, sea_orm::DbErr> {
    store::get(db, organization_id, key).await
}

/// Marks `row`'s email verified (its holder just read a code sent there), with
/// `customer.updated`, in the caller's transaction; answers the deliveries queued.
pub async fn mark_email_verified(
    app: &crate::app::AppState,
    txn: &sea_orm::DatabaseTransaction,
    mut row: CustomerRow,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, sea_orm::DbErr> {
    if row.email_verified {
        return Ok(0);
    }
    row.email_verified = true;
    row.modified_at = Some(now);
    let row = store::update(txn, row).await?;
    service::emit_change(
        app,
        txn,
        &row,
        crate::webhooks::EventType::CustomerUpdated,
        now,
    )
    .await
}

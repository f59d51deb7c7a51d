//! Each organization's business time. An organization in test mode (its payments go to the
//! test processor, or to Stripe with a test key) may move its time forward, as Stripe's
//! test clocks do: `floe clock advance` and `POST /v1/test-clock/advance` (floe's own
//! extension) set how far ahead of real time it runs, and every renewal, trial end and
//! retry that falls due on the way runs in order. Organizations without a test clock use
//! real time. The offset only grows: business time never goes back.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::entity::test_clock::{ActiveModel, Column, Entity};
use crate::clock::Clock;

/// `organization_id`'s business time.
pub async fn now_for(
    db: &impl ConnectionTrait,
    clock: &Clock,
    organization_id: Uuid,
) -> Result<DateTime<Utc>, DbErr> {
    let row = Entity::find_by_id(organization_id).one(db).await?;
    Ok(ahead(clock, row))
}

/// Real time moved by the organization's clock, if it has one.
fn ahead(clock: &Clock, row: Option<super::entity::test_clock::Model>) -> DateTime<Utc> {
    clock.now() + Duration::microseconds(row.map_or(0, |row| row.offset_micros))
}

/// `organization_id`'s business time, read beside any transaction (for requests that
/// only need to know it, such as ingesting usage).
pub async fn now_read(
    db: &crate::db::ReadConnection,
    clock: &Clock,
    organization_id: Uuid,
) -> Result<DateTime<Utc>, DbErr> {
    let row = db.one(Entity::find_by_id(organization_id)).await?;
    Ok(ahead(clock, row))
}

/// Every organization with a test clock and its offset.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<(Uuid, i64)>, DbErr> {
    Ok(Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.organization_id, row.offset_micros))
        .collect())
}

/// Moves `organization_id`'s time to `to` (never back: an earlier `to` changes nothing).
pub async fn set(
    db: &impl ConnectionTrait,
    clock: &Clock,
    organization_id: Uuid,
    to: DateTime<Utc>,
) -> Result<(), DbErr> {
    let real = clock.now();
    let offset = to
        .signed_duration_since(real)
        .num_microseconds()
        .unwrap_or(i64::MAX)
        .max(0);
    Entity::insert(ActiveModel {
        organization_id: Set(organization_id),
        offset_micros: Set(0),
        modified_at: Set(real),
    })
    .on_conflict(
        OnConflict::column(Column::OrganizationId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    // Only forward: a concurrent advance that went further stands.
    Entity::update_many()
        .col_expr(Column::OffsetMicros, Expr::value(offset))
        .col_expr(Column::ModifiedAt, Expr::value(real))
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::OffsetMicros.lt(offset))
        .exec(db)
        .await?;
    Ok(())
}

//! The processors' events, recorded once. Whether an outcome arrives in the confirmation
//! call or later by webhook, it is stored under the processor's ID for it; the unique key
//! decides, so a replayed or duplicated event is recognised and applied no more than once.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, IntoActiveModel};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "processor_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub processor: String,
    pub external_id: String,
    pub kind: String,
    pub payload: String,
    pub applied_at: Option<DateTimeUtc>,
    pub attempts: i64,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Records an event in `txn`, applied at `now` (it is applied in the same transaction).
/// `false` when the processor's event was recorded before: the caller applies nothing.
pub async fn record_once(
    txn: &impl ConnectionTrait,
    processor: &str,
    external_id: &str,
    kind: &str,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let row = Model {
        id: Uuid::new_v4(),
        created_at: now,
        processor: processor.to_owned(),
        external_id: external_id.to_owned(),
        kind: kind.to_owned(),
        payload: payload.to_string(),
        applied_at: Some(now),
        attempts: 1,
        error: None,
    };
    // `ON CONFLICT DO NOTHING` rather than catching the violation: on PostgreSQL a failed
    // statement would abort the caller's transaction.
    let inserted = Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([Column::Processor, Column::ExternalId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(inserted > 0)
}

/// What was recorded for a processor's event, if it was (the method of a setup that waits
/// for the buyer's authentication is only known from its recorded outcome).
pub async fn payload_of(
    txn: &impl ConnectionTrait,
    processor: &str,
    external_id: &str,
) -> Result<Option<serde_json::Value>, DbErr> {
    Ok(Entity::find()
        .filter(Column::Processor.eq(processor))
        .filter(Column::ExternalId.eq(external_id))
        .one(txn)
        .await?
        .and_then(|row| serde_json::from_str(&row.payload).ok()))
}

//! What granting each benefit type does, in the grant's transaction, and the grant
//! properties it leaves (`BenefitGrant*Properties`). A grant that cannot be performed is an
//! outcome, not an error: it is recorded on the grant and the others go on. Errors are the
//! database's, and the whole grant is retried.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::purchase_entity::downloadable;
use super::schema::{Benefit, BenefitType};

/// How a grant went.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Granted(Map<String, Value>),
    /// `BenefitGrantError`'s message and type.
    Failed {
        message: String,
        kind: &'static str,
    },
}

impl Outcome {
    fn granted(properties: Value) -> Self {
        Self::Granted(properties.as_object().cloned().unwrap_or_default())
    }
}

/// Grants `benefit` to `customer_id` at `now`.
pub async fn grant(
    txn: &impl ConnectionTrait,
    benefit: &Benefit,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Outcome, DbErr> {
    match benefit.kind {
        // Nothing to hand over: the grant itself is the benefit (a note the customer reads,
        // a flag the merchant's code checks in the customer's state).
        BenefitType::Custom | BenefitType::FeatureFlag => Ok(Outcome::granted(json!({}))),
        BenefitType::LicenseKeys => license_key(txn, benefit, customer_id, now).await,
        BenefitType::Downloadables => downloadables(txn, benefit, customer_id, now).await,
        BenefitType::MeterCredit => meter_credit(txn, benefit, customer_id, now).await,
        BenefitType::Discord | BenefitType::GithubRepository | BenefitType::SlackSharedChannel => {
            Ok(Outcome::Failed {
                message: format!(
                    "floe cannot grant {} benefits: it has no {} integration.",
                    benefit.kind.as_str(),
                    integration(benefit.kind)
                ),
                kind: "BenefitIntegrationUnavailable",
            })
        }
    }
}

fn integration(kind: BenefitType) -> &'static str {
    match kind {
        BenefitType::Discord => "Discord",
        BenefitType::GithubRepository => "GitHub",
        _ => "Slack",
    }
}

async fn license_key(
    txn: &impl ConnectionTrait,
    benefit: &Benefit,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Outcome, DbErr> {
    let terms = match crate::license_keys::Terms::of(&benefit.properties, now) {
        Ok(terms) => terms,
        Err(message) => {
            return Ok(Outcome::Failed {
                message,
                kind: "InvalidBenefitProperties",
            });
        }
    };
    let key = crate::license_keys::issue(
        txn,
        benefit.organization_id,
        customer_id,
        benefit.id,
        &terms,
        now,
    )
    .await?;
    Ok(Outcome::granted(json!({
        "license_key_id": key.id.to_string(),
        "display_key": crate::license_keys::schema::display_key(&key.key),
    })))
}

/// The benefit's files that are not archived, in its order.
fn active_files(properties: &Map<String, Value>) -> Vec<Uuid> {
    let archived = properties.get("archived").and_then(Value::as_object);
    properties
        .get("files")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str())
        .filter(|id| {
            !archived
                .and_then(|a| a.get(*id))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        })
        .filter_map(|id| Uuid::try_parse(id).ok())
        .collect()
}

/// Opens each active file that still exists to the customer (one row per customer, benefit
/// and file: a second grant reopens the same row). The customer downloads them through
/// signed URLs from the portal.
async fn downloadables(
    txn: &impl ConnectionTrait,
    benefit: &Benefit,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Outcome, DbErr> {
    let active = active_files(&benefit.properties);
    let usable =
        crate::files::usable(txn, benefit.organization_id, "downloadable", &active).await?;
    let files: Vec<Uuid> = active.into_iter().filter(|f| usable.contains(f)).collect();
    if files.is_empty() {
        return Ok(Outcome::granted(json!({})));
    }
    for file_id in &files {
        let row = downloadable::ActiveModel {
            id: Set(Uuid::new_v4()),
            created_at: Set(now),
            modified_at: Set(None),
            organization_id: Set(benefit.organization_id),
            customer_id: Set(customer_id),
            benefit_id: Set(benefit.id),
            file_id: Set(*file_id),
            status: Set("granted".to_owned()),
            downloaded: Set(0),
            last_downloaded_at: Set(None),
        };
        downloadable::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    downloadable::Column::CustomerId,
                    downloadable::Column::BenefitId,
                    downloadable::Column::FileId,
                ])
                .value(downloadable::Column::Status, Expr::value("granted"))
                .value(downloadable::Column::ModifiedAt, Expr::value(now))
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(Outcome::granted(json!({
        "files": files.iter().map(Uuid::to_string).collect::<Vec<_>>(),
    })))
}

/// Credits the benefit's units to the customer's meter, as a `meter.credited` system
/// event (the one the customer meters and `floe meter credit` use).
async fn meter_credit(
    txn: &impl ConnectionTrait,
    benefit: &Benefit,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Outcome, DbErr> {
    let properties = &benefit.properties;
    let meter_id = properties
        .get("meter_id")
        .and_then(Value::as_str)
        .and_then(|id| Uuid::try_parse(id).ok());
    let units = properties.get("units").and_then(Value::as_i64);
    let rollover = properties
        .get("rollover")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let (Some(meter_id), Some(units)) = (meter_id, units) else {
        return Ok(Outcome::Failed {
            message: "The benefit names no meter or no units.".to_owned(),
            kind: "InvalidBenefitProperties",
        });
    };
    if !crate::meters::exists(txn, benefit.organization_id, meter_id).await? {
        return Ok(Outcome::Failed {
            message: "The benefit's meter does not exist any more.".to_owned(),
            kind: "InvalidBenefitProperties",
        });
    }
    crate::events::system::meter_credited(
        txn,
        benefit.organization_id,
        customer_id,
        meter_id,
        units,
        rollover,
        now,
    )
    .await?;
    Ok(Outcome::granted(json!({
        "last_credited_meter_id": meter_id.to_string(),
        "last_credited_units": units,
        "last_credited_at": now.to_rfc3339_opts(SecondsFormat::Micros, true),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archived_files_are_not_granted() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let properties = json!({
            "files": [a.to_string(), b.to_string(), c.to_string()],
            "archived": {b.to_string(): true, c.to_string(): false},
        });
        assert_eq!(
            active_files(properties.as_object().expect("object")),
            vec![a, c]
        );
        assert_eq!(active_files(&Map::new()), Vec::<Uuid>::new());
    }
}

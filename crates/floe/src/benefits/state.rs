//! What a customer holds right now, for `CustomerState.granted_benefits`: its grants that
//! are granted and not revoked, with their benefits' types and metadata.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::grant_entity::{Column, Entity};
use super::schema::BenefitType;
use crate::db::Reads;

/// `CustomerStateBenefitGrant`.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerStateBenefitGrant {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub granted_at: DateTime<Utc>,
    pub benefit_id: Uuid,
    pub benefit_type: BenefitType,
    pub benefit_metadata: Map<String, Value>,
    pub properties: Map<String, Value>,
}

/// The customer's granted benefits, oldest grant first (a benefit granted by two orders
/// appears twice, as Polar lists it).
pub async fn granted_to(
    db: Reads<'_>,
    organization_id: Uuid,
    customer_id: Uuid,
) -> Result<Vec<CustomerStateBenefitGrant>, DbErr> {
    let grants = db
        .all(
            Entity::find()
                .filter(Column::OrganizationId.eq(organization_id))
                .filter(Column::CustomerId.eq(customer_id))
                .filter(Column::GrantedAt.is_not_null())
                .filter(Column::RevokedAt.is_null())
                .order_by_asc(Column::CreatedAt)
                .order_by_asc(Column::Id),
        )
        .await?;
    let benefit_ids: Vec<Uuid> = grants.iter().map(|g| g.benefit_id).collect();
    let benefits = super::store::by_ids_with_deleted(db, organization_id, &benefit_ids).await?;
    Ok(grants
        .into_iter()
        .filter_map(|grant| {
            // A deleted benefit gives nothing any more, whatever its grants say.
            let benefit = benefits
                .iter()
                .find(|b| b.id == grant.benefit_id && b.deleted_at.is_none())?;
            Some(CustomerStateBenefitGrant {
                id: grant.id,
                created_at: grant.created_at,
                modified_at: grant.modified_at,
                granted_at: grant.granted_at?,
                benefit_id: grant.benefit_id,
                benefit_type: BenefitType::parse(&benefit.kind)?,
                benefit_metadata: crate::metadata::from_text(&benefit.metadata),
                properties: serde_json::from_str(&grant.properties).unwrap_or_default(),
            })
        })
        .collect())
}

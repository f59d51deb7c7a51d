//! Queries on access tokens.

use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entity::{self, Column, Entity};
use super::scope::Scope;
use super::secret::ServerSecret;
use super::token::{self, ORGANIZATION_ACCESS_TOKEN_PREFIX, SecretToken};
use crate::clock::Clock;

/// What `token create` asks for.
pub struct NewOrganizationToken {
    pub organization_id: Uuid,
    pub comment: String,
    pub scopes: Vec<Scope>,
    pub expires_in: Option<Duration>,
}

pub struct CreatedToken {
    pub id: Uuid,
    pub token: SecretToken,
}

/// Creates an organization access token; the clear token is returned once, only its
/// hash is stored.
pub async fn create_organization_token(
    db: &DatabaseConnection,
    clock: &Clock,
    secret: &ServerSecret,
    new: NewOrganizationToken,
) -> Result<CreatedToken, sea_orm::DbErr> {
    let token = token::generate(ORGANIZATION_ACCESS_TOKEN_PREFIX);
    let now = clock.now();
    let id = Uuid::new_v4();
    entity::ActiveModel {
        id: Set(id),
        created_at: Set(now),
        modified_at: Set(None),
        deleted_at: Set(None),
        organization_id: Set(new.organization_id),
        comment: Set(new.comment),
        token_hash: Set(secret.token_hash(token.expose())),
        scopes: Set(Scope::join(&new.scopes)),
        expires_at: Set(new.expires_in.map(|d| now + d)),
        last_used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(CreatedToken { id, token })
}

/// The live (not deleted, not expired) token with this hash.
pub async fn find_active_by_hash(
    db: &DatabaseConnection,
    token_hash: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<entity::Model>, sea_orm::DbErr> {
    Entity::find()
        .filter(Column::TokenHash.eq(token_hash))
        .filter(Column::DeletedAt.is_null())
        .filter(
            Condition::any()
                .add(Column::ExpiresAt.is_null())
                .add(Column::ExpiresAt.gt(now)),
        )
        // Not `.one()`: the hash is unique, and a LIMIT would be one more bound parameter.
        .all(db)
        .await
        .map(|rows| rows.into_iter().next())
}

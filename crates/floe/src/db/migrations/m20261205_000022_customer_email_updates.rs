//! A customer's request to change its email from the portal: the new address and the HMAC
//! of the token mailed to it, valid for half an hour, until verified.

use sea_orm_migration::prelude::*;

use super::columns::{index, text, timestamp, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("customer_email_updates"))
                    .col(uuid(Alias::new("id")).primary_key().to_owned())
                    .col(timestamp(Alias::new("created_at")))
                    .col(uuid(Alias::new("organization_id")))
                    .col(uuid(Alias::new("customer_id")))
                    .col(text(Alias::new("email")))
                    .col(text(Alias::new("token_hash")))
                    .col(timestamp(Alias::new("expires_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "customer_email_updates",
                "ux_customer_email_updates_token",
                &["token_hash"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "customer_email_updates",
                "ix_customer_email_updates_customer",
                &["customer_id"],
                false,
            ))
            .await?;
        Ok(())
    }
}

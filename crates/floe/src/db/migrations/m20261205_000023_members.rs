//! Members of customers (issue 17): the people of a team customer, with a role each, and an
//! individual customer's owner. An email and an external ID are unique per customer among
//! live members, and a customer has at most one live owner (checked in the transaction that
//! makes one, under the customer's lock).

use sea_orm_migration::prelude::*;

use super::columns::{index, text, text_null, timestamp, timestamp_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("members"))
                    .col(uuid(Alias::new("id")).primary_key().to_owned())
                    .col(timestamp(Alias::new("created_at")))
                    .col(timestamp_null(Alias::new("modified_at")))
                    .col(timestamp_null(Alias::new("deleted_at")))
                    .col(uuid(Alias::new("organization_id")))
                    .col(uuid(Alias::new("customer_id")))
                    .col(text(Alias::new("email")))
                    .col(text(Alias::new("email_key")))
                    .col(text_null(Alias::new("name")))
                    .col(text_null(Alias::new("external_id")))
                    .col(text(Alias::new("role")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "members",
                "ix_members_customer",
                &["customer_id", "created_at"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "members",
                "ix_members_organization",
                &["organization_id", "created_at"],
                false,
            ))
            .await?;
        Ok(())
    }
}

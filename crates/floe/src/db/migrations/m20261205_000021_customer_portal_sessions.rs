//! Customer sessions for the portal (issue 17): the URL a merchant's customer returns to,
//! and an index to drop expired sessions without reading the whole table.

use sea_orm_migration::prelude::*;

use super::columns::{index, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("customer_sessions"))
                    .add_column(text_null(Alias::new("return_url")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "customer_sessions",
                "ix_customer_sessions_expires",
                &["expires_at"],
                false,
            ))
            .await?;
        Ok(())
    }
}

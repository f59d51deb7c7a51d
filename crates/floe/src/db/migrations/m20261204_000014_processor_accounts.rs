//! Which payment processor each organization uses, with its credentials (sealed with the
//! server's secret), and the processor's customer for each floe customer.

use sea_orm_migration::prelude::*;

use super::columns::{organization_fk, text, timestamp, timestamp_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn name(value: &str) -> Alias {
    Alias::new(value)
}

fn text_null(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).text().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(name("processor_accounts"))
                    .col(uuid(name("organization_id")).primary_key().to_owned())
                    .col(timestamp(name("created_at")))
                    .col(timestamp_null(name("modified_at")))
                    // `test` or `stripe`.
                    .col(text(name("processor")))
                    .col(text_null("stripe_secret_key"))
                    .col(text_null("stripe_webhook_secret"))
                    .col(text_null("stripe_publishable_key"))
                    .foreign_key(&mut organization_fk(
                        name("processor_accounts"),
                        name("organization_id"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("processor_customers"))
                    .col(uuid(name("customer_id")))
                    .col(text(name("processor")))
                    .col(text(name("processor_customer_id")))
                    .col(timestamp(name("created_at")))
                    .primary_key(
                        Index::create()
                            .col(name("customer_id"))
                            .col(name("processor")),
                    )
                    .to_owned(),
            )
            .await
    }
}

//! Changes of a subscription's plan (decision 0019): a change scheduled for the next period
//! (`subscription_updates`, the contract's `pending_update`), and proration lines waiting
//! for the subscription's next order (`subscription_prorations`: the `prorate` behaviour,
//! and credits an order could not use up).

use sea_orm_migration::prelude::*;

use super::columns::{text, timestamp, timestamp_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn name(value: &str) -> Alias {
    Alias::new(value)
}

fn big(col: &str) -> ColumnDef {
    ColumnDef::new(name(col))
        .big_integer()
        .not_null()
        .to_owned()
}

fn big_null(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).big_integer().null().to_owned()
}

fn uuid_null(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).uuid().null().to_owned()
}

fn of_subscription(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(name(table), name("subscription_id"))
        .to(name("subscriptions"), name("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(name("subscription_updates"))
                    .col(uuid(name("id")).primary_key().to_owned())
                    .col(uuid(name("subscription_id")))
                    .col(timestamp(name("created_at")))
                    .col(timestamp_null(name("modified_at")))
                    // The period boundary it takes effect at.
                    .col(timestamp(name("applies_at")))
                    .col(uuid_null("product_id"))
                    .col(big_null("seats"))
                    .col(big_null("units"))
                    .col(timestamp_null(name("applied_at")))
                    // Cleared (`{"pending_update": null}`) or replaced by a later change.
                    .col(timestamp_null(name("deleted_at")))
                    .foreign_key(&mut of_subscription("subscription_updates"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_subscription_updates_subscription")
                    .table(name("subscription_updates"))
                    .col(name("subscription_id"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(name("subscription_prorations"))
                    .col(uuid(name("id")).primary_key().to_owned())
                    .col(uuid(name("subscription_id")))
                    .col(timestamp(name("created_at")))
                    .col(text(name("label")))
                    // Negative for a credit.
                    .col(big("amount"))
                    .col(timestamp(name("start_timestamp")))
                    .col(timestamp(name("end_timestamp")))
                    .col(uuid_null("price_id"))
                    // The order that billed it; NULL while it waits for the next one.
                    .col(uuid_null("order_id"))
                    .foreign_key(&mut of_subscription("subscription_prorations"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_subscription_prorations_subscription")
                    .table(name("subscription_prorations"))
                    .col(name("subscription_id"))
                    .col(name("order_id"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

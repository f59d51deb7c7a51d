//! Changes of a subscription's plan (decision 0019): a change scheduled for the next period
//! (`subscription_updates`, the contract's `pending_update`), and proration lines waiting
//! for the subscription's next order (`subscription_prorations`: the `prorate` behaviour,
//! and credits an order could not use up).

use sea_orm_migration::prelude::*;

use super::columns::{big, big_null, index, text, timestamp, timestamp_null, uuid, uuid_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn name(value: &str) -> Alias {
    Alias::new(value)
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
                    .col(uuid_null(name("product_id")))
                    .col(big_null(name("seats")))
                    .col(big_null(name("units")))
                    .col(timestamp_null(name("applied_at")))
                    // Cleared (`{"pending_update": null}`) or replaced by a later change.
                    .col(timestamp_null(name("deleted_at")))
                    .foreign_key(&mut of_subscription("subscription_updates"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "subscription_updates",
                "ix_subscription_updates_subscription",
                &["subscription_id"],
                false,
            ))
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
                    .col(big(name("amount")))
                    .col(timestamp(name("start_timestamp")))
                    .col(timestamp(name("end_timestamp")))
                    .col(uuid_null(name("price_id")))
                    // The order that billed it; NULL while it waits for the next one.
                    .col(uuid_null(name("order_id")))
                    .foreign_key(&mut of_subscription("subscription_prorations"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "subscription_prorations",
                "ix_subscription_prorations_subscription",
                &["subscription_id", "order_id"],
                false,
            ))
            .await?;
        Ok(())
    }
}

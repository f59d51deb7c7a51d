//! A meter cycle apart from the billing cycle (Polar's `meter_interval`): each subscription
//! keeps the cadence its product had when it was bought (as it keeps its billing interval),
//! and where its unbilled usage starts, so that usage is billed once whether a meter cycle,
//! a renewal, a plan change or the subscription's end comes first. Grants are found by
//! their subscription, to cycle the seat holders' with the buyer's. A change invoiced
//! through Stripe waits for its order's payment.

use sea_orm_migration::prelude::*;

use super::columns::{big_null, index, text_null, timestamp_null, uuid_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for column in [
            text_null(Alias::new("meter_interval")),
            big_null(Alias::new("meter_interval_count")),
            // `None`: the current period's start.
            timestamp_null(Alias::new("usage_since")),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("subscriptions"))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // A change invoiced through a processor that answers after the change's transaction
        // (Stripe) waits for its order's payment: applied when it is paid, dropped when it
        // is declined (as Polar's, which charges before it commits).
        for column in [
            uuid_null(Alias::new("order_id")),
            text_null(Alias::new("proration_behavior")),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("subscription_updates"))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // Subscriptions already sold keep their product's cadence; their meter clock starts
        // at their next renewal.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE subscriptions SET \
                   meter_interval = (SELECT p.meter_interval FROM products p \
                     WHERE p.id = subscriptions.product_id), \
                   meter_interval_count = (SELECT p.meter_interval_count FROM products p \
                     WHERE p.id = subscriptions.product_id)",
            )
            .await?;
        // A renewal (or meter period) cycles every grant of its subscription: the buyer's
        // and its seat holders'.
        manager
            .create_index(index(
                "benefit_grants",
                "ix_benefit_grants_subscription",
                &["subscription_id"],
                false,
            ))
            .await?;
        Ok(())
    }
}

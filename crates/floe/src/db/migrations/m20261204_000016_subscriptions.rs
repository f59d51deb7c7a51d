//! Subscriptions (decision 0019): the subscription with the engine's own columns (when
//! something is next due, and the lease of the worker handling it), the prices it bills,
//! the billing period each subscription order is for (unique, so a period is billed once
//! whatever replays), and each organization's test clock.

use sea_orm_migration::prelude::*;

use super::columns::{organization_fk, text, timestamp, timestamp_null, uuid};

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

fn boolean(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).boolean().not_null().to_owned()
}

fn text_null(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).text().null().to_owned()
}

fn uuid_null(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).uuid().null().to_owned()
}

fn ts_null(col: &str) -> ColumnDef {
    timestamp_null(name(col))
}

fn index(table: &str, index: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut create = Index::create();
    create.name(index).table(name(table));
    for column in columns {
        create.col(name(column));
    }
    if unique {
        create.unique();
    }
    create.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut subscriptions = Table::create();
        subscriptions
            .table(name("subscriptions"))
            .col(uuid(name("id")).primary_key().to_owned())
            .col(timestamp(name("created_at")))
            .col(ts_null("modified_at"))
            .col(uuid(name("organization_id")))
            .foreign_key(&mut organization_fk(
                name("subscriptions"),
                name("organization_id"),
            ));
        for mut column in [
            uuid(name("customer_id")),
            uuid(name("product_id")),
            uuid_null("checkout_id"),
            uuid_null("discount_id"),
            // The saved method renewals charge; the customer's default when none.
            uuid_null("payment_method_id"),
            text(name("status")),
            // What each period costs: the static prices, less the discount.
            big("amount"),
            text(name("currency")),
            text(name("recurring_interval")),
            big("recurring_interval_count"),
            timestamp(name("current_period_start")),
            timestamp(name("current_period_end")),
            ts_null("current_meter_period_start"),
            ts_null("current_meter_period_end"),
            ts_null("trial_start"),
            ts_null("trial_end"),
            boolean("cancel_at_period_end"),
            ts_null("canceled_at"),
            ts_null("started_at"),
            ts_null("ends_at"),
            ts_null("ended_at"),
            ts_null("past_due_at"),
            boolean("pause_at_period_end"),
            ts_null("paused_at"),
            ts_null("resumes_at"),
            // The day of the month renewals aim for (a subscription started on the 31st
            // renews on the last day of shorter months, then on the 31st again).
            big("anchor_day"),
            big_null("seats"),
            big_null("units"),
            text_null("customer_cancellation_reason"),
            text_null("customer_cancellation_comment"),
            ts_null("discount_applied_at"),
            text(name("metadata")),
            text(name("custom_field_data")),
            // The earliest moment something is due (a renewal, a trial's end, a scheduled
            // cancellation); empty when nothing ever will be (an ended subscription).
            ts_null("next_action_at"),
            // The lease of the worker handling what is due; expired leases are taken over.
            ts_null("claimed_until"),
            // Set once the product's benefits were granted for a subscription made without
            // an order (the API's); a checkout's subscription is granted through its order.
            ts_null("grants_done_at"),
        ] {
            subscriptions.col(&mut column);
        }
        manager.create_table(subscriptions.to_owned()).await?;
        for (name_, columns) in [
            (
                "ix_subscriptions_organization",
                &["organization_id", "started_at"][..],
            ),
            ("ix_subscriptions_customer", &["customer_id", "status"][..]),
            ("ix_subscriptions_due", &["next_action_at"][..]),
        ] {
            manager
                .create_index(index("subscriptions", name_, columns, false))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(name("subscription_prices"))
                    .col(uuid(name("subscription_id")))
                    .col(uuid(name("price_id")))
                    .col(big("position"))
                    // What the price costs each period (0 for a metered price, which is
                    // charged in arrears from usage).
                    .col(big("amount"))
                    .primary_key(
                        Index::create()
                            .col(name("subscription_id"))
                            .col(name("price_id")),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(name("subscription_prices"), name("subscription_id"))
                            .to(name("subscriptions"), name("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(name("orders"))
                    .add_column(ts_null("billing_period_start"))
                    .to_owned(),
            )
            .await?;
        // One order per subscription, reason and period: the renewal that replays after a
        // crash finds its order instead of making a second one. (Orders outside a
        // subscription have NULLs here, which never collide.)
        manager
            .create_index(index(
                "orders",
                "ux_orders_subscription_period",
                &["subscription_id", "billing_reason", "billing_period_start"],
                true,
            ))
            .await?;

        // An order's charge attempts (a renewal counts its failures, finds its pending
        // attempt; the payments list filters by order).
        manager
            .create_index(index("payments", "ix_payments_order", &["order_id"], false))
            .await?;
        // Subscription orders waiting for a charge (a renewal's, a dunning retry's).
        manager
            .create_index(index(
                "orders",
                "ix_orders_payment_due",
                &["next_payment_attempt_at"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(name("test_clocks"))
                    .col(uuid(name("organization_id")).primary_key().to_owned())
                    // How far the organization's time is ahead of real time.
                    .col(big("offset_micros"))
                    .col(timestamp(name("modified_at")))
                    .foreign_key(&mut organization_fk(
                        name("test_clocks"),
                        name("organization_id"),
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

//! The sale: checkouts (and the products they offer), orders and their items, payments,
//! saved payment methods, the payment processors' events, and per-organization counters
//! (invoice numbers).
//!
//! Columns are named with `Alias` here rather than one `DeriveIden` enum per table: these
//! tables have many columns and the names are read once, in this file.

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

fn uuid_null(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).uuid().null().to_owned()
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

/// A table with `id`, `created_at`, `modified_at` and `organization_id` (cascading), then
/// `columns`.
fn owned_table(table: &str, columns: Vec<ColumnDef>) -> TableCreateStatement {
    let mut create = Table::create();
    create
        .table(name(table))
        .col(uuid(name("id")).primary_key().to_owned())
        .col(timestamp(name("created_at")))
        .col(timestamp_null(name("modified_at")))
        .col(uuid(name("organization_id")))
        .foreign_key(&mut organization_fk(name(table), name("organization_id")));
    for mut column in columns {
        create.col(&mut column);
    }
    create.to_owned()
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
        manager
            .create_table(owned_table(
                "checkouts",
                vec![
                    text(name("status")),
                    // Shown on every read of the checkout (the API returns it), so kept as
                    // it is; it lets its holder see and pay this one checkout, nothing else.
                    text(name("client_secret")),
                    text(name("processor")),
                    timestamp(name("expires_at")),
                    text_null("success_url"),
                    text_null("return_url"),
                    text_null("embed_origin"),
                    text(name("currency")),
                    uuid_null("product_id"),
                    uuid_null("product_price_id"),
                    // What the buyer chose: a pay-what-you-want amount, seats, units.
                    big_null("custom_amount"),
                    big_null("seats"),
                    big_null("min_seats"),
                    big_null("max_seats"),
                    big_null("units"),
                    big_null("min_units"),
                    big_null("max_units"),
                    // The totals as `pricing::totals::compute` last gave them.
                    big("amount"),
                    big("discount_amount"),
                    big("net_amount"),
                    big_null("tax_amount"),
                    big("total_amount"),
                    text(name("flags")),
                    uuid_null("discount_id"),
                    boolean("allow_discount_codes"),
                    boolean("require_billing_address"),
                    boolean("allow_trial"),
                    text_null("trial_interval"),
                    big_null("trial_interval_count"),
                    timestamp_null(name("trial_end")),
                    uuid_null("customer_id"),
                    text_null("external_customer_id"),
                    boolean("is_business_customer"),
                    text_null("customer_name"),
                    text_null("customer_email"),
                    text_null("customer_ip_address"),
                    text_null("customer_billing_name"),
                    text_null("customer_billing_address"),
                    text_null("customer_tax_id"),
                    text_null("locale"),
                    text_null("payment_method_type"),
                    text(name("payment_processor_metadata")),
                    // The processor's message for the last failed payment.
                    text_null("payment_error"),
                    text(name("metadata")),
                    text(name("customer_metadata")),
                    text(name("custom_field_data")),
                    uuid_null("subscription_id"),
                    uuid_null("checkout_link_id"),
                    // Client confirmations, for the per-checkout rate limit.
                    text(name("confirm_attempts")),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "checkouts",
                "ux_checkouts_client_secret",
                &["client_secret"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "checkouts",
                "ix_checkouts_organization",
                &["organization_id", "created_at"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "checkouts",
                "ix_checkouts_expiry",
                &["status", "expires_at"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("checkout_products"))
                    .col(uuid(name("checkout_id")))
                    .col(uuid(name("product_id")))
                    .col(big("position"))
                    // Prices made for this checkout only (`source = 'ad_hoc'`), as a JSON
                    // array of price IDs; empty when the product's own prices apply.
                    .col(text(name("ad_hoc_price_ids")))
                    .primary_key(
                        Index::create()
                            .col(name("checkout_id"))
                            .col(name("product_id")),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(name("checkout_products"), name("checkout_id"))
                            .to(name("checkouts"), name("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(owned_table(
                "orders",
                vec![
                    text(name("status")),
                    big("subtotal_amount"),
                    big("discount_amount"),
                    big("net_amount"),
                    big("tax_amount"),
                    big("total_amount"),
                    big("applied_balance_amount"),
                    big("refunded_amount"),
                    big("refunded_tax_amount"),
                    big("platform_fee_amount"),
                    text(name("currency")),
                    text(name("billing_reason")),
                    text_null("billing_name"),
                    text_null("billing_address"),
                    big_null("invoice_sequence"),
                    text_null("invoice_number"),
                    boolean("is_invoice_generated"),
                    big_null("seats"),
                    big_null("units"),
                    uuid(name("customer_id")),
                    uuid_null("product_id"),
                    uuid_null("discount_id"),
                    uuid_null("subscription_id"),
                    uuid_null("checkout_id"),
                    text(name("description")),
                    text(name("metadata")),
                    text(name("custom_field_data")),
                    timestamp_null(name("next_payment_attempt_at")),
                    timestamp_null(name("paid_at")),
                    // Benefit grants for a paid order are given after it commits; set once
                    // they all have been (or failed for good).
                    timestamp_null(name("grants_done_at")),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "orders",
                "ix_orders_organization",
                &["organization_id", "created_at"],
                false,
            ))
            .await?;
        // A checkout makes one order, whatever retries and replays happen: the index
        // decides.
        manager
            .create_index(index(
                "orders",
                "ux_orders_checkout",
                &["checkout_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "orders",
                "ux_orders_invoice_number",
                &["organization_id", "invoice_number"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "orders",
                "ix_orders_customer",
                &["customer_id"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("order_items"))
                    .col(uuid(name("id")).primary_key().to_owned())
                    .col(timestamp(name("created_at")))
                    .col(timestamp_null(name("modified_at")))
                    .col(uuid(name("order_id")))
                    .col(big("position"))
                    .col(text(name("label")))
                    .col(big("amount"))
                    .col(big("tax_amount"))
                    .col(boolean("proration"))
                    .col(uuid_null("product_price_id"))
                    // The period a subscription's line covers; none for a purchase.
                    .col(timestamp_null(name("start_timestamp")))
                    .col(timestamp_null(name("end_timestamp")))
                    .foreign_key(
                        ForeignKey::create()
                            .from(name("order_items"), name("order_id"))
                            .to(name("orders"), name("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "order_items",
                "ix_order_items_order",
                &["order_id", "position"],
                false,
            ))
            .await?;

        manager
            .create_table(owned_table(
                "payments",
                vec![
                    text(name("processor")),
                    // The processor's ID of the charge; unique per processor.
                    text(name("processor_id")),
                    text(name("status")),
                    big("amount"),
                    text(name("currency")),
                    text(name("method")),
                    text(name("method_metadata")),
                    text_null("trigger"),
                    text_null("decline_reason"),
                    text_null("decline_message"),
                    text(name("processor_metadata")),
                    uuid_null("checkout_id"),
                    uuid_null("order_id"),
                    uuid_null("customer_id"),
                    uuid_null("payment_method_id"),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "payments",
                "ux_payments_processor_id",
                &["processor", "processor_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "payments",
                "ix_payments_organization",
                &["organization_id", "created_at"],
                false,
            ))
            .await?;
        manager
            .create_table(owned_table(
                "payment_methods",
                vec![
                    uuid(name("customer_id")),
                    text(name("processor")),
                    text(name("processor_id")),
                    text(name("type")),
                    text(name("method_metadata")),
                    timestamp_null(name("deleted_at")),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "payment_methods",
                "ux_payment_methods_processor_id",
                &["processor", "processor_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "payment_methods",
                "ix_payment_methods_customer",
                &["customer_id"],
                false,
            ))
            .await?;

        // Every outcome a processor reports, once: the unique key makes a replayed or
        // duplicated event a no-op.
        manager
            .create_table(
                Table::create()
                    .table(name("processor_events"))
                    .col(uuid(name("id")).primary_key().to_owned())
                    .col(timestamp(name("created_at")))
                    .col(text(name("processor")))
                    .col(text(name("external_id")))
                    .col(text(name("kind")))
                    .col(text(name("payload")))
                    .col(timestamp_null(name("applied_at")))
                    .col(big("attempts"))
                    .col(text_null("error"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "processor_events",
                "ux_processor_events_external_id",
                &["processor", "external_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "processor_events",
                "ix_processor_events_pending",
                &["applied_at", "created_at"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(name("counters"))
                    .col(uuid(name("organization_id")))
                    .col(text(name("name")))
                    .col(big("value"))
                    .primary_key(
                        Index::create()
                            .col(name("organization_id"))
                            .col(name("name")),
                    )
                    .foreign_key(&mut organization_fk(
                        name("counters"),
                        name("organization_id"),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(owned_table(
                "checkout_links",
                vec![
                    text(name("client_secret")),
                    text_null("label"),
                    text_null("success_url"),
                    text_null("return_url"),
                    boolean("allow_discount_codes"),
                    boolean("require_billing_address"),
                    uuid_null("discount_id"),
                    big_null("seats"),
                    big_null("units"),
                    text(name("metadata")),
                    // The products offered, in order, as a JSON array of IDs.
                    text(name("product_ids")),
                    timestamp_null(name("deleted_at")),
                    text_null("trial_interval"),
                    big_null("trial_interval_count"),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "checkout_links",
                "ux_checkout_links_client_secret",
                &["client_secret"],
                true,
            ))
            .await
    }
}

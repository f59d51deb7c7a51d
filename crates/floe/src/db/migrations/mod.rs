//! Schema migrations, portable across SQLite and PostgreSQL. Append new ones; never edit
//! one that has shipped.

use sea_orm_migration::prelude::*;

mod m20261128_000001_init;
mod m20261128_000002_customers_webhooks;
mod m20261128_000003_events_meters;
mod m20261129_000004_meter_rollups;
mod m20261129_000005_meter_rollup_progress;
mod m20261204_000006_custom_fields;
mod m20261204_000007_benefits;
mod m20261204_000008_benefit_grants;
mod m20261204_000009_products;
mod m20261204_000010_discounts;
mod m20261204_000011_sales;
mod m20261204_000012_order_documents;
mod m20261204_000013_license_keys;
mod m20261204_000014_processor_accounts;
mod m20261204_000015_default_payment_method;
mod m20261204_000016_subscriptions;
mod m20261204_000017_subscription_changes;
mod m20261204_000018_outgoing_mail;
mod m20261204_000019_customer_seats;
mod m20261204_000020_meter_cycles;
mod m20261205_000021_customer_portal_sessions;
mod m20261205_000022_customer_email_updates;
mod m20261205_000023_members;
mod m20261205_000024_member_sessions;
mod m20261205_000025_wallets;
mod m20261205_000026_portal_sign_in;
mod m20261205_000027_refunds;
mod m20261205_000028_metric_dashboards;
mod m20261205_000029_disputes;
mod m20261205_000030_metric_rollups;
mod m20261205_000031_calendar_rollups;
mod m20261206_000032_product_rollups;

mod columns;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_init::Migration),
            Box::new(m20261128_000002_customers_webhooks::Migration),
            Box::new(m20261128_000003_events_meters::Migration),
            Box::new(m20261129_000004_meter_rollups::Migration),
            Box::new(m20261129_000005_meter_rollup_progress::Migration),
            Box::new(m20261204_000006_custom_fields::Migration),
            Box::new(m20261204_000007_benefits::Migration),
            Box::new(m20261204_000008_benefit_grants::Migration),
            Box::new(m20261204_000009_products::Migration),
            Box::new(m20261204_000010_discounts::Migration),
            Box::new(m20261204_000011_sales::Migration),
            Box::new(m20261204_000012_order_documents::Migration),
            Box::new(m20261204_000013_license_keys::Migration),
            Box::new(m20261204_000014_processor_accounts::Migration),
            Box::new(m20261204_000015_default_payment_method::Migration),
            Box::new(m20261204_000016_subscriptions::Migration),
            Box::new(m20261204_000017_subscription_changes::Migration),
            Box::new(m20261204_000018_outgoing_mail::Migration),
            Box::new(m20261204_000019_customer_seats::Migration),
            Box::new(m20261204_000020_meter_cycles::Migration),
            Box::new(m20261205_000021_customer_portal_sessions::Migration),
            Box::new(m20261205_000022_customer_email_updates::Migration),
            Box::new(m20261205_000023_members::Migration),
            Box::new(m20261205_000024_member_sessions::Migration),
            Box::new(m20261205_000025_wallets::Migration),
            Box::new(m20261205_000026_portal_sign_in::Migration),
            Box::new(m20261205_000027_refunds::Migration),
            Box::new(m20261205_000028_metric_dashboards::Migration),
            Box::new(m20261205_000029_disputes::Migration),
            Box::new(m20261205_000030_metric_rollups::Migration),
            Box::new(m20261205_000031_calendar_rollups::Migration),
            Box::new(m20261206_000032_product_rollups::Migration),
        ]
    }
}

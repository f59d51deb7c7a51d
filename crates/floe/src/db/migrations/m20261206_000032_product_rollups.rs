//! Metric rollups per product (issue 18, docs/decisions/0023): a request filtered by
//! product or billing type adds up its products' sums instead of reading their rows.
//!
//! - `metric_product_sums`: the sums of `metric_sums`, per product as well.
//! - `metric_customer_product_ranges`: a customer's active ranges over one product's
//!   subscriptions (customers are not additive over products).
//! - The facts keep their product (an order's own, a subscription's current one, a
//!   dispute's order's), and an order whether its subscription's orders are of several
//!   products (`mixed`); the first-period count's index carries the product.
//! - The triggers also mark an order or a subscription whose product changes.
//!
//! What was rolled up is thrown away and every row marked again, as in 000031.

use sea_orm::{DbBackend, TransactionTrait};
use sea_orm_migration::prelude::*;

use super::columns::{big, index, organization_fk, text, uuid, uuid_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The sums of `metric_sums` as 000031 left them, in `metrics::rollups::columns` order.
fn sum_columns() -> Vec<String> {
    let per_interval = |kind: &str| {
        ["hour", "day", "week", "month", "year"]
            .iter()
            .map(|interval| format!("{kind}_{interval}"))
            .collect::<Vec<_>>()
    };
    let mut all: Vec<String> = [
        "orders",
        "revenue",
        "kept",
        "one_time_orders",
        "one_time_revenue",
        "one_time_kept",
    ]
    .map(String::from)
    .to_vec();
    for kind in [
        "new_revenue",
        "new_kept",
        "old_revenue",
        "old_kept",
        "renewed",
    ] {
        all.extend(per_interval(kind));
    }
    all.extend(
        [
            "disputes_lost",
            "active_delta",
            "committed_delta",
            "mrr_delta",
            "trial_mrr_delta",
            "committed_mrr_delta",
            "trial_committed_mrr_delta",
            "customers_delta",
            "alive_delta",
            "alive_exact",
            "churned",
            "canceled_customer_service",
            "canceled_low_quality",
            "canceled_missing_features",
            "canceled_switched_service",
            "canceled_too_complex",
            "canceled_too_expensive",
            "canceled_unused",
            "canceled_other",
            "created",
        ]
        .map(String::from),
    );
    all.extend(per_interval("created_gone"));
    all
}

/// The rolled-up tables, emptied.
const ROLLED: &[&str] = &[
    "metric_sums",
    "metric_order_facts",
    "metric_subscription_facts",
    "metric_customer_ranges",
    "metric_dispute_facts",
];

/// The watched tables whose update trigger now also watches `product_id`: their kind, and
/// the columns 000030 watched.
const WATCHED: &[(&str, i32, &[&str])] = &[
    (
        "orders",
        1,
        &[
            "status",
            "net_amount",
            "platform_fee_amount",
            "refunded_amount",
            "subscription_id",
            "created_at",
            "organization_id",
        ],
    ),
    (
        "subscriptions",
        2,
        &[
            "started_at",
            "ended_at",
            "ends_at",
            "canceled_at",
            "customer_cancellation_reason",
            "amount",
            "recurring_interval",
            "recurring_interval_count",
            "trial_end",
            "customer_id",
            "created_at",
            "organization_id",
        ],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let name = Alias::new;
        let db = manager.get_connection();
        for table in ROLLED {
            db.execute_unprepared(&format!("DELETE FROM {table}"))
                .await?;
        }

        let mut sums = Table::create();
        sums.table(name("metric_product_sums"))
            .col(uuid(name("organization_id")))
            .col(uuid(name("product_id")))
            .col(
                ColumnDef::new(name("level"))
                    .small_integer()
                    .not_null()
                    .to_owned(),
            )
            .col(big(name("quarter")));
        for column in sum_columns() {
            sums.col(
                ColumnDef::new(Alias::new(column))
                    .big_integer()
                    .not_null()
                    .default(0),
            );
        }
        sums.primary_key(
            Index::create()
                .col(name("organization_id"))
                .col(name("product_id"))
                .col(name("level"))
                .col(name("quarter")),
        )
        .foreign_key(&mut organization_fk(
            name("metric_product_sums"),
            name("organization_id"),
        ));
        manager.create_table(sums.to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table(name("metric_customer_product_ranges"))
                    .col(uuid(name("customer_id")))
                    .col(uuid(name("product_id")))
                    .col(uuid(name("organization_id")))
                    .col(text(name("ranges")))
                    .primary_key(
                        Index::create()
                            .col(name("customer_id"))
                            .col(name("product_id")),
                    )
                    .foreign_key(&mut organization_fk(
                        name("metric_customer_product_ranges"),
                        name("organization_id"),
                    ))
                    .to_owned(),
            )
            .await?;
        // Which customers hold ranges in more than one product of a filter.
        manager
            .create_index(index(
                "metric_customer_product_ranges",
                "ix_metric_customer_product_ranges_organization",
                &["organization_id", "product_id", "customer_id"],
                false,
            ))
            .await?;

        // One column per statement: SQLite alters a column at a time.
        for (table, column) in [
            ("metric_order_facts", uuid_null(name("product_id"))),
            (
                "metric_order_facts",
                ColumnDef::new(name("mixed"))
                    .boolean()
                    .not_null()
                    .default(false)
                    .to_owned(),
            ),
            ("metric_subscription_facts", uuid_null(name("product_id"))),
            ("metric_dispute_facts", uuid_null(name("product_id"))),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(name(table))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // Covering, so that the count reads the index alone, for a product filter too. (A
        // new name: on SQLite another pooled connection may still see the old index when it
        // compiles the statement.)
        db.execute_unprepared("DROP INDEX ix_metric_order_facts_previous")
            .await?;
        manager
            .create_index(index(
                "metric_order_facts",
                "ix_metric_order_facts_previous_product",
                &[
                    "organization_id",
                    "previous_at",
                    "created_at",
                    "renews",
                    "product_id",
                ],
                false,
            ))
            .await?;

        let postgres = db.get_database_backend() == DbBackend::Postgres;
        // Each trigger dropped and made again on one connection: on SQLite another pooled
        // connection may still see the old one when it compiles the new.
        let txn = db.begin().await?;
        for (table, kind, columns) in WATCHED {
            let columns = format!("{}, product_id", columns.join(", "));
            if postgres {
                txn.execute_unprepared(&format!(
                    "DROP TRIGGER metric_mark_{table} ON {table}; \
                     CREATE TRIGGER metric_mark_{table} AFTER INSERT OR DELETE OR UPDATE OF \
                     {columns} ON {table} FOR EACH ROW EXECUTE FUNCTION metric_mark({kind})"
                ))
                .await?;
            } else {
                txn.execute_unprepared(&format!("DROP TRIGGER metric_mark_{table}_update"))
                    .await?;
                txn.execute_unprepared(&format!(
                    "CREATE TRIGGER metric_mark_{table}_update AFTER UPDATE OF {columns} \
                     ON {table} BEGIN \
                     INSERT INTO metric_dirty (kind, id, organization_id, marks) \
                     VALUES ({kind}, NEW.id, NEW.organization_id, 0) \
                     ON CONFLICT (kind, id) DO UPDATE SET marks = marks + 1; END"
                ))
                .await?;
            }
        }
        txn.commit().await?;
        for (table, kind) in [("orders", 1), ("subscriptions", 2), ("disputes", 3)] {
            db.execute_unprepared(&format!(
                "INSERT INTO metric_dirty (kind, id, organization_id, marks) \
                 SELECT {kind}, id, organization_id, 0 FROM {table} WHERE true \
                 ON CONFLICT (kind, id) DO UPDATE SET marks = metric_dirty.marks + 1"
            ))
            .await?;
        }
        Ok(())
    }
}

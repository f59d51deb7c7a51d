//! Metric rollups (issue 18, docs/decisions/0023): what the metrics of an organization's
//! history add up to per UTC quarter hour, so that a year by day reads tens of thousands of
//! rows rather than every order.
//!
//! - `metric_dirty`: the orders, subscriptions and disputes changed since they were last
//!   rolled up. Triggers write it in the transaction of the change itself, whatever wrote
//!   the row (floe's API, an import, a test writing straight into the table), so no change
//!   is missed; `marks` counts the changes, so a mark is only cleared by the pass that saw
//!   its latest one.
//! - `metric_order_facts`, `metric_subscription_facts`, `metric_dispute_facts`,
//!   `metric_customer_ranges`: what each row was rolled up as, so that a change takes its
//!   old contribution back exactly.
//! - `metric_sums`: the sums per organization and UTC quarter hour (`level` 0), hour (1)
//!   and day (2), each row keyed by its first quarter hour: a request adds up days where
//!   its periods hold whole UTC days, hours where they hold whole hours, quarters at the
//!   edges.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

use super::columns::{
    big, index, organization_fk, text, text_null, timestamp, timestamp_null, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The sums of `metric_sums`, in `metrics::rollups::columns` order (that module is the
/// reference; this copy is the schema as it shipped).
const QUARTER_COLUMNS: &[&str] = &[
    "orders",
    "revenue",
    "kept",
    "one_time_orders",
    "one_time_revenue",
    "one_time_kept",
    "new_revenue",
    "new_kept",
    "old_revenue_hour",
    "old_revenue_day",
    "old_revenue_week",
    "old_revenue_month",
    "old_revenue_year",
    "old_kept_hour",
    "old_kept_day",
    "old_kept_week",
    "old_kept_month",
    "old_kept_year",
    "renewed_hour",
    "renewed_day",
    "renewed_week",
    "renewed_month",
    "renewed_year",
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
    "created_gone",
];

/// The tables whose rows metrics read, the kind their marks carry, and the columns whose
/// change matters.
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
    (
        "disputes",
        3,
        &[
            "status",
            "closed_at",
            "amount",
            "order_id",
            "organization_id",
        ],
    ),
];

fn small(col: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(col))
        .small_integer()
        .not_null()
        .to_owned()
}

fn small_null(col: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(col))
        .small_integer()
        .null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let name = Alias::new;
        manager
            .create_table(
                Table::create()
                    .table(name("metric_dirty"))
                    .col(small("kind"))
                    .col(uuid(name("id")))
                    .col(uuid(name("organization_id")))
                    .col(
                        ColumnDef::new(name("marks"))
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .primary_key(Index::create().col(name("kind")).col(name("id")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "metric_dirty",
                "ix_metric_dirty_organization",
                &["organization_id"],
                false,
            ))
            .await?;

        let mut quarters = Table::create();
        quarters
            .table(name("metric_sums"))
            .col(uuid(name("organization_id")))
            .col(small("level"))
            .col(big(name("quarter")));
        for column in QUARTER_COLUMNS {
            quarters.col(
                ColumnDef::new(name(column))
                    .big_integer()
                    .not_null()
                    .default(0),
            );
        }
        quarters
            .primary_key(
                Index::create()
                    .col(name("organization_id"))
                    .col(name("level"))
                    .col(name("quarter")),
            )
            .foreign_key(&mut organization_fk(
                name("metric_sums"),
                name("organization_id"),
            ));
        manager.create_table(quarters.to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table(name("metric_order_facts"))
                    .col(uuid(name("order_id")).primary_key().to_owned())
                    .col(uuid(name("organization_id")))
                    .col(uuid_null(name("subscription_id")))
                    .col(timestamp(name("created_at")))
                    .col(big(name("revenue")))
                    .col(big(name("kept")))
                    .col(timestamp_null(name("started_at")))
                    .col(timestamp_null(name("previous_at")))
                    .col(small_null("ambiguity"))
                    .foreign_key(&mut organization_fk(
                        name("metric_order_facts"),
                        name("organization_id"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "metric_order_facts",
                "ix_metric_order_facts_ambiguity",
                &["organization_id", "ambiguity", "created_at"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "metric_order_facts",
                "ix_metric_order_facts_subscription",
                &["subscription_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(name("metric_subscription_facts"))
                    .col(uuid(name("subscription_id")).primary_key().to_owned())
                    .col(uuid(name("organization_id")))
                    .col(uuid(name("customer_id")))
                    .col(timestamp(name("created_at")))
                    .col(timestamp(name("started_at")))
                    .col(timestamp_null(name("end_at")))
                    .col(timestamp_null(name("canceled_at")))
                    .col(text_null(name("reason")))
                    .col(big(name("monthly")))
                    .col(timestamp_null(name("trial_end")))
                    .col(small_null("ambiguity"))
                    .foreign_key(&mut organization_fk(
                        name("metric_subscription_facts"),
                        name("organization_id"),
                    ))
                    .to_owned(),
            )
            .await?;
        for (ix, columns) in [
            (
                "ix_metric_subscription_facts_ambiguity",
                &["organization_id", "ambiguity", "created_at"][..],
            ),
            (
                "ix_metric_subscription_facts_started",
                &["organization_id", "started_at"][..],
            ),
            (
                "ix_metric_subscription_facts_customer",
                &["customer_id"][..],
            ),
        ] {
            manager
                .create_index(index("metric_subscription_facts", ix, columns, false))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(name("metric_customer_ranges"))
                    .col(uuid(name("customer_id")).primary_key().to_owned())
                    .col(uuid(name("organization_id")))
                    .col(text(name("ranges")))
                    .foreign_key(&mut organization_fk(
                        name("metric_customer_ranges"),
                        name("organization_id"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("metric_dispute_facts"))
                    .col(uuid(name("dispute_id")).primary_key().to_owned())
                    .col(uuid(name("organization_id")))
                    .col(big(name("quarter")))
                    .col(big(name("amount")))
                    .foreign_key(&mut organization_fk(
                        name("metric_dispute_facts"),
                        name("organization_id"),
                    ))
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        let backend = db.get_database_backend();
        if backend == DbBackend::Postgres {
            // One function for every watched table; its argument is the kind.
            db.execute_unprepared(
                "CREATE FUNCTION metric_mark() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 DECLARE r record; \
                 BEGIN \
                   IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF; \
                   INSERT INTO metric_dirty (kind, id, organization_id, marks) \
                     VALUES (TG_ARGV[0]::smallint, r.id, r.organization_id, 0) \
                     ON CONFLICT (kind, id) DO UPDATE SET marks = metric_dirty.marks + 1; \
                   RETURN NULL; \
                 END $$",
            )
            .await?;
        }
        for (table, kind, columns) in WATCHED {
            let columns = columns.join(", ");
            if backend == DbBackend::Postgres {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER metric_mark_{table} AFTER INSERT OR DELETE OR UPDATE OF \
                     {columns} ON {table} FOR EACH ROW EXECUTE FUNCTION metric_mark({kind})"
                ))
                .await?;
            } else {
                // SQLite has one writer at a time: a mark cannot be cleared by a pass that
                // runs while the change is being made, so counting is enough.
                let mark = |row: &str| {
                    format!(
                        "INSERT INTO metric_dirty (kind, id, organization_id, marks) \
                         VALUES ({kind}, {row}.id, {row}.organization_id, 0) \
                         ON CONFLICT (kind, id) DO UPDATE SET marks = marks + 1;"
                    )
                };
                for (event, row) in [
                    ("INSERT".to_owned(), "NEW"),
                    (format!("UPDATE OF {columns}"), "NEW"),
                    ("DELETE".to_owned(), "OLD"),
                ] {
                    let suffix = event.split(' ').next().unwrap_or("").to_lowercase();
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER metric_mark_{table}_{suffix} AFTER {event} ON {table} \
                         BEGIN {} END",
                        mark(row)
                    ))
                    .await?;
                }
            }
            // What was there before rollups is rolled up by the worker, as any change.
            db.execute_unprepared(&format!(
                "INSERT INTO metric_dirty (kind, id, organization_id, marks) \
                 SELECT {kind}, id, organization_id, 0 FROM {table}"
            ))
            .await?;
        }
        Ok(())
    }
}

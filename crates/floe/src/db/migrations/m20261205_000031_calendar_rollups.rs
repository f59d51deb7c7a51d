//! Metric rollups decide weeks, months and years by the calendar (issue 18, docs/decisions
//! 0023): an order made weeks after its subscription started, or its previous order, is
//! known to be in another month in every time zone when a 1st lies well between them, so
//! it is summed rather than read one by one by every month request.
//!
//! - `metric_sums`: new subscriptions' revenue and subscriptions created and gone in their
//!   period are now kept per interval, as renewals already were.
//! - `metric_order_facts.ambiguity` and `metric_subscription_facts.ambiguity` become bit sets
//!   of intervals; `renews` says for which intervals an order is a renewal that is not the
//!   first of its period, and an index finds those whose previous order is in a range (a
//!   request whose first period starts before its start date counts them).
//!
//! What was rolled up is thrown away and every row marked again: the worker rolls the
//! history up anew (requests read rows meanwhile, as after the first rollup migration).

use sea_orm_migration::prelude::*;

use super::columns::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `metric_sums` columns that were one for every interval and are now one per interval
/// (`<column>_<interval>`).
const SPLIT: &[&str] = &["new_revenue", "new_kept", "created_gone"];
const INTERVALS: &[&str] = &["hour", "day", "week", "month", "year"];

/// The rolled-up tables, emptied.
const ROLLED: &[&str] = &[
    "metric_sums",
    "metric_order_facts",
    "metric_subscription_facts",
    "metric_customer_ranges",
    "metric_dispute_facts",
];

/// The tables whose rows are rolled up, and the kind their marks carry.
const WATCHED: &[(&str, i32)] = &[("orders", 1), ("subscriptions", 2), ("disputes", 3)];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in ROLLED {
            db.execute_unprepared(&format!("DELETE FROM {table}"))
                .await?;
        }
        // One change per statement: SQLite alters a column at a time.
        for column in SPLIT {
            db.execute_unprepared(&format!("ALTER TABLE metric_sums DROP COLUMN {column}"))
                .await?;
        }
        for column in SPLIT {
            for interval in INTERVALS {
                db.execute_unprepared(&format!(
                    "ALTER TABLE metric_sums ADD COLUMN {column}_{interval} \
                     BIGINT NOT NULL DEFAULT 0"
                ))
                .await?;
            }
        }
        db.execute_unprepared(
            "ALTER TABLE metric_order_facts ADD COLUMN renews SMALLINT NOT NULL DEFAULT 0",
        )
        .await?;
        // Covering, so that the count reads the index alone.
        manager
            .create_index(index(
                "metric_order_facts",
                "ix_metric_order_facts_previous",
                &["organization_id", "previous_at", "created_at", "renews"],
                false,
            ))
            .await?;
        for (table, kind) in WATCHED {
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

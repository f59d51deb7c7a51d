//! Metric dashboards (issue 18): a named, ordered choice of metrics an organization keeps
//! for its dashboard.

use sea_orm_migration::prelude::*;

use super::columns::{index, organization_fk, text, timestamp, timestamp_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let name = Alias::new;
        manager
            .create_table(
                Table::create()
                    .table(name("metric_dashboards"))
                    .col(uuid(name("id")).primary_key().to_owned())
                    .col(timestamp(name("created_at")))
                    .col(timestamp_null(name("modified_at")))
                    .col(uuid(name("organization_id")))
                    .col(text(name("name")))
                    // The metrics' slugs, in order, as a JSON array.
                    .col(text(name("metrics")))
                    .foreign_key(&mut organization_fk(
                        name("metric_dashboards"),
                        name("organization_id"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "metric_dashboards",
                "ix_metric_dashboards_organization",
                &["organization_id", "created_at"],
                false,
            ))
            .await
    }
}

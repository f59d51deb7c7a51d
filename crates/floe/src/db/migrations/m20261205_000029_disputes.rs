//! Disputes (issue 18): a charge the buyer's bank took back, or is asked to, as the
//! processor reports it. One row per processor dispute (unique by the processor's ID), so
//! its events, in any order and any number of times, move one record.

use sea_orm_migration::prelude::*;

use super::columns::{
    big, index, organization_fk, text, text_null, timestamp, timestamp_null, uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let name = Alias::new;
        manager
            .create_table(
                Table::create()
                    .table(name("disputes"))
                    .col(uuid(name("id")).primary_key().to_owned())
                    .col(timestamp(name("created_at")))
                    .col(timestamp_null(name("modified_at")))
                    .col(uuid(name("organization_id")))
                    .col(uuid(name("order_id")))
                    .col(uuid(name("payment_id")))
                    .col(uuid(name("customer_id")))
                    .col(text(name("status")))
                    .col(big(name("amount")))
                    .col(big(name("tax_amount")))
                    .col(text(name("currency")))
                    .col(text_null(name("reason")))
                    .col(timestamp_null(name("evidence_due_by")))
                    .col(
                        ColumnDef::new(name("past_due"))
                            .boolean()
                            .not_null()
                            .to_owned(),
                    )
                    .col(text(name("processor")))
                    .col(text(name("processor_id")))
                    // When it was won, lost or prevented (metrics book a loss then).
                    .col(timestamp_null(name("closed_at")))
                    .foreign_key(&mut organization_fk(
                        name("disputes"),
                        name("organization_id"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "disputes",
                "ix_disputes_organization",
                &["organization_id", "created_at"],
                false,
            ))
            .await?;
        manager
            .create_index(index("disputes", "ix_disputes_order", &["order_id"], false))
            .await?;
        manager
            .create_index(index(
                "disputes",
                "ux_disputes_processor_id",
                &["processor", "processor_id"],
                true,
            ))
            .await
    }
}

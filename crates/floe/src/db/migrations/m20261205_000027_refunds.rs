//! Refunds (issue 18): money given back on a paid order, through the processor that took
//! it. A refund is written down (`pending`) before the processor is asked, so that what is
//! being refunded counts against the order at once and a crash between the two is found
//! and finished by the refund worker; the processor's ID of the refund is unique, so its
//! events apply to one row.

use sea_orm_migration::prelude::*;

use super::columns::{
    big, index, organization_fk, text, text_null, timestamp, timestamp_null, uuid, uuid_null,
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
                    .table(name("refunds"))
                    .col(uuid(name("id")).primary_key().to_owned())
                    .col(timestamp(name("created_at")))
                    .col(timestamp_null(name("modified_at")))
                    .col(uuid(name("organization_id")))
                    .col(uuid(name("order_id")))
                    .col(uuid_null(name("subscription_id")))
                    .col(uuid(name("customer_id")))
                    .col(uuid_null(name("payment_id")))
                    .col(text(name("status")))
                    .col(text(name("reason")))
                    .col(big(name("amount")))
                    .col(big(name("tax_amount")))
                    .col(text(name("currency")))
                    .col(text_null(name("comment")))
                    .col(text(name("metadata")))
                    .col(
                        ColumnDef::new(name("revoke_benefits"))
                            .boolean()
                            .not_null()
                            .to_owned(),
                    )
                    .col(text(name("processor")))
                    // Unknown until the processor answers.
                    .col(text_null(name("processor_id")))
                    .col(text_null(name("failure_reason")))
                    .col(uuid_null(name("dispute_id")))
                    // When the processor was last asked about it (the worker's pace).
                    .col(timestamp_null(name("checked_at")))
                    .foreign_key(&mut organization_fk(
                        name("refunds"),
                        name("organization_id"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "refunds",
                "ix_refunds_organization",
                &["organization_id", "created_at"],
                false,
            ))
            .await?;
        manager
            .create_index(index("refunds", "ix_refunds_order", &["order_id"], false))
            .await?;
        manager
            .create_index(index("refunds", "ix_refunds_status", &["status"], false))
            .await?;
        manager
            .create_index(index(
                "refunds",
                "ux_refunds_processor_id",
                &["processor", "processor_id"],
                true,
            ))
            .await
    }
}

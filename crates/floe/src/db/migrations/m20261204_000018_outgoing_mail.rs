//! Outgoing mail, written in the transaction of the change it tells about (like webhook
//! deliveries) and sent by the mail worker: a crash never loses a notice, and the worker
//! retries what the mail server refused.

use sea_orm_migration::prelude::*;

use super::columns::{text, timestamp, timestamp_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn name(value: &str) -> Alias {
    Alias::new(value)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(name("outgoing_mails"))
                    .col(uuid(name("id")).primary_key().to_owned())
                    .col(timestamp(name("created_at")))
                    .col(ColumnDef::new(name("organization_id")).uuid().null())
                    // What it is (`payment_failed`, `seat_invitation`, …), for logs and tests.
                    .col(text(name("kind")))
                    .col(text(name("recipient")))
                    .col(text(name("subject")))
                    .col(text(name("body")))
                    .col(timestamp(name("next_attempt_at")))
                    .col(ColumnDef::new(name("attempts")).big_integer().not_null())
                    .col(timestamp_null(name("claimed_until")))
                    .col(timestamp_null(name("sent_at")))
                    // Given up after the last attempt.
                    .col(timestamp_null(name("failed_at")))
                    .col(ColumnDef::new(name("last_error")).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outgoing_mails_due")
                    .table(name("outgoing_mails"))
                    .col(name("sent_at"))
                    .col(name("next_attempt_at"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

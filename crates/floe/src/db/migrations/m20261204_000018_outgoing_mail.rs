//! Outgoing mail, written in the transaction of the change it tells about (like webhook
//! deliveries) and sent by the mail worker: a crash never loses a notice, and the worker
//! retries what the mail server refused.

use sea_orm_migration::prelude::*;

use super::columns::{big, index, text, text_null, timestamp, timestamp_null, uuid, uuid_null};

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
                    .col(uuid_null(name("organization_id")))
                    // What it is (`payment_failed`, `seat_invitation`, …), for logs and tests.
                    .col(text(name("kind")))
                    .col(text(name("recipient")))
                    .col(text(name("subject")))
                    .col(text(name("body")))
                    .col(timestamp(name("next_attempt_at")))
                    .col(big(name("attempts")))
                    .col(timestamp_null(name("claimed_until")))
                    .col(timestamp_null(name("sent_at")))
                    // Given up after the last attempt.
                    .col(timestamp_null(name("failed_at")))
                    .col(text_null(name("last_error")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "outgoing_mails",
                "ix_outgoing_mails_due",
                &["sent_at", "next_attempt_at"],
                false,
            ))
            .await?;
        Ok(())
    }
}

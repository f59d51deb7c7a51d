//! Sign-in to the portal by a code mailed to the customer (issue 17), and the counters of
//! the limits that keep guessing codes and mailing them slow. A code is stored as its
//! HMAC, bound to its organization, customer (or member) and email, with the wrong tries
//! made against that email; a counter is a fixed window per bucket (an IP, an email), in
//! the database so that every floe process counts against the same window.

use sea_orm_migration::prelude::*;

use super::columns::{big, index, text, timestamp, uuid, uuid_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("customer_session_codes"))
                    .col(uuid(Alias::new("id")).primary_key().to_owned())
                    .col(timestamp(Alias::new("created_at")))
                    .col(uuid(Alias::new("organization_id")))
                    .col(uuid(Alias::new("customer_id")))
                    .col(uuid_null(Alias::new("member_id")))
                    .col(text(Alias::new("email_key")))
                    .col(text(Alias::new("code_hash")))
                    .col(timestamp(Alias::new("expires_at")))
                    .col(big(Alias::new("failed_attempts")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "customer_session_codes",
                "ix_customer_session_codes_code",
                &["code_hash"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "customer_session_codes",
                "ix_customer_session_codes_email",
                &["organization_id", "email_key"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("rate_limits"))
                    .col(text(Alias::new("bucket")).primary_key().to_owned())
                    .col(timestamp(Alias::new("window_started_at")))
                    .col(big(Alias::new("hits")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "rate_limits",
                "ix_rate_limits_window",
                &["window_started_at"],
                false,
            ))
            .await
    }
}

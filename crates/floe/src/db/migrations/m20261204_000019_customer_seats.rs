//! Seats of seat-based subscriptions (issue 16): each assigned to a customer by email or ID,
//! claimed with a single-use invitation token (stored as its HMAC, like access tokens), and
//! the customer sessions a claim opens (`polar_cst_…`, hashed; the customer portal builds on
//! them).

use sea_orm_migration::prelude::*;

use super::columns::{index, text, text_null, timestamp, timestamp_null, uuid, uuid_null};

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
                    .table(name("customer_seats"))
                    .col(uuid(name("id")).primary_key().to_owned())
                    .col(timestamp(name("created_at")))
                    .col(timestamp_null(name("modified_at")))
                    .col(uuid(name("organization_id")))
                    .col(uuid_null(name("subscription_id")))
                    .col(uuid_null(name("order_id")))
                    // `pending`, `claimed` or `revoked`.
                    .col(text(name("status")))
                    .col(uuid_null(name("customer_id")))
                    .col(text_null(name("email")))
                    .col(text_null(name("invitation_token_hash")))
                    .col(timestamp_null(name("invitation_token_expires_at")))
                    .col(timestamp_null(name("claimed_at")))
                    .col(timestamp_null(name("revoked_at")))
                    .col(text_null(name("metadata")))
                    .to_owned(),
            )
            .await?;
        for (name_, columns, unique) in [
            (
                "ix_customer_seats_subscription",
                &["subscription_id", "status"][..],
                false,
            ),
            (
                "ix_customer_seats_order",
                &["order_id", "status"][..],
                false,
            ),
            (
                "ux_customer_seats_token",
                &["invitation_token_hash"][..],
                true,
            ),
        ] {
            manager
                .create_index(index("customer_seats", name_, columns, unique))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(name("customer_sessions"))
                    .col(uuid(name("id")).primary_key().to_owned())
                    .col(timestamp(name("created_at")))
                    .col(uuid(name("organization_id")))
                    .col(uuid(name("customer_id")))
                    .col(text(name("token_hash")))
                    .col(timestamp(name("expires_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "customer_sessions",
                "ux_customer_sessions_token",
                &["token_hash"],
                true,
            ))
            .await?;
        Ok(())
    }
}

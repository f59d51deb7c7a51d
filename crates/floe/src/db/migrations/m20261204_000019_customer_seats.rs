//! Seats of seat-based subscriptions (issue 16): each assigned to a customer by email or ID,
//! claimed with a single-use invitation token (stored as its HMAC, like access tokens), and
//! the customer sessions a claim opens (`polar_cst_…`, hashed; the customer portal builds on
//! them).

use sea_orm_migration::prelude::*;

use super::columns::{text, timestamp, timestamp_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn name(value: &str) -> Alias {
    Alias::new(value)
}

fn uuid_null(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).uuid().null().to_owned()
}

fn text_null(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).text().null().to_owned()
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
                    .col(uuid_null("subscription_id"))
                    .col(uuid_null("order_id"))
                    // `pending`, `claimed` or `revoked`.
                    .col(text(name("status")))
                    .col(uuid_null("customer_id"))
                    .col(text_null("email"))
                    .col(text_null("invitation_token_hash"))
                    .col(timestamp_null(name("invitation_token_expires_at")))
                    .col(timestamp_null(name("claimed_at")))
                    .col(timestamp_null(name("revoked_at")))
                    .col(text_null("metadata"))
                    .to_owned(),
            )
            .await?;
        for (index, columns, unique) in [
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
            let mut create = Index::create();
            create.name(index).table(name("customer_seats"));
            for column in columns {
                create.col(name(column));
            }
            if unique {
                create.unique();
            }
            manager.create_index(create.to_owned()).await?;
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
            .create_index(
                Index::create()
                    .name("ux_customer_sessions_token")
                    .table(name("customer_sessions"))
                    .col(name("token_hash"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

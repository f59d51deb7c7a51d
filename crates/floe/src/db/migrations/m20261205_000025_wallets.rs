//! Wallets (issue 17): a customer's balance per currency with the seller, and the ledger
//! of what moved it. The balance is kept on the wallet (changed only under its row lock)
//! and always equals the sum of its transactions; a customer has one wallet per type and
//! currency.

use sea_orm_migration::prelude::*;

use super::columns::{big, index, text, timestamp, timestamp_null, uuid, uuid_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("wallets"))
                    .col(uuid(Alias::new("id")).primary_key().to_owned())
                    .col(timestamp(Alias::new("created_at")))
                    .col(timestamp_null(Alias::new("modified_at")))
                    .col(uuid(Alias::new("organization_id")))
                    .col(uuid(Alias::new("customer_id")))
                    .col(text(Alias::new("type")))
                    .col(text(Alias::new("currency")))
                    .col(big(Alias::new("balance")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "wallets",
                "ux_wallets_customer_type_currency",
                &["customer_id", "type", "currency"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "wallets",
                "ix_wallets_organization",
                &["organization_id", "created_at"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("wallet_transactions"))
                    .col(uuid(Alias::new("id")).primary_key().to_owned())
                    .col(timestamp(Alias::new("created_at")))
                    .col(uuid(Alias::new("organization_id")))
                    .col(uuid(Alias::new("wallet_id")))
                    .col(uuid_null(Alias::new("order_id")))
                    .col(big(Alias::new("amount")))
                    .col(text(Alias::new("reason")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "wallet_transactions",
                "ix_wallet_transactions_wallet",
                &["wallet_id", "created_at"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "wallet_transactions",
                "ix_wallet_transactions_order",
                &["order_id"],
                false,
            ))
            .await
    }
}

//! Discounts, the products they are limited to, and their redemptions.

use sea_orm_migration::prelude::*;

use super::columns::{organization_fk, text, timestamp, timestamp_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Discounts {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    DeletedAt,
    OrganizationId,
    Name,
    Type,
    Duration,
    DurationInMonths,
    BasisPoints,
    Amounts,
    Code,
    CodeKey,
    StartsAt,
    EndsAt,
    MaxRedemptions,
    MaxRedemptionsPerCustomer,
    RedemptionsCount,
    Metadata,
}

#[derive(DeriveIden)]
enum DiscountProducts {
    Table,
    DiscountId,
    ProductId,
}

#[derive(DeriveIden)]
enum DiscountRedemptions {
    Table,
    Id,
    CreatedAt,
    DiscountId,
    CustomerId,
    CheckoutId,
}

fn big_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().null().to_owned()
}

fn discount_fk(table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Discounts::Table, Discounts::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Discounts::Table)
                    .col(uuid(Discounts::Id).primary_key().to_owned())
                    .col(timestamp(Discounts::CreatedAt))
                    .col(timestamp_null(Discounts::ModifiedAt))
                    .col(timestamp_null(Discounts::DeletedAt))
                    .col(uuid(Discounts::OrganizationId))
                    .col(text(Discounts::Name))
                    .col(text(Discounts::Type))
                    .col(text(Discounts::Duration))
                    .col(big_null(Discounts::DurationInMonths))
                    .col(big_null(Discounts::BasisPoints))
                    // Fixed discounts: `{"usd": 1000, "eur": 900}`, minor units per currency.
                    .col(ColumnDef::new(Discounts::Amounts).text().null())
                    .col(ColumnDef::new(Discounts::Code).text().null())
                    // The code in lower case: codes are unique per organization whatever
                    // their case.
                    .col(ColumnDef::new(Discounts::CodeKey).text().null())
                    .col(timestamp_null(Discounts::StartsAt))
                    .col(timestamp_null(Discounts::EndsAt))
                    .col(big_null(Discounts::MaxRedemptions))
                    .col(big_null(Discounts::MaxRedemptionsPerCustomer))
                    .col(
                        ColumnDef::new(Discounts::RedemptionsCount)
                            .big_integer()
                            .not_null(),
                    )
                    .col(text(Discounts::Metadata))
                    .foreign_key(&mut organization_fk(
                        Discounts::Table,
                        Discounts::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_discounts_organization")
                    .table(Discounts::Table)
                    .col(Discounts::OrganizationId)
                    .col(Discounts::CreatedAt)
                    .to_owned(),
            )
            .await?;
        // One live discount per code and organization; the index decides, so two requests
        // racing for a code cannot both have it.
        manager
            .create_index(
                Index::create()
                    .name("ux_discounts_code")
                    .table(Discounts::Table)
                    .col(Discounts::OrganizationId)
                    .col(Discounts::CodeKey)
                    .unique()
                    .cond_where(Expr::col(Discounts::DeletedAt).is_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DiscountProducts::Table)
                    .col(uuid(DiscountProducts::DiscountId))
                    .col(uuid(DiscountProducts::ProductId))
                    .primary_key(
                        Index::create()
                            .col(DiscountProducts::DiscountId)
                            .col(DiscountProducts::ProductId),
                    )
                    .foreign_key(&mut discount_fk(
                        DiscountProducts::Table,
                        DiscountProducts::DiscountId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_discount_products_product")
                    .table(DiscountProducts::Table)
                    .col(DiscountProducts::ProductId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DiscountRedemptions::Table)
                    .col(uuid(DiscountRedemptions::Id).primary_key().to_owned())
                    .col(timestamp(DiscountRedemptions::CreatedAt))
                    .col(uuid(DiscountRedemptions::DiscountId))
                    .col(
                        ColumnDef::new(DiscountRedemptions::CustomerId)
                            .uuid()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(DiscountRedemptions::CheckoutId)
                            .uuid()
                            .null(),
                    )
                    .foreign_key(&mut discount_fk(
                        DiscountRedemptions::Table,
                        DiscountRedemptions::DiscountId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_discount_redemptions_discount")
                    .table(DiscountRedemptions::Table)
                    .col(DiscountRedemptions::DiscountId)
                    .col(DiscountRedemptions::CustomerId)
                    .to_owned(),
            )
            .await
    }
}

//! Products and their prices, and what a product points at in order: benefits, media
//! files and custom fields.

use sea_orm_migration::prelude::*;

use super::columns::{organization_fk, text, timestamp, timestamp_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    DeletedAt,
    OrganizationId,
    Name,
    Description,
    Visibility,
    RecurringInterval,
    RecurringIntervalCount,
    TrialInterval,
    TrialIntervalCount,
    MeterInterval,
    MeterIntervalCount,
    IsArchived,
    Metadata,
    SortPriceType,
    SortPriceAmount,
}

#[derive(DeriveIden)]
enum ProductPrices {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    OrganizationId,
    ProductId,
    Position,
    Source,
    AmountType,
    PriceCurrency,
    TaxBehavior,
    IsArchived,
    PriceAmount,
    MinimumAmount,
    MaximumAmount,
    PresetAmount,
    Tiers,
    MinimumUnits,
    MaximumUnits,
    UnitLabel,
    MeterId,
    UnitAmount,
    CapAmount,
}

#[derive(DeriveIden)]
enum ProductBenefits {
    Table,
    ProductId,
    BenefitId,
    Position,
}

#[derive(DeriveIden)]
enum ProductMedias {
    Table,
    ProductId,
    FileId,
    Position,
}

#[derive(DeriveIden)]
enum ProductCustomFields {
    Table,
    ProductId,
    CustomFieldId,
    Position,
    Required,
}

fn big(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().null().to_owned()
}

fn position(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn product_fk(table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Products::Table, Products::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(uuid(Products::Id).primary_key().to_owned())
                    .col(timestamp(Products::CreatedAt))
                    .col(timestamp_null(Products::ModifiedAt))
                    .col(timestamp_null(Products::DeletedAt))
                    .col(uuid(Products::OrganizationId))
                    .col(text(Products::Name))
                    .col(ColumnDef::new(Products::Description).text().null())
                    .col(text(Products::Visibility))
                    .col(ColumnDef::new(Products::RecurringInterval).text().null())
                    .col(big(Products::RecurringIntervalCount))
                    .col(ColumnDef::new(Products::TrialInterval).text().null())
                    .col(big(Products::TrialIntervalCount))
                    .col(ColumnDef::new(Products::MeterInterval).text().null())
                    .col(big(Products::MeterIntervalCount))
                    .col(ColumnDef::new(Products::IsArchived).boolean().not_null())
                    .col(text(Products::Metadata))
                    // The sort keys of `price_amount_type` and `price_amount`, kept with the
                    // prices they come from so that sorting reads no price.
                    .col(big(Products::SortPriceType))
                    .col(big(Products::SortPriceAmount))
                    .foreign_key(&mut organization_fk(
                        Products::Table,
                        Products::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_products_organization")
                    .table(Products::Table)
                    .col(Products::OrganizationId)
                    .col(Products::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProductPrices::Table)
                    .col(uuid(ProductPrices::Id).primary_key().to_owned())
                    .col(timestamp(ProductPrices::CreatedAt))
                    .col(timestamp_null(ProductPrices::ModifiedAt))
                    .col(uuid(ProductPrices::OrganizationId))
                    .col(uuid(ProductPrices::ProductId))
                    .col(position(ProductPrices::Position))
                    .col(text(ProductPrices::Source))
                    .col(text(ProductPrices::AmountType))
                    .col(text(ProductPrices::PriceCurrency))
                    .col(ColumnDef::new(ProductPrices::TaxBehavior).text().null())
                    .col(
                        ColumnDef::new(ProductPrices::IsArchived)
                            .boolean()
                            .not_null(),
                    )
                    .col(big(ProductPrices::PriceAmount))
                    .col(big(ProductPrices::MinimumAmount))
                    .col(big(ProductPrices::MaximumAmount))
                    .col(big(ProductPrices::PresetAmount))
                    // Tiered prices (seats, units, metered tiers): `{"type", "tiers": [{"bound",
                    // "unit_amount"}]}`, rates as decimal strings.
                    .col(ColumnDef::new(ProductPrices::Tiers).text().null())
                    .col(big(ProductPrices::MinimumUnits))
                    .col(big(ProductPrices::MaximumUnits))
                    .col(ColumnDef::new(ProductPrices::UnitLabel).text().null())
                    .col(ColumnDef::new(ProductPrices::MeterId).uuid().null())
                    // A decimal string: never a float.
                    .col(ColumnDef::new(ProductPrices::UnitAmount).text().null())
                    .col(big(ProductPrices::CapAmount))
                    .foreign_key(&mut organization_fk(
                        ProductPrices::Table,
                        ProductPrices::OrganizationId,
                    ))
                    .foreign_key(&mut product_fk(
                        ProductPrices::Table,
                        ProductPrices::ProductId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_product_prices_product")
                    .table(ProductPrices::Table)
                    .col(ProductPrices::ProductId)
                    .col(ProductPrices::Position)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProductBenefits::Table)
                    .col(uuid(ProductBenefits::ProductId))
                    .col(uuid(ProductBenefits::BenefitId))
                    .col(position(ProductBenefits::Position))
                    .primary_key(
                        Index::create()
                            .col(ProductBenefits::ProductId)
                            .col(ProductBenefits::BenefitId),
                    )
                    .foreign_key(&mut product_fk(
                        ProductBenefits::Table,
                        ProductBenefits::ProductId,
                    ))
                    .to_owned(),
            )
            .await?;
        // `benefit_id` filters and benefit deletion look products up by benefit.
        manager
            .create_index(
                Index::create()
                    .name("ix_product_benefits_benefit")
                    .table(ProductBenefits::Table)
                    .col(ProductBenefits::BenefitId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProductMedias::Table)
                    .col(uuid(ProductMedias::ProductId))
                    .col(uuid(ProductMedias::FileId))
                    .col(position(ProductMedias::Position))
                    .primary_key(
                        Index::create()
                            .col(ProductMedias::ProductId)
                            .col(ProductMedias::FileId),
                    )
                    .foreign_key(&mut product_fk(
                        ProductMedias::Table,
                        ProductMedias::ProductId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProductCustomFields::Table)
                    .col(uuid(ProductCustomFields::ProductId))
                    .col(uuid(ProductCustomFields::CustomFieldId))
                    .col(position(ProductCustomFields::Position))
                    .col(
                        ColumnDef::new(ProductCustomFields::Required)
                            .boolean()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ProductCustomFields::ProductId)
                            .col(ProductCustomFields::CustomFieldId),
                    )
                    .foreign_key(&mut product_fk(
                        ProductCustomFields::Table,
                        ProductCustomFields::ProductId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_product_custom_fields_field")
                    .table(ProductCustomFields::Table)
                    .col(ProductCustomFields::CustomFieldId)
                    .to_owned(),
            )
            .await
    }
}

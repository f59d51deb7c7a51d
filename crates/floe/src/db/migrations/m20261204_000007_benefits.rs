//! Benefits: what a product grants its buyers.

use sea_orm_migration::prelude::*;

use super::columns::{organization_fk, text, timestamp, timestamp_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Benefits {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    DeletedAt,
    OrganizationId,
    Type,
    Description,
    Visibility,
    Properties,
    Metadata,
    UserOrder,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Benefits::Table)
                    .col(uuid(Benefits::Id).primary_key().to_owned())
                    .col(timestamp(Benefits::CreatedAt))
                    .col(timestamp_null(Benefits::ModifiedAt))
                    .col(timestamp_null(Benefits::DeletedAt))
                    .col(uuid(Benefits::OrganizationId))
                    .col(text(Benefits::Type))
                    .col(text(Benefits::Description))
                    .col(text(Benefits::Visibility))
                    .col(text(Benefits::Properties))
                    .col(text(Benefits::Metadata))
                    // The order the merchant sees them in: creation order unless moved.
                    .col(ColumnDef::new(Benefits::UserOrder).big_integer().not_null())
                    .foreign_key(&mut organization_fk(
                        Benefits::Table,
                        Benefits::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_benefits_organization")
                    .table(Benefits::Table)
                    .col(Benefits::OrganizationId)
                    .col(Benefits::CreatedAt)
                    .to_owned(),
            )
            .await
    }
}

//! Custom fields: questions a merchant asks buyers at checkout.

use sea_orm_migration::prelude::*;

use super::columns::{organization_fk, text, timestamp, timestamp_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CustomFields {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    DeletedAt,
    OrganizationId,
    Type,
    Slug,
    Name,
    Properties,
    Metadata,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CustomFields::Table)
                    .col(uuid(CustomFields::Id).primary_key().to_owned())
                    .col(timestamp(CustomFields::CreatedAt))
                    .col(timestamp_null(CustomFields::ModifiedAt))
                    .col(timestamp_null(CustomFields::DeletedAt))
                    .col(uuid(CustomFields::OrganizationId))
                    .col(text(CustomFields::Type))
                    .col(text(CustomFields::Slug))
                    .col(text(CustomFields::Name))
                    .col(text(CustomFields::Properties))
                    .col(text(CustomFields::Metadata))
                    .foreign_key(&mut organization_fk(
                        CustomFields::Table,
                        CustomFields::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        // A slug is taken once per organization among the fields not deleted; the index
        // decides, so two requests racing for one slug cannot both win.
        manager
            .create_index(
                Index::create()
                    .name("ux_custom_fields_slug")
                    .table(CustomFields::Table)
                    .col(CustomFields::OrganizationId)
                    .col(CustomFields::Slug)
                    .unique()
                    .cond_where(Expr::col(CustomFields::DeletedAt).is_null())
                    .to_owned(),
            )
            .await
    }
}

//! What granting a benefit produces: license keys and their activations, the files a
//! downloadables grant opened to a customer; and the index the grant worker finds paid
//! orders still to grant with.

use sea_orm_migration::prelude::*;

use super::columns::{organization_fk, text, timestamp, timestamp_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LicenseKeys {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    OrganizationId,
    CustomerId,
    MemberId,
    BenefitId,
    Key,
    Status,
    LimitActivations,
    Usage,
    LimitUsage,
    Validations,
    LastValidatedAt,
    ExpiresAt,
    RateWindowStartedAt,
    RateWindowHits,
}

#[derive(DeriveIden)]
enum LicenseKeyActivations {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    DeletedAt,
    LicenseKeyId,
    Label,
    Conditions,
    Meta,
}

#[derive(DeriveIden)]
enum Downloadables {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    OrganizationId,
    CustomerId,
    BenefitId,
    FileId,
    Status,
    Downloaded,
    LastDownloadedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    GrantsDoneAt,
    CreatedAt,
}

fn big(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn big_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LicenseKeys::Table)
                    .col(uuid(LicenseKeys::Id).primary_key().to_owned())
                    .col(timestamp(LicenseKeys::CreatedAt))
                    .col(timestamp_null(LicenseKeys::ModifiedAt))
                    .col(uuid(LicenseKeys::OrganizationId))
                    .col(uuid(LicenseKeys::CustomerId))
                    .col(ColumnDef::new(LicenseKeys::MemberId).uuid().null())
                    .col(uuid(LicenseKeys::BenefitId))
                    .col(text(LicenseKeys::Key))
                    // `granted`, `revoked` or `disabled`.
                    .col(text(LicenseKeys::Status))
                    .col(big_null(LicenseKeys::LimitActivations))
                    .col(big(LicenseKeys::Usage))
                    .col(big_null(LicenseKeys::LimitUsage))
                    .col(big(LicenseKeys::Validations))
                    .col(timestamp_null(LicenseKeys::LastValidatedAt))
                    .col(timestamp_null(LicenseKeys::ExpiresAt))
                    // The fixed window that limits validations, activations and
                    // deactivations of this key: kept on the row that those calls lock and
                    // write anyway, so every floe process counts against one window.
                    .col(timestamp_null(LicenseKeys::RateWindowStartedAt))
                    .col(big(LicenseKeys::RateWindowHits))
                    .foreign_key(&mut organization_fk(
                        LicenseKeys::Table,
                        LicenseKeys::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        // Keys are looked up by their text within an organization (validation), and two
        // keys of one organization never share a text.
        manager
            .create_index(
                Index::create()
                    .name("ux_license_keys_key")
                    .table(LicenseKeys::Table)
                    .col(LicenseKeys::OrganizationId)
                    .col(LicenseKeys::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_license_keys_organization")
                    .table(LicenseKeys::Table)
                    .col(LicenseKeys::OrganizationId)
                    .col(LicenseKeys::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LicenseKeyActivations::Table)
                    .col(uuid(LicenseKeyActivations::Id).primary_key().to_owned())
                    .col(timestamp(LicenseKeyActivations::CreatedAt))
                    .col(timestamp_null(LicenseKeyActivations::ModifiedAt))
                    // A deactivation keeps the row (for the record) and frees the seat.
                    .col(timestamp_null(LicenseKeyActivations::DeletedAt))
                    .col(uuid(LicenseKeyActivations::LicenseKeyId))
                    .col(text(LicenseKeyActivations::Label))
                    .col(text(LicenseKeyActivations::Conditions))
                    .col(text(LicenseKeyActivations::Meta))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                LicenseKeyActivations::Table,
                                LicenseKeyActivations::LicenseKeyId,
                            )
                            .to(LicenseKeys::Table, LicenseKeys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_license_key_activations_key")
                    .table(LicenseKeyActivations::Table)
                    .col(LicenseKeyActivations::LicenseKeyId)
                    .col(LicenseKeyActivations::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Downloadables::Table)
                    .col(uuid(Downloadables::Id).primary_key().to_owned())
                    .col(timestamp(Downloadables::CreatedAt))
                    .col(timestamp_null(Downloadables::ModifiedAt))
                    .col(uuid(Downloadables::OrganizationId))
                    .col(uuid(Downloadables::CustomerId))
                    .col(uuid(Downloadables::BenefitId))
                    .col(uuid(Downloadables::FileId))
                    // `granted` or `revoked`.
                    .col(text(Downloadables::Status))
                    .col(big(Downloadables::Downloaded))
                    .col(timestamp_null(Downloadables::LastDownloadedAt))
                    .foreign_key(&mut organization_fk(
                        Downloadables::Table,
                        Downloadables::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        // One row per customer, benefit and file, however many grants open it.
        manager
            .create_index(
                Index::create()
                    .name("ux_downloadables_customer_file")
                    .table(Downloadables::Table)
                    .col(Downloadables::CustomerId)
                    .col(Downloadables::BenefitId)
                    .col(Downloadables::FileId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The grant worker's scan: paid orders whose grants are not done, oldest first.
        manager
            .create_index(
                Index::create()
                    .name("ix_orders_grants_pending")
                    .table(Orders::Table)
                    .col(Orders::GrantsDoneAt)
                    .col(Orders::CreatedAt)
                    .to_owned(),
            )
            .await
    }
}

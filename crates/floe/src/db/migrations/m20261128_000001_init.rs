//! Organizations, their access tokens, and files.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    Name,
    Slug,
    AvatarUrl,
    Email,
    Website,
}

#[derive(DeriveIden)]
enum OrganizationAccessTokens {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    DeletedAt,
    OrganizationId,
    Comment,
    TokenHash,
    Scopes,
    ExpiresAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    DeletedAt,
    OrganizationId,
    Service,
    Name,
    Path,
    MimeType,
    Size,
    Version,
    StorageVersion,
    ChecksumEtag,
    ChecksumSha256Base64,
    ChecksumSha256Hex,
    LastModifiedAt,
    IsUploaded,
    FlaggedMaliciousAt,
    UploadId,
    UploadPlan,
    StoragePurgedAt,
}

fn timestamp(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn timestamp_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn text_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(
                        ColumnDef::new(Organizations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(timestamp(Organizations::CreatedAt))
                    .col(timestamp_null(Organizations::ModifiedAt))
                    .col(text(Organizations::Name))
                    .col(text(Organizations::Slug).unique_key().to_owned())
                    .col(text_null(Organizations::AvatarUrl))
                    .col(text_null(Organizations::Email))
                    .col(text_null(Organizations::Website))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrganizationAccessTokens::Table)
                    .col(
                        ColumnDef::new(OrganizationAccessTokens::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(timestamp(OrganizationAccessTokens::CreatedAt))
                    .col(timestamp_null(OrganizationAccessTokens::ModifiedAt))
                    .col(timestamp_null(OrganizationAccessTokens::DeletedAt))
                    .col(
                        ColumnDef::new(OrganizationAccessTokens::OrganizationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(text(OrganizationAccessTokens::Comment))
                    .col(
                        text(OrganizationAccessTokens::TokenHash)
                            .unique_key()
                            .to_owned(),
                    )
                    .col(text(OrganizationAccessTokens::Scopes))
                    .col(timestamp_null(OrganizationAccessTokens::ExpiresAt))
                    .col(timestamp_null(OrganizationAccessTokens::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                OrganizationAccessTokens::Table,
                                OrganizationAccessTokens::OrganizationId,
                            )
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    .col(ColumnDef::new(Files::Id).uuid().not_null().primary_key())
                    .col(timestamp(Files::CreatedAt))
                    .col(timestamp_null(Files::ModifiedAt))
                    .col(timestamp_null(Files::DeletedAt))
                    .col(ColumnDef::new(Files::OrganizationId).uuid().not_null())
                    .col(text(Files::Service))
                    .col(text(Files::Name))
                    .col(text(Files::Path))
                    .col(text(Files::MimeType))
                    .col(ColumnDef::new(Files::Size).big_integer().not_null())
                    .col(text_null(Files::Version))
                    .col(text_null(Files::StorageVersion))
                    .col(text_null(Files::ChecksumEtag))
                    .col(text_null(Files::ChecksumSha256Base64))
                    .col(text_null(Files::ChecksumSha256Hex))
                    .col(timestamp_null(Files::LastModifiedAt))
                    .col(ColumnDef::new(Files::IsUploaded).boolean().not_null())
                    .col(timestamp_null(Files::FlaggedMaliciousAt))
                    .col(text(Files::UploadId))
                    .col(text(Files::UploadPlan))
                    .col(timestamp_null(Files::StoragePurgedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Files::Table, Files::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // A list is one organization's live, uploaded files, newest first: every filter is
        // an equality, then the index is already in the list's order (created_at, id), so
        // a page is read straight off it. Without it SQLite picked the sweep's index and
        // scanned every organization's files.
        manager
            .create_index(
                Index::create()
                    .name("ix_files_list")
                    .table(Files::Table)
                    .col(Files::OrganizationId)
                    .col(Files::DeletedAt)
                    .col(Files::IsUploaded)
                    .col(Files::CreatedAt)
                    .col(Files::Id)
                    .to_owned(),
            )
            .await?;
        // The sweep looks for stale uploads: not uploaded, not deleted, old.
        manager
            .create_index(
                Index::create()
                    .name("ix_files_sweep")
                    .table(Files::Table)
                    .col(Files::IsUploaded)
                    .col(Files::DeletedAt)
                    .col(Files::CreatedAt)
                    .to_owned(),
            )
            .await?;
        // ... and for deleted files whose bytes are not purged yet.
        manager
            .create_index(
                Index::create()
                    .name("ix_files_purge")
                    .table(Files::Table)
                    .col(Files::StoragePurgedAt)
                    .col(Files::DeletedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_organization_access_tokens_organization")
                    .table(OrganizationAccessTokens::Table)
                    .col(OrganizationAccessTokens::OrganizationId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Files::Table.into_iden(),
            OrganizationAccessTokens::Table.into_iden(),
            Organizations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

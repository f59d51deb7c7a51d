//! Usage events, their types, and meters.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    OrganizationId,
    Timestamp,
    IngestedAt,
    Name,
    Source,
    CustomerId,
    ExternalCustomerId,
    MemberId,
    ExternalMemberId,
    ExternalId,
    ParentRef,
    ParentId,
    Metadata,
}

#[derive(DeriveIden)]
enum EventTypes {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    OrganizationId,
    Name,
    Label,
    LabelPropertySelector,
}

#[derive(DeriveIden)]
enum Meters {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    ArchivedAt,
    OrganizationId,
    Name,
    Unit,
    CustomLabel,
    CustomMultiplier,
    Filter,
    Aggregation,
    Metadata,
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

fn uuid(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).uuid().not_null().to_owned()
}

fn uuid_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).uuid().null().to_owned()
}

fn organization_fk(table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Organizations::Table, Organizations::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(uuid(Events::Id).primary_key().to_owned())
                    .col(uuid(Events::OrganizationId))
                    .col(timestamp(Events::Timestamp))
                    .col(timestamp(Events::IngestedAt))
                    .col(text(Events::Name))
                    .col(text(Events::Source))
                    .col(uuid_null(Events::CustomerId))
                    .col(text_null(Events::ExternalCustomerId))
                    .col(uuid_null(Events::MemberId))
                    .col(text_null(Events::ExternalMemberId))
                    .col(text_null(Events::ExternalId))
                    // What the client gave as parent (an event ID or external ID), until resolved.
                    .col(text_null(Events::ParentRef))
                    .col(uuid_null(Events::ParentId))
                    .col(text(Events::Metadata))
                    .foreign_key(&mut organization_fk(Events::Table, Events::OrganizationId))
                    .to_owned(),
            )
            .await?;
        // Dedupe: an external ID is taken once per organization; the index decides.
        manager
            .create_index(
                Index::create()
                    .name("ux_events_external_id")
                    .table(Events::Table)
                    .col(Events::OrganizationId)
                    .col(Events::ExternalId)
                    .unique()
                    .cond_where(Expr::col(Events::ExternalId).is_not_null())
                    .to_owned(),
            )
            .await?;
        // Lists: an organization's events newest first.
        manager
            .create_index(
                Index::create()
                    .name("ix_events_timeline")
                    .table(Events::Table)
                    .col(Events::OrganizationId)
                    .col(Events::Timestamp)
                    .col(Events::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_events_customer")
                    .table(Events::Table)
                    .col(Events::OrganizationId)
                    .col(Events::CustomerId)
                    .col(Events::Timestamp)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_events_external_customer")
                    .table(Events::Table)
                    .col(Events::OrganizationId)
                    .col(Events::ExternalCustomerId)
                    .col(Events::Timestamp)
                    .to_owned(),
            )
            .await?;
        // Events whose parent has not arrived yet, found when it does.
        manager
            .create_index(
                Index::create()
                    .name("ix_events_orphans")
                    .table(Events::Table)
                    .col(Events::OrganizationId)
                    .col(Events::ParentRef)
                    .cond_where(
                        Expr::col(Events::ParentId)
                            .is_null()
                            .and(Expr::col(Events::ParentRef).is_not_null()),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_events_parent")
                    .table(Events::Table)
                    .col(Events::ParentId)
                    .cond_where(Expr::col(Events::ParentId).is_not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EventTypes::Table)
                    .col(uuid(EventTypes::Id).primary_key().to_owned())
                    .col(timestamp(EventTypes::CreatedAt))
                    .col(timestamp_null(EventTypes::ModifiedAt))
                    .col(uuid(EventTypes::OrganizationId))
                    .col(text(EventTypes::Name))
                    .col(text(EventTypes::Label))
                    .col(text_null(EventTypes::LabelPropertySelector))
                    .foreign_key(&mut organization_fk(
                        EventTypes::Table,
                        EventTypes::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_event_types_name")
                    .table(EventTypes::Table)
                    .col(EventTypes::OrganizationId)
                    .col(EventTypes::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Meters::Table)
                    .col(uuid(Meters::Id).primary_key().to_owned())
                    .col(timestamp(Meters::CreatedAt))
                    .col(timestamp_null(Meters::ModifiedAt))
                    .col(timestamp_null(Meters::ArchivedAt))
                    .col(uuid(Meters::OrganizationId))
                    .col(text(Meters::Name))
                    .col(text(Meters::Unit))
                    .col(text_null(Meters::CustomLabel))
                    .col(
                        ColumnDef::new(Meters::CustomMultiplier)
                            .big_integer()
                            .null(),
                    )
                    .col(text(Meters::Filter))
                    .col(text(Meters::Aggregation))
                    .col(text(Meters::Metadata))
                    .foreign_key(&mut organization_fk(Meters::Table, Meters::OrganizationId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_meters_organization")
                    .table(Meters::Table)
                    .col(Meters::OrganizationId)
                    .col(Meters::Name)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Meters::Table.into_iden(),
            EventTypes::Table.into_iden(),
            Events::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

//! How far each meter's rollups have been built from the events stored before it (see
//! `meters::rollups`): built in the background, so that creating or changing a meter over
//! millions of events neither times out nor holds ingestion back.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    OrganizationId,
    Id,
}

#[derive(DeriveIden)]
enum Meters {
    Table,
    RollupsReady,
    RollupsThrough,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Meters created before this migration had their rollups built in their own
        // transaction: ready.
        manager
            .alter_table(
                Table::alter()
                    .table(Meters::Table)
                    .add_column(
                        ColumnDef::new(Meters::RollupsReady)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Meters::Table)
                    .add_column(ColumnDef::new(Meters::RollupsThrough).uuid().null())
                    .to_owned(),
            )
            .await?;
        // The builder walks an organization's events by ID; without this index each page
        // read all of the organization's events (~900 events/s over 1M, quadratic). Event
        // IDs are time-ordered, so new rows land at its end.
        manager
            .create_index(
                Index::create()
                    .name("ix_events_org_id")
                    .table(Events::Table)
                    .col(Events::OrganizationId)
                    .col(Events::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_events_org_id")
                    .table(Events::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Meters::RollupsThrough, Meters::RollupsReady] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Meters::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

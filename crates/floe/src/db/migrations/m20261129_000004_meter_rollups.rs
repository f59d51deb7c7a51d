//! Meter rollups: what each meter's matching events add up to, per customer and per
//! 15-minute UTC bucket, so that quantities and customer meters read buckets, not events.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Meters {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum MeterRollups {
    Table,
    MeterId,
    CustomerKey,
    System,
    BucketStart,
    Matched,
    Count,
    Sum,
    Min,
    Max,
    FirstAt,
    LastAt,
}

#[derive(DeriveIden)]
enum MeterRollupValues {
    Table,
    MeterId,
    CustomerKey,
    System,
    BucketStart,
    Value,
}

fn timestamp(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn meter_fk(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Meters::Table, Meters::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MeterRollups::Table)
                    .col(uuid(MeterRollups::MeterId))
                    .col(text(MeterRollups::CustomerKey))
                    .col(boolean(MeterRollups::System))
                    .col(timestamp(MeterRollups::BucketStart))
                    .col(big_integer(MeterRollups::Matched))
                    .col(big_integer(MeterRollups::Count))
                    .col(double(MeterRollups::Sum))
                    .col(double_null(MeterRollups::Min))
                    .col(double_null(MeterRollups::Max))
                    .col(timestamp(MeterRollups::FirstAt))
                    .col(timestamp(MeterRollups::LastAt))
                    .primary_key(
                        Index::create()
                            .col(MeterRollups::MeterId)
                            .col(MeterRollups::CustomerKey)
                            .col(MeterRollups::System)
                            .col(MeterRollups::BucketStart),
                    )
                    .foreign_key(&mut meter_fk(MeterRollups::Table, MeterRollups::MeterId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MeterRollupValues::Table)
                    .col(uuid(MeterRollupValues::MeterId))
                    .col(text(MeterRollupValues::CustomerKey))
                    .col(boolean(MeterRollupValues::System))
                    .col(timestamp(MeterRollupValues::BucketStart))
                    .col(text(MeterRollupValues::Value))
                    .primary_key(
                        Index::create()
                            .col(MeterRollupValues::MeterId)
                            .col(MeterRollupValues::CustomerKey)
                            .col(MeterRollupValues::System)
                            .col(MeterRollupValues::BucketStart)
                            .col(MeterRollupValues::Value),
                    )
                    .foreign_key(&mut meter_fk(
                        MeterRollupValues::Table,
                        MeterRollupValues::MeterId,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MeterRollupValues::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MeterRollups::Table).to_owned())
            .await
    }
}

//! Customers, webhook endpoints with their outbox of events and the log of delivery
//! attempts, idempotency keys, and the organization settings that `PATCH` can change.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Settings,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    DeletedAt,
    OrganizationId,
    Type,
    Email,
    EmailKey,
    EmailVerified,
    Name,
    BillingName,
    BillingAddress,
    TaxId,
    Locale,
    ExternalId,
    Metadata,
    FirstUserEventAt,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    DeletedAt,
    OrganizationId,
    Url,
    Name,
    ApiVersion,
    Format,
    SecretSealed,
    Events,
    Enabled,
    FailureStreak,
    NextAttemptAt,
    QueueVersion,
    LeaseUntil,
}

#[derive(DeriveIden)]
enum WebhookEvents {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    OrganizationId,
    EndpointId,
    Seq,
    Type,
    ApiVersion,
    Payload,
    Succeeded,
    Skipped,
    LastHttpCode,
    Attempts,
    NextAttemptAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    OrganizationId,
    EndpointId,
    EventId,
    Succeeded,
    HttpCode,
    Response,
    DurationMs,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    OrganizationId,
    Key,
    CreatedAt,
    Fingerprint,
    Status,
    ContentType,
    Body,
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

fn boolean(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).boolean().not_null().to_owned()
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
        // The settings objects of `Organization` as one JSON document; absent keys take
        // Polar's defaults.
        manager
            .alter_table(
                Table::alter()
                    .table(Organizations::Table)
                    .add_column(
                        ColumnDef::new(Organizations::Settings)
                            .text()
                            .not_null()
                            .default("{}"),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Customers::Table)
                    .col(uuid(Customers::Id).primary_key().to_owned())
                    .col(timestamp(Customers::CreatedAt))
                    .col(timestamp_null(Customers::ModifiedAt))
                    .col(timestamp_null(Customers::DeletedAt))
                    .col(uuid(Customers::OrganizationId))
                    .col(text(Customers::Type))
                    .col(text_null(Customers::Email))
                    .col(text_null(Customers::EmailKey))
                    .col(boolean(Customers::EmailVerified))
                    .col(text_null(Customers::Name))
                    .col(text_null(Customers::BillingName))
                    .col(text_null(Customers::BillingAddress))
                    .col(text_null(Customers::TaxId))
                    .col(text_null(Customers::Locale))
                    .col(text_null(Customers::ExternalId))
                    .col(text(Customers::Metadata))
                    .col(timestamp_null(Customers::FirstUserEventAt))
                    .foreign_key(&mut organization_fk(
                        Customers::Table,
                        Customers::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        // Email (case-insensitively) and external ID are unique among an organization's
        // live customers; a deleted customer frees both. The unique indexes decide, so two
        // concurrent creates cannot both win.
        for (name, column) in [
            ("ux_customers_email", Customers::EmailKey),
            ("ux_customers_external_id", Customers::ExternalId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Customers::Table)
                        .col(Customers::OrganizationId)
                        .col(column)
                        .unique()
                        .cond_where(Expr::col(Customers::DeletedAt).is_null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_customers_list")
                    .table(Customers::Table)
                    .col(Customers::OrganizationId)
                    .col(Customers::DeletedAt)
                    .col(Customers::CreatedAt)
                    .col(Customers::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(uuid(WebhookEndpoints::Id).primary_key().to_owned())
                    .col(timestamp(WebhookEndpoints::CreatedAt))
                    .col(timestamp_null(WebhookEndpoints::ModifiedAt))
                    .col(timestamp_null(WebhookEndpoints::DeletedAt))
                    .col(uuid(WebhookEndpoints::OrganizationId))
                    .col(text(WebhookEndpoints::Url))
                    .col(text_null(WebhookEndpoints::Name))
                    .col(text(WebhookEndpoints::ApiVersion))
                    .col(text(WebhookEndpoints::Format))
                    .col(text(WebhookEndpoints::SecretSealed))
                    .col(text(WebhookEndpoints::Events))
                    .col(boolean(WebhookEndpoints::Enabled))
                    .col(
                        ColumnDef::new(WebhookEndpoints::FailureStreak)
                            .integer()
                            .not_null(),
                    )
                    .col(timestamp_null(WebhookEndpoints::NextAttemptAt))
                    .col(
                        ColumnDef::new(WebhookEndpoints::QueueVersion)
                            .big_integer()
                            .not_null(),
                    )
                    .col(timestamp_null(WebhookEndpoints::LeaseUntil))
                    .foreign_key(&mut organization_fk(
                        WebhookEndpoints::Table,
                        WebhookEndpoints::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        // The delivery worker's question: which endpoints have work due now.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_endpoints_due")
                    .table(WebhookEndpoints::Table)
                    .col(WebhookEndpoints::NextAttemptAt)
                    .cond_where(Expr::col(WebhookEndpoints::NextAttemptAt).is_not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_endpoints_organization")
                    .table(WebhookEndpoints::Table)
                    .col(WebhookEndpoints::OrganizationId)
                    .col(WebhookEndpoints::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookEvents::Table)
                    .col(uuid(WebhookEvents::Id).primary_key().to_owned())
                    .col(timestamp(WebhookEvents::CreatedAt))
                    .col(timestamp_null(WebhookEvents::ModifiedAt))
                    .col(uuid(WebhookEvents::OrganizationId))
                    .col(uuid(WebhookEvents::EndpointId))
                    .col(ColumnDef::new(WebhookEvents::Seq).big_integer().not_null())
                    .col(text(WebhookEvents::Type))
                    .col(text(WebhookEvents::ApiVersion))
                    .col(text_null(WebhookEvents::Payload))
                    .col(ColumnDef::new(WebhookEvents::Succeeded).boolean().null())
                    .col(boolean(WebhookEvents::Skipped))
                    .col(ColumnDef::new(WebhookEvents::LastHttpCode).integer().null())
                    .col(ColumnDef::new(WebhookEvents::Attempts).integer().not_null())
                    .col(timestamp_null(WebhookEvents::NextAttemptAt))
                    .foreign_key(&mut organization_fk(
                        WebhookEvents::Table,
                        WebhookEvents::OrganizationId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookEvents::Table, WebhookEvents::EndpointId)
                            .to(WebhookEndpoints::Table, WebhookEndpoints::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // An endpoint's queue, in the order its events happened; unique, so a bug that
        // numbered two events alike fails loudly instead of delivering out of order.
        manager
            .create_index(
                Index::create()
                    .name("ux_webhook_events_endpoint_seq")
                    .table(WebhookEvents::Table)
                    .col(WebhookEvents::EndpointId)
                    .col(WebhookEvents::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The head of an endpoint's queue: its pending event with the lowest seq.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_events_pending")
                    .table(WebhookEvents::Table)
                    .col(WebhookEvents::EndpointId)
                    .col(WebhookEvents::Seq)
                    .cond_where(Expr::col(WebhookEvents::NextAttemptAt).is_not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(uuid(WebhookDeliveries::Id).primary_key().to_owned())
                    .col(timestamp(WebhookDeliveries::CreatedAt))
                    .col(timestamp_null(WebhookDeliveries::ModifiedAt))
                    .col(uuid(WebhookDeliveries::OrganizationId))
                    .col(uuid(WebhookDeliveries::EndpointId))
                    .col(uuid(WebhookDeliveries::EventId))
                    .col(boolean(WebhookDeliveries::Succeeded))
                    .col(ColumnDef::new(WebhookDeliveries::HttpCode).integer().null())
                    .col(text_null(WebhookDeliveries::Response))
                    .col(
                        ColumnDef::new(WebhookDeliveries::DurationMs)
                            .big_integer()
                            .not_null(),
                    )
                    .foreign_key(&mut organization_fk(
                        WebhookDeliveries::Table,
                        WebhookDeliveries::OrganizationId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDeliveries::Table, WebhookDeliveries::EventId)
                            .to(WebhookEvents::Table, WebhookEvents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_list")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::OrganizationId)
                    .col(WebhookDeliveries::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_event")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::EventId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(uuid(IdempotencyKeys::OrganizationId))
                    .col(text(IdempotencyKeys::Key))
                    .col(timestamp(IdempotencyKeys::CreatedAt))
                    .col(text(IdempotencyKeys::Fingerprint))
                    // Null while the first request is still running.
                    .col(ColumnDef::new(IdempotencyKeys::Status).integer().null())
                    .col(text_null(IdempotencyKeys::ContentType))
                    .col(ColumnDef::new(IdempotencyKeys::Body).binary().null())
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::OrganizationId)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_idempotency_keys_created_at")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            WebhookEvents::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
            Customers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Organizations::Table)
                    .drop_column(Organizations::Settings)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

//! An order's documents (its invoice and receipt PDFs): one row per order and kind, which
//! is also the durable queue of their generation, so that a request made before a restart
//! is still carried out after it.

use sea_orm_migration::prelude::*;

use super::columns::{organization_fk, text, timestamp, timestamp_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrderDocuments {
    Table,
    OrderId,
    Kind,
    OrganizationId,
    CreatedAt,
    ModifiedAt,
    Requested,
    Rendered,
    DueAt,
    Attempts,
    LastError,
    Path,
    Checksum,
    GeneratedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}

fn big(col: OrderDocuments) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn text_null(col: OrderDocuments) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OrderDocuments::Table)
                    .col(uuid(OrderDocuments::OrderId))
                    // `invoice` or `receipt`.
                    .col(text(OrderDocuments::Kind))
                    .col(uuid(OrderDocuments::OrganizationId))
                    .col(timestamp(OrderDocuments::CreatedAt))
                    .col(timestamp_null(OrderDocuments::ModifiedAt))
                    // How many times the document was asked for, and which of those asks
                    // the stored file answers: it is due while `requested > rendered`.
                    .col(big(OrderDocuments::Requested))
                    .col(big(OrderDocuments::Rendered))
                    // When a worker may (next) take it: set while it is due, pushed forward
                    // while a worker holds it and after a failure; null when nothing is due.
                    .col(timestamp_null(OrderDocuments::DueAt))
                    .col(big(OrderDocuments::Attempts))
                    .col(text_null(OrderDocuments::LastError))
                    // The stored PDF (private bucket) and a digest of what it was made from.
                    .col(text_null(OrderDocuments::Path))
                    .col(text_null(OrderDocuments::Checksum))
                    .col(timestamp_null(OrderDocuments::GeneratedAt))
                    .primary_key(
                        Index::create()
                            .col(OrderDocuments::OrderId)
                            .col(OrderDocuments::Kind),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderDocuments::Table, OrderDocuments::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut organization_fk(
                        OrderDocuments::Table,
                        OrderDocuments::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_order_documents_due")
                    .table(OrderDocuments::Table)
                    .col(OrderDocuments::DueAt)
                    .to_owned(),
            )
            .await
    }
}

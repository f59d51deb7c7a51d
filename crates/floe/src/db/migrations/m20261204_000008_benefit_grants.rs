//! Benefit grants: a benefit given to a customer because of an order or a subscription.
//! Written by purchases (the checkout issue); read by the benefits API from now on.

use sea_orm_migration::prelude::*;

use super::columns::{organization_fk, text, timestamp, timestamp_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BenefitGrants {
    Table,
    Id,
    CreatedAt,
    ModifiedAt,
    OrganizationId,
    BenefitId,
    CustomerId,
    MemberId,
    SubscriptionId,
    OrderId,
    ScopeKey,
    GrantedAt,
    RevokedAt,
    Properties,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BenefitGrants::Table)
                    .col(uuid(BenefitGrants::Id).primary_key().to_owned())
                    .col(timestamp(BenefitGrants::CreatedAt))
                    .col(timestamp_null(BenefitGrants::ModifiedAt))
                    .col(uuid(BenefitGrants::OrganizationId))
                    .col(uuid(BenefitGrants::BenefitId))
                    .col(uuid(BenefitGrants::CustomerId))
                    .col(ColumnDef::new(BenefitGrants::MemberId).uuid().null())
                    .col(ColumnDef::new(BenefitGrants::SubscriptionId).uuid().null())
                    .col(ColumnDef::new(BenefitGrants::OrderId).uuid().null())
                    // What the grant is for (`order:<id>`, `subscription:<id>`, and the
                    // member when there is one): one grant per benefit, customer and scope,
                    // so granting twice (a retried job, a replayed event) changes nothing.
                    .col(text(BenefitGrants::ScopeKey))
                    .col(timestamp_null(BenefitGrants::GrantedAt))
                    .col(timestamp_null(BenefitGrants::RevokedAt))
                    .col(text(BenefitGrants::Properties))
                    .col(ColumnDef::new(BenefitGrants::Error).text().null())
                    .foreign_key(&mut organization_fk(
                        BenefitGrants::Table,
                        BenefitGrants::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_benefit_grants_scope")
                    .table(BenefitGrants::Table)
                    .col(BenefitGrants::BenefitId)
                    .col(BenefitGrants::CustomerId)
                    .col(BenefitGrants::ScopeKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_benefit_grants_organization")
                    .table(BenefitGrants::Table)
                    .col(BenefitGrants::OrganizationId)
                    .col(BenefitGrants::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_benefit_grants_customer")
                    .table(BenefitGrants::Table)
                    .col(BenefitGrants::CustomerId)
                    .to_owned(),
            )
            .await
    }
}

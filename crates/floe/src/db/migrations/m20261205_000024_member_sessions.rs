//! Member sessions (issue 17): a customer session opened for one member of the customer.
//! The row is the customer session's, with the member set; the token's prefix
//! (`polar_mst_`) tells the two kinds apart, and one lookup by the token's HMAC serves both.

use sea_orm_migration::prelude::*;

use super::columns::uuid_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("customer_sessions"))
                    .add_column(uuid_null(Alias::new("member_id")))
                    .to_owned(),
            )
            .await
    }
}

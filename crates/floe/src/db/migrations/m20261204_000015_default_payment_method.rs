//! Each customer's default payment method: the one later charges use and the API shows
//! (`default_payment_method_id`, `is_default`). Existing customers get the method they
//! saved last, which is what floe charged until now.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("customers"))
                    .add_column(
                        ColumnDef::new(Alias::new("default_payment_method_id"))
                            .uuid()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE customers SET default_payment_method_id = (\
                   SELECT m.id FROM payment_methods m \
                   WHERE m.customer_id = customers.id AND m.deleted_at IS NULL \
                   ORDER BY m.created_at DESC LIMIT 1)",
            )
            .await?;
        Ok(())
    }
}

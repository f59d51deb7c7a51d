//! The `wallets` and `wallet_transactions` tables.

pub mod wallet {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "wallets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub created_at: DateTimeUtc,
        pub modified_at: Option<DateTimeUtc>,
        pub organization_id: Uuid,
        pub customer_id: Uuid,
        /// `billing` (the only kind floe books on) or `usage`.
        #[sea_orm(column_name = "type")]
        #[serde(rename = "type")]
        pub kind: String,
        pub currency: String,
        /// Minor units owed to the customer: the sum of the wallet's transactions.
        pub balance: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod transaction {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "wallet_transactions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub created_at: DateTimeUtc,
        pub organization_id: Uuid,
        pub wallet_id: Uuid,
        /// The order that made or used the credit.
        pub order_id: Option<Uuid>,
        /// Positive: credit to the customer; negative: credit used.
        pub amount: i64,
        pub reason: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

//! What the grant worker reads of a sale, through its own narrow views of the tables
//! (the orders and products domains own them and their full entities): a paid order's
//! customer and product, and the benefits the product grants, in the merchant's order.

pub mod order {
    //! `orders`, the columns granting needs.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub created_at: DateTimeUtc,
        pub organization_id: Uuid,
        pub customer_id: Uuid,
        pub product_id: Option<Uuid>,
        pub subscription_id: Option<Uuid>,
        /// Set for a purchase of seats: its benefits go to the seat holders.
        pub seats: Option<i64>,
        pub paid_at: Option<DateTimeUtc>,
        /// Set once every benefit of the order's product was granted (or failed for good).
        pub grants_done_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod subscription {
    //! `subscriptions`, the columns granting needs: one made without an order (by the API,
    //! for a free product) is granted for itself.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "subscriptions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub created_at: DateTimeUtc,
        pub organization_id: Uuid,
        pub customer_id: Uuid,
        pub product_id: Uuid,
        pub status: String,
        /// Set for a seat-based subscription: its benefits go to the seat holders.
        pub seats: Option<i64>,
        pub grants_done_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod product_benefit {
    //! `product_benefits`: which benefits a product grants, in order.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "product_benefits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub product_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub benefit_id: Uuid,
        pub position: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod downloadable {
    //! `downloadables`: the files a downloadables grant opened to a customer.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "downloadables")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub created_at: DateTimeUtc,
        pub modified_at: Option<DateTimeUtc>,
        pub organization_id: Uuid,
        pub customer_id: Uuid,
        pub benefit_id: Uuid,
        pub file_id: Uuid,
        /// `granted` or `revoked`.
        pub status: String,
        pub downloaded: i64,
        pub last_downloaded_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

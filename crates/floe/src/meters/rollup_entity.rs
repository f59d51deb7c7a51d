//! The `meter_rollups` and `meter_rollup_values` tables (see `meters::rollups`).

pub mod rollup {
    use sea_orm::entity::prelude::*;

    /// What a meter's matching events of one customer key and source add up to in one
    /// 15-minute UTC bucket.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "meter_rollups")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub meter_id: Uuid,
        /// A customer ID, `ext:` and an external customer ID, or `*` for all customers.
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_key: String,
        /// System events (floe's own) are kept apart: customer meters count user events only.
        #[sea_orm(primary_key, auto_increment = false)]
        pub system: bool,
        #[sea_orm(primary_key, auto_increment = false)]
        pub bucket_start: DateTimeUtc,
        /// Events that matched the filter.
        pub matched: i64,
        /// Of those, the ones the aggregation took a value from.
        pub count: i64,
        pub sum: f64,
        pub min: Option<f64>,
        pub max: Option<f64>,
        /// Timestamps of the first and last matched event.
        pub first_at: DateTimeUtc,
        pub last_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod value {
    use sea_orm::entity::prelude::*;

    /// A distinct value of a `unique` meter's property in one bucket.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "meter_rollup_values")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub meter_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_key: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub system: bool,
        #[sea_orm(primary_key, auto_increment = false)]
        pub bucket_start: DateTimeUtc,
        #[sea_orm(primary_key, auto_increment = false)]
        pub value: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

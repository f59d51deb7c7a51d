//! The `subscriptions`, `subscription_prices` and `test_clocks` tables.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub product_id: Uuid,
    pub checkout_id: Option<Uuid>,
    pub discount_id: Option<Uuid>,
    pub payment_method_id: Option<Uuid>,
    /// A `SubscriptionStatus`.
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub recurring_interval: String,
    pub recurring_interval_count: i64,
    pub current_period_start: DateTimeUtc,
    pub current_period_end: DateTimeUtc,
    pub current_meter_period_start: Option<DateTimeUtc>,
    pub current_meter_period_end: Option<DateTimeUtc>,
    pub trial_start: Option<DateTimeUtc>,
    pub trial_end: Option<DateTimeUtc>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<DateTimeUtc>,
    pub started_at: Option<DateTimeUtc>,
    pub ends_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub past_due_at: Option<DateTimeUtc>,
    pub pause_at_period_end: bool,
    pub paused_at: Option<DateTimeUtc>,
    pub resumes_at: Option<DateTimeUtc>,
    pub anchor_day: i64,
    pub seats: Option<i64>,
    pub units: Option<i64>,
    pub customer_cancellation_reason: Option<String>,
    pub customer_cancellation_comment: Option<String>,
    pub discount_applied_at: Option<DateTimeUtc>,
    pub metadata: String,
    pub custom_field_data: String,
    pub next_action_at: Option<DateTimeUtc>,
    pub claimed_until: Option<DateTimeUtc>,
    pub grants_done_at: Option<DateTimeUtc>,
    /// The product's meter cycle when it was bought (`None`: usage follows the billing
    /// period).
    pub meter_interval: Option<String>,
    pub meter_interval_count: Option<i64>,
    /// Where the usage not billed yet starts; `None` is the current period's start.
    pub usage_since: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The status as `SubscriptionStatus` (a row only ever holds one of its values).
    pub fn current_status(&self) -> super::schema::SubscriptionStatus {
        super::schema::SubscriptionStatus::parse(&self.status)
            .unwrap_or(super::schema::SubscriptionStatus::Active)
    }
}

pub mod price {
    //! `subscription_prices`: the prices a subscription bills, each with what it costs a
    //! period.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "subscription_prices")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub subscription_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub price_id: Uuid,
        pub position: i64,
        pub amount: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod test_clock {
    //! `test_clocks`: how far a test-mode organization's time runs ahead of real time.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "test_clocks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub organization_id: Uuid,
        pub offset_micros: i64,
        pub modified_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod pending {
    //! `subscription_updates`: a change of plan scheduled for the period boundary
    //! (`applies_at`), shown as the subscription's `pending_update` until applied or cleared;
    //! or a change made at `applies_at` that waits for its invoice's payment (`order_id`).

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "subscription_updates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub subscription_id: Uuid,
        pub created_at: DateTimeUtc,
        pub modified_at: Option<DateTimeUtc>,
        pub applies_at: DateTimeUtc,
        pub product_id: Option<Uuid>,
        pub seats: Option<i64>,
        pub units: Option<i64>,
        pub applied_at: Option<DateTimeUtc>,
        pub deleted_at: Option<DateTimeUtc>,
        /// Set for a change waiting for this order's payment (not a `pending_update`).
        pub order_id: Option<Uuid>,
        /// The change's `SubscriptionProrationBehavior`, for one waiting for its payment.
        pub proration_behavior: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod proration {
    //! `subscription_prorations`: a prorated charge or credit waiting for the subscription's
    //! next order (`order_id` set once billed).

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "subscription_prorations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub subscription_id: Uuid,
        pub created_at: DateTimeUtc,
        pub label: String,
        pub amount: i64,
        pub start_timestamp: DateTimeUtc,
        pub end_timestamp: DateTimeUtc,
        pub price_id: Option<Uuid>,
        pub order_id: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

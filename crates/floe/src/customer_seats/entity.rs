//! The `customer_seats` table (the sessions a claim opens are the portal's).

pub mod seat {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "customer_seats")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub created_at: DateTimeUtc,
        pub modified_at: Option<DateTimeUtc>,
        pub organization_id: Uuid,
        pub subscription_id: Option<Uuid>,
        pub order_id: Option<Uuid>,
        pub status: String,
        pub customer_id: Option<Uuid>,
        pub email: Option<String>,
        /// The invitation token's HMAC (the token itself is only in the invitation).
        pub invitation_token_hash: Option<String>,
        pub invitation_token_expires_at: Option<DateTimeUtc>,
        pub claimed_at: Option<DateTimeUtc>,
        pub revoked_at: Option<DateTimeUtc>,
        /// `seat_metadata`, as JSON.
        pub metadata: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

//! The contract's scopes (`Scope` in the spec). Each operation accepts any one of a set of
//! scopes, named in its description.

use std::fmt;
use std::str::FromStr;

macro_rules! scopes {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// A permission carried by an access token.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Scope {
            $($variant),*
        }

        impl Scope {
            /// Every scope, in the spec's order.
            pub const ALL: &'static [Scope] = &[$(Scope::$variant),*];

            /// The scope's wire name, e.g. `files:write`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Scope::$variant => $name),*
                }
            }
        }
    };
}

scopes! {
    Openid => "openid",
    Profile => "profile",
    Email => "email",
    UserRead => "user:read",
    UserWrite => "user:write",
    OrganizationsRead => "organizations:read",
    OrganizationsWrite => "organizations:write",
    CustomFieldsRead => "custom_fields:read",
    CustomFieldsWrite => "custom_fields:write",
    DiscountsRead => "discounts:read",
    DiscountsWrite => "discounts:write",
    CheckoutLinksRead => "checkout_links:read",
    CheckoutLinksWrite => "checkout_links:write",
    CheckoutsRead => "checkouts:read",
    CheckoutsWrite => "checkouts:write",
    TransactionsRead => "transactions:read",
    TransactionsWrite => "transactions:write",
    PayoutsRead => "payouts:read",
    PayoutsWrite => "payouts:write",
    ProductsRead => "products:read",
    ProductsWrite => "products:write",
    BenefitsRead => "benefits:read",
    BenefitsWrite => "benefits:write",
    EventsRead => "events:read",
    EventsWrite => "events:write",
    MetersRead => "meters:read",
    MetersWrite => "meters:write",
    FilesRead => "files:read",
    FilesWrite => "files:write",
    SubscriptionsRead => "subscriptions:read",
    SubscriptionsWrite => "subscriptions:write",
    CustomersRead => "customers:read",
    CustomersWrite => "customers:write",
    MembersRead => "members:read",
    MembersWrite => "members:write",
    WalletsRead => "wallets:read",
    WalletsWrite => "wallets:write",
    DisputesRead => "disputes:read",
    DisputesWrite => "disputes:write",
    CustomerMetersRead => "customer_meters:read",
    CustomerSessionsWrite => "customer_sessions:write",
    MemberSessionsWrite => "member_sessions:write",
    CustomerSeatsRead => "customer_seats:read",
    CustomerSeatsWrite => "customer_seats:write",
    OrdersRead => "orders:read",
    OrdersWrite => "orders:write",
    RefundsRead => "refunds:read",
    RefundsWrite => "refunds:write",
    PaymentsRead => "payments:read",
    MetricsRead => "metrics:read",
    MetricsWrite => "metrics:write",
    WebhooksRead => "webhooks:read",
    WebhooksWrite => "webhooks:write",
    LicenseKeysRead => "license_keys:read",
    LicenseKeysWrite => "license_keys:write",
    CustomerPortalRead => "customer_portal:read",
    CustomerPortalWrite => "customer_portal:write",
    NotificationsRead => "notifications:read",
    NotificationsWrite => "notifications:write",
    NotificationRecipientsRead => "notification_recipients:read",
    NotificationRecipientsWrite => "notification_recipients:write",
    OrganizationAccessTokensRead => "organization_access_tokens:read",
    OrganizationAccessTokensWrite => "organization_access_tokens:write",
}

impl Scope {
    /// What an organization token gets when no scope is named: everything an organization
    /// can do, i.e. every scope but the ones about a user's own identity.
    pub fn organization_token_default() -> Vec<Scope> {
        Self::ALL
            .iter()
            .copied()
            .filter(|s| {
                !matches!(
                    s,
                    Scope::Openid
                        | Scope::Profile
                        | Scope::Email
                        | Scope::UserRead
                        | Scope::UserWrite
                )
            })
            .collect()
    }

    /// Parses a space-separated list as stored in the database, skipping unknown names
    /// (a scope removed in a later version simply stops granting anything).
    pub fn parse_list(stored: &str) -> Vec<Scope> {
        stored
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    /// The space-separated form stored in the database.
    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("unknown scope {s:?}"))
    }
}

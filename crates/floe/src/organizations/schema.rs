//! Wire types of the organizations API, named after the spec's schemas.
//!
//! floe does not have Polar's onboarding, payouts or feature flags: a self-hosted
//! organization is active and fully capable from the start, and the settings that no
//! endpoint can change yet are reported with Polar's defaults.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::entity::Model;
use crate::http::pagination::SortProperty;

/// `Organization`.
#[derive(Debug, Serialize)]
pub struct Organization {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub avatar_url: Option<String>,
    pub proration_behavior: &'static str,
    pub allow_customer_updates: bool,
    pub email: Option<String>,
    pub website: Option<String>,
    pub socials: Vec<serde_json::Value>,
    pub status: &'static str,
    pub details_submitted_at: Option<DateTime<Utc>>,
    pub onboarding_resubmission_requested_at: Option<DateTime<Utc>>,
    pub sso_enforced: bool,
    pub default_presentment_currency: &'static str,
    pub default_tax_behavior: &'static str,
    pub feature_settings: FeatureSettings,
    pub subscription_settings: SubscriptionSettings,
    pub customer_email_settings: CustomerEmailSettings,
    pub customer_portal_settings: CustomerPortalSettings,
    pub dispute_settings: DisputeSettings,
    pub embed_hosts: Vec<String>,
    pub embed_hosts_enforced: bool,
    pub country: Option<String>,
    pub account_id: Option<Uuid>,
    pub payout_account_id: Option<Uuid>,
    pub capabilities: Capabilities,
}

/// `OrganizationFeatureSettings`.
#[derive(Debug, Default, Serialize)]
pub struct FeatureSettings {
    pub issue_funding_enabled: bool,
    pub seat_based_pricing_enabled: bool,
    pub wallets_enabled: bool,
    pub member_model_enabled: bool,
    pub checkout_localization_enabled: bool,
    pub overview_metrics: Option<Vec<String>>,
    pub reset_proration_behavior_enabled: bool,
    pub off_session_charges_enabled: bool,
    pub meter_cycling_enabled: bool,
    pub slack_benefit_enabled: bool,
    pub preview_access_enabled: bool,
    pub disputes_enabled: bool,
    pub sso_enabled: bool,
    pub dispute_auto_accept_enabled: bool,
    pub compass_enabled: bool,
    pub merchant_migration_enabled: bool,
}

/// `OrganizationSubscriptionSettings`.
#[derive(Debug, Serialize)]
pub struct SubscriptionSettings {
    pub allow_multiple_subscriptions: bool,
    pub proration_behavior: &'static str,
    pub benefit_revocation_grace_period: i64,
    pub prevent_trial_abuse: bool,
    pub allow_customer_updates: bool,
}

/// `OrganizationCustomerEmailSettings`: every customer email is on by default.
#[derive(Debug, Serialize)]
pub struct CustomerEmailSettings {
    pub order_confirmation: bool,
    pub payment_method_expiration_reminder: bool,
    pub subscription_cancellation: bool,
    pub subscription_confirmation: bool,
    pub subscription_cycled: bool,
    pub subscription_cycled_after_trial: bool,
    pub subscription_past_due: bool,
    pub subscription_paused: bool,
    pub subscription_resumed: bool,
    pub subscription_renewal_reminder: bool,
    pub subscription_revoked: bool,
    pub subscription_trial_conversion_reminder: bool,
    pub subscription_uncanceled: bool,
    pub subscription_updated: bool,
}

/// `OrganizationCustomerPortalSettings`.
#[derive(Debug, Serialize)]
pub struct CustomerPortalSettings {
    pub usage: PortalUsage,
    pub subscription: PortalSubscription,
    pub customer: PortalCustomer,
}

#[derive(Debug, Serialize)]
pub struct PortalUsage {
    pub show: bool,
}

#[derive(Debug, Serialize)]
pub struct PortalSubscription {
    pub update_seats: bool,
    pub update_plan: bool,
    pub pause: bool,
}

#[derive(Debug, Serialize)]
pub struct PortalCustomer {
    pub allow_email_change: bool,
}

/// `OrganizationDisputeSettings`.
#[derive(Debug, Serialize)]
pub struct DisputeSettings {
    pub auto_accept_below_amount: Option<i64>,
}

/// `OrganizationCapabilities`.
#[derive(Debug, Serialize)]
pub struct Capabilities {
    pub checkout_payments: bool,
    pub subscription_renewals: bool,
    pub payouts: bool,
    pub refunds: bool,
    pub api_access: bool,
    pub dashboard_access: bool,
}

impl From<Model> for Organization {
    fn from(row: Model) -> Self {
        Self {
            created_at: row.created_at,
            modified_at: row.modified_at,
            id: row.id,
            name: row.name,
            slug: row.slug,
            avatar_url: row.avatar_url,
            proration_behavior: "prorate",
            allow_customer_updates: true,
            email: row.email,
            website: row.website,
            socials: Vec::new(),
            status: "active",
            details_submitted_at: None,
            onboarding_resubmission_requested_at: None,
            sso_enforced: false,
            default_presentment_currency: "usd",
            default_tax_behavior: "location",
            feature_settings: FeatureSettings::default(),
            subscription_settings: SubscriptionSettings {
                allow_multiple_subscriptions: false,
                proration_behavior: "prorate",
                benefit_revocation_grace_period: 0,
                prevent_trial_abuse: false,
                allow_customer_updates: true,
            },
            customer_email_settings: CustomerEmailSettings {
                order_confirmation: true,
                payment_method_expiration_reminder: true,
                subscription_cancellation: true,
                subscription_confirmation: true,
                subscription_cycled: true,
                subscription_cycled_after_trial: true,
                subscription_past_due: true,
                subscription_paused: true,
                subscription_resumed: true,
                subscription_renewal_reminder: true,
                subscription_revoked: true,
                subscription_trial_conversion_reminder: true,
                subscription_uncanceled: true,
                subscription_updated: true,
            },
            customer_portal_settings: CustomerPortalSettings {
                usage: PortalUsage { show: true },
                subscription: PortalSubscription {
                    update_seats: true,
                    update_plan: true,
                    pause: false,
                },
                customer: PortalCustomer {
                    allow_email_change: true,
                },
            },
            dispute_settings: DisputeSettings {
                auto_accept_below_amount: None,
            },
            embed_hosts: Vec::new(),
            embed_hosts_enforced: false,
            country: None,
            account_id: None,
            payout_account_id: None,
            capabilities: Capabilities {
                checkout_payments: true,
                subscription_renewals: true,
                payouts: true,
                refunds: true,
                api_access: true,
                dashboard_access: true,
            },
        }
    }
}

/// `OrganizationSortProperty`. The review-queue properties of Polar's admin
/// (`next_review_threshold`, `days_in_status`) are accepted and order like `created_at`,
/// since a self-hosted organization is never under review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrganizationSortProperty {
    CreatedAt,
    Slug,
    Name,
    NextReviewThreshold,
    DaysInStatus,
}

impl SortProperty for OrganizationSortProperty {
    const NAMES: &'static [&'static str] = &[
        "created_at",
        "slug",
        "name",
        "next_review_threshold",
        "days_in_status",
    ];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "slug" => Self::Slug,
            "name" => Self::Name,
            "next_review_threshold" => Self::NextReviewThreshold,
            "days_in_status" => Self::DaysInStatus,
            _ => return None,
        })
    }
}

//! Wire types of the organizations API, named after the spec's schemas.
//!
//! floe does not have Polar's onboarding, payouts or feature flags: a self-hosted
//! organization is active and fully capable from the start, and the settings that no
//! endpoint can change yet are reported with Polar's defaults.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::entity::Model;
use crate::http::pagination::SortProperty;
use crate::http::patch;

/// `Organization`.
#[derive(Debug, Serialize)]
pub struct Organization {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub avatar_url: Option<String>,
    pub proration_behavior: String,
    pub allow_customer_updates: bool,
    pub email: Option<String>,
    pub website: Option<String>,
    pub socials: Vec<SocialLink>,
    pub status: &'static str,
    pub details_submitted_at: Option<DateTime<Utc>>,
    pub onboarding_resubmission_requested_at: Option<DateTime<Utc>>,
    pub sso_enforced: bool,
    pub default_presentment_currency: String,
    pub default_tax_behavior: String,
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
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
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
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubscriptionSettings {
    pub allow_multiple_subscriptions: bool,
    pub proration_behavior: String,
    pub benefit_revocation_grace_period: i64,
    pub prevent_trial_abuse: bool,
    pub allow_customer_updates: bool,
}

/// `OrganizationCustomerEmailSettings`: every customer email is on by default.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CustomerPortalSettings {
    pub usage: PortalUsage,
    pub subscription: PortalSubscription,
    #[serde(default = "PortalCustomer::default_settings")]
    pub customer: PortalCustomer,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PortalUsage {
    pub show: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PortalSubscription {
    pub update_seats: bool,
    pub update_plan: bool,
    #[serde(default)]
    pub pause: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PortalCustomer {
    #[serde(default = "yes")]
    pub allow_email_change: bool,
}

impl PortalCustomer {
    fn default_settings() -> Self {
        Self {
            allow_email_change: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// `OrganizationDisputeSettings`.
#[derive(Clone, Debug, Serialize, Deserialize)]
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

/// `OrganizationSocialLink`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SocialLink {
    pub platform: String,
    pub url: String,
}

/// What `PATCH` can change beyond the columns, stored as one JSON document. A setting
/// never changed is absent and reads as Polar's default.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub socials: Vec<SocialLink>,
    pub country: Option<String>,
    pub details: Option<Value>,
    pub feature_settings: FeatureSettings,
    pub subscription_settings: Option<SubscriptionSettings>,
    pub customer_email_settings: Option<CustomerEmailSettings>,
    pub customer_portal_settings: Option<CustomerPortalSettings>,
    pub dispute_auto_accept_below_amount: Option<i64>,
    pub embed_hosts: Vec<String>,
    pub default_presentment_currency: Option<String>,
    pub default_tax_behavior: Option<String>,
    pub sso_enforced: bool,
    /// floe's own, set by the operator (`floe organization dunning`): the days between a
    /// failed subscription charge and each retry; absent means Polar's 2, 5, 7 and 7.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dunning_retry_days: Option<Vec<i64>>,
}

impl Settings {
    pub fn parse(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_default()
    }
}

pub fn default_subscription_settings() -> SubscriptionSettings {
    SubscriptionSettings {
        allow_multiple_subscriptions: false,
        proration_behavior: "prorate".to_owned(),
        benefit_revocation_grace_period: 0,
        prevent_trial_abuse: false,
        allow_customer_updates: true,
    }
}

/// Every customer email is on by default.
pub fn default_customer_email_settings() -> CustomerEmailSettings {
    CustomerEmailSettings {
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
    }
}

pub fn default_customer_portal_settings() -> CustomerPortalSettings {
    CustomerPortalSettings {
        usage: PortalUsage { show: true },
        subscription: PortalSubscription {
            update_seats: true,
            update_plan: true,
            pause: false,
        },
        customer: PortalCustomer {
            allow_email_change: true,
        },
    }
}

impl From<Model> for Organization {
    fn from(row: Model) -> Self {
        let settings = Settings::parse(&row.settings);
        let subscription_settings = settings
            .subscription_settings
            .unwrap_or_else(default_subscription_settings);
        Self {
            created_at: row.created_at,
            modified_at: row.modified_at,
            id: row.id,
            name: row.name,
            slug: row.slug,
            avatar_url: row.avatar_url,
            proration_behavior: subscription_settings.proration_behavior.clone(),
            allow_customer_updates: subscription_settings.allow_customer_updates,
            email: row.email,
            website: row.website,
            socials: settings.socials,
            status: "active",
            details_submitted_at: None,
            onboarding_resubmission_requested_at: None,
            sso_enforced: settings.sso_enforced,
            default_presentment_currency: settings
                .default_presentment_currency
                .unwrap_or_else(|| "usd".to_owned()),
            default_tax_behavior: settings
                .default_tax_behavior
                .unwrap_or_else(|| "location".to_owned()),
            feature_settings: settings.feature_settings,
            subscription_settings,
            customer_email_settings: settings
                .customer_email_settings
                .unwrap_or_else(default_customer_email_settings),
            customer_portal_settings: settings
                .customer_portal_settings
                .unwrap_or_else(default_customer_portal_settings),
            dispute_settings: DisputeSettings {
                auto_accept_below_amount: settings.dispute_auto_accept_below_amount,
            },
            embed_hosts: settings.embed_hosts,
            embed_hosts_enforced: false,
            country: settings.country,
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

/// `OrganizationFeatureSettingsUpdate`: the feature settings an organization may change.
#[derive(Debug, Default, Deserialize)]
pub struct FeatureSettingsUpdate {
    pub seat_based_pricing_enabled: Option<bool>,
    pub member_model_enabled: Option<bool>,
    pub checkout_localization_enabled: Option<bool>,
    #[serde(default, deserialize_with = "patch::field")]
    pub overview_metrics: Option<Option<Vec<String>>>,
}

/// `OrganizationDisputeSettingsUpdate`.
#[derive(Debug, Default, Deserialize)]
pub struct DisputeSettingsUpdate {
    #[serde(default, deserialize_with = "patch::field")]
    pub auto_accept_below_amount: Option<Option<i64>>,
}

/// `OrganizationUpdate`: absent fields stay as they are; `null` clears the ones that can
/// be empty and leaves the others.
#[derive(Debug, Default, Deserialize)]
pub struct OrganizationUpdate {
    #[serde(default, deserialize_with = "patch::field")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub avatar_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub socials: Option<Option<Vec<SocialLink>>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub details: Option<Option<Value>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub feature_settings: Option<Option<FeatureSettingsUpdate>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub subscription_settings: Option<Option<SubscriptionSettings>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub customer_email_settings: Option<Option<CustomerEmailSettings>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub customer_portal_settings: Option<Option<CustomerPortalSettings>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub dispute_settings: Option<Option<DisputeSettingsUpdate>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub embed_hosts: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub default_presentment_currency: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub default_tax_behavior: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub sso_enforced: Option<Option<bool>>,
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

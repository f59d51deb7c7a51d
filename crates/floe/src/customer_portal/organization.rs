//! `customer_portal:organizations:get`: what the portal page shows of a seller before
//! anyone signs in: the organization's public face and its public products on sale.

use serde::Serialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::checkouts::schema::CheckoutProduct;
use crate::http::{ApiError, ApiResult};
use crate::organizations::schema::{CustomerPortalSettings, Organization};

/// `CustomerOrganization`.
#[derive(Debug, Serialize)]
pub struct CustomerOrganization {
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub modified_at: Option<chrono::DateTime<chrono::Utc>>,
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub avatar_url: Option<String>,
    pub proration_behavior: String,
    pub allow_customer_updates: bool,
    pub customer_portal_settings: CustomerPortalSettings,
    pub organization_features: CustomerOrganizationFeatures,
}

/// `CustomerOrganizationFeatureSettings`.
#[derive(Debug, Serialize)]
pub struct CustomerOrganizationFeatures {
    pub member_model_enabled: bool,
    pub checkout_localization_enabled: bool,
}

/// `CustomerOrganizationData`.
#[derive(Debug, Serialize)]
pub struct CustomerOrganizationData {
    pub organization: CustomerOrganization,
    /// `CustomerProduct`s: the same shape as a checkout's products.
    pub products: Vec<CheckoutProduct>,
}

impl From<Organization> for CustomerOrganization {
    fn from(organization: Organization) -> Self {
        Self {
            created_at: organization.created_at,
            modified_at: organization.modified_at,
            id: organization.id,
            name: organization.name,
            slug: organization.slug,
            avatar_url: organization.avatar_url,
            proration_behavior: organization.proration_behavior,
            allow_customer_updates: organization.allow_customer_updates,
            customer_portal_settings: organization.customer_portal_settings,
            organization_features: CustomerOrganizationFeatures {
                member_model_enabled: organization.feature_settings.member_model_enabled,
                checkout_localization_enabled: organization
                    .feature_settings
                    .checkout_localization_enabled,
            },
        }
    }
}

/// The organization with `slug` and its public products; unknown slugs are 404.
pub async fn by_slug(app: &AppState, slug: &str) -> ApiResult<CustomerOrganizationData> {
    let organization = crate::organizations::store::by_slug(&app.reader, slug)
        .await?
        .map(Organization::from)
        .ok_or_else(|| ApiError::ResourceNotFound("Organization not found.".to_owned()))?;
    let products = crate::products::public_on_sale(&app.reader, &*app.storage, organization.id)
        .await?
        .iter()
        .map(crate::checkouts::checkout_product)
        .collect();
    Ok(CustomerOrganizationData {
        organization: organization.into(),
        products,
    })
}
